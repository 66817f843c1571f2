//! Open311 GeoReport v2 (`/open311/v2/…`) driven as a client drives it, against a real
//! server and a real PostGIS holding the demo.
//!
//! Every JSON answer is validated with Python `jsonschema` against the published schemas
//! vendored in `tests/open311/schemas` (`ours/` for the responses without one), and every
//! XML answer is parsed with Python's `xml.etree` and mapped by the Spark convention onto
//! the JSON answer of the same call (`tests/open311/check.py`, in the venv of
//! `scripts/py-env.sh`).
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{TestServer, demo_db, sql};
use serde_json::{Value, json};

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
const XML_TYPE: &str = "text/xml; charset=utf-8";
const JSON_TYPE: &str = "application/json; charset=utf-8";
/// A point in 城区 inside a grid of the demo.
const LON: f64 = 115.371;
const LAT: f64 = 22.791;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv of `scripts/py-env.sh`, made once (under the same lock as the tile tests).
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

/// An answer: status, content type, body text.
#[derive(Debug)]
struct Got {
    status: u16,
    content_type: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        assert_eq!(self.content_type, JSON_TYPE, "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn xml(&self) -> &str {
        assert_eq!(self.content_type, XML_TYPE, "{}", self.body);
        assert!(
            self.body.starts_with(XML_DECLARATION),
            "no XML declaration: {}",
            self.body
        );
        &self.body
    }

    /// The first text of `<tag>` in the XML.
    fn xml_text(&self, tag: &str) -> String {
        let open = format!("<{tag}>");
        let body = self.xml();
        let start = body
            .find(&open)
            .unwrap_or_else(|| panic!("no {open}: {body}"))
            + open.len();
        let end = body[start..].find('<').unwrap() + start;
        body[start..end].to_owned()
    }
}

async fn fetch(req: reqwest::RequestBuilder) -> Got {
    let r = req.send().await.unwrap();
    Got {
        status: r.status().as_u16(),
        content_type: r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: r.text().await.unwrap(),
    }
}

/// A form-encoded POST of `fields` (keys percent-encoded as browsers and clients do).
fn form(client: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(serde_urlencoded::to_string(fields).unwrap())
}

/// Form fields.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// Collected checks for `tests/open311/check.py`.
#[derive(Default)]
struct Checks(Vec<Value>);

impl Checks {
    /// Validate `doc` against `schema` (relative to tests/open311/schemas).
    fn json(&mut self, name: &str, schema: &str, doc: &Value) {
        self.0
            .push(json!({"name": name, "schema": schema, "json": doc}));
    }

    /// Parse `xml`, check its root, and map it onto `doc` (the same call in JSON).
    fn xml(&mut self, name: &str, root: &str, lists: &[&str], xml: &str, doc: &Value) {
        self.0
            .push(json!({"name": name, "xml": xml, "root": root, "lists": lists, "json": doc}));
    }

    /// An error answer in both formats: 4xx `status`, schema-valid, XML matching.
    fn error(&mut self, name: &str, status: u16, json_answer: &Got, xml_answer: &Got) {
        assert_eq!(json_answer.status, status, "{name}: {}", json_answer.body);
        assert_eq!(xml_answer.status, status, "{name}: {}", xml_answer.body);
        let doc = json_answer.json();
        assert_eq!(doc[0]["code"], status, "{name}: {doc}");
        assert!(!doc[0]["description"].as_str().unwrap().is_empty());
        self.json(&format!("{name} (json)"), "ours/errors.json", &doc);
        self.xml(
            &format!("{name} (xml)"),
            "errors",
            &["errors"],
            xml_answer.xml(),
            &doc,
        );
    }

    /// Runs the checker; every check must pass.
    fn run(self) {
        let n = self.0.len();
        let manifest = json!({
            "schemas": root().join("tests/open311/schemas"),
            "checks": self.0,
        });
        let mut child = Command::new(python())
            .arg(root().join("tests/open311/check.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        serde_json::to_writer(child.stdin.take().unwrap(), &manifest).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "tests/open311/check.py failed");
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        let result = result.as_object().unwrap();
        assert_eq!(result.len(), n, "every check reported (names are unique)");
        let failed: Vec<_> = result
            .iter()
            .filter(|(_, p)| !p.as_array().unwrap().is_empty())
            .collect();
        assert!(failed.is_empty(), "independent checks failed: {failed:#?}");
    }
}

async fn count_events(url: &str) -> i64 {
    sql(url)
        .await
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

/// The code of the community holding the demo point, and of another community.
async fn communities(url: &str) -> (String, String) {
    let db = sql(url).await;
    let here: String = db
        .query_one(
            "SELECT c.code FROM areas g JOIN areas c ON c.id = g.parent_id
             WHERE g.level = 'grid' AND g.valid_to IS NULL
               AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
             ORDER BY g.id LIMIT 1",
            &[&LON, &LAT],
        )
        .await
        .unwrap()
        .get(0);
    assert!(here.len() > 2);
    let other: String = db
        .query_one(
            "SELECT code FROM areas WHERE level = 'community' AND valid_to IS NULL AND code <> $1
             ORDER BY id LIMIT 1",
            &[&here],
        )
        .await
        .unwrap()
        .get(0);
    (here, other)
}

/// The ids of a JSON list of requests, in order.
fn ids(doc: &Value) -> Vec<String> {
    doc.as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap().to_owned())
        .collect()
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .to_utc()
}

/// Discovery → services → definition → POST (with a key, and anonymously) → GET back by
/// id, in lists with filters, and through tokens; every answer checked independently.
#[tokio::test]
async fn a_client_reports_and_follows_requests() {
    let url = demo_db().await;
    let s = TestServer::start_with(&url, |c| {
        c.reports_burst = 1;
        c.reports_per_minute = 1;
    })
    .await;
    let admin = s.token("admin", None).await;
    let v2 = |p: &str| s.url(&format!("/open311/v2/{p}"));
    let mut checks = Checks::default();

    // Discovery, both formats.
    let dj = fetch(s.anon.get(v2("discovery.json"))).await;
    let dx = fetch(s.anon.get(v2("discovery.xml"))).await;
    assert_eq!((dj.status, dx.status), (200, 200));
    let d = dj.json();
    let endpoint = &d["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(endpoint["url"], format!("{}/open311/v2", s.base));
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
    assert!(time(&d["changeset"]) < chrono::Utc::now());
    assert!(time(&endpoint["changeset"]) < chrono::Utc::now());
    for k in ["contact", "key_service"] {
        assert!(!d[k].as_str().unwrap().is_empty());
    }
    checks.json("discovery", "ours/discovery.json", &d);
    checks.xml(
        "discovery xml",
        "discovery",
        &["endpoints", "formats"],
        dx.xml(),
        &d,
    );

    // Services: every full taxonomy code, realtime, metadata a real boolean.
    let sj = fetch(s.anon.get(v2("services.json?jurisdiction_id=minqing"))).await;
    let sx = fetch(s.anon.get(v2("services.xml"))).await;
    assert_eq!((sj.status, sx.status), (200, 200));
    let services = sj.json();
    let list = services.as_array().unwrap();
    assert_eq!(list.len(), 35, "{services}");
    let fire = list
        .iter()
        .find(|x| x["service_code"] == "hazard.fire")
        .unwrap();
    assert_eq!(fire["service_name"], "消防隐患");
    assert_eq!(fire["group"], "安全隐患");
    assert!(
        list.iter()
            .all(|x| x["metadata"] == false && x["type"] == "realtime")
    );
    assert!(list.iter().all(|x| x["keywords"].is_string()));
    checks.json("services", "services.json", &services);
    checks.xml(
        "services xml",
        "services",
        &["services"],
        sx.xml(),
        &services,
    );

    // A service definition.
    let fj = fetch(s.anon.get(v2("services/hazard.fire.json"))).await;
    let fx = fetch(s.anon.get(v2("services/hazard.fire.xml"))).await;
    assert_eq!((fj.status, fx.status), (200, 200));
    let def = fj.json();
    assert!(def.is_object());
    assert_eq!(def["service_code"], "hazard.fire");
    assert_eq!(def["attributes"][0]["variable"], false);
    checks.json("definition", "service-definition.json", &def);
    checks.xml(
        "definition xml",
        "service_definition",
        &["attributes", "values"],
        fx.xml(),
        &def,
    );

    // POST with an api_key (form body), as FixMyStreet sends it.
    let before = count_events(&url).await;
    let lon = LON.to_string();
    let lat = LAT.to_string();
    let description = "楼道堆放杂物 <堵塞> & \"消防通道\"\n第二行：三楼东侧";
    let p1 = fetch(form(
        &s.anon,
        v2("requests.json"),
        &[
            ("api_key", &admin),
            ("jurisdiction_id", "minqing"),
            ("service_code", "hazard.fire"),
            ("lat", &lat),
            ("long", &lon),
            ("address_string", "城区某路 12 号"),
            ("email", "zhang@example.org"),
            ("device_id", "tt222111"),
            ("account_id", "123456"),
            ("first_name", "张"),
            ("last_name", "三"),
            ("phone", "13900002222"),
            ("description", description),
            ("media_url", "https://example.org/p/1.jpg"),
            ("attribute[WHISPAWN]", "123456"),
        ],
    ))
    .await;
    assert_eq!(p1.status, 200, "{}", p1.body);
    let posted = p1.json();
    assert_eq!(posted.as_array().unwrap().len(), 1);
    assert!(posted[0]["account_id"].is_null());
    assert!(posted[0]["service_notice"].is_string());
    assert!(posted[0].get("token").is_none());
    let id1 = posted[0]["service_request_id"].as_str().unwrap().to_owned();
    checks.json("post", "ours/post-service-request-response.json", &posted);

    // Committed before the answer: the row, its grid, the contact stored apart.
    let db = sql(&url).await;
    let row = db
        .query_one(
            "SELECT e.category, e.title, e.description, e.grid_id, r.contact, e.reporter_token
             FROM events e LEFT JOIN event_reporters r ON r.event_id = e.id WHERE e.id = $1",
            &[&id1.parse::<i64>().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "hazard.fire");
    assert_eq!(
        row.get::<_, String>(1),
        "楼道堆放杂物 <堵塞> & \"消防通道\""
    );
    let stored: String = row.get(2);
    assert!(stored.starts_with(description) && stored.contains("https://example.org/p/1.jpg"));
    assert!(
        row.get::<_, Option<i64>>(3).is_some(),
        "located in its grid"
    );
    let contact: String = row.get(4);
    assert!(
        contact.contains("张 三")
            && contact.contains("zhang@example.org")
            && contact.contains("13900002222")
    );
    assert_eq!(row.get::<_, Option<i64>>(5), None);

    // POST anonymously, in XML; then the rate limit (429, Open311 errors, nothing stored).
    let fields = [
        ("service_code", "urban.road"),
        ("lat", lat.as_str()),
        ("long", lon.as_str()),
        ("description", "路面塌陷"),
    ];
    let p2 = fetch(form(&s.anon, v2("requests.xml"), &fields)).await;
    assert_eq!(p2.status, 200, "{}", p2.body);
    let id2 = p2.xml_text("service_request_id");
    assert!(id2.parse::<i64>().unwrap() > id1.parse::<i64>().unwrap());
    checks.xml(
        "post xml",
        "service_requests",
        &["service_requests"],
        p2.xml(),
        &json!([{"service_request_id": id2, "service_notice": p2.xml_text("service_notice"), "account_id": null}]),
    );
    assert_eq!(count_events(&url).await, before + 2);
    let limited_json = fetch(form(&s.anon, v2("requests.json"), &fields)).await;
    let limited_xml = fetch(form(&s.anon, v2("requests.xml"), &fields)).await;
    checks.error("rate limited", 429, &limited_json, &limited_xml);
    assert_eq!(count_events(&url).await, before + 2, "nothing stored");

    // GET it back by id: an array of one, full record for a key that reads events.
    let key = format!("api_key={admin}");
    let gj = fetch(s.anon.get(v2(&format!("requests/{id1}.json?{key}")))).await;
    let gx = fetch(s.anon.get(v2(&format!("requests/{id1}.xml?{key}")))).await;
    assert_eq!((gj.status, gx.status), (200, 200), "{}", gj.body);
    let one = gj.json();
    assert_eq!(one.as_array().unwrap().len(), 1);
    let r = &one[0];
    assert_eq!(r["service_request_id"], id1.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "hazard.fire");
    assert_eq!(r["service_name"], "消防隐患");
    assert!(r["description"].as_str().unwrap().starts_with(description));
    assert!((r["lat"].as_f64().unwrap() - LAT).abs() < 1e-9);
    assert!((r["long"].as_f64().unwrap() - LON).abs() < 1e-9);
    assert!(r["address"].as_str().unwrap().contains("城区"));
    assert!(r["agency_responsible"].is_string());
    assert!(
        r["expected_datetime"].is_null(),
        "not accepted yet: no deadline"
    );
    assert!(r["requested_datetime"].as_str().unwrap().ends_with('Z'));
    for secret in ["zhang@example.org", "13900002222", "张 三"] {
        assert!(
            !gj.body.contains(secret) && !gx.body.contains(secret),
            "no contact"
        );
    }
    checks.json("one", "requests.json", &one);
    checks.xml(
        "one xml",
        "service_requests",
        &["service_requests"],
        gx.xml(),
        &one,
    );

    // A status note appears once staff write one; the request stays open.
    let accepted = s
        .http
        .post(s.url(&format!("/api/v1/events/{id1}/transitions")))
        .header("content-type", "application/json")
        .body(json!({"action": "accept", "note": "已受理，派网格员核查"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let again = fetch(s.http.get(v2(&format!("requests/{id1}.json"))))
        .await
        .json();
    assert_eq!(again[0]["status_notes"], "已受理，派网格员核查");
    assert_eq!(again[0]["status"], "open");
    assert!(time(&again[0]["expected_datetime"]) > chrono::Utc::now());
    checks.json("one accepted", "requests.json", &again);

    // Lists: by ids (overriding other filters), by service and status, by window.
    let by_ids = fetch(s.http.get(v2(&format!(
        "requests.json?service_request_id={id1},{id2}&status=closed&service_code=dispute.family"
    ))))
    .await
    .json();
    assert_eq!(ids(&by_ids), [id2.clone(), id1.clone()], "newest first");
    checks.json("by ids", "requests.json", &by_ids);
    let bx = fetch(
        s.http
            .get(v2(&format!("requests.xml?service_request_id={id1},{id2}"))),
    )
    .await;
    checks.xml(
        "by ids xml",
        "service_requests",
        &["service_requests"],
        bx.xml(),
        &by_ids,
    );

    let fires = fetch(s.http.get(v2(
        "requests.json?service_code=hazard.fire,hazard.gas&status=open",
    )))
    .await
    .json();
    let fire_ids = ids(&fires);
    assert!(fire_ids.contains(&id1) && !fire_ids.contains(&id2));
    assert!(!fire_ids.is_empty() && fire_ids.len() <= 1000);
    for r in fires.as_array().unwrap() {
        assert!(["hazard.fire", "hazard.gas"].contains(&r["service_code"].as_str().unwrap()));
        assert_eq!(r["status"], "open");
    }
    checks.json("fires", "requests.json", &fires);

    let recent = fetch(s.http.get(v2("requests.json"))).await.json();
    let recent_ids = ids(&recent);
    assert_eq!(recent_ids[..2], [id2.clone(), id1.clone()], "newest first");
    assert!(recent_ids.len() <= 1000);
    let ninety = chrono::Utc::now() - chrono::Duration::days(90);
    let times: Vec<_> = recent
        .as_array()
        .unwrap()
        .iter()
        .map(|r| time(&r["requested_datetime"]))
        .collect();
    assert!(
        times.iter().all(|t| *t >= ninety),
        "default window: 90 days"
    );
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    checks.json("recent", "requests.json", &recent);

    let closed = fetch(s.http.get(v2("requests.json?status=closed")))
        .await
        .json();
    assert!(!closed.as_array().unwrap().is_empty());
    assert!(
        closed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "closed")
    );
    assert!(!ids(&closed).contains(&id1));

    let (from, to) = ("2026-08-01T00:00:00+08:00", "2026-08-15T00:00:00Z");
    let windowed = fetch(s.http.get(v2(&format!(
        "requests.json?start_date={}&end_date={to}",
        from.replace('+', "%2B")
    ))))
    .await
    .json();
    let got = windowed.as_array().unwrap();
    assert!(!got.is_empty() && got.len() <= 1000);
    let (from, to) = (time(&json!(from)), time(&json!(to)));
    assert!(got.iter().all(|r| {
        let t = time(&r["requested_datetime"]);
        t >= from && t <= to
    }));
    assert!(!ids(&windowed).contains(&id1));
    checks.json("window", "requests.json", &windowed);

    // Tokens: a request id is its own token.
    let tj = fetch(s.anon.get(v2(&format!("tokens/{id1}.json")))).await;
    let tx = fetch(s.anon.get(v2(&format!("tokens/{id1}.xml")))).await;
    assert_eq!((tj.status, tx.status), (200, 200));
    let tok = tj.json();
    assert_eq!(tok, json!([{"service_request_id": id1, "token": id1}]));
    checks.json("token", "ours/token-response.json", &tok);
    checks.xml(
        "token xml",
        "service_requests",
        &["service_requests"],
        tx.xml(),
        &tok,
    );
    let missing_j = fetch(s.anon.get(v2("tokens/999999999.json"))).await;
    let missing_x = fetch(s.anon.get(v2("tokens/999999999.xml"))).await;
    checks.error("unknown token", 404, &missing_j, &missing_x);

    checks.run();
}

/// Who sees what, and refusals: anonymous callers get no locations, scopes hold, a bad
/// key is 403, bad input 400, unknown things 404, all in Open311's error format, and a
/// refused POST stores nothing.
#[tokio::test]
async fn access_and_errors() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let admin = s.token("admin", None).await;
    let (here, other) = communities(&url).await;
    let field_here = s.token("field", Some(&here)).await;
    let field_other = s.token("field", Some(&other)).await;
    let v2 = |p: &str| s.url(&format!("/open311/v2/{p}"));
    let mut checks = Checks::default();
    let lon = LON.to_string();
    let lat = LAT.to_string();

    let posted = fetch(form(
        &s.anon,
        v2("requests.json"),
        &[
            ("api_key", &admin),
            ("service_code", "service.elderly"),
            ("lat", &lat),
            ("long", &lon),
            ("description", "独居老人需要帮助"),
            ("email", "li@example.org"),
        ],
    ))
    .await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    let id = posted.json()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Multipart, as GeoReporter sends a report with a photo: text fields read, the file
    // part ignored.
    let boundary = "----minqing311";
    let mut body = Vec::new();
    for (k, v) in [
        ("api_key", admin.as_str()),
        ("service_code", "urban.road"),
        ("lat", lat.as_str()),
        ("long", lon.as_str()),
        ("description", "井盖破损\r\n第二行"),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&[0xff, 0xd8, 0xff, 0x00, 0x0d, 0x0a]);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mp = fetch(
        s.anon
            .post(v2("requests.json"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await;
    assert_eq!(mp.status, 200, "{}", mp.body);
    let mp_id: i64 = mp.json()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let title: String = sql(&url)
        .await
        .query_one("SELECT title FROM events WHERE id = $1", &[&mp_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(title, "井盖破损");

    // Anonymous: the record without its location, nor any personal data.
    let aj = fetch(s.anon.get(v2(&format!("requests/{id}.json")))).await;
    let ax = fetch(s.anon.get(v2(&format!("requests/{id}.xml")))).await;
    assert_eq!((aj.status, ax.status), (200, 200), "{}", aj.body);
    let public = aj.json();
    for k in ["lat", "long", "address", "agency_responsible"] {
        assert!(public[0][k].is_null(), "{k}: {public}");
    }
    // Free text is not public: the service name stands in for the description.
    assert_eq!(public[0]["description"], public[0]["service_name"]);
    assert!(!aj.body.contains("独居老人需要帮助") && !ax.body.contains("独居老人需要帮助"));
    assert!(public[0]["status_notes"].is_null());
    assert!(ax.xml().contains("<lat></lat>") && !ax.body.contains(&lat));
    assert!(!aj.body.contains("li@example.org") && !ax.body.contains("li@example.org"));
    checks.json("public one", "requests.json", &public);
    checks.xml(
        "public one xml",
        "service_requests",
        &["service_requests"],
        ax.xml(),
        &public,
    );
    let public_list = fetch(s.anon.get(v2("requests.json"))).await.json();
    assert!(
        public_list
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["lat"].is_null() && r["long"].is_null())
    );
    assert!(ids(&public_list).contains(&id));
    checks.json("public list", "requests.json", &public_list);

    // A reporter token is not a reader: the public view too.
    let reporter = s.token("reporter", None).await;
    let rj = fetch(
        s.anon
            .get(v2(&format!("requests/{id}.json?api_key={reporter}"))),
    )
    .await
    .json();
    assert!(rj[0]["lat"].is_null());

    // The Authorization header works as well as api_key.
    let hj = fetch(s.http.get(v2(&format!("requests/{id}.json"))))
        .await
        .json();
    assert!((hj[0]["lat"].as_f64().unwrap() - LAT).abs() < 1e-9);

    // Scopes: the field worker of this community sees it; of another, it does not exist.
    let mine = fetch(
        s.anon
            .get(v2(&format!("requests/{id}.json?api_key={field_here}"))),
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.json()[0]["lat"].is_number());
    let theirs_j = fetch(
        s.anon
            .get(v2(&format!("requests/{id}.json?api_key={field_other}"))),
    )
    .await;
    let theirs_x = fetch(
        s.anon
            .get(v2(&format!("requests/{id}.xml?api_key={field_other}"))),
    )
    .await;
    checks.error("out of scope", 404, &theirs_j, &theirs_x);
    let listed = fetch(s.anon.get(v2(&format!(
        "requests.json?api_key={field_other}&service_request_id={id}"
    ))))
    .await
    .json();
    assert_eq!(listed, json!([]));
    let theirs = fetch(
        s.anon
            .get(v2(&format!("requests.json?api_key={field_other}"))),
    )
    .await
    .json();
    assert!(!ids(&theirs).contains(&id));
    assert!(
        theirs
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["lat"].is_number())
    );
    checks.json("scoped list", "requests.json", &theirs);

    // Invalid keys: 403, on GET and POST, in both formats.
    let bad = "mq_0000000000000000000000000000000000000000000000000000000000000000";
    let before = count_events(&url).await;
    checks.error(
        "bad key get",
        403,
        &fetch(s.anon.get(v2(&format!("requests.json?api_key={bad}")))).await,
        &fetch(s.anon.get(v2(&format!("requests.xml?api_key={bad}")))).await,
    );
    let post_fields = [
        ("api_key", bad),
        ("service_code", "hazard.fire"),
        ("lat", lat.as_str()),
        ("long", lon.as_str()),
    ];
    checks.error(
        "bad key post",
        403,
        &fetch(form(&s.anon, v2("requests.json"), &post_fields)).await,
        &fetch(form(&s.anon, v2("requests.xml"), &post_fields)).await,
    );
    // A bad Authorization header is refused too, in Open311's format.
    let bad_header = common::client_with_token(bad);
    let bj = fetch(bad_header.get(v2(&format!("requests/{id}.json")))).await;
    let bx = fetch(bad_header.get(v2(&format!("requests/{id}.xml")))).await;
    checks.error("bad bearer", 403, &bj, &bx);
    let bp = fetch(form(&bad_header, v2("requests.json"), &post_fields[1..])).await;
    assert_eq!(bp.status, 403, "{}", bp.body);

    // Bad POSTs: each refused with its status and nothing stored.
    let refused: [(&str, u16, Fields); 8] = [
        ("no service", 400, vec![("lat", &lat), ("long", &lon)]),
        (
            "unknown service",
            404,
            vec![("service_code", "nope.nope"), ("lat", &lat), ("long", &lon)],
        ),
        (
            "address only",
            400,
            vec![
                ("service_code", "hazard.fire"),
                ("address_string", "城区某路 12 号"),
            ],
        ),
        ("no location", 400, vec![("service_code", "hazard.fire")]),
        (
            "lat only",
            400,
            vec![("service_code", "hazard.fire"), ("lat", &lat)],
        ),
        (
            "lat not a number",
            400,
            vec![
                ("service_code", "hazard.fire"),
                ("lat", "north"),
                ("long", &lon),
            ],
        ),
        (
            "lat out of range",
            400,
            vec![
                ("service_code", "hazard.fire"),
                ("lat", "95"),
                ("long", &lon),
            ],
        ),
        (
            "unknown jurisdiction",
            404,
            vec![
                ("jurisdiction_id", "sfgov.org"),
                ("service_code", "hazard.fire"),
                ("lat", &lat),
                ("long", &lon),
            ],
        ),
    ];
    for (name, status, fields) in refused {
        let mut fields = fields;
        fields.push(("api_key", &admin));
        let j = fetch(form(&s.anon, v2("requests.json"), &fields)).await;
        let x = fetch(form(&s.anon, v2("requests.xml"), &fields)).await;
        if name == "address only" {
            let d = j.json()[0]["description"].as_str().unwrap().to_owned();
            assert!(d.contains("lat") && d.contains("long"), "{d}");
        }
        checks.error(name, status, &j, &x);
    }
    let long_text = "长".repeat(4001);
    let j = fetch(form(
        &s.anon,
        v2("requests.json"),
        &[
            ("api_key", &admin),
            ("service_code", "hazard.fire"),
            ("lat", &lat),
            ("long", &lon),
            ("description", &long_text),
        ],
    ))
    .await;
    assert_eq!(j.status, 400, "{}", j.body);
    let j = fetch(
        s.anon
            .post(v2("requests.json"))
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await;
    assert_eq!(j.status, 400, "{}", j.body);
    assert_eq!(
        count_events(&url).await,
        before,
        "nothing stored on a refused POST"
    );

    // Bad GETs.
    let refused_get: [(&str, u16, &str); 10] = [
        ("bad status", 400, "requests.{f}?status=pending"),
        ("bad date", 400, "requests.{f}?start_date=2026-01-01"),
        (
            "window too wide",
            400,
            "requests.{f}?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        ),
        (
            "inverted window",
            400,
            "requests.{f}?start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        ),
        (
            "unknown service filter",
            404,
            "requests.{f}?service_code=nope",
        ),
        ("bad ids", 400, "requests.{f}?service_request_id=1,abc"),
        ("bad id path", 404, "requests/abc.{f}"),
        ("unknown request", 404, "requests/999999999.{f}"),
        ("unknown definition", 404, "services/nope.nope.{f}"),
        (
            "unknown jurisdiction get",
            404,
            "services.{f}?jurisdiction_id=sfgov.org",
        ),
    ];
    for (name, status, path) in refused_get {
        let j = fetch(s.http.get(v2(&path.replace("{f}", "json")))).await;
        let x = fetch(s.http.get(v2(&path.replace("{f}", "xml")))).await;
        checks.error(name, status, &j, &x);
    }
    // No format suffix: 404 in XML (the format every endpoint must speak).
    let nf = fetch(s.anon.get(v2("services"))).await;
    assert_eq!(nf.status, 404);
    assert!(nf.xml().contains("<errors><error><code>404</code>"));
    // Empty arguments count as absent.
    let empty = fetch(
        s.anon
            .get(v2("requests.json?status=&service_code=&jurisdiction_id=")),
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.body);

    checks.run();
}
