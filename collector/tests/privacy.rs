//! What a stranger can learn of respondents, and what a respondent is owed,
//! over real HTTP on loopback (each test with its own database, SQLite and
//! again PostgreSQL): history lookups and verified identify, erasure,
//! retention.

mod common;

use common::app::*;
use serde_json::{Value, json};

const IDENTITY_SECRET: &str = "identity-secret-0123456789";

/// `HEX(HMAC-SHA256(IDENTITY_SECRET, user))`, as a site's backend computes it.
fn user_hash(user: &str) -> String {
    collector::identity::user_hash(&collector::config::Secret::new(IDENTITY_SECRET), user)
}

impl App {
    async fn answered(&self, site: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/sites/{site}/history", self.url))
            .header("content-type", "text/plain;charset=UTF-8")
            .header("origin", ORIGIN)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Without an identity secret the site takes user ids as given: a user's
/// answer on one device makes the next device's survey a later one. The
/// lookup is a POST of a plain-text body (no ids in the URL, no CORS
/// preflight), and a site that does not exist answers as one where nobody
/// answered.
#[tokio::test]
async fn the_history_lookup_tells_whether_a_survey_would_be_the_first() {
    let app = spawn_app().await;
    let ask =
        |respondent: &str, user: Option<&str>| json!({"respondent": respondent, "user_id": user});
    assert_eq!(
        app.answered("shop", ask("r-1", None)).await,
        (200, json!({"answered": false}))
    );
    let mut a = answer();
    a["user_id"] = json!("u-7");
    assert_eq!(app.post(&a).await.0, 200);
    assert_eq!(
        app.answered("shop", ask("r-1", None)).await.1,
        json!({"answered": true})
    );
    // Another device of the same user.
    assert_eq!(
        app.answered("shop", ask("r-2", None)).await.1,
        json!({"answered": false})
    );
    assert_eq!(
        app.answered("shop", ask("r-2", Some("u-7"))).await.1,
        json!({"answered": true})
    );
    // Unknown and known sites alike.
    assert_eq!(
        app.answered("nope", ask("r-1", Some("u-7"))).await,
        (200, json!({"answered": false}))
    );
    // Bad input is named, whatever the site.
    for site in ["shop", "nope"] {
        let (status, error) = app.answered(site, ask("a b", None)).await;
        assert_eq!(
            (status, error["error"]["field"].clone()),
            (422, json!("respondent"))
        );
        let (status, error) = app
            .answered(site, json!({"respondent": "r-1", "admin": true}))
            .await;
        assert_eq!(
            (status, error["error"]["field"].clone()),
            (422, json!("admin"))
        );
    }
    // The old GET form, with ids in its URL, is gone.
    let old = app
        .http
        .get(format!(
            "{}/v1/sites/shop/respondents/r-1?user=u-7",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    let cors = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/sites/shop/history", app.url),
        )
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(cors.headers()["access-control-allow-origin"], ORIGIN);
}

/// With an identity secret, a user id is trusted only with its hash: an
/// answer whose hash is missing or wrong is stored as unverified, and neither
/// it nor a lookup without the right hash tells anyone whether that user
/// answered.
#[tokio::test]
async fn with_an_identity_secret_only_verified_users_are_looked_up() {
    let app = spawn_app_with_site(&format!("identity_secret = \"{IDENTITY_SECRET}\"\n")).await;
    let post = |n: u32, user: &str, hash: Option<String>| {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-00000000000{n}"));
        a["respondent"] = json!(format!("device-{n}"));
        a["user_id"] = json!(user);
        if let Some(h) = hash {
            a["user_hash"] = json!(h);
        }
        a
    };
    assert_eq!(app.post(&post(1, "alice@example.com", None)).await.0, 200);
    assert_eq!(
        app.post(&post(2, "bob@example.com", Some(user_hash("mallory"))))
            .await
            .0,
        200
    );
    assert_eq!(
        app.post(&post(
            3,
            "carol@example.com",
            Some(user_hash("carol@example.com").to_uppercase())
        ))
        .await
        .0,
        200
    );
    let rows = app.export().await;
    let verified: Vec<(String, String)> = rows
        .iter()
        .map(|r| (col(r, "user_id"), col(r, "user_verified")))
        .collect();
    assert_eq!(
        verified,
        [
            ("alice@example.com".into(), "false".into()),
            ("bob@example.com".into(), "false".into()),
            ("carol@example.com".into(), "true".into()),
        ]
    );
    let ask = |user: &str, hash: Option<String>| json!({"respondent": "new-device", "user_id": user, "user_hash": hash});
    // Alice answered, but without a hash: nobody learns it, not even with hers.
    assert_eq!(
        app.answered("shop", ask("alice@example.com", None)).await.1["answered"],
        false
    );
    assert_eq!(
        app.answered(
            "shop",
            ask("alice@example.com", Some(user_hash("alice@example.com")))
        )
        .await
        .1["answered"],
        false
    );
    // Carol's answer was verified: her own hash finds it, a guess does not.
    assert_eq!(
        app.answered("shop", ask("carol@example.com", None)).await.1["answered"],
        false
    );
    assert_eq!(
        app.answered(
            "shop",
            ask("carol@example.com", Some(user_hash("bob@example.com")))
        )
        .await
        .1["answered"],
        false
    );
    assert_eq!(
        app.answered(
            "shop",
            ask("carol@example.com", Some(user_hash("carol@example.com")))
        )
        .await
        .1["answered"],
        true
    );
}

const HOOK: &str = "[[sites.shop.webhooks]]\nid = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\n\
                    secret = \"erase-test-secret-0123456789\"\n";

impl App {
    async fn erase(&self, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/v1/sites/shop/erase", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn post_as(&self, n: u32, respondent: &str, user: Option<&str>) -> Value {
        let mut a = answer();
        a["id"] = json!(format!("6f1c2a3b-4d5e-4f60-8a7b-00000000010{n}"));
        a["respondent"] = json!(respondent);
        a["user_id"] = json!(user);
        a
    }
}

/// A person who asks to be forgotten is: by user id over the API, by
/// respondent id on the command line, their answers and webhook events gone
/// in one transaction and nobody else's, each erasure in the audit log
/// without the identifier itself.
#[tokio::test]
async fn erasure_removes_a_persons_answers_and_their_events() {
    let app = spawn_app_edited(|t| t + HOOK).await;
    for (n, respondent, user) in [
        (1, "laptop", Some("u-42")),
        (2, "phone", Some("u-42")),
        (3, "r-9", None),
        (4, "someone", Some("u-7")),
    ] {
        assert_eq!(app.post(&app.post_as(n, respondent, user)).await.0, 200);
    }
    // Refused without credentials, to the site's read-only machine token,
    // to a viewer, or unclear.
    let admin = app.admin().await;
    let viewer = app
        .member("viewer@shop.test", false, &[("shop", "viewer")])
        .await;
    assert_eq!(app.erase(json!({"user_id": "u-42"}), None).await.0, 401);
    assert_eq!(
        app.erase(json!({"user_id": "u-42"}), Some(TOKEN)).await.0,
        403
    );
    assert_eq!(
        app.erase(json!({"user_id": "u-42"}), Some(&viewer.token))
            .await
            .0,
        403
    );
    let (status, error) = app
        .erase(
            json!({"user_id": "u-42", "respondent": "r-9"}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].clone()),
        (422, json!("user_id"))
    );
    let (status, error) = app
        .erase(json!({"respondent": "a b"}), Some(&admin.token))
        .await;
    assert_eq!(
        (status, error["error"]["field"].clone()),
        (422, json!("respondent"))
    );
    assert_eq!(
        app.export().await.len(),
        4,
        "a refused erasure changes nothing"
    );

    let (status, erased) = app
        .erase(json!({"user_id": "u-42"}), Some(&admin.token))
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased, json!({"answers": 2, "events": 2}));
    let left: Vec<String> = app
        .export()
        .await
        .iter()
        .map(|r| col(r, "respondent"))
        .collect();
    assert_eq!(left, ["r-9", "someone"]);

    let out = tokio::task::spawn_blocking({
        let config = app.dir.path().join("pulso.toml");
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
                .args(["erase", "--site", "shop", "--respondent", "r-9", "--config"])
                .arg(config)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "erased 1 answers and 1 webhook events of that respondent on shop"
    );
    let left: Vec<String> = app
        .export()
        .await
        .iter()
        .map(|r| col(r, "respondent"))
        .collect();
    assert_eq!(left, ["someone"]);

    let store = collector::store::Store::open(&app.database_url)
        .await
        .unwrap();
    let log: Vec<_> = store
        .audit_entries(Some("shop"), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "erase")
        .collect();
    let actors: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        actors,
        [("cli", "erase"), ("admin@shop.test (token test)", "erase")]
    );
    let detail: Value = serde_json::from_str(&log[1].detail).unwrap();
    assert_eq!(detail["subject"], "user_id");
    assert_eq!(
        (detail["answers"].clone(), detail["events"].clone()),
        (json!(2), json!(2))
    );
    assert!(
        !log[1].detail.contains("u-42"),
        "the log keeps no identifier: {}",
        log[1].detail
    );
    assert_eq!(log[1].client.as_deref(), Some("127.0.0.1"));
}

/// Retention deletes a site's answers older than its `retention_days`, and
/// nothing younger; time is moved by the test (the run takes its "now").
#[tokio::test]
async fn retention_deletes_answers_past_their_days() {
    let app =
        spawn_app_edited(|t| t.replace("[sites.blog]", "[sites.blog]\nretention_days = 1") + HOOK)
            .await;
    for n in 1..=3 {
        assert_eq!(
            app.post(&app.post_as(n, &format!("r-{n}"), None)).await.0,
            200
        );
    }
    let store = collector::store::Store::open(&app.database_url)
        .await
        .unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    let day = 86_400_000;
    let sites = [("shop".to_owned(), 30)];
    let kept = collector::privacy::retain(&store, &sites, now + 29 * day)
        .await
        .unwrap();
    assert_eq!(kept[0].1.answers, 0);
    assert_eq!(app.export().await.len(), 3);
    let gone = collector::privacy::retain(&store, &sites, now + 31 * day)
        .await
        .unwrap();
    assert_eq!((gone[0].1.answers, gone[0].1.events), (3, 3));
    assert!(app.export().await.is_empty());
    let log: Vec<_> = store
        .audit_entries(Some("shop"), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action != "export")
        .collect();
    assert_eq!(log.len(), 1, "a run that deleted nothing is not logged");
    assert_eq!(
        (log[0].actor.as_str(), log[0].action.as_str()),
        ("retention", "retention")
    );
}
