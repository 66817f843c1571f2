//! `minqing import`: areas and events from GeoJSON, and the registers from CSV, `.xlsx` or
//! GeoJSON, checked row by row and stored all or nothing, with a progress bar.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Reads features from a FeatureCollection file or a GeoJSON text sequence (one per line).
fn read_features(file: &Path) -> anyhow::Result<Box<dyn Iterator<Item = Result<Value, String>>>> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut reader = std::io::BufReader::new(f);
    let first = reader
        .fill_buf()?
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace());
    let mut head = String::new();
    reader.read_line(&mut head)?;
    let line_value: Option<Value> = serde_json::from_str(head.trim_start_matches('\u{1e}')).ok();
    match (first, line_value) {
        (Some(_), Some(v)) if v.get("type").and_then(Value::as_str) == Some("Feature") => {
            let rest = reader.lines().enumerate().filter_map(|(i, l)| match l {
                Err(e) => Some(Err(format!("line {}: {e}", i + 2))),
                Ok(l) if l.trim().is_empty() => None,
                Ok(l) => Some(
                    serde_json::from_str(l.trim_start_matches('\u{1e}'))
                        .map_err(|e| format!("line {}: {e}", i + 2)),
                ),
            });
            Ok(Box::new(std::iter::once(Ok(v)).chain(rest)))
        }
        _ => {
            let mut text = head;
            std::io::Read::read_to_string(&mut reader, &mut text)?;
            let v: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not GeoJSON", file.display()))?;
            if v.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
                bail!(
                    "{} is neither a FeatureCollection nor one Feature per line",
                    file.display()
                );
            }
            let feats = match v.get("features") {
                Some(Value::Array(a)) => a.clone(),
                _ => bail!("the FeatureCollection has no features array"),
            };
            Ok(Box::new(feats.into_iter().map(Ok)))
        }
    }
}

/// The format of a register file: as given, or by its extension.
pub(super) fn import_format(
    file: &Path,
    given: Option<&str>,
) -> anyhow::Result<minqing_service::imports::Format> {
    use minqing_service::imports::Format;
    match given {
        Some(f) => Format::parse(&f.to_ascii_lowercase())
            .with_context(|| format!("unknown format {f:?}; formats: csv, xlsx, geojson")),
        None => Format::of_path(file).with_context(|| {
            format!(
                "cannot tell the format of {} from its name; add --format csv|xlsx|geojson",
                file.display()
            )
        }),
    }
}

/// Imports a register file (`minqing import residents FILE`): every row checked (every
/// fault printed with its line, up to [`MAX_ERRORS_SHOWN`](minqing_service::imports::MAX_ERRORS_SHOWN)),
/// then stored in one transaction, or nothing at all. Progress bars on stderr.
pub async fn import_register(
    store: &Store,
    keys: &crate::model::sealed::Keys,
    kind: minqing_service::imports::Kind,
    format: minqing_service::imports::Format,
    file: &Path,
) -> anyhow::Result<()> {
    use minqing_service::imports::{self, ImportError, Stage};
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let checking = ProgressBar::new_spinner();
    checking.set_style(
        ProgressStyle::with_template("{msg:>12} {spinner} {pos} rows ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    checking.set_message("checking");
    let writing = bar(0, kind.as_str());
    writing.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let (pc, pw) = (checking.clone(), writing.clone());
    let progress = move |stage: Stage, done: u64, total: u64| match stage {
        Stage::Checking => pc.set_position(done),
        Stage::Writing => {
            if pw.is_hidden() {
                pw.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            pw.set_length(total);
            pw.set_position(done);
        }
    };
    let today = Utc::now().date_naive();
    let k = keys.clone();
    let p = progress.clone();
    let checked = tokio::task::spawn_blocking(move || {
        imports::validate(kind, format, Box::new(f), &k, today, &p)
    })
    .await?;
    checking.finish_and_clear();
    let result = match checked {
        Ok(v) => {
            if !v.ignored.is_empty() {
                eprintln!("ignored columns: {}", v.ignored.join(", "));
            }
            writing.set_length(v.rows.len() as u64);
            imports::store(store, keys, v, &|_, _| true, &progress).await
        }
        Err(e) => Err(e),
    };
    writing.finish_and_clear();
    match result {
        Ok(counts) => {
            eprintln!(
                "{} {} imported from {}",
                imports::total(&counts),
                kind.as_str(),
                file.display()
            );
            tracing::info!(
                kind = kind.as_str(),
                rows = imports::total(&counts),
                "imported"
            );
            Ok(())
        }
        Err(ImportError::Invalid(errors)) => {
            let mut err = std::io::stderr().lock();
            for e in errors.iter().take(imports::MAX_ERRORS_SHOWN) {
                if e.line == 0 {
                    writeln!(err, "{}: {}: {}", file.display(), e.field, e.reason)?;
                } else {
                    writeln!(
                        err,
                        "{}:{}: {}: {}",
                        file.display(),
                        e.line,
                        e.field,
                        e.reason
                    )?;
                }
            }
            if errors.len() > imports::MAX_ERRORS_SHOWN {
                writeln!(
                    err,
                    "… and {} more",
                    errors.len() - imports::MAX_ERRORS_SHOWN
                )?;
            }
            bail!(
                "{} fault(s) in {}; nothing was stored",
                errors.len(),
                file.display()
            )
        }
        Err(ImportError::Store(e)) => Err(e).context("the import failed; nothing was stored"),
    }
}

pub(super) async fn import(store: &Store, kind: Kind, file: &Path) -> anyhow::Result<()> {
    let features = read_features(file)?;
    match kind {
        Kind::Areas => {
            let records: Vec<AreaRecord> = features
                .enumerate()
                .map(|(i, f)| {
                    f.and_then(|f| area_record_from_feature(&f))
                        .map_err(|m| anyhow::anyhow!("feature {}: {m}", i + 1))
                })
                .collect::<anyhow::Result<_>>()?;
            let pb = bar(records.len() as u64, "areas");
            let n = store
                .insert_areas(&records, |d, t| {
                    pb.set_length(t);
                    pb.set_position(d);
                })
                .await?;
            pb.finish_and_clear();
            tracing::info!(areas = n, "imported");
        }
        Kind::Events => {
            let taxonomy = Taxonomy::builtin();
            let index = AreaIndex::new(store.load_areas().await?);
            let records = features.enumerate().map(|(i, f)| {
                let r: Result<EventRecord, String> = f.and_then(|f| event_record_from_feature(&f));
                r.and_then(|r| {
                    if taxonomy.number(&r.category).is_some() {
                        Ok(r)
                    } else {
                        Err(format!("unknown category {:?}", r.category))
                    }
                })
                .map_err(|m| format!("feature {}: {m}", i + 1))
            });
            let n = store_events(store, &index, records, 0).await?;
            tracing::info!(events = n, "imported");
        }
        // Registers go through `import_register`.
        _ => bail!("{kind:?} files are imported by import_register"),
    }
    Ok(())
}
