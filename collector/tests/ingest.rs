//! Ingest over real HTTP on loopback, each test with its own database: what
//! is refused (and that a refusal changes nothing), what a page passes in
//! that is dropped rather than refused, idempotent upserts, closed follow-ups,
//! rate limits and quotas, deadlines.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

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

/// A closed answer for score 9 (band "happy": reason "quality").
fn closed9(follow_up: Value) -> Value {
    let mut a = follow(follow_up);
    a["score"] = json!(9);
    a
}

fn bad_inputs() -> Vec<Bad> {
    let set = |p: &str, v: Value| with(p, Some(v));
    let long = |n: usize| "x".repeat(n);
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
    assert!(cases.len() >= 50, "{} cases", cases.len());
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

/// What a page passes in that the collector would have refused (a prop
/// name outside the id characters, a value too long or no scalar, too many
/// props, a step the survey does not list, a page that is no path, a user
/// id too long) is dropped and named, and the answer is stored: a page's
/// context never costs a respondent's score.
#[tokio::test]
async fn context_that_does_not_fit_is_dropped_by_name_and_the_answer_stored() {
    let app = spawn_app().await;
    let mut a = answer();
    let mut props = serde_json::Map::new();
    // Keys in sorted order (the JSON map's): the first 32 that fit are kept.
    props.insert("a_plan".into(), json!("pro"));
    props.insert("plan.tier".into(), json!("gold"));
    props.insert("nan".into(), Value::Null);
    props.insert("cart".into(), json!([1, 2]));
    props.insert("who".into(), json!({"a": 1}));
    props.insert("note".into(), json!("x".repeat(501)));
    props.insert("a_zw".into(), json!("a\u{200b}b\u{e0041}"));
    for i in 0..40 {
        props.insert(format!("p{i:02}"), json!(i));
    }
    a["props"] = Value::Object(props);
    a["step"] = json!("forged_step");
    a["page"] = json!("done.html");
    a["user_id"] = json!("u".repeat(101));
    let (status, body) = app.post(&a).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], true);
    let dropped: Vec<String> = serde_json::from_value(body["dropped"].clone()).unwrap();
    for name in [
        "step",
        "page",
        "user_id",
        "props.plan.tier",
        "props.nan",
        "props.cart",
        "props.who",
        "props.note",
    ] {
        assert!(dropped.contains(&name.to_owned()), "{name} in {dropped:?}");
    }
    // 32 are kept: a_plan, a_zw and the first 30 of p00..p39.
    let numbered = (30..40).map(|i| format!("props.p{i}"));
    assert!(
        numbered.into_iter().all(|n| dropped.contains(&n)),
        "{dropped:?}"
    );
    let row = &app.export().await[0];
    assert_eq!(col(row, "score"), "2");
    assert_eq!(
        (col(row, "step"), col(row, "page"), col(row, "user_id")),
        (String::new(), String::new(), String::new())
    );
    let kept: serde_json::Map<String, Value> = serde_json::from_str(&col(row, "props")).unwrap();
    assert_eq!(kept.len(), 32);
    assert_eq!(kept["a_plan"], "pro");
    assert_eq!(
        kept["a_zw"], "ab",
        "zero-width and tag characters are cleaned out"
    );

    // An answer that fits gets no `dropped` at all.
    let mut fine = answer();
    fine["id"] = json!("6f1c2a3b-4d5e-4f60-8a7b-000000000002");
    let (status, body) = app.post(&fine).await;
    assert_eq!(status, 200);
    assert_eq!(body.get("dropped"), None, "{body}");
}

/// Anything but an object as `props` is dropped whole, a prop nested two
/// hundred levels deep is dropped unread; a step with an invisible character
/// is cleaned back to the survey's own step.
#[tokio::test]
async fn props_of_the_wrong_shape_and_dirty_steps_are_cleaned() {
    let app = spawn_app().await;
    let mut a = answer();
    a["props"] = json!([1, 2, 3]);
    a["step"] = json!("checkout\u{200b}_done\u{202e}");
    let (status, body) = app.post(&a).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dropped"], json!(["props"]));
    let row = &app.export().await[0];
    assert_eq!(col(row, "step"), "checkout_done");
    assert_eq!(col(row, "props"), "{}");

    let mut deep = answer().to_string();
    deep.truncate(deep.len() - 1);
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    deep = deep.replace(
        r#""props":{"plan":"pro"}"#,
        &format!(r#""props":{{"a":{nested}}}"#),
    );
    deep = deep.replace(ID, "6f1c2a3b-4d5e-4f60-8a7b-000000000009") + "}";
    let (status, body) = app.post_raw(deep, "application/json", Some(ORIGIN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dropped"], json!(["props.a"]));
}

/// A step the survey does not list is not kept: forged steps never become
/// rows of the report (nor of the dashboard's filter list).
#[tokio::test]
async fn forged_steps_never_reach_the_report() {
    let app = spawn_app().await;
    for (n, step) in ["checkout_done", "forged-1", "<b>forged</b>"]
        .iter()
        .enumerate()
    {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-00000000000{n}"));
        a["step"] = json!(step);
        assert_eq!(app.post(&a).await.0, 200);
    }
    let report: Value = app
        .http
        .get(format!("{}/v1/sites/shop/report", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<&String> = report["by_step"].as_object().unwrap().keys().collect();
    assert!(
        steps.iter().all(|s| s.is_empty() || *s == "checkout_done"),
        "{steps:?}"
    );
    assert_eq!(
        report["overall"]["answers"], 3,
        "the answers themselves count"
    );
}

/// The site's quota pays only for answers that can be stored: forged
/// origins and invalid answers, however many, leave it whole.
#[tokio::test]
async fn forged_and_invalid_posts_do_not_spend_the_sites_quota() {
    let app = spawn_app_with(
        "[server.limits]\nper_ip_burst = 1000\nper_site_per_second = 1\nper_site_burst = 2\n",
    )
    .await;
    for i in 0..10 {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-0000000001{i:02}"));
        let forged = app
            .post_raw(a.to_string(), "application/json", Some("http://evil.test"))
            .await;
        assert_eq!(forged.0, 403);
        a["score"] = json!(11);
        assert_eq!(app.post(&a).await.0, 422);
    }
    for i in 0..2 {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-0000000002{i:02}"));
        let (status, body) = app.post(&a).await;
        assert_eq!(status, 200, "answer {i}: {body}");
    }
}

/// A database that would not keep commits on disk (in memory, here) stops
/// the collector at start, naming why.
#[tokio::test]
async fn a_database_that_is_not_durable_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pulso.toml");
    std::fs::write(&config, config_text(dir.path(), "sqlite::memory:")).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("PULSO_LISTEN", "127.0.0.1:0")
            .env_remove("PULSO_DATABASE_URL")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not durable") && stderr.contains("journal_mode"),
        "{stderr}"
    );
}
