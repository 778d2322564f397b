//! The answer inbox over real HTTP: filters and text search (Spanish accents
//! either way), keyset pages that hold still while answers arrive, counts
//! per status, the status rules and `dismissed` leaving the NPS and the
//! exports, the version check, assignment rules, deadlines with the clock
//! moved, and every endpoint's roles. On SQLite, and on PostgreSQL when
//! `PULSO_TEST_POSTGRES` names a server.

mod common;

use common::app::*;
use common::inbox::*;
use reqwest::Method;
use serde_json::{Value, json};

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
