//! Map label glyphs (`GET /fonts`, `GET /fonts/{fontstack}/{range}.pbf`) on a real server,
//! checked by tools minqing shares no code with.
//!
//! Python's `protobuf` decodes each PBF against the glyphs schema MapLibre reads (proto2,
//! so a missing required field fails), and `fontTools` reads the same installed fonts
//! (fonts-noto-cjk) to say what each range must hold:
//!
//! - exactly the code points of the range that a font of the stack maps, in order, each
//!   from the first font of the stack that maps it;
//! - each advance = the `hmtx` advance × 24 / unitsPerEm, truncated;
//! - each box (`left`, `top`, `width`, `height`) = the outline's bounds at 24 px rounded to
//!   whole pixels (±1 px: minqing measures flattened curves), `top` from the ascender line
//!   (⌈hhea.ascent × 24 / unitsPerEm⌉), and a bitmap of (width + 6) × (height + 6) bytes;
//! - the distance field: every border pixel of a bitmap is ≥ 2 px outside (≤ 128); and for
//!   a sample of glyphs ('中', 'A', …) every pixel centre that fontTools' `PointInsidePen`
//!   finds inside the outline is ≥ 189 and every one outside ≤ 193 (the edge is 191).
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{TestServer, empty_db};
use serde_json::{Value, json};

const SC: &str = "Noto Sans CJK SC Regular";
const SC_BOLD: &str = "Noto Sans CJK SC Bold";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv of `scripts/py-env.sh`, made once (under a lock: nextest runs every test in its
/// own process, in parallel).
fn python() -> PathBuf {
    std::fs::create_dir_all(root().join("target")).unwrap();
    let lock = std::fs::File::create(root().join("target/py-env.lock")).unwrap();
    lock.lock().unwrap();
    let st = Command::new(root().join("scripts/py-env.sh"))
        .status()
        .unwrap();
    lock.unlock().unwrap();
    assert!(st.success(), "scripts/py-env.sh failed");
    root().join("target/py/bin/python")
}

/// The independent checker (see the module docs). Reads
/// `{"cases": [{"file", "start", "fonts", "sample"}]}` on stdin; prints a summary.
const CHECK: &str = r#"
import json, math, os, sys
from fontTools.ttLib import TTCollection, TTFont
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.pointInsidePen import PointInsidePen
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

def glyphs_class():
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="glyphs.proto", package="check", syntax="proto2")
    def msg(name, fields):
        m = fdp.message_type.add(name=name)
        for num, fname, typ, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=typ, label=label)
            if tname:
                f.type_name = tname
    R, O, REP = F.LABEL_REQUIRED, F.LABEL_OPTIONAL, F.LABEL_REPEATED
    msg("glyph", [(1, "id", F.TYPE_UINT32, R, None), (2, "bitmap", F.TYPE_BYTES, O, None),
                  (3, "width", F.TYPE_UINT32, R, None), (4, "height", F.TYPE_UINT32, R, None),
                  (5, "left", F.TYPE_SINT32, R, None), (6, "top", F.TYPE_SINT32, R, None),
                  (7, "advance", F.TYPE_UINT32, R, None)])
    msg("fontstack", [(1, "name", F.TYPE_STRING, R, None), (2, "range", F.TYPE_STRING, R, None),
                      (3, "glyphs", F.TYPE_MESSAGE, REP, ".check.glyph")])
    msg("glyphs", [(1, "stacks", F.TYPE_MESSAGE, REP, ".check.fontstack")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("check.glyphs"))

Glyphs = glyphs_class()

def installed(wanted):
    """The faces named in `wanted` (family + style), found under /usr/share/fonts."""
    found = {}
    for d, subdirs, files in os.walk("/usr/share/fonts"):
        subdirs.sort()
        for fn in sorted(files):
            low = fn.lower()
            if not low.endswith((".ttf", ".otf", ".ttc")):
                continue
            path = os.path.join(d, fn)
            try:
                faces = TTCollection(path, lazy=True).fonts if low.endswith(".ttc") else [TTFont(path, lazy=True)]
            except Exception:
                continue
            for f in faces:
                n = f["name"]
                family = n.getDebugName(16) or n.getDebugName(1)
                style = n.getDebugName(17) or n.getDebugName(2)
                name = f"{family} {style}" if style else family
                if name in wanted and name not in found:
                    found[name] = f
    return found

class Face:
    def __init__(self, font):
        self.cmap = font.getBestCmap()
        self.upem = font["head"].unitsPerEm
        self.hmtx = font["hmtx"]
        self.glyphset = font.getGlyphSet()
        self.asc = math.ceil(font["hhea"].ascent * 24 / self.upem)

def px(v):
    return math.floor(v + 0.5)

def check_case(case, fonts, out):
    msg = Glyphs()
    msg.ParseFromString(open(case["file"], "rb").read())
    assert msg.IsInitialized(), "required fields missing"
    assert len(msg.stacks) == 1, len(msg.stacks)
    st = msg.stacks[0]
    start = case["start"]
    assert st.range == f"{start}-{start + 255}", st.range
    assert st.name == ",".join(case["fonts"]), st.name
    faces = [fonts[n] for n in case["fonts"]]
    want = {}
    for cp in range(start, start + 256):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for face in faces:
            g = face.cmap.get(cp)
            if g is not None and g != ".notdef":
                want[cp] = face
                break
    ids = [g.id for g in st.glyphs]
    assert ids == sorted(want), f"ids differ: extra {sorted(set(ids) - set(want))[:10]}, missing {sorted(set(want) - set(ids))[:10]}"
    sampled = 0
    for g in st.glyphs:
        face = want[g.id]
        gname = face.cmap[g.id]
        exact = face.hmtx[gname][0] * 24 / face.upem
        assert g.advance == math.floor(exact) or (g.advance == math.floor(exact) + 1 and exact % 1 > 63 / 64), (g.id, g.advance, exact)
        pen = BoundsPen(face.glyphset)
        face.glyphset[gname].draw(pen)
        if pen.bounds is None:
            assert (g.width, g.height, g.left) == (0, 0, 0) and not g.HasField("bitmap"), g
            out["empty"] += 1
            continue
        x0, y0, x1, y1 = (px(v * 24 / face.upem) for v in pen.bounds)
        if x1 == x0 or y1 == y0:
            assert g.width <= 1 and g.height <= 1 or not g.HasField("bitmap"), g
            continue
        where = (g.id, (g.left, g.top, g.width, g.height), (x0, y1 - face.asc, x1 - x0, y1 - y0))
        assert abs(g.left - x0) <= 1 and abs(g.width - (x1 - x0)) <= 1, where
        assert abs(g.height - (y1 - y0)) <= 1 and abs(g.top - (y1 - face.asc)) <= 1, where
        if g.width == 0 or g.height == 0:
            assert not g.HasField("bitmap"), where
            continue
        w, h = g.width + 6, g.height + 6
        b = g.bitmap
        assert len(b) == w * h, (g.id, len(b), w, h)
        border = [b[x] for x in range(w)] + [b[(h - 1) * w + x] for x in range(w)]
        border += [b[r * w] for r in range(h)] + [b[r * w + w - 1] for r in range(h)]
        assert max(border) <= 128, (g.id, max(border))
        if min(g.width, g.height) >= 2:
            assert max(b) > 191 and min(b) < 191, (g.id, max(b), min(b))
        out["glyphs"] += 1
        if g.id in case["sample"]:
            bad = []
            for r in range(h):
                for x in range(w):
                    fx = (g.left - 3 + x + 0.5) * face.upem / 24
                    fy = (g.top + face.asc + 3 - r - 0.5) * face.upem / 24
                    pen = PointInsidePen(face.glyphset, (fx, fy), evenOdd=False)
                    face.glyphset[gname].draw(pen)
                    v = b[r * w + x]
                    if (pen.getResult() and v < 189) or (not pen.getResult() and v > 193):
                        bad.append((x, r, pen.getResult(), v))
            assert not bad, (g.id, len(bad), bad[:10])
            sampled += 1
    assert sampled == len([c for c in case["sample"] if c in want]), (sampled, case["sample"])
    out["sampled"] += sampled
    out["ranges"] += 1

manifest = json.load(sys.stdin)
names = {n for c in manifest["cases"] for n in c["fonts"]}
fonts = {n: Face(f) for n, f in installed(names).items()}
assert set(fonts) == names, f"fontTools finds {sorted(fonts)} of {sorted(names)}"
out = {"ranges": 0, "glyphs": 0, "empty": 0, "sampled": 0}
for case in manifest["cases"]:
    try:
        check_case(case, fonts, out)
    except AssertionError as e:
        raise AssertionError(f"{case['file']}: {e}") from e
json.dump(out, sys.stdout)
"#;

/// A scratch directory for one test process, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let d = root().join(format!(
            "target/test-files/glyphs-{test}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn enc(stack: &str) -> String {
    stack
        .replace('%', "%25")
        .replace(' ', "%20")
        .replace(',', "%2C")
}

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    s.anon.get(s.url(path)).send().await.unwrap()
}

async fn fonts(s: &TestServer) -> Vec<String> {
    let r = get(s, "/fonts").await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn glyph_ranges_match_fonttools() {
    let s = TestServer::start(&empty_db().await).await;
    let installed = fonts(&s).await;
    for f in [SC, SC_BOLD] {
        assert!(installed.iter().any(|n| n == f), "{f} not in {installed:?}");
    }
    let dir = Scratch::new("fonttools");
    // (requested stack, installed fonts of it, range start, sample code points)
    let mut cases: Vec<(String, Vec<&str>, u32, Vec<u32>)> = vec![
        (
            SC.into(),
            vec![SC],
            0,
            vec!['A' as u32, 'g' as u32, '@' as u32],
        ),
        (SC.into(), vec![SC], 0x4E00, vec!['中' as u32, '丁' as u32]),
        (SC.into(), vec![SC], 0x5600, vec!['国' as u32]),
        (SC.into(), vec![SC], 0x3000, vec!['。' as u32]),
        (SC.into(), vec![SC], 0xFF00, vec!['，' as u32]),
        (
            format!("{SC},{SC_BOLD}"),
            vec![SC, SC_BOLD],
            0x6C00,
            vec!['汕' as u32],
        ),
        (
            format!("No Such Font,{SC_BOLD}"),
            vec![SC_BOLD],
            0x5C00,
            vec!['尾' as u32],
        ),
    ];
    // Per-glyph fallback across fonts of different coverage, where DejaVu is installed.
    if installed.iter().any(|n| n == "DejaVu Sans Book") {
        cases.push((
            format!("DejaVu Sans Book,{SC}"),
            vec!["DejaVu Sans Book", SC],
            0,
            vec!['A' as u32],
        ));
        cases.push((
            format!("DejaVu Sans Book,{SC}"),
            vec!["DejaVu Sans Book", SC],
            0x4E00,
            vec![],
        ));
    }
    let mut manifest = Vec::new();
    for (i, (stack, fonts, start, sample)) in cases.iter().enumerate() {
        let path = format!("/fonts/{}/{start}-{}.pbf", enc(stack), start + 255);
        let t = std::time::Instant::now();
        let r = get(&s, &path).await;
        let took = t.elapsed();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/x-protobuf");
        assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
        let body = r.bytes().await.unwrap();
        eprintln!("{path}: {} bytes in {took:?}", body.len());
        // Cached: the same bytes again.
        let again = get(&s, &path).await.bytes().await.unwrap();
        assert_eq!(body, again);
        let file = dir.0.join(format!("{i}.pbf"));
        std::fs::write(&file, &body).unwrap();
        manifest.push(json!({"file": file, "start": start, "fonts": fonts, "sample": sample}));
    }
    let mut child = Command::new(python())
        .arg("-c")
        .arg(CHECK)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &json!({"cases": manifest})).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the fontTools check failed");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("checked: {summary}");
    assert_eq!(summary["ranges"], cases.len());
    assert!(summary["glyphs"].as_u64().unwrap() > 1000, "{summary}");
    assert!(
        summary["empty"].as_u64().unwrap() >= 1,
        "the space: {summary}"
    );
    assert!(summary["sampled"].as_u64().unwrap() >= 9, "{summary}");
}

/// Hand-decoded: the first glyph of the first stack whose id is `id`, as
/// (advance, width, height, bitmap length), and the stack's range.
fn find_glyph(pbf: &[u8], id: u32) -> (Option<(u64, u64, u64, usize)>, String) {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let byte = b[*i];
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    /// (field, varint value or bytes) of each field of a message.
    fn fields(b: &[u8]) -> Vec<(u64, u64, &[u8])> {
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            let key = varint(b, &mut i);
            match key & 7 {
                0 => out.push((key >> 3, varint(b, &mut i), &b[0..0])),
                2 => {
                    let n = varint(b, &mut i) as usize;
                    out.push((key >> 3, 0, &b[i..i + n]));
                    i += n;
                }
                t => panic!("wire type {t}"),
            }
        }
        out
    }
    let top = fields(pbf);
    assert_eq!(top.len(), 1);
    let stack = fields(top[0].2);
    let range = stack
        .iter()
        .find(|f| f.0 == 2)
        .map(|f| String::from_utf8(f.2.to_vec()).unwrap())
        .unwrap();
    for g in stack.iter().filter(|f| f.0 == 3) {
        let gf = fields(g.2);
        let get = |n| gf.iter().find(|f| f.0 == n).map(|f| f.1);
        if get(1) == Some(u64::from(id)) {
            let bitmap = gf.iter().find(|f| f.0 == 2).map_or(0, |f| f.2.len());
            return (
                Some((get(7).unwrap(), get(3).unwrap(), get(4).unwrap(), bitmap)),
                range,
            );
        }
    }
    (None, range)
}

#[tokio::test]
async fn glyph_errors_gzip_and_empty_ranges() {
    let s = TestServer::start(&empty_db().await).await;
    assert!(fonts(&s).await.iter().any(|n| n == SC));

    let path = format!("/fonts/{}/19968-20223.pbf", enc(SC));
    let plain = get(&s, &path).await.bytes().await.unwrap();
    let (zhong, range) = find_glyph(&plain, '中' as u32);
    assert_eq!(range, "19968-20223");
    let (advance, w, h, len) = zhong.unwrap();
    assert_eq!(advance, 24, "a CJK ideograph is one em wide");
    assert_eq!(len as u64, (w + 6) * (h + 6));

    // gzip when accepted, the same message inside.
    let r = s
        .anon
        .get(s.url(&path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    let z = r.bytes().await.unwrap();
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&z[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);

    // A range with no glyphs (surrogates) is an empty fontstack.
    let r = get(&s, &format!("/fonts/{}/55296-55551.pbf", enc(SC))).await;
    assert_eq!(r.status(), 200);
    let empty = r.bytes().await.unwrap();
    let (none, range) = find_glyph(&empty, 0xD800);
    assert!(none.is_none());
    assert_eq!(range, "55296-55551");

    // Unknown font stacks: 404 with a JSON error.
    for stack in ["No Such Font", "No Such Font,Nor This"] {
        let r = get(&s, &format!("/fonts/{}/0-255.pbf", enc(stack))).await;
        assert_eq!(r.status(), 404, "{stack}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "not_found");
    }
    // Malformed ranges: 400 with a JSON error.
    for range in [
        "0-256",
        "1-256",
        "256-255",
        "65536-65791",
        "a-b",
        "0-255-511",
        "00-255",
        "-1-254",
    ] {
        let r = get(&s, &format!("/fonts/{}/{range}.pbf", enc(SC))).await;
        assert_eq!(r.status(), 400, "{range}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "bad_request", "{range}");
    }
}

/// NUL, line breaks, invalid UTF-8, overlong or odd stacks and ranges: each a 4xx with the
/// JSON error shape, never a 5xx — and a stack holding a control character is refused even
/// when another of its fonts is installed (no font is named so).
#[tokio::test]
async fn odd_text_in_a_glyph_path_is_a_client_error_in_json() {
    let s = TestServer::start(&empty_db().await).await;
    let sc = enc(SC);
    let long = "A".repeat(4000);
    let commas = ",".repeat(2000);
    let many = std::iter::repeat_n(sc.as_str(), 300)
        .collect::<Vec<_>>()
        .join("%2C");
    let mut wrong = Vec::new();
    for path in [
        format!("/fonts/{sc}%00/0-255.pbf"),
        format!("/fonts/{sc}%2C%00/0-255.pbf"),
        format!("/fonts/{sc}%2CNo%0ASuch%20Font/0-255.pbf"),
        "/fonts/%00/0-255.pbf".to_owned(),
        "/fonts/Noto%00Sans/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/0-255%00.pbf"),
        format!("/fonts/{sc}/0%00-255.pbf"),
        format!("/fonts/{sc}/%00.pbf"),
        format!("/fonts/{sc}/0-255.pbf%00"),
        format!("/fonts/{sc}/0-255.p%00bf"),
        "/fonts/%FF%FE/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/%FF.pbf"),
        format!("/fonts/%E2%80%AE{sc}/0-255.pbf"),
        "/fonts/%0A%0D/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/%EF%BC%90-255.pbf"),
        format!("/fonts/{sc}/+0-255.pbf"),
        format!("/fonts/{sc}/0-+255.pbf"),
        format!("/fonts/{long}/0-255.pbf"),
        format!("/fonts/{commas}/0-255.pbf"),
        format!("/fonts/{many}%00/0-255.pbf"),
        "/fonts/%20/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/.pbf"),
        format!("/fonts/{sc}/0-255"),
        "/fonts//0-255.pbf".to_owned(),
        format!("/fonts/{sc}/"),
        "/fonts/a%2Fb/0-255.pbf".to_owned(),
        "/fonts/../0-255.pbf".to_owned(),
        "/fonts/%2E%2E/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/0-255.pbf/x"),
        "/fonts/%25/0-255.pbf".to_owned(),
        "/fonts/%C0%80/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/0-255.pbf.pbf"),
        "/fonts/%7F/0-255.pbf".to_owned(),
        format!("/fonts/{sc}/%F0%9F%98%80.pbf"),
    ] {
        let path = path.as_str();
        let r = get(&s, path).await;
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        let body = r.text().await.unwrap();
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let shown: String = path.chars().take(120).collect();
        if !(400..500).contains(&status)
            || !ctype.starts_with("application/json")
            || !v["error"]["code"].is_string()
            || !v["error"]["message"].is_string()
        {
            let body: String = body.chars().take(200).collect();
            wrong.push(format!("{shown}: {status} {ctype} {body:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
