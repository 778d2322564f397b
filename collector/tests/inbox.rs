//! The answer inbox over real HTTP: filters and text search (Spanish accents
//! either way), keyset pages that hold still while answers arrive, counts
//! per status, the status rules and `dismissed` leaving the NPS and the
//! exports, the version check, assignment rules, deadlines with the clock
//! moved, and every endpoint's roles. On SQLite, and on PostgreSQL when
//! `PULSO_TEST_POSTGRES` names a server.

mod common;

use common::app::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The shop with an inbox: rules, resolutions, a saved reply, and a webhook
/// that hears the inbox's events.
const INBOX: &str = r#"
[sites.shop.inbox]
resolutions = ["refunded", "explained"]
require_resolution = true
deadlines = { detractor = "24h", passive = "72h" }

[[sites.shop.inbox.assign]]
class = "detractor"
step = "checkout_done"
to = "agent@shop.test"

[[sites.shop.inbox.assign]]
to_prop = "account_manager"

[[sites.shop.inbox.replies]]
id = "courier"
locale = "es"
title = "Cambio de mensajería"
text = "Nos dijiste que tu pedido llegó tarde. Cambiamos de mensajería: gracias."

[[sites.shop.webhooks]]
id = "crm"
url = "http://127.0.0.1:9/hook"
secret = "inbox-test-secret-0123456789"
inbox_events = ["answer.status_changed", "answer.assigned", "answer.tags_changed", "answer.overdue", "reply.created"]
"#;

async fn inbox_app() -> App {
    spawn_app_edited(|t| t + INBOX).await
}

fn id(n: u32) -> String {
    format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}")
}

/// An answer `n` with `score`, at `step`, saying `text` (open) and with
/// `props`.
fn answer_n(n: u32, score: u8, step: &str, text: Option<&str>, props: Value) -> Value {
    let mut a = answer();
    a["id"] = json!(id(n));
    a["respondent"] = json!(format!("r-{n}"));
    a["score"] = json!(score);
    a["step"] = json!(step);
    a["props"] = props;
    if let Some(t) = text {
        a["follow_up"] = json!({"kind": "open", "text": t});
    }
    a
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        version: Option<i64>,
    ) -> (u16, Value, Option<String>) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        if let Some(v) = version {
            request = request.header("if-match", format!("\"{v}\""));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            etag,
        )
    }

    async fn list(&self, token: &str, query: &str) -> Value {
        let (status, body, _) = self
            .call(
                Method::GET,
                &format!("/v1/sites/shop/answers?{query}"),
                token,
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        body
    }

    async fn ids(&self, token: &str, query: &str) -> Vec<String> {
        self.list(token, query).await["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn version(&self, token: &str, answer: &str) -> i64 {
        let (status, body, etag) = self
            .call(
                Method::GET,
                &format!("/v1/sites/shop/answers/{answer}"),
                token,
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let v = body["version"].as_i64().unwrap();
        assert_eq!(etag.as_deref(), Some(format!("\"{v}\"").as_str()));
        v
    }

    async fn patch(&self, token: &str, answer: &str, body: Value) -> (u16, Value) {
        let v = self.version(token, answer).await;
        let (status, body, _) = self
            .call(
                Method::PATCH,
                &format!("/v1/sites/shop/answers/{answer}"),
                token,
                Some(body),
                Some(v),
            )
            .await;
        (status, body)
    }
}

/// Filters by status, owner, class, band, survey, step, comment and tag; a
/// text search that finds "llegó" by "llego" and back; counts per status.
#[tokio::test]
async fn the_inbox_filters_searches_and_counts() {
    let app = inbox_app().await;
    let admin = app.admin().await;
    let agent = app
        .member("agent@shop.test", false, &[("shop", "agent")])
        .await;
    for (n, score, step, text) in [
        (1, 2, "checkout_done", Some("Mi pedido llegó tarde y roto")),
        (
            2,
            9,
            "onboarding",
            Some("Todo perfecto, LLEGO antes de tiempo"),
        ),
        (3, 5, "onboarding", None),
        (4, 8, "onboarding", Some("Delivery was late")),
    ] {
        assert_eq!(
            app.post(&answer_n(n, score, step, text, json!({}))).await.0,
            200
        );
    }
    let t = &admin.token;
    assert_eq!(
        app.ids(t, "").await,
        [id(4), id(3), id(2), id(1)],
        "newest first"
    );
    assert_eq!(
        app.ids(t, "q=llego").await,
        [id(2), id(1)],
        "accents either way"
    );
    assert_eq!(app.ids(t, "q=LLEGÓ%20tarde").await, [id(1)]);
    assert_eq!(
        app.ids(t, "q=lleg").await,
        [id(2), id(1)],
        "words by their beginnings"
    );
    assert_eq!(app.ids(t, "q=late").await, [id(4)]);
    assert!(
        app.ids(t, "q=%22%20OR%201%3D1").await.is_empty(),
        "search syntax is not injected"
    );
    assert_eq!(app.ids(t, "class=detractor").await, [id(3), id(1)]);
    assert_eq!(
        app.ids(t, "step=onboarding&commented=yes").await,
        [id(4), id(2)]
    );
    assert_eq!(app.ids(t, "commented=no").await, [id(3)]);
    assert_eq!(app.ids(t, "band=unhappy").await, [id(3), id(1)]);
    // The rule gave the checkout detractor to the agent.
    assert_eq!(app.ids(t, "owner=agent%40shop.test").await, [id(1)]);
    assert_eq!(app.ids(&agent.token, "owner=me").await, [id(1)]);
    assert_eq!(app.ids(t, "owner=none&class=detractor").await, [id(3)]);

    let (status, _) = app
        .patch(t, &id(2), json!({"tags": ["Envío", "rápido"]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.ids(t, "tag=ENVÍO").await, [id(2)]);
    let (status, _) = app.patch(t, &id(4), json!({"status": "open"})).await;
    assert_eq!(status, 200);
    let list = app.list(t, "step=onboarding").await;
    assert_eq!(
        list["counts"],
        json!({"new": 2, "open": 1, "waiting": 0, "resolved": 0, "dismissed": 0})
    );
    assert_eq!(app.ids(t, "status=open").await, [id(4)]);
    assert_eq!(
        app.ids(t, "status=new,open&step=onboarding").await,
        [id(4), id(3), id(2)]
    );

    for (query, field) in [
        ("status=closed", "status"),
        ("class=angry", "class"),
        ("owner=someone", "owner"),
        ("limit=0", "limit"),
        ("cursor=nonsense", "cursor"),
        ("from=yesterday", "from"),
        ("colour=red", "query"),
    ] {
        let (status, body, _) = app
            .call(
                Method::GET,
                &format!("/v1/sites/shop/answers?{query}"),
                t,
                None,
                None,
            )
            .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (400, Some(field)),
            "{query}: {body}"
        );
    }
}

/// Keyset pages: every answer once, in order, however many arrive between
/// two pages (they are newer: the first page's, not the next one's).
#[tokio::test]
async fn pages_hold_still_while_answers_arrive() {
    let app = inbox_app().await;
    let admin = app.admin().await;
    for n in 1..=7 {
        assert_eq!(
            app.post(&answer_n(n, 7, "onboarding", None, json!({})))
                .await
                .0,
            200
        );
    }
    let mut seen = Vec::new();
    let mut query = "limit=3".to_owned();
    let mut arriving = 100;
    loop {
        let page = app.list(&admin.token, &query).await;
        seen.extend(
            page["answers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        // Answers arrive between pages, concurrently.
        let bodies: Vec<Value> = (0..3)
            .map(|_| {
                arriving += 1;
                answer_n(arriving, 3, "onboarding", None, json!({}))
            })
            .collect();
        let posts: Vec<_> = bodies.iter().map(|b| app.post(b)).collect();
        for (status, _) in futures_util::future::join_all(posts).await {
            assert_eq!(status, 200);
        }
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("limit=3&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=7).rev().map(id).collect();
    assert_eq!(
        seen, expected,
        "each answer once, newest first, none of the newer ones"
    );
}

/// Statuses: resolving needs a resolution (as configured), changes need the
/// version they were made on (409 with the current state, 428 without),
/// and only `dismissed` leaves the NPS, the report and the exports.
#[tokio::test]
async fn statuses_versions_and_dismissed_answers() {
    let app = inbox_app().await;
    let admin = app.admin().await;
    let agent = app
        .member("agent@shop.test", false, &[("shop", "agent")])
        .await;
    for (n, score) in [(1, 2), (2, 10), (3, 0)] {
        assert_eq!(
            app.post(&answer_n(n, score, "onboarding", None, json!({})))
                .await
                .0,
            200
        );
    }
    let t = &agent.token;
    let path = format!("/v1/sites/shop/answers/{}", id(1));
    let (status, body, _) = app
        .call(
            Method::PATCH,
            &path,
            t,
            Some(json!({"status": "open"})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (428, Some("if-match"))
    );
    let v = app.version(t, &id(1)).await;
    let (status, body, etag) = app
        .call(
            Method::PATCH,
            &path,
            t,
            Some(json!({"status": "open"})),
            Some(v),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(etag, Some(format!("\"{}\"", v + 1)));
    assert_eq!(body["answer"]["status"], "open");
    // A second agent's tab, still at the old version.
    let (status, body, _) = app
        .call(
            Method::PATCH,
            &path,
            t,
            Some(json!({"status": "waiting"})),
            Some(v),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "version_conflict");
    assert_eq!(
        body["current"]["answer"]["status"], "open",
        "nothing overwritten silently"
    );
    assert_eq!(body["current"]["version"], v + 1);

    for (change, field) in [
        (json!({"status": "resolved"}), "resolution"),
        (
            json!({"status": "resolved", "resolution": "magic"}),
            "resolution",
        ),
        (
            json!({"status": "open", "resolution": "refunded"}),
            "resolution",
        ),
        (json!({"status": "gone"}), "status"),
        (json!({"owner": "nobody@shop.test"}), "owner"),
        (json!({"tags": ["a;b"]}), "tags"),
        (json!({}), "body"),
    ] {
        let (status, body) = app.patch(t, &id(1), change.clone()).await;
        assert!(matches!(status, 400 | 422), "{change}: {status} {body}");
        assert_eq!(
            body["error"]["field"].as_str(),
            Some(field),
            "{change}: {body}"
        );
    }
    let (status, body) = app
        .patch(
            t,
            &id(1),
            json!({"status": "resolved", "resolution": "refunded"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resolution"], "refunded");
    assert!(body["answer"]["resolved_at"].is_string());

    let report = |query: &'static str| {
        let http = app.http.clone();
        let url = format!("{}/v1/sites/shop/report?{query}", app.url);
        let token = admin.token.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(report("").await["overall"]["answers"], 3);
    let (status, _) = app.patch(t, &id(3), json!({"status": "dismissed"})).await;
    assert_eq!(status, 200);
    let r = report("").await;
    assert_eq!(
        r["overall"]["answers"], 2,
        "a dismissed answer leaves the NPS"
    );
    assert_eq!(
        r["overall"]["nps"], 0.0,
        "one promoter, one detractor: the resolved one still counts"
    );
    assert_eq!(report("dismissed=include").await["overall"]["answers"], 3);
    let rows = app.export().await;
    assert_eq!(rows.len(), 2);
    let exported = app
        .export_as("format=json&dismissed=only")
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 1);
    assert_eq!(exported[0]["status"], "dismissed");
    let resolved = rows.iter().find(|r| col(r, "id") == id(1)).unwrap();
    assert_eq!(col(resolved, "status"), "resolved");
    assert!(!col(resolved, "resolved_at").is_empty());
    assert_eq!(
        app.ids(t, "").await,
        [id(2), id(1)],
        "the inbox leaves dismissed answers out by default"
    );
    assert_eq!(app.ids(t, "status=dismissed").await, [id(3)]);
}

/// Rules give new answers an owner: by class and step, or by the prop that
/// names a member; someone who may no longer work on the site's answers
/// owns nothing any more (the answer shows as unassigned).
#[tokio::test]
async fn rules_assign_and_former_members_own_nothing() {
    let app = inbox_app().await;
    let admin = app.admin().await;
    app.member("agent@shop.test", false, &[("shop", "agent")])
        .await;
    app.member("manager@shop.test", false, &[("shop", "admin")])
        .await;
    app.member("viewer@shop.test", false, &[("shop", "viewer")])
        .await;
    let posts = [
        answer_n(1, 3, "checkout_done", None, json!({})),
        answer_n(
            2,
            9,
            "onboarding",
            None,
            json!({"account_manager": "Manager@Shop.Test"}),
        ),
        answer_n(
            3,
            9,
            "onboarding",
            None,
            json!({"account_manager": "viewer@shop.test"}),
        ),
        answer_n(4, 9, "onboarding", None, json!({})),
    ];
    for a in &posts {
        assert_eq!(app.post(a).await.0, 200);
    }
    let owners: Vec<(String, Value)> = app.list(&admin.token, "").await["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_owned(), a["owner"].clone()))
        .collect();
    assert_eq!(
        owners,
        [
            (id(4), Value::Null),
            (id(3), Value::Null),
            (id(2), json!("manager@shop.test")),
            (id(1), json!("agent@shop.test")),
        ],
        "a viewer owns nothing"
    );
    // The follow-up completes an answer: its owner stays.
    let mut completed = posts[0].clone();
    completed["rev"] = json!(2);
    completed["follow_up"] = json!({"kind": "open", "text": "tarde"});
    assert_eq!(app.post(&completed).await.0, 200);
    assert_eq!(
        app.ids(&admin.token, "owner=agent%40shop.test").await,
        [id(1)]
    );
    // The agent is removed from the site: their answers are nobody's.
    let agent = app
        .store
        .user_by_email("agent@shop.test")
        .await
        .unwrap()
        .unwrap();
    app.store
        .remove_member(agent.id, "shop", &[])
        .await
        .unwrap();
    assert_eq!(
        app.ids(&admin.token, "owner=none").await,
        [id(4), id(3), id(1)]
    );
    let (status, body) = app
        .patch(&admin.token, &id(4), json!({"owner": "agent@shop.test"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("owner"))
    );
    let (status, body) = app
        .patch(&admin.token, &id(4), json!({"owner": "manager@shop.test"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["answer"]["owner"], "manager@shop.test");
}

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
    assert!(config().await.get("w").is_none());
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
    assert!(config().await.get("w").is_none(), "seen: the key is gone");
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
