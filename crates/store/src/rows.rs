//! Rows to values, by column name.
//!
//! Every column the store reads from a result row is read by its name, with [`get`]
//! (`try_get` underneath): a statement whose columns do not match what is read — a column
//! missing or renamed, of another type, or NULL where a value is needed — is a
//! [`StoreError::Internal`] naming the column, never a panic, and never a value read from
//! the wrong column because the select list moved. For this, every statement names its
//! columns: plain columns keep their names, expressions are named with `AS`
//! (`ST_X(geom) AS lon`).
//!
//! The public columns of an event are listed once, in [`event_col`], and read once, by
//! [`event_from_row`]; every statement that returns events (`select_event.sql`,
//! `event_case.sql`, `own_events.sql`, `changed_events.sql`, `transition.sql`,
//! `escalate.sql`, `insert_events_batch.sql`, the Open311 reads, `plan_publish_regrid.sql`
//! and `export_events.sql`) selects them under these names, in this order; the tests below
//! check each statement against the database.
//!
//! Two reads are positional, on purpose:
//! - the bulk loads of `load.rs` use `COPY … TO STDOUT (FORMAT binary)`, whose rows carry
//!   no column names: the format is a sequence of fields, and the reader must be given each
//!   field's type by position before it can read any. Their columns are the select lists of
//!   `copy_areas.sql` and `copy_events.sql`, next to the type lists in `load.rs`;
//! - the rows of `Store::export_events` go to the caller as they are (see
//!   `export_events.sql` for their columns).

use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use super::{Result, StoreError};
use minqing_model::{Event, Status};

/// Reads column `column` of `row`; a missing column, another type or an unexpected NULL
/// is an internal error naming the column.
pub(super) fn get<'a, T: FromSql<'a>>(row: &'a Row, column: &str) -> Result<T> {
    row.try_get(column)
        .map_err(|e| StoreError::Internal(format!("result column {column:?}: {e}")))
}

/// [`get`] as a method of the row, for reads in a chain (`tx.query_one(…).await?.col("n")?`).
pub(crate) trait RowExt {
    /// Reads column `column`; see [`get`].
    fn col<'a, T: FromSql<'a>>(&'a self, column: &str) -> Result<T>;
}

impl RowExt for Row {
    fn col<'a, T: FromSql<'a>>(&'a self, column: &str) -> Result<T> {
        get(self, column)
    }
}

/// The names of an event's public columns, as every statement that returns events selects
/// them (in this order).
pub(super) mod event_col {
    /// `bigint`.
    pub const ID: &str = "id";
    /// `text`, `category.subcategory`.
    pub const CATEGORY: &str = "category";
    /// `text`.
    pub const TITLE: &str = "title";
    /// `text` (`''` where a statement does not read it).
    pub const DESCRIPTION: &str = "description";
    /// `text`, a workflow state.
    pub const STATUS: &str = "status";
    /// `smallint`.
    pub const PRIORITY: &str = "priority";
    /// `bigint`, NULL outside every grid.
    pub const GRID_ID: &str = "grid_id";
    /// `timestamptz`.
    pub const REPORTED_AT: &str = "reported_at";
    /// `timestamptz`, NULL without a deadline.
    pub const DUE_AT: &str = "due_at";
    /// `timestamptz`.
    pub const UPDATED_AT: &str = "updated_at";
    /// `double precision`, `ST_X(geom)`.
    pub const LON: &str = "lon";
    /// `double precision`, `ST_Y(geom)`.
    pub const LAT: &str = "lat";
    /// `boolean`.
    pub const GENERATED: &str = "generated";
    /// `smallint`, 0 to 3.
    pub const ESCALATION: &str = "escalation";
    /// `timestamptz`, NULL until resolved.
    pub const RESOLVED_AT: &str = "resolved_at";
    /// `boolean`, NULL until the return visit.
    pub const SATISFIED: &str = "satisfied";
    /// `bigint`, the grid worker handling it, NULL when none.
    pub const WORKER_ID: &str = "worker_id";
    /// `bigint`, the grid worker who reported it, NULL when not a worker.
    pub const REPORTER_WORKER: &str = "reporter_worker";

    /// All of them, in the order the statements select them.
    #[cfg(test)]
    pub const ALL: [&str; 18] = [
        ID,
        CATEGORY,
        TITLE,
        DESCRIPTION,
        STATUS,
        PRIORITY,
        GRID_ID,
        REPORTED_AT,
        DUE_AT,
        UPDATED_AT,
        LON,
        LAT,
        GENERATED,
        ESCALATION,
        RESOLVED_AT,
        SATISFIED,
        WORKER_ID,
        REPORTER_WORKER,
    ];
}

/// An event from a row holding the [`event_col`] columns (and maybe others).
pub(super) fn event_from_row(row: &Row) -> Result<Event> {
    use event_col as c;
    let id: i64 = get(row, c::ID)?;
    let status: &str = get(row, c::STATUS)?;
    let status = Status::parse(status).ok_or_else(|| StoreError::Invalid {
        what: "event",
        id,
        detail: format!("status {status:?}"),
    })?;
    Ok(Event {
        id,
        category: get(row, c::CATEGORY)?,
        title: get(row, c::TITLE)?,
        description: Some(get(row, c::DESCRIPTION)?),
        status,
        priority: get(row, c::PRIORITY)?,
        grid_id: get(row, c::GRID_ID)?,
        reported_at: get(row, c::REPORTED_AT)?,
        due_at: get(row, c::DUE_AT)?,
        updated_at: get(row, c::UPDATED_AT)?,
        lon: get(row, c::LON)?,
        lat: get(row, c::LAT)?,
        generated: get(row, c::GENERATED)?,
        escalation: escalation(id, get(row, c::ESCALATION)?)?,
        resolved_at: get(row, c::RESOLVED_AT)?,
        satisfied: get(row, c::SATISFIED)?,
        worker_id: get(row, c::WORKER_ID)?,
        reporter_worker: get(row, c::REPORTER_WORKER)?,
    })
}

/// The stored escalation step, checked.
pub(super) fn escalation(id: i64, step: i16) -> Result<u8> {
    u8::try_from(step)
        .ok()
        .filter(|s| *s <= 3)
        .ok_or_else(|| StoreError::Invalid {
            what: "event",
            id,
            detail: format!("escalation {step}"),
        })
}

#[cfg(test)]
mod tests {
    //! Against a real database: a fresh one, migrated, on `DATABASE_URL`'s server when it is
    //! set, otherwise in the private cluster the integration tests share (`target/test-pg`,
    //! started if need be and left running, as they leave it).

    use std::fs::File;
    use std::path::PathBuf;

    use chrono::{Duration, Utc};
    use futures_util::StreamExt;
    use geo_types::{LineString, MultiPolygon, Polygon};
    use tokio_postgres::NoTls;
    use tokio_postgres::types::Type;

    use super::event_col;
    use crate::{EmbeddedPostgres, ExportFilter, Store, TransitionInput, Watermark};
    use minqing_model::{Action, AreaRecord, EventRecord, Level, NewEvent, Role, Status};

    /// A fresh database (named `t_<pid>_<nanos>`, as the integration tests name theirs, so
    /// that their clean-up drops it should this test not get to).
    struct TestDb {
        admin: String,
        name: String,
        url: String,
    }

    impl TestDb {
        async fn create() -> TestDb {
            let (admin, url_for) = server();
            let name = format!(
                "t_{}_{}",
                std::process::id(),
                Utc::now().timestamp_nanos_opt().unwrap_or_default()
            );
            connect(&admin)
                .await
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let url = url_for(&name);
            TestDb { admin, name, url }
        }

        async fn drop_database(self) {
            let _ = connect(&self.admin)
                .await
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await;
        }
    }

    /// Maps a database name to its connection string.
    type UrlFor = Box<dyn Fn(&str) -> String>;

    /// The admin connection string, and the connection string of a database by name.
    fn server() -> (String, UrlFor) {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let u = url.clone();
            return (url, Box::new(move |db| with_dbname(&u, db)));
        }
        let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
        std::fs::create_dir_all(&target).unwrap();
        let lock = File::create(target.join("test-pg.lock")).unwrap();
        lock.lock().unwrap();
        let mut pg = EmbeddedPostgres::start(&target.join("test-pg")).unwrap();
        pg.keep();
        lock.unlock().unwrap();
        (pg.url_for("postgres"), Box::new(move |db| pg.url_for(db)))
    }

    fn with_dbname(url: &str, db: &str) -> String {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (head, tail) = url.split_at(url.rfind('/').unwrap());
            let query = tail.find('?').map_or("", |i| &tail[i..]);
            format!("{head}/{db}{query}")
        } else {
            let kept: Vec<&str> = url
                .split_whitespace()
                .filter(|kv| !kv.starts_with("dbname="))
                .collect();
            format!("{} dbname={db}", kept.join(" "))
        }
    }

    async fn connect(url: &str) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    /// Every statement whose rows are read as events (or, for exports, by position in
    /// the same order).
    const EVENT_STATEMENTS: &[(&str, &str)] = &[
        ("select_event.sql", include_str!("sql/select_event.sql")),
        ("event_case.sql", include_str!("sql/event_case.sql")),
        (
            "event_case.sql + for_update.sql",
            concat!(
                include_str!("sql/event_case.sql"),
                include_str!("sql/for_update.sql")
            ),
        ),
        (
            "event_by_idempotency_key.sql",
            include_str!("sql/event_by_idempotency_key.sql"),
        ),
        ("own_events.sql", include_str!("sql/own_events.sql")),
        ("changed_events.sql", include_str!("sql/changed_events.sql")),
        ("transition.sql", include_str!("sql/transition.sql")),
        ("escalate.sql", include_str!("sql/escalate.sql")),
        (
            "insert_events_batch.sql",
            include_str!("sql/insert_events_batch.sql"),
        ),
        (
            "open311_requests.sql",
            include_str!("sql/open311_requests.sql"),
        ),
        (
            "open311_requests_by_id.sql",
            include_str!("sql/open311_requests_by_id.sql"),
        ),
        ("export_events.sql", include_str!("sql/export_events.sql")),
        (
            "plan_publish_regrid.sql",
            include_str!("sql/plan_publish_regrid.sql"),
        ),
    ];

    #[tokio::test]
    async fn every_statement_that_returns_events_selects_the_event_columns_in_order() {
        let db = TestDb::create().await;
        let store = Store::connect(&db.url, 2).unwrap();
        store.migrate().await.unwrap();
        let conn = store.conn().await.unwrap();
        let columns = |stmt: &tokio_postgres::Statement| -> Vec<(String, Type)> {
            stmt.columns()
                .iter()
                .map(|c| (c.name().to_owned(), c.type_().clone()))
                .collect()
        };
        let reference = columns(&conn.prepare(EVENT_STATEMENTS[0].1).await.unwrap());
        let names: Vec<&str> = reference.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, event_col::ALL, "select_event.sql");
        for (file, sql) in EVENT_STATEMENTS {
            let stmt = conn
                .prepare(sql)
                .await
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let got = columns(&stmt);
            assert!(got.len() >= reference.len(), "{file}: {got:?}");
            assert_eq!(got[..reference.len()], reference[..], "{file}");
        }
        drop(conn);
        db.drop_database().await;
    }

    fn square(west: f64, south: f64, side: f64) -> MultiPolygon<f64> {
        let (east, north) = (west + side, south + side);
        MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (west, south),
                (east, south),
                (east, north),
                (west, north),
                (west, south),
            ]),
            vec![],
        )])
    }

    fn area(code: &str, level: Level, parent: Option<&str>) -> AreaRecord {
        AreaRecord {
            code: code.into(),
            name: format!("area {code}"),
            name_en: None,
            level,
            parent_code: parent.map(Into::into),
            households: 10,
            population: 30,
            workers: vec!["w".into()],
            generated: true,
            source: "test".into(),
            geom: square(115.0, 22.0, 1.0),
        }
    }

    /// Each read of the store on a fresh database: every row it maps is read by name.
    #[tokio::test]
    #[allow(clippy::too_many_lines)] // a test scenario reads best as one function from setup to assertion
    async fn the_store_reads_back_what_it_wrote_on_a_fresh_database() {
        let db = TestDb::create().await;
        let store = Store::connect(&db.url, 4).unwrap();
        assert!(!store.migrate().await.unwrap().is_empty());
        assert!(
            store.migrate().await.unwrap().is_empty(),
            "migrations run once"
        );
        assert!(store.postgis_version().await.unwrap().starts_with('3'));
        assert!(store.ping().await);

        // Bulk loads into empty tables (their indexes are dropped and rebuilt).
        let records = [
            area("D1", Level::District, None),
            area("G1", Level::Grid, Some("D1")),
        ];
        assert_eq!(store.insert_areas(&records, |_, _| {}).await.unwrap(), 2);
        let areas = store.load_areas().await.unwrap();
        let grid = areas.iter().find(|a| a.code == "G1").unwrap();
        let district = areas.iter().find(|a| a.code == "D1").unwrap();
        assert_eq!(grid.parent_id, Some(district.id));
        assert_eq!(grid.workers, ["w"]);
        let now = Utc::now();
        let overdue = EventRecord {
            category: "road.pothole".into(),
            title: "overdue".into(),
            description: "loaded".into(),
            status: Status::Accepted,
            priority: 2,
            reported_at: now - Duration::days(10),
            due_at: Some(now - Duration::days(5)),
            updated_at: now - Duration::days(9),
            lon: 115.5,
            lat: 22.5,
            reporter: Some("13800000000".into()),
            generated: true,
            resolved_at: None,
            satisfied: None,
        };
        let loaded = store
            .insert_events([Ok(overdue)], |_, _| Some(grid.id), |_| {})
            .await
            .unwrap();
        assert_eq!(loaded, 1);
        let mut events = Vec::new();
        store.load_events(|e| events.push(e), |_| {}).await.unwrap();
        assert_eq!(events.len(), 1);
        let overdue_id = events[0].id;
        assert_eq!(events[0].grid_id, Some(grid.id));
        assert!(store.estimate_events().await.unwrap() >= 1);

        // A report through the intake, then its retry with the same key.
        let (principal, secret) = store
            .create_token("rows-test reporter", Role::Reporter, Some("G1"))
            .await
            .unwrap();
        let found = store
            .token(&minqing_model::hash(&secret))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, principal);
        let report = || NewEvent {
            category: "road.pothole".into(),
            title: "a hole".into(),
            description: "in the road".into(),
            lon: 115.25,
            lat: 22.75,
            reporter: Some("13900000000".into()),
            photo: Some(("image/png", b"\x89PNG\r\n\x1a\nrest".to_vec())),
            link: None,
        };
        let first = store
            .insert_event(
                report(),
                2,
                Some(grid.id),
                Some("rows-test-key"),
                crate::ReportedBy {
                    token: Some(principal.token_id),
                    worker: None,
                },
                "reporter:rows-test",
            )
            .await
            .unwrap();
        assert!(first.created);
        let again = store
            .insert_event(
                report(),
                2,
                Some(grid.id),
                Some("rows-test-key"),
                crate::ReportedBy {
                    token: Some(principal.token_id),
                    worker: None,
                },
                "reporter:rows-test",
            )
            .await
            .unwrap();
        assert!(!again.created);
        assert_eq!(again.event, first.event);
        let id = first.event.id;
        assert_eq!((first.event.lon, first.event.lat), (115.25, 22.75));
        assert_eq!(first.event.description.as_deref(), Some("in the road"));
        assert_eq!(first.event.status, Status::Reported);

        assert_eq!(store.event(id).await.unwrap(), Some(first.event.clone()));
        let case = store.case(id).await.unwrap().unwrap();
        assert_eq!(case.event, first.event);
        assert_eq!(case.reporter_token, Some(principal.token_id));
        assert_eq!(case.assignee, None);
        assert_eq!(
            store.reporter_contact(id).await.unwrap().as_deref(),
            Some("13900000000")
        );
        assert!(store.has_photo(id).await.unwrap());
        let (content_type, bytes) = store.photo(id).await.unwrap().unwrap();
        assert_eq!((content_type.as_str(), bytes.len()), ("image/png", 12));
        assert_eq!(
            store.own_events(principal.token_id, 0, 10).await.unwrap(),
            std::slice::from_ref(&first.event)
        );
        assert_eq!(
            store
                .own_among(principal.token_id, &[id, overdue_id])
                .await
                .unwrap(),
            [id]
        );

        // A transition, and its history.
        let input = TransitionInput {
            note: "taken".into(),
            ..TransitionInput::default()
        };
        let accepted = store
            .transition(id, Action::Accept, &input, "command:rows-test", 3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(accepted.status, Status::Accepted);
        assert!(accepted.due_at.is_some());
        let history = store.history(id).await.unwrap();
        let steps: Vec<(Option<&str>, &str, &str)> = history
            .iter()
            .map(|h| (h.from.as_deref(), h.to.as_str(), h.note.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                (None, "reported", ""),
                (Some("reported"), "accepted", "taken")
            ]
        );
        assert_eq!(history[1].action.as_deref(), Some("accept"));

        // Open311 reads carry the latest note.
        let by_id = store.open311_requests_by_id(&[id], None).await.unwrap();
        assert_eq!(by_id.len(), 1);
        assert_eq!(by_id[0].1.as_deref(), Some("taken"));
        let filter = ExportFilter {
            statuses: vec!["accepted".into()],
            ..ExportFilter::default()
        };
        let listed = store.open311_requests(&filter, 10).await.unwrap();
        assert_eq!(listed.len(), 2);

        // Escalation of the overdue case.
        let raised = store.escalate_overdue(0.0, 10).await.unwrap();
        assert_eq!(raised.len(), 1);
        assert_eq!((raised[0].id, raised[0].escalation), (overdue_id, 3));

        // The change feed sees both events.
        assert!(store.watermark().await.unwrap() > Watermark(0));
        let listener = store.listen().await.unwrap();
        let (changed, _) = listener.changes_since(Watermark(0)).await.unwrap();
        let mut ids: Vec<i64> = changed.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids, [overdue_id, id]);

        // Exports stream both rows.
        let rows = store.export_events(&filter).await.unwrap();
        assert_eq!(rows.count().await, 2);

        assert_eq!(store.revoke_tokens("rows-test").await.unwrap(), 1);
        assert_eq!(
            store.token(&minqing_model::hash(&secret)).await.unwrap(),
            None
        );

        drop(listener);
        drop(store);
        db.drop_database().await;
    }
}
