//! The collector's HTTP API over real HTTP on loopback, each test with its own
//! SQLite file: validation rules, idempotent upserts, CORS, tokens, assets, CLI.

mod common;

use std::path::Path;

use collector::config;
use collector::store::Store;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "api-test-token-0123456789";
const ORIGIN: &str = "http://shop.test";
const ID: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

struct App {
    url: String,
    dir: tempfile::TempDir,
    database_url: String,
    http: Client,
}

fn config_text(dir: &Path, database_url: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
database_url = "{database_url}"
assets_dir = "{assets}"

[sites.shop]
origins = ["{ORIGIN}"]
export_token = "{TOKEN}"

[[sites.shop.surveys]]
id = "checkout_nps"
steps = ["checkout_done"]
texts.en.question = "How likely are you to recommend the shop?"
texts.es.question = "¿Recomendarías la tienda?"

[[sites.shop.surveys.bands]]
id = "unhappy"
min = 0
max = 6
reasons = [
  {{ id = "late", text.en = "Late delivery", text.es = "Entrega tardía" }},
  {{ id = "price", text.en = "Price", text.es = "Precio" }},
]

[[sites.shop.surveys.bands]]
id = "happy"
min = 7
max = 10
reasons = [{{ id = "quality", text.en = "Quality", text.es = "Calidad" }}]

[sites.blog]
origins = ["http://blog.test"]

[[sites.blog.surveys]]
id = "reader_nps"
texts.en.question = "How likely are you to recommend the blog?"
"#,
        assets = dir.join("assets").display(),
    )
}

async fn spawn_app() -> App {
    spawn_app_with("").await
}

/// An app whose config has `extra` inserted before the sites (e.g. limits).
async fn spawn_app_with(extra: &str) -> App {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("assets/widget")).unwrap();
    std::fs::write(dir.path().join("assets/pulso.js"), "/* loader */").unwrap();
    std::fs::write(dir.path().join("assets/pulso.js.br"), "brotli bytes").unwrap();
    std::fs::write(dir.path().join("assets/widget/pulso-abc.wasm"), b"\0asm").unwrap();
    let database_url = common::database_url(dir.path()).await;
    let path = dir.path().join("pulso.toml");
    std::fs::write(&path, config_text(dir.path(), &database_url)).unwrap();
    // parse, not load: the developer's PULSO_* variables must not reach the test.
    let text = config_text(dir.path(), &database_url)
        .replace("[sites.shop]", &format!("{extra}\n[sites.shop]"));
    let settings = config::parse("pulso.toml", &text).unwrap();
    let store = Store::open(&settings.database_url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = collector::AppState::new(settings, store);
    tokio::spawn(collector::serve(listener, state, std::future::pending()));
    App {
        url,
        dir,
        database_url,
        http: Client::new(),
    }
}

fn answer() -> Value {
    json!({
        "id": ID, "rev": 1, "site": "shop", "survey": "checkout_nps",
        "respondent": "r-1", "score": 2, "step": "checkout_done", "page": "/done",
        "locale": "en", "props": {"plan": "pro"}
    })
}

impl App {
    async fn post(&self, body: &Value) -> (StatusCode, Value) {
        self.post_raw(body.to_string(), "application/json", Some(ORIGIN))
            .await
    }

    async fn post_raw(
        &self,
        body: String,
        content_type: &str,
        origin: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}/v1/responses", self.url))
            .header("content-type", content_type)
            .body(body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn export(&self) -> Vec<csv::StringRecord> {
        let response = self
            .http
            .get(format!("{}/v1/sites/shop/export?format=csv", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().len(),
            collector::export::COLUMNS.len()
        );
        reader.records().map(Result::unwrap).collect()
    }
}

fn col(row: &csv::StringRecord, name: &str) -> String {
    let index = collector::export::COLUMNS
        .iter()
        .position(|c| *c == name)
        .unwrap();
    row[index].to_owned()
}

/// Sets `pointer` (a JSON pointer) in the answer, or removes it when `value` is None.
fn with(pointer: &str, value: Option<Value>) -> Value {
    let mut a = answer();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = a.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    match value {
        Some(v) => target.insert(key.to_owned(), v),
        None => target.remove(key),
    };
    a
}

#[tokio::test]
async fn a_valid_answer_is_stored_and_exported() {
    let app = spawn_app().await;
    let (status, body) = app.post(&answer()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"id": ID, "rev": 1, "stored": true}));
    let rows = app.export().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(col(&rows[0], "score"), "2");
    assert_eq!(col(&rows[0], "class"), "detractor");
    assert_eq!(col(&rows[0], "band"), "unhappy");
    assert_eq!(col(&rows[0], "follow_up"), "");
    assert_eq!(col(&rows[0], "first_survey"), "");
    assert_eq!(col(&rows[0], "props"), r#"{"plan":"pro"}"#);
    assert!(col(&rows[0], "created_at").ends_with('Z'));
}

/// What `pulso export --site shop ARGS --config CONFIG` writes to stdout.
async fn pulso_export(config: std::path::PathBuf, args: &[&str]) -> Vec<u8> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
            .args(["export", "--site", "shop"])
            .args(&args)
            .arg("--config")
            .arg(config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A bad request of the suite: what is sent and what must come back.
struct Bad {
    name: &'static str,
    body: Vec<u8>,
    content_type: &'static str,
    origin: Option<&'static str>,
    status: u16,
    field: &'static str,
}

fn bad(name: &'static str, body: Value, status: u16, field: &'static str) -> Bad {
    Bad {
        name,
        body: body.to_string().into_bytes(),
        content_type: "application/json",
        origin: Some(ORIGIN),
        status,
        field,
    }
}

fn raw(name: &'static str, body: impl Into<Vec<u8>>, status: u16, field: &'static str) -> Bad {
    Bad {
        body: body.into(),
        ..bad(name, Value::Null, status, field)
    }
}

fn follow(value: Value) -> Value {
    with("/follow_up", Some(value))
}

/// A closed answer for score 9 (band "happy": reason "quality").
fn closed9(follow_up: Value) -> Value {
    let mut a = follow(follow_up);
    a["score"] = json!(9);
    a
}

fn bad_inputs() -> Vec<Bad> {
    let set = |p: &str, v: Value| with(p, Some(v));
    let long = |n: usize| "x".repeat(n);
    let many_props: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("p{i}"), json!(i))).collect();
    let deep = format!(
        "{{\"props\": {{\"a\": {}{}}}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let mut list = vec![
        // Wrong types.
        bad("id as number", set("/id", json!(1)), 422, "id"),
        bad("rev as text", set("/rev", json!("1")), 422, "rev"),
        bad("rev negative", set("/rev", json!(-1)), 422, "rev"),
        bad("rev fractional", set("/rev", json!(1.5)), 422, "rev"),
        bad("rev beyond u32", set("/rev", json!(1u64 << 40)), 422, "rev"),
        bad("site as number", set("/site", json!(1)), 422, "site"),
        bad("survey null", set("/survey", Value::Null), 422, "survey"),
        bad(
            "respondent as array",
            set("/respondent", json!([])),
            422,
            "respondent",
        ),
        bad("score as bool", set("/score", json!(true)), 422, "score"),
        bad("score as text", set("/score", json!("7")), 422, "score"),
        bad("score fractional", set("/score", json!(2.5)), 422, "score"),
        bad("score -1", set("/score", json!(-1)), 422, "score"),
        bad("score 11", set("/score", json!(11)), 422, "score"),
        bad("score 300", set("/score", json!(300)), 422, "score"),
        bad("step as number", set("/step", json!(1)), 422, "step"),
        bad("page as object", set("/page", json!({})), 422, "page"),
        bad("locale as number", set("/locale", json!(1)), 422, "locale"),
        bad(
            "user_id as number",
            set("/user_id", json!(1)),
            422,
            "user_id",
        ),
        bad("props as array", set("/props", json!([])), 422, "props"),
        bad(
            "prop as array",
            set("/props", json!({"a": [1]})),
            422,
            "props.a",
        ),
        bad(
            "prop as object",
            set("/props", json!({"a": {"b": 1}})),
            422,
            "props.a",
        ),
        bad(
            "first_survey as text",
            set("/first_survey", json!("yes")),
            422,
            "first_survey",
        ),
        bad(
            "follow_up as text",
            follow(json!("great")),
            422,
            "follow_up",
        ),
        bad(
            "open without text",
            follow(json!({"kind": "open"})),
            422,
            "follow_up.text",
        ),
        bad(
            "open text as number",
            follow(json!({"kind": "open", "text": 1})),
            422,
            "follow_up.text",
        ),
        bad(
            "reasons as text",
            closed9(json!({"kind": "closed", "reasons": "quality"})),
            422,
            "follow_up.reasons",
        ),
        bad(
            "reason as number",
            closed9(json!({"kind": "closed", "reasons": [1]})),
            422,
            "follow_up.reasons[0]",
        ),
        bad(
            "unknown follow-up kind",
            follow(json!({"kind": "telepathy"})),
            422,
            "follow_up.kind",
        ),
        // Missing and unknown fields.
        bad("missing id", with("/id", None), 422, "id"),
        bad("missing score", with("/score", None), 422, "score"),
        bad("missing locale", with("/locale", None), 422, "locale"),
        bad("unknown field", set("/admin", json!(true)), 422, "admin"),
        bad(
            "unknown field in follow-up",
            follow(json!({"kind": "open", "text": "x", "extra": 1})),
            422,
            "follow_up.extra",
        ),
        // Out-of-range values.
        bad("id too short", set("/id", json!("6f1c2a3b")), 422, "id"),
        bad(
            "id not hex",
            set("/id", json!("zf1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")),
            422,
            "id",
        ),
        bad(
            "id in braces",
            set("/id", json!("{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4}")),
            422,
            "id",
        ),
        bad("rev 0", set("/rev", json!(0)), 422, "rev"),
        bad("empty site", set("/site", json!("")), 422, "site"),
        bad("unknown site", set("/site", json!("nope")), 422, "site"),
        bad(
            "unknown survey",
            set("/survey", json!("nope")),
            422,
            "survey",
        ),
        bad(
            "survey of another site",
            set("/survey", json!("reader_nps")),
            422,
            "survey",
        ),
        bad(
            "empty respondent",
            set("/respondent", json!("")),
            422,
            "respondent",
        ),
        bad(
            "respondent with a space",
            set("/respondent", json!("a b")),
            422,
            "respondent",
        ),
        bad(
            "respondent too long",
            set("/respondent", json!(long(101))),
            422,
            "respondent",
        ),
        bad("unknown locale", set("/locale", json!("fr")), 422, "locale"),
        bad("page not a path", set("/page", json!("done")), 422, "page"),
        bad(
            "page with control",
            set("/page", json!("/do\u{0}ne")),
            422,
            "page",
        ),
        bad(
            "page too long",
            set("/page", json!(format!("/{}", long(2000)))),
            422,
            "page",
        ),
        bad("empty step", set("/step", json!("")), 422, "step"),
        bad("step too long", set("/step", json!(long(101))), 422, "step"),
        bad(
            "step with control",
            set("/step", json!("a\u{1}")),
            422,
            "step",
        ),
        bad(
            "user_id too long",
            set("/user_id", json!(long(101))),
            422,
            "user_id",
        ),
        bad(
            "33 props",
            set("/props", Value::Object(many_props)),
            422,
            "props",
        ),
        bad(
            "prop name with space",
            set("/props", json!({"a b": 1})),
            422,
            "props",
        ),
        bad(
            "prop text too long",
            set("/props", json!({"a": long(501)})),
            422,
            "props",
        ),
        bad(
            "text over 2000",
            follow(json!({"kind": "open", "text": long(2001)})),
            422,
            "follow_up.text",
        ),
        bad(
            "empty text",
            follow(json!({"kind": "open", "text": "  "})),
            422,
            "follow_up.text",
        ),
        bad(
            "text of control characters",
            follow(json!({"kind": "open", "text": "\u{0}\u{7}"})),
            422,
            "follow_up.text",
        ),
        bad(
            "reason of another band",
            follow(json!({"kind": "closed", "reasons": ["quality"]})),
            422,
            "follow_up.reasons",
        ),
        bad(
            "unknown reason",
            closed9(json!({"kind": "closed", "reasons": ["telepathy"]})),
            422,
            "follow_up.reasons",
        ),
        bad(
            "duplicate reason",
            closed9(json!({"kind": "closed", "reasons": ["quality", "quality"]})),
            422,
            "follow_up.reasons",
        ),
        bad(
            "no reason",
            closed9(json!({"kind": "closed", "reasons": []})),
            422,
            "follow_up.reasons",
        ),
        bad(
            "other without text",
            closed9(json!({"kind": "closed", "reasons": ["other"]})),
            422,
            "follow_up.other",
        ),
        bad(
            "text without other",
            closed9(json!({"kind": "closed", "reasons": ["quality"], "other": "x"})),
            422,
            "follow_up.other",
        ),
        bad(
            "other text over 2000",
            closed9(json!({"kind": "closed", "reasons": ["other"], "other": long(2001)})),
            422,
            "follow_up.other",
        ),
        // SQL and HTML where ids go.
        bad(
            "SQL in id",
            set("/id", json!("'; DROP TABLE answers; --")),
            422,
            "id",
        ),
        bad(
            "SQL in site",
            set("/site", json!("shop' OR '1'='1")),
            422,
            "site",
        ),
        bad(
            "HTML in survey",
            set("/survey", json!("<script>alert(1)</script>")),
            422,
            "survey",
        ),
        bad(
            "HTML in respondent",
            set("/respondent", json!("<img src=x onerror=alert(1)>")),
            422,
            "respondent",
        ),
        bad(
            "SQL in reason",
            closed9(json!({"kind": "closed", "reasons": ["quality' --"]})),
            422,
            "follow_up.reasons",
        ),
        // Not an answer at all.
        raw("empty body", "", 400, "body"),
        raw("null", "null", 422, "."),
        raw("array", "[]", 422, "."),
        raw("string", "\"answer\"", 422, "."),
        raw("truncated JSON", "{\"id\": ", 400, "body"),
        raw("trailing data", format!("{} {{}}", answer()), 400, "body"),
        raw(
            "invalid UTF-8",
            b"{\"id\": \"\xff\xfe\"}".to_vec(),
            400,
            "body",
        ),
        // A property is a scalar: the nesting is refused at its first level.
        raw("deep JSON", deep, 422, "props.a"),
        raw(
            "huge body",
            with("/step", Some(json!(long(70_000)))).to_string(),
            413,
            "body",
        ),
        Bad {
            content_type: "application/xml",
            ..bad("XML content type", answer(), 415, "content-type")
        },
        Bad {
            content_type: "",
            ..bad("no content type", answer(), 415, "content-type")
        },
        Bad {
            origin: Some("http://evil.test"),
            ..bad("forged origin", answer(), 403, "origin")
        },
        Bad {
            origin: Some("http://blog.test"),
            ..bad("another site's origin", answer(), 403, "origin")
        },
    ];
    // The same id as the stored answer, from another respondent.
    let mut taken = set("/respondent", json!("intruder"));
    taken["id"] = json!(ID);
    taken["rev"] = json!(9);
    list.push(bad("id of another respondent", taken, 409, "id"));
    list
}

/// The database as bytes: the SQLite files (main file and write-ahead log), or
/// on PostgreSQL every stored column of every answer.
async fn database_bytes(app: &App) -> Vec<u8> {
    if app.database_url.starts_with("postgres") {
        let response = app
            .http
            .get(format!("{}/v1/sites/shop/export?format=json", app.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        return response.bytes().await.unwrap().to_vec();
    }
    ["pulso.db", "pulso.db-wal"]
        .iter()
        .flat_map(|f| std::fs::read(app.dir.path().join(f)).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn bad_inputs_get_a_4xx_naming_the_field_and_leave_the_database_byte_for_byte_unchanged() {
    let app = spawn_app_with("[server.limits]\nper_ip_burst = 1000\n").await;
    let mut stored = with("/id", Some(json!(ID)));
    stored["respondent"] = json!("owner");
    assert_eq!(app.post(&stored).await.0, 200);
    let before = database_bytes(&app).await;
    let cases = bad_inputs();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for case in cases {
        let mut request = app
            .http
            .post(format!("{}/v1/responses", app.url))
            .body(case.body);
        if !case.content_type.is_empty() {
            request = request.header("content-type", case.content_type);
        }
        if let Some(origin) = case.origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let error: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, case.status, "{}: {error}", case.name);
        assert_eq!(
            error["error"]["field"], case.field,
            "{}: {error}",
            case.name
        );
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
                && error["error"]["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
            "{}: {error}",
            case.name
        );
    }
    assert!(
        database_bytes(&app).await == before,
        "a refused request changed the database"
    );
    assert_eq!(app.export().await.len(), 1);
}

#[tokio::test]
async fn text_of_exactly_2000_characters_is_accepted() {
    let app = spawn_app().await;
    let text = "ñ".repeat(2000);
    let (status, body) = app
        .post(&with(
            "/follow_up",
            Some(json!({"kind": "open", "text": text})),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(col(&app.export().await[0], "open_text"), text);
}

#[tokio::test]
async fn the_follow_up_completes_the_same_answer_and_retries_change_nothing() {
    let app = spawn_app().await;
    assert_eq!(app.post(&answer()).await.0, 200);
    let mut complete = with(
        "/follow_up",
        Some(json!({"kind": "open", "text": "Slow delivery"})),
    );
    complete["rev"] = json!(2);
    complete["score"] = json!(3);
    let (status, body) = app.post(&complete).await;
    assert_eq!(
        (status, body["stored"].clone()),
        (StatusCode::OK, json!(true))
    );

    // The same post again, and the late score-only post: acknowledged, not applied.
    let (status, body) = app.post(&complete).await;
    assert_eq!(
        (status, body["stored"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (status, body) = app.post(&answer()).await;
    assert_eq!(
        (status, body["stored"].clone()),
        (StatusCode::OK, json!(false))
    );

    let rows = app.export().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(col(&rows[0], "score"), "3");
    assert_eq!(col(&rows[0], "follow_up"), "open");
    assert_eq!(col(&rows[0], "open_text"), "Slow delivery");
    assert_eq!(col(&rows[0], "id"), ID);
}

#[tokio::test]
async fn an_id_of_another_respondent_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.post(&answer()).await.0, 200);
    let mut other = with("/respondent", Some(json!("r-2")));
    other["rev"] = json!(5);
    let (status, error) = app.post(&other).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["field"], "id");
    assert_eq!(col(&app.export().await[0], "respondent"), "r-1");
}

#[tokio::test]
async fn upper_case_ids_are_the_same_answer() {
    let app = spawn_app().await;
    assert_eq!(app.post(&answer()).await.0, 200);
    let mut again = with("/id", Some(json!(ID.to_uppercase())));
    again["rev"] = json!(2);
    assert_eq!(app.post(&again).await.0, 200);
    assert_eq!(app.export().await.len(), 1);
}

#[tokio::test]
async fn query_strings_are_cut_from_pages() {
    let app = spawn_app().await;
    let (status, _) = app
        .post(&with("/page", Some(json!("/done?email=a@b.c#x"))))
        .await;
    assert_eq!(status, 200);
    assert_eq!(col(&app.export().await[0], "page"), "/done");
}

#[tokio::test]
async fn beacon_bodies_as_text_plain_are_accepted_and_server_clients_need_no_origin() {
    let app = spawn_app().await;
    let (status, _) = app
        .post_raw(answer().to_string(), "text/plain;charset=UTF-8", None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn cors_allows_only_the_sites_origins() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight(ORIGIN, "/v1/responses").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], ORIGIN);
    let denied = preflight("http://evil.test", "/v1/responses")
        .await
        .unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let config = |origin: &'static str, site: &'static str| {
        app.http
            .get(format!("{}/v1/sites/{site}/config", app.url))
            .header("origin", origin)
            .send()
    };
    let own = config(ORIGIN, "shop").await.unwrap();
    assert_eq!(own.headers()["access-control-allow-origin"], ORIGIN);
    let foreign = config("http://blog.test", "shop").await.unwrap();
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn site_config_is_served_with_an_etag() {
    let app = spawn_app().await;
    let url = format!("{}/v1/sites/shop/config", app.url);
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].clone();
    let config: survey::ClientConfig = response.json().await.unwrap();
    assert_eq!(config.site, "shop");
    assert_eq!(config.surveys[0].id, "checkout_nps");
    let bands: Vec<_> = config.surveys[0]
        .bands
        .iter()
        .map(|b| b.id.as_str())
        .collect();
    assert_eq!(bands, ["unhappy", "happy"]);
    assert_eq!(config.surveys[0].bands[0].reasons[1].text["es"], "Precio");
    let again = app
        .http
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let missing = app
        .http
        .get(format!("{}/v1/sites/nope/config", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await.unwrap();
    assert_eq!(error["error"]["field"], "site");
}

#[tokio::test]
async fn export_needs_the_sites_token() {
    let app = spawn_app().await;
    let get = |site: &str, token: Option<&str>| {
        let mut r = app
            .http
            .get(format!("{}/v1/sites/{site}/export?format=csv", app.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    for (site, token) in [
        ("shop", None),
        ("shop", Some("wrong-token-0123456789")),
        ("blog", Some(TOKEN)),
        ("nope", Some(TOKEN)),
    ] {
        let response = get(site, token).await.unwrap();
        assert_eq!(response.status(), 401, "{site} {token:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "unauthorized");
    }
    let bad_format = app
        .http
        .get(format!("{}/v1/sites/shop/export?format=xls", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_format.status(), 400);
}

#[tokio::test]
async fn csv_cells_that_look_like_formulas_are_neutralised() {
    let app = spawn_app().await;
    let body = with(
        "/follow_up",
        Some(json!({"kind": "open", "text": "=HYPERLINK(\"http://x\")"})),
    );
    assert_eq!(app.post(&body).await.0, 200);
    assert_eq!(
        col(&app.export().await[0], "open_text"),
        "'=HYPERLINK(\"http://x\")"
    );
}

#[tokio::test]
async fn loader_and_bundle_are_served_precompressed_with_their_cache_rules() {
    let app = spawn_app().await;
    let loader = app
        .http
        .get(format!("{}/pulso.js", app.url))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(loader.status(), 200);
    assert_eq!(loader.headers()["content-encoding"], "br");
    assert_eq!(loader.headers()["cache-control"], "public, max-age=300");
    assert_eq!(loader.headers()["vary"], "accept-encoding");
    assert_eq!(loader.bytes().await.unwrap(), "brotli bytes");

    let wasm = app
        .http
        .get(format!("{}/widget/pulso-abc.wasm", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(wasm.headers()["access-control-allow-origin"], "*");
    assert_eq!(wasm.headers()["x-content-type-options"], "nosniff");

    let health: Value = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let missing = app
        .http
        .get(format!("{}/nothing-here", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_export_command_writes_the_same_bytes_as_the_endpoint() {
    let app = spawn_app().await;
    assert_eq!(app.post(&answer()).await.0, 200);
    let over_http = app
        .http
        .get(format!("{}/v1/sites/shop/export?format=csv", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let stdout = pulso_export(app.dir.path().join("pulso.toml"), &["--format", "csv"]).await;
    assert_eq!(stdout, over_http);
}

#[tokio::test]
async fn check_config_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, config_text(dir.path(), "sqlite://pulso.db")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
        .arg("check-config")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.toml");
    // The first band stops at 5, the second starts at 7: nobody owns 6.
    let text = config_text(dir.path(), "sqlite://pulso.db").replacen("max = 6", "max = 5", 1);
    std::fs::write(&bad, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
        .arg("check-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml:17: sites.shop.surveys[0].bands: score 6 is in no band"),
        "{stderr}"
    );
}

fn closed(score: u8, reasons: &[&str], other: Option<&str>) -> Value {
    let mut a = answer();
    a["score"] = json!(score);
    a["first_survey"] = json!(false);
    a["locale"] = json!("es");
    a["follow_up"] = json!({"kind": "closed", "reasons": reasons});
    if let Some(text) = other {
        a["follow_up"]["other"] = json!(text);
    }
    a
}

#[tokio::test]
async fn closed_answers_keep_reason_ids_in_configured_order_with_their_texts() {
    let app = spawn_app().await;
    // Chosen in display order "other, price, late"; stored in the band's order.
    let (status, body) = app
        .post(&closed(
            2,
            &["other", "price", "late"],
            Some("Rude courier"),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let row = &app.export().await[0];
    assert_eq!(col(row, "band"), "unhappy");
    assert_eq!(col(row, "first_survey"), "false");
    assert_eq!(col(row, "follow_up"), "closed");
    assert_eq!(col(row, "reason_ids"), "late;price;other");
    assert_eq!(col(row, "reason_texts"), "Entrega tardía; Precio; Otro");
    assert_eq!(col(row, "other_text"), "Rude courier");
    assert_eq!(col(row, "open_text"), "");
    assert_eq!(col(row, "locale"), "es");
}

#[tokio::test]
async fn closed_answers_are_checked_against_the_band_of_their_score() {
    let app = spawn_app().await;
    for (name, body, field, code) in [
        (
            "reason of another band",
            closed(2, &["quality"], None),
            "follow_up.reasons",
            "unknown_reason",
        ),
        (
            "unknown reason",
            closed(9, &["telepathy"], None),
            "follow_up.reasons",
            "unknown_reason",
        ),
        (
            "no reason",
            closed(9, &[], None),
            "follow_up.reasons",
            "no_reason",
        ),
        (
            "other without text",
            closed(9, &["other"], None),
            "follow_up.other",
            "other_text_missing",
        ),
        (
            "text without other",
            closed(9, &["quality"], Some("x")),
            "follow_up.other",
            "text_without_other",
        ),
        (
            "blank other text",
            closed(9, &["other"], Some("   ")),
            "follow_up.other",
            "text_empty",
        ),
    ] {
        let (status, error) = app.post(&body).await;
        assert_eq!(status, 422, "{name}: {error}");
        assert_eq!(error["error"]["field"], field, "{name}: {error}");
        assert_eq!(error["error"]["code"], code, "{name}: {error}");
    }
    assert!(app.export().await.is_empty());
}

#[tokio::test]
async fn respondent_history_tells_whether_a_survey_would_be_the_first() {
    let app = spawn_app().await;
    let ask = |who: &'static str, user: Option<&'static str>| {
        let mut url = format!("{}/v1/sites/shop/respondents/{who}", app.url);
        if let Some(u) = user {
            url.push_str(&format!("?user={u}"));
        }
        let http = app.http.clone();
        async move {
            let response = http.get(url).header("origin", ORIGIN).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
            response.json::<Value>().await.unwrap()["answered"].clone()
        }
    };
    assert_eq!(ask("r-1", None).await, json!(false));
    let mut a = answer();
    a["user_id"] = json!("u-7");
    assert_eq!(app.post(&a).await.0, 200);
    assert_eq!(ask("r-1", None).await, json!(true));
    // Another device of the same identified user.
    assert_eq!(ask("r-2", None).await, json!(false));
    assert_eq!(ask("r-2", Some("u-7")).await, json!(true));

    let bad = app
        .http
        .get(format!("{}/v1/sites/shop/respondents/a%20b", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let unknown = app
        .http
        .get(format!("{}/v1/sites/nope/respondents/r-1", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn check_config_rejects_a_reason_without_text_for_a_locale() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("pulso.toml");
    let text = config_text(dir.path(), "sqlite://pulso.db").replace(
        r#"{ id = "price", text.en = "Price", text.es = "Precio" }"#,
        r#"{ id = "price", text.en = "Price" }"#,
    );
    std::fs::write(&bad, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
        .arg("check-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pulso.toml:23: sites.shop.surveys[0].bands[0].reasons[1].text: reason `price` has no text for locale `es`"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let app = spawn_app_with("[server.limits]\nper_ip_per_second = 1\nper_ip_burst = 3\n").await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4{i}"));
        let response = app
            .http
            .post(format!("{}/v1/responses", app.url))
            .header("content-type", "application/json")
            .header("origin", ORIGIN)
            .body(a.to_string())
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(
                response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 1
            );
            assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["code"], "rate_limited");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(
        app.export().await.len(),
        3,
        "a limited answer is not stored"
    );
}

#[tokio::test]
async fn a_site_over_its_rate_gets_429() {
    let app =
        spawn_app_with("[server.limits]\nper_site_per_second = 1\nper_site_burst = 2\n").await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4{i}"));
        statuses.push(app.post(&a).await.0.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn readiness_and_security_headers() {
    let app = spawn_app().await;
    let ready = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        assert_eq!(ready.headers()[name], value, "{name}");
    }
    let (status, _) = app
        .post_raw("nope".into(), "application/json", Some(ORIGIN))
        .await;
    assert_eq!(status, 400);
}

impl App {
    async fn export_as(&self, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/sites/shop/export?{query}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }
}

/// The same data in the three formats, cell by cell (the CSV's text against
/// the JSON values written as the CSV writes them).
#[tokio::test]
async fn exports_in_csv_json_and_ndjson_agree() {
    let app = spawn_app().await;
    let mut open = follow(json!({"kind": "open", "text": "=cmd, \"quoted\"\nline"}));
    open["id"] = json!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a41");
    open["first_survey"] = json!(true);
    let mut other = closed(2, &["late", "other"], Some("Rude; courier"));
    other["id"] = json!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a42");
    other["user_id"] = json!("u-1");
    let mut plain = answer();
    plain["id"] = json!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a43");
    plain["props"] = json!({"plan": "pro", "items": 3, "gift": true});
    for a in [&open, &other, &plain] {
        assert_eq!(app.post(a).await.0, 200);
    }

    let csv_rows = app.export().await;
    let json_response = app.export_as("format=json").await;
    assert_eq!(json_response.headers()["content-type"], "application/json");
    let json_rows: Vec<Value> = json_response.json().await.unwrap();
    let ndjson_response = app.export_as("format=ndjson").await;
    assert_eq!(
        ndjson_response.headers()["content-type"],
        "application/x-ndjson"
    );
    let ndjson_text = ndjson_response.text().await.unwrap();
    let ndjson_rows: Vec<Value> = ndjson_text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Same columns, in the same order, on every line.
    for line in ndjson_text.lines() {
        let places: Vec<usize> = collector::export::COLUMNS
            .iter()
            .map(|c| line.find(&format!("\"{c}\":")).unwrap())
            .collect();
        assert!(places.windows(2).all(|w| w[0] < w[1]), "{line}");
    }
    assert_eq!(json_rows, ndjson_rows);
    assert_eq!(csv_rows.len(), 3);
    assert_eq!(json_rows.len(), 3);
    for (csv_row, json_row) in csv_rows.iter().zip(&json_rows) {
        assert_eq!(
            json_row.as_object().unwrap().len(),
            collector::export::COLUMNS.len()
        );
        for (i, column) in collector::export::COLUMNS.iter().enumerate() {
            let value = &json_row[*column];
            let as_csv = match (column, value) {
                (_, Value::Null) => String::new(),
                (&"reason_ids", Value::Array(v)) => v
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(";"),
                (&"reason_texts", Value::Array(v)) => v
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("; "),
                (&"props", v) => v.to_string(),
                (_, Value::String(s)) => collector::export::neutralise(s).into_owned(),
                (_, v) => v.to_string(),
            };
            assert_eq!(csv_row[i], as_csv, "{column}");
        }
    }
    assert_eq!(json_rows[1]["reason_ids"], json!(["late", "other"]));
    assert_eq!(
        json_rows[2]["props"],
        json!({"gift": true, "items": 3.0, "plan": "pro"})
    );
    assert_eq!(json_rows[0]["first_survey"], json!(true));
}

/// Filters: time range (dates are days in `tz`), survey, step, class, band.
#[tokio::test]
async fn exports_filter_by_time_survey_step_class_and_band() {
    let app = spawn_app().await;
    let store = collector::store::Store::open(&app.database_url)
        .await
        .unwrap();
    let at = |text: &str| text.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    for (n, time, score, step) in [
        (1, "2026-11-23T22:30:00Z", 2, "checkout_done"), // Madrid: the 23rd, 23:30
        (2, "2026-11-24T10:00:00Z", 9, "checkout_done"),
        (3, "2026-11-24T23:30:00Z", 7, "onboarding"), // Madrid: the 25th, 00:30
    ] {
        let class = survey::Score::new(score).unwrap().class().as_str();
        let band = if score <= 6 { "unhappy" } else { "happy" };
        let row = collector::store::NewAnswer {
            id: format!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4{n}"),
            rev: 1,
            site: "shop".into(),
            survey: "checkout_nps".into(),
            respondent: format!("r-{n}"),
            score,
            class,
            band: band.into(),
            step: Some(step.into()),
            page: None,
            locale: "en".into(),
            user_id: None,
            props: "{}".into(),
            first_survey: None,
            follow_up: None,
            open_text: None,
            reason_ids: None,
            reason_texts: None,
            other_text: None,
            at_millis: at(time),
            webhooks: Vec::new(),
        };
        store.upsert(row).await.unwrap();
    }
    let ids = |query: &'static str| {
        let app = &app;
        async move {
            let rows: Vec<Value> = app
                .export_as(&format!("format=json&{query}"))
                .await
                .json()
                .await
                .unwrap();
            rows.iter()
                .map(|r| r["id"].as_str().unwrap().chars().last().unwrap())
                .collect::<String>()
        }
    };
    assert_eq!(ids("").await, "123");
    assert_eq!(ids("from=2026-11-24&to=2026-11-24").await, "23");
    assert_eq!(
        ids("from=2026-11-24&to=2026-11-24&tz=Europe/Madrid").await,
        "2"
    );
    assert_eq!(ids("from=2026-11-24T00:00:00Z").await, "23");
    assert_eq!(ids("to=2026-11-24T10:00:00Z").await, "1");
    assert_eq!(ids("step=onboarding").await, "3");
    assert_eq!(ids("class=promoter").await, "2");
    assert_eq!(ids("band=happy").await, "23");
    assert_eq!(ids("survey=checkout_nps&class=detractor").await, "1");
    assert_eq!(ids("survey=other").await, "");

    for (query, field) in [
        ("format=xls", "format"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("tz=Mars/Olympus&from=2026-11-24", "tz"),
        ("class=fan", "class"),
        ("colour=red", "query"),
    ] {
        let response = app.export_as(query).await;
        assert_eq!(response.status(), 400, "{query}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{query}: {error}");
    }

    // The command line writes the same bytes as the endpoint.
    let over_http = app
        .export_as("format=ndjson&class=promoter")
        .await
        .bytes()
        .await
        .unwrap();
    let config = app.dir.path().join("pulso.toml");
    std::fs::write(&config, config_text(app.dir.path(), &app.database_url)).unwrap();
    let stdout = pulso_export(config, &["--format", "ndjson", "--class", "promoter"]).await;
    assert_eq!(stdout, over_http);
}

/// The report over answers whose numbers are worked out by hand.
#[tokio::test]
async fn the_report_gives_nps_margin_classes_steps_and_reasons() {
    let app = spawn_app().await;
    let empty: Value = app
        .http
        .get(format!("{}/v1/sites/shop/report", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["overall"]["answers"], 0);
    assert_eq!(empty["overall"]["nps"], Value::Null);
    assert_eq!(empty["overall"]["small_sample"], true);

    let answers = [
        (
            1,
            closed(2, &["late", "other"], Some("Rude courier")),
            "checkout_done",
        ),
        (2, closed(5, &["late"], None), "checkout_done"),
        (3, closed(9, &["quality"], None), "onboarding"),
        (
            4,
            with("/follow_up", Some(json!({"kind": "open", "text": "Great"}))),
            "onboarding",
        ),
        (5, answer(), "checkout_done"),
    ];
    for (n, mut a, step) in answers {
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4{n}"));
        a["step"] = json!(step);
        if n == 4 {
            a["score"] = json!(10);
        }
        if n == 5 {
            a["score"] = json!(8);
        }
        assert_eq!(app.post(&a).await.0, 200, "answer {n}");
    }
    let report: Value = app
        .http
        .get(format!("{}/v1/sites/shop/report?tz=Europe/Madrid", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let overall = &report["overall"];
    // 2 detractors (2, 5), 1 passive (8), 2 promoters (9, 10): NPS 0;
    // margin 1.96 · √((0.4 + 0.4 − 0) / 5) = 78.4.
    assert_eq!(overall["answers"], 5);
    assert_eq!(overall["nps"], 0.0);
    assert_eq!(overall["margin_of_error"], 78.4);
    assert_eq!(overall["small_sample"], true);
    assert_eq!(
        overall["classes"]["detractor"],
        json!({"count": 2, "share": 0.4})
    );
    assert_eq!(
        overall["classes"]["passive"],
        json!({"count": 1, "share": 0.2})
    );
    assert_eq!(
        overall["bands"]["unhappy"],
        json!({"count": 2, "share": 0.4})
    );
    assert_eq!(overall["bands"]["happy"], json!({"count": 3, "share": 0.6}));
    // checkout_done: 2, 5, 8 → −66.7; onboarding: 9, 10 → 100.
    assert_eq!(report["by_step"]["checkout_done"]["nps"], -66.7);
    assert_eq!(report["by_step"]["onboarding"]["nps"], 100.0);
    assert_eq!(report["by_survey"]["checkout_nps"]["answers"], 5);
    assert_eq!(report["weekly"].as_object().unwrap().len(), 1);
    let unhappy = &report["reasons"]["unhappy"];
    assert_eq!(unhappy["closed_answers"], 2);
    assert_eq!(
        unhappy["top"],
        json!([{"id": "late", "text": "Late delivery", "count": 2}, {"id": "other", "text": "Other", "count": 1}])
    );
    assert_eq!(unhappy["latest_other"][0]["text"], "Rude courier");
    assert_eq!(report["reasons"]["happy"]["top"][0]["id"], "quality");

    let filtered: Value = app
        .http
        .get(format!("{}/v1/sites/shop/report?step=onboarding", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["overall"]["answers"], 2);

    let unauthorised = app
        .http
        .get(format!("{}/v1/sites/shop/report", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    let bad_tz = app
        .http
        .get(format!("{}/v1/sites/shop/report?tz=Nowhere", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_tz.status(), 400);
}

/// The dashboard: a token form, then a cookie (HttpOnly, SameSite=Strict) that
/// opens the page and the export links; every respondent text escaped.
#[tokio::test]
async fn the_dashboard_logs_in_with_the_token_and_escapes_every_text() {
    let app = spawn_app().await;
    let mut hostile = closed(2, &["other"], Some("<script>alert('x')</script>"));
    hostile["id"] = json!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a41");
    assert_eq!(app.post(&hostile).await.0, 200);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/dashboard/shop", app.url);

    let form = http.get(&url).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("name=\"token\"") && !html.contains("<svg"),
        "{html}"
    );

    let wrong = http
        .post(format!("{url}/login"))
        .form(&[("token", "not-the-token-at-all")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());

    let right = http
        .post(format!("{url}/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(TOKEN),
        "the cookie holds a digest, not the token"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let page = http.get(&url).header("cookie", &pair).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'self'"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("Scores 0–10"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        !html.contains("<script>"),
        "an unescaped text reached the page"
    );

    // The export links work with the cookie alone.
    let export = http
        .get(format!("{}/v1/sites/shop/export?format=csv", app.url))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let css = http
        .get(format!("{}/dashboard.css", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    let out = http
        .post(format!("{url}/logout"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

/// A small JSON Schema check, for the subset utoipa writes: `$ref`, `type`
/// (also as a list, for nullable), `enum`, `required`, `properties`,
/// `additionalProperties`, `items`, `oneOf` / `anyOf` / `allOf`.
fn schema_errors(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "{at}: dangling {reference}");
        return schema_errors(doc, target, value, at);
    }
    let mut errors = Vec::new();
    for (key, all) in [("oneOf", false), ("anyOf", false), ("allOf", true)] {
        if let Some(branches) = schema[key].as_array() {
            let failing: Vec<Vec<String>> = branches
                .iter()
                .map(|b| schema_errors(doc, b, value, at))
                .filter(|e| !e.is_empty())
                .collect();
            let ok = if all {
                failing.is_empty()
            } else {
                failing.len() < branches.len()
            };
            if !ok {
                errors.push(format!("{at}: no {key} branch fits {value}: {failing:?}"));
            }
        }
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let fits = |t: &&str| *t == kind || (*t == "number" && kind == "integer");
    if !allowed.is_empty() && !allowed.iter().any(fits) {
        errors.push(format!("{at}: {kind} where the schema says {allowed:?}"));
        return errors;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} not in {options:?}"));
    }
    if let Value::Object(map) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !map.contains_key(name) {
                errors.push(format!("{at}: missing required `{name}`"));
            }
        }
        for (key, v) in map {
            let here = format!("{at}.{key}");
            if let Some(s) = schema["properties"].get(key) {
                errors.extend(schema_errors(doc, s, v, &here));
            } else if schema["additionalProperties"].is_object() {
                errors.extend(schema_errors(
                    doc,
                    &schema["additionalProperties"],
                    v,
                    &here,
                ));
            } else if schema["properties"].is_object()
                && schema["additionalProperties"] != json!(true)
            {
                errors.push(format!("{here}: not in the schema"));
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            errors.extend(schema_errors(doc, s, v, &format!("{at}[{i}]")));
        }
    }
    errors
}

/// The documented schema of a response.
fn response_schema<'a>(
    doc: &'a Value,
    path: &str,
    method: &str,
    status: u16,
    content: &str,
) -> &'a Value {
    let schema =
        &doc["paths"][path][method]["responses"][status.to_string()]["content"][content]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} {status} {content} is not documented"
    );
    schema
}

/// /openapi.json documents every API route, and real responses fit it.
#[tokio::test]
async fn the_openapi_document_matches_real_responses() {
    // A webhook nobody listens to, so its status has pending events and errors.
    let app = spawn_app_with(
        "[[sites.shop.webhooks]]\nid = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\n\
         secret = \"0123456789abcdef\"\n",
    )
    .await;
    let doc: Value = app
        .http
        .get(format!("{}/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in [
        ("/v1/responses", "post"),
        ("/v1/sites/{site}/config", "get"),
        ("/v1/sites/{site}/respondents/{respondent}", "get"),
        ("/v1/sites/{site}/export", "get"),
        ("/v1/sites/{site}/report", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
        ("/v1/sites/{site}/webhooks", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let check = |path: &str, method: &str, status: u16, content: &str, value: &Value| {
        let errors = schema_errors(
            &doc,
            response_schema(&doc, path, method, status, content),
            value,
            "$",
        );
        assert!(errors.is_empty(), "{method} {path} {status}: {errors:#?}");
    };

    // The request body of an answer, and the answers to it.
    let mut a = closed(2, &["late", "other"], Some("Rude courier"));
    a["props"] = json!({"plan": "pro", "items": 3, "gift": true});
    a["user_id"] = json!("u-1");
    let request_schema = &doc["paths"]["/v1/responses"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        schema_errors(&doc, request_schema, &a, "$"),
        Vec::<String>::new()
    );
    let (status, body) = app.post(&a).await;
    check(
        "/v1/responses",
        "post",
        status.as_u16(),
        "application/json",
        &body,
    );
    let (status, body) = app.post(&with("/score", Some(json!(11)))).await;
    check(
        "/v1/responses",
        "post",
        status.as_u16(),
        "application/json",
        &body,
    );

    let get = |path: String, bearer: bool| {
        let mut request = app.http.get(format!("{}{path}", app.url));
        if bearer {
            request = request.bearer_auth(TOKEN);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (s, v) = get("/v1/sites/shop/config".into(), false).await;
    check("/v1/sites/{site}/config", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/nope/config".into(), false).await;
    check("/v1/sites/{site}/config", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/shop/respondents/r-1".into(), false).await;
    check(
        "/v1/sites/{site}/respondents/{respondent}",
        "get",
        s,
        "application/json",
        &v,
    );
    let (s, v) = get("/v1/sites/shop/export?format=json".into(), true).await;
    check("/v1/sites/{site}/export", "get", s, "application/json", &v);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (s, v) = get("/v1/sites/shop/export?format=json".into(), false).await;
    check("/v1/sites/{site}/export", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/shop/report".into(), true).await;
    check("/v1/sites/{site}/report", "get", s, "application/json", &v);
    let (s, v) = get("/v1/sites/shop/webhooks".into(), true).await;
    check(
        "/v1/sites/{site}/webhooks",
        "get",
        s,
        "application/json",
        &v,
    );
    assert_eq!(
        v["webhooks"][0]["events"][0]["kind"], "answer.created",
        "{v}"
    );
    let (s, v) = get("/v1/sites/shop/webhooks?limit=0".into(), true).await;
    check(
        "/v1/sites/{site}/webhooks",
        "get",
        s,
        "application/json",
        &v,
    );
    let (s, v) = get("/healthz".into(), false).await;
    check("/healthz", "get", s, "application/json", &v);
    let (s, v) = get("/readyz".into(), false).await;
    check("/readyz", "get", s, "application/json", &v);

    // The check itself can fail: wrong types, missing and unknown fields.
    let stored = response_schema(&doc, "/v1/responses", "post", 200, "application/json");
    assert!(
        !schema_errors(
            &doc,
            stored,
            &json!({"id": 1, "rev": 1, "stored": true}),
            "$"
        )
        .is_empty()
    );
    assert!(!schema_errors(&doc, stored, &json!({"id": "x", "rev": 1}), "$").is_empty());
    assert!(
        !schema_errors(
            &doc,
            stored,
            &json!({"id": "x", "rev": 1, "stored": true, "extra": 1}),
            "$"
        )
        .is_empty()
    );
    let mut report = get("/v1/sites/shop/report".into(), true).await.1;
    report["overall"]["nps"] = json!("high");
    let report_schema = response_schema(
        &doc,
        "/v1/sites/{site}/report",
        "get",
        200,
        "application/json",
    );
    assert!(!schema_errors(&doc, report_schema, &report, "$").is_empty());
}
