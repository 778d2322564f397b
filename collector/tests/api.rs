//! The collector's HTTP API over real HTTP on loopback, each test with its own
//! SQLite file: validation rules, idempotent upserts, CORS, tokens, assets, CLI.

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
    http: Client,
}

fn config_text(dir: &Path) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
database_url = "sqlite://{db}"
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
        db = dir.join("pulso.db").display(),
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
    let path = dir.path().join("pulso.toml");
    std::fs::write(&path, config_text(dir.path())).unwrap();
    // parse, not load: the developer's PULSO_* variables must not reach the test.
    let text = config_text(dir.path()).replace("[sites.shop]", &format!("{extra}\n[sites.shop]"));
    let settings = config::parse("pulso.toml", &text).unwrap();
    let store = Store::open(&settings.database_url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = collector::AppState::new(settings, store);
    tokio::spawn(collector::serve(listener, state, std::future::pending()));
    App {
        url,
        dir,
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

#[tokio::test]
async fn every_validation_rule_answers_4xx_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let long = "x".repeat(2001);
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "bad id",
            with("/id", Some(json!("not-a-uuid"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "id",
        ),
        (
            "rev 0",
            with("/rev", Some(json!(0))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rev",
        ),
        (
            "negative rev",
            with("/rev", Some(json!(-1))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rev",
        ),
        (
            "unknown site",
            with("/site", Some(json!("nope"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "site",
        ),
        (
            "unknown survey",
            with("/survey", Some(json!("nope"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "survey",
        ),
        (
            "survey of another site",
            with("/survey", Some(json!("reader_nps"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "survey",
        ),
        (
            "score 11",
            with("/score", Some(json!(11))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "score -1",
            with("/score", Some(json!(-1))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "score 2.5",
            with("/score", Some(json!(2.5))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "score as text",
            with("/score", Some(json!("7"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "missing score",
            with("/score", None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "missing id",
            with("/id", None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "id",
        ),
        (
            "empty respondent",
            with("/respondent", Some(json!(""))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "respondent",
        ),
        (
            "unknown locale",
            with("/locale", Some(json!("fr"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "locale",
        ),
        (
            "page not a path",
            with("/page", Some(json!("done"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "page",
        ),
        (
            "step with control char",
            with("/step", Some(json!("a\u{1}"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "step",
        ),
        (
            "unknown field",
            with("/admin", Some(json!(true))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin",
        ),
        (
            "text over 2000 characters",
            with("/follow_up", Some(json!({"kind": "open", "text": long}))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "follow_up.text",
        ),
        (
            "unknown follow-up kind",
            with("/follow_up", Some(json!({"kind": "telepathy"}))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "follow_up.kind",
        ),
        (
            "unknown field in follow-up",
            with(
                "/follow_up",
                Some(json!({"kind": "open", "text": "x", "extra": 1})),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "follow_up.extra",
        ),
        (
            "prop of wrong type",
            with("/props", Some(json!({"a": [1]}))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "props.a",
        ),
    ];
    for (name, body, status, field) in cases {
        let (got, error) = app.post(&body).await;
        assert_eq!(got, status, "{name}: {error}");
        assert_eq!(error["error"]["field"], field, "{name}: {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }

    let (status, error) = app
        .post_raw("{\"id\": ".into(), "application/json", Some(ORIGIN))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let (status, error) = app
        .post_raw(
            format!("{} {{}}", answer()),
            "application/json",
            Some(ORIGIN),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body"))
    );
    let (status, error) = app
        .post_raw(answer().to_string(), "application/xml", Some(ORIGIN))
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("content-type"))
    );
    let huge = with("/step", Some(json!("x".repeat(70_000))));
    let (status, error) = app.post(&huge).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body"))
    );
    let (status, error) = app
        .post_raw(
            answer().to_string(),
            "application/json",
            Some("http://evil.test"),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::FORBIDDEN, Some("origin"))
    );
    let (status, error) = app
        .post_raw(
            answer().to_string(),
            "application/json",
            Some("http://blog.test"),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::FORBIDDEN, Some("origin")),
        "another site's origin"
    );

    assert!(
        app.export().await.is_empty(),
        "a rejected answer was stored"
    );
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
    let config = app.dir.path().join("pulso.toml");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
            .args(["export", "--site", "shop", "--format", "csv", "--config"])
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
    assert_eq!(out.stdout, over_http);
}

#[tokio::test]
async fn check_config_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, config_text(dir.path())).unwrap();
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
    let text = config_text(dir.path()).replacen("max = 6", "max = 5", 1);
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
    let text = config_text(dir.path()).replace(
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
