//! The collector's HTTP API over real HTTP on loopback, each test with its own
//! database: CORS, configuration, tokens, assets, the CLI, exports, the
//! report, the dashboard and the OpenAPI document.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

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
                (&"tags", Value::Array(v)) => v
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(";"),
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
            user_verified: None,
            props: "{}".into(),
            traits: None,
            first_survey: None,
            cta: None,
            follow_up: None,
            open_text: None,
            reason_ids: None,
            reason_texts: None,
            other_text: None,
            owner: None,
            at_millis: at(time),
            events: None,
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
