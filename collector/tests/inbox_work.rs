//! The inbox's work over real HTTP: deadlines with the clock moved, every
//! endpoint's roles, notes, replies that reach the respondent (through the
//! configuration's keys and the replies endpoints), tags renamed, merged and
//! deleted, with the feed, the audit log and the webhook events. On SQLite,
//! and on PostgreSQL when `PULSO_TEST_POSTGRES` names a server.

mod common;

use common::app::*;
use common::inbox::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Deadlines: an answer still new past its class's deadline is overdue
/// (listed, counted), and `answer.overdue` goes out once; acting on it in
/// time keeps it from being overdue. The clock is moved by the test.
#[tokio::test]
async fn deadlines_mark_answers_overdue_once() {
    let app = inbox_app().await;
    let admin = app.admin().await;
    for (n, score) in [(1, 2), (2, 7), (3, 10), (4, 1)] {
        assert_eq!(
            app.post(&answer_n(n, score, "onboarding", None, json!({})))
                .await
                .0,
            200
        );
    }
    let (status, _) = app
        .patch(&admin.token, &id(4), json!({"status": "open"}))
        .await;
    assert_eq!(status, 200);
    let settings = collector::config::parse(
        "pulso.toml",
        &std::fs::read_to_string(app.dir.path().join("pulso.toml")).unwrap(),
    )
    .unwrap();
    let site = &settings.sites["shop"];
    let now = jiff::Timestamp::now().as_millisecond();
    let hour = 3_600_000;
    let mark = |at| collector::inbox::work::mark_overdue(&app.store, site, at);
    assert_eq!(
        mark(now + 23 * hour).await.unwrap(),
        0,
        "within a day nothing is late"
    );
    assert_eq!(
        mark(now + 25 * hour).await.unwrap(),
        1,
        "the detractor after a day"
    );
    assert_eq!(mark(now + 26 * hour).await.unwrap(), 0, "once");
    assert_eq!(
        mark(now + 73 * hour).await.unwrap(),
        1,
        "the passive after three days; the promoter never"
    );
    let (_, hooks, _) = app
        .call(
            Method::GET,
            "/v1/sites/shop/webhooks?limit=50",
            &admin.token,
            None,
            None,
        )
        .await;
    let overdue: Vec<&Value> = hooks["webhooks"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "answer.overdue")
        .collect();
    assert_eq!(overdue.len(), 2, "{hooks}");
    let (_, detail, _) = app
        .call(
            Method::GET,
            &format!("/v1/sites/shop/answers/{}", id(1)),
            &admin.token,
            None,
            None,
        )
        .await;
    assert!(
        detail["activity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "overdue"),
        "{detail}"
    );

    // The report's follow-up times: the detractor acted on (and now
    // resolved), per class and per owner (none: "").
    let (status, _) = app
        .patch(
            &admin.token,
            &id(4),
            json!({"status": "resolved", "resolution": "explained"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, report, _) = app
        .call(
            Method::GET,
            "/v1/sites/shop/report",
            &admin.token,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let times = &report["response_times"];
    let detractors = &times["by_class"]["detractor"];
    assert_eq!(detractors["first_action"]["n"], 1, "{times}");
    assert_eq!(detractors["resolve"]["n"], 1, "{times}");
    assert!(detractors["resolve"]["median_seconds"].as_i64().unwrap() < 60);
    assert_eq!(times["by_owner"][""]["resolve"]["n"], 1, "{times}");
    assert!(times["by_class"]["passive"].is_null(), "nothing done yet");
    let page = app
        .http
        .get(format!("{}/dashboard/shop", app.url))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("3 new · 0 open · 0 waiting"), "{page}");
    assert!(page.contains("Follow-up times"), "{page}");
}

/// Who may do what with the inbox: members read, agents and admins work,
/// a member of another site gets 404, a site's machine token 403, nobody 401.
#[tokio::test]
async fn every_inbox_endpoint_checks_the_role() {
    let app = inbox_app().await;
    assert_eq!(
        app.post(&answer_n(1, 2, "onboarding", Some("tarde"), json!({})))
            .await
            .0,
        200
    );
    let viewer = app
        .member("viewer@shop.test", false, &[("shop", "viewer")])
        .await;
    let agent = app
        .member("agent@shop.test", false, &[("shop", "agent")])
        .await;
    let stranger = app
        .member("admin@blog.test", false, &[("blog", "admin")])
        .await;
    let answer = id(1);
    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/v1/sites/shop/answers".into(), None),
        (
            Method::GET,
            format!("/v1/sites/shop/answers/{answer}"),
            None,
        ),
        (Method::GET, "/v1/sites/shop/tags".into(), None),
        (
            Method::PATCH,
            format!("/v1/sites/shop/answers/{answer}"),
            Some(json!({"status": "open"})),
        ),
        (
            Method::POST,
            format!("/v1/sites/shop/answers/{answer}/notes"),
            Some(json!({"text": "Called them"})),
        ),
        (
            Method::POST,
            format!("/v1/sites/shop/answers/{answer}/replies"),
            Some(json!({"text": "Gracias"})),
        ),
    ];
    let table: [(&str, &str, [u16; 6]); 5] = [
        ("nobody", "", [401; 6]),
        ("machine", TOKEN, [403; 6]),
        ("viewer", &viewer.token, [200, 200, 200, 403, 403, 403]),
        ("other site", &stranger.token, [404; 6]),
        ("agent", &agent.token, [200, 200, 200, 200, 201, 201]),
    ];
    for (who, token, expected) in table {
        for ((method, path, body), want) in endpoints.iter().zip(expected) {
            let version = (method == Method::PATCH).then_some(1);
            let mut request = app
                .http
                .request(method.clone(), format!("{}{path}", app.url));
            if !token.is_empty() {
                request = request.bearer_auth(token);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            if let Some(v) = version {
                request = request.header("if-match", format!("\"{v}\""));
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), want, "{who} {method} {path}");
        }
    }
}

/// Notes, tags and replies: a reply waits for its respondent (the
/// configuration lists its key; the card fetches it, says it was seen, and
/// it waits no more); each is in the feed, the audit log and the webhook
/// events; tags are renamed, merged and deleted everywhere.
#[tokio::test]
async fn notes_replies_and_tags() {
    let app = inbox_app().await;
    let admin = app.admin().await;
    let mut a = answer_n(1, 2, "onboarding", Some("Mi pedido llegó tarde"), json!({}));
    a["respondent"] = json!("0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21");
    a["locale"] = json!("es");
    assert_eq!(app.post(&a).await.0, 200);
    let t = &admin.token;
    let base = format!("/v1/sites/shop/answers/{}", id(1));
    let (status, note, _) = app
        .call(
            Method::POST,
            &format!("{base}/notes"),
            t,
            Some(json!({"text": "Llamé al cliente"})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["kind"], "note");
    let (status, body, _) = app
        .call(
            Method::POST,
            &format!("{base}/notes"),
            t,
            Some(json!({"text": "   "})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("text"))
    );

    // Nothing waits yet: the configuration has no keys.
    let config = || {
        let http = app.http.clone();
        let url = format!("{}/v1/sites/shop/config", app.url);
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(config().await["w"], json!([]));
    let (status, made, _) = app
        .call(
            Method::POST,
            &format!("{base}/replies"),
            t,
            Some(json!({"text": "Cambiamos de mensajería: gracias."})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        config().await["w"],
        json!(["0b9c8a7e"]),
        "the respondent's key rides on the configuration"
    );
    let respondent = |path: String, body: Value| {
        let http = app.http.clone();
        let url = format!("{}{path}", app.url);
        async move {
            let r = http
                .post(url)
                .header("content-type", "text/plain")
                .header("origin", ORIGIN)
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, waiting) = respondent(
        "/v1/sites/shop/replies".into(),
        json!({"respondent": "0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        waiting["replies"][0]["text"],
        "Cambiamos de mensajería: gracias."
    );
    assert_eq!(waiting["replies"][0]["locale"], "es");
    let (_, nobody) = respondent(
        "/v1/sites/shop/replies".into(),
        json!({"respondent": "0b9c8a7e-0000-4c3b-9a8e-7d6c5b4a3f21"}),
    )
    .await;
    assert_eq!(
        nobody["replies"],
        json!([]),
        "the key's collisions see nothing"
    );
    let reply = waiting["replies"][0]["id"].as_i64().unwrap();
    let (status, _) = respondent(
        format!("/v1/sites/shop/replies/{reply}/seen"),
        json!({"respondent": "0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21"}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(config().await["w"], json!([]), "seen: the key is gone");
    let (_, again) = respondent(
        "/v1/sites/shop/replies".into(),
        json!({"respondent": "0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21"}),
    )
    .await;
    assert_eq!(again["replies"], json!([]), "shown once");

    // Tags: set, renamed, merged, deleted.
    assert_eq!(
        app.patch(t, &id(1), json!({"tags": ["courier", "Late"]}))
            .await
            .0,
        200
    );
    let (_, tags, _) = app
        .call(Method::GET, "/v1/sites/shop/tags", t, None, None)
        .await;
    let tag_id = |name: &str| {
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (courier, late) = (tag_id("courier"), tag_id("Late"));
    let (status, _, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/sites/shop/tags/{courier}"),
            t,
            Some(json!({"name": "late"})),
            None,
        )
        .await;
    assert_eq!(status, 409, "a name another tag has: merge them");
    let (status, _, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/sites/shop/tags/{courier}"),
            t,
            Some(json!({"name": "Mensajería"})),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = app
        .call(
            Method::POST,
            &format!("/v1/sites/shop/tags/{late}/merge"),
            t,
            Some(json!({"into": courier})),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, detail, _) = app.call(Method::GET, &base, t, None, None).await;
    assert_eq!(detail["answer"]["tags"], json!(["Mensajería"]));
    let (status, _, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/sites/shop/tags/{courier}"),
            t,
            None,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, detail, _) = app.call(Method::GET, &base, t, None, None).await;
    assert_eq!(detail["answer"]["tags"], json!([]));
    let kinds: Vec<&str> = detail["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["note", "reply", "reply_seen", "tags"], "{detail}");
    assert_eq!(detail["timeline"][0]["id"], id(1));
    assert!(detail["first_action_at"].is_string());

    let (_, hooks, _) = app
        .call(
            Method::GET,
            "/v1/sites/shop/webhooks?limit=50",
            t,
            None,
            None,
        )
        .await;
    let mut kinds: Vec<&str> = hooks["webhooks"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["answer.created", "answer.tags_changed", "reply.created"],
        "{hooks}"
    );
    let (_, audit, _) = app
        .call(Method::GET, "/v1/sites/shop/audit", t, None, None)
        .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "note_added",
        "reply_created",
        "answer_changed",
        "tag_renamed",
        "tags_merged",
        "tag_deleted",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}
