//! Webhooks over real HTTP on loopback: a collector with its own SQLite file and a
//! receiver that records what it gets (and can be down for a while).

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use collector::config;
use collector::store::Store;
use collector::webhooks::{self, VerifyError};
use reqwest::Client;
use serde_json::{Value, json};

const TOKEN: &str = "hooks-test-token-0123456789";
const SECRET: &str = "whsec-test-secret-0123456789";

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }
}

/// A loopback HTTP receiver that answers `status` and keeps every request.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// An address nothing listens on yet (connections are refused).
    async fn reserve() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        Receiver {
            addr,
            got: Arc::default(),
            task: None,
        }
    }

    async fn start() -> Receiver {
        let mut r = Receiver::reserve().await;
        r.up().await;
        r
    }

    async fn up(&mut self) {
        let got = self.got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push(Received { headers, body });
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.task = Some(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }));
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (at most `within`) until `n` requests have arrived.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < within,
                "{} of {n} deliveries within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct App {
    url: String,
    _dir: tempfile::TempDir,
    http: Client,
    /// An admin of `shop`.
    admin: common::app::Member,
}

/// A collector whose site `shop` has the webhooks in `hooks` (TOML).
async fn spawn_app(hooks: &str) -> App {
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::database_url(dir.path()).await;
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
database_url = "{database_url}"
assets_dir = "{assets}"
public_url = "https://pulso.example"
metrics_token = "{TOKEN}"

[sites.shop]
origins = ["http://shop.test"]
export_token = "{TOKEN}"

[[sites.shop.surveys]]
id = "checkout_nps"
steps = ["checkout_done"]
texts.en.question = "How likely are you to recommend the shop?"

[[sites.shop.surveys.bands]]
id = "unhappy"
min = 0
max = 6
reasons = [{{ id = "late", text.en = "Late delivery" }}]

[[sites.shop.surveys.bands]]
id = "happy"
min = 7
max = 10
reasons = [{{ id = "quality", text.en = "Quality" }}]
{hooks}
"#,
        assets = dir.path().join("assets").display(),
    );
    let settings = config::parse("pulso.toml", &text).unwrap();
    config::require_secrets(&settings, "pulso.toml", &text).unwrap();
    let store = Store::open(settings.database_url.expose()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let admin =
        common::app::make_member(&store, "admin@shop.test", false, &[("shop", "admin")]).await;
    let state = collector::AppState::new(settings, store);
    tokio::spawn(collector::serve(listener, state, std::future::pending()));
    App {
        url,
        _dir: dir,
        http: Client::new(),
        admin,
    }
}

fn hook(id: &str, url: &str, extra: &str) -> String {
    format!(
        "[[sites.shop.webhooks]]\nid = \"{id}\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n{extra}\n"
    )
}

fn answer(n: u32, score: u8) -> Value {
    json!({
        "id": format!("6f1c2a3b-4d5e-4f60-8a7b-{n:012x}"), "rev": 1, "site": "shop",
        "survey": "checkout_nps", "respondent": format!("r-{n}"), "score": score,
        "step": "checkout_done", "page": "/done?order=1", "locale": "en", "user_id": "u-42",
        "first_survey": false,
    })
}

impl App {
    async fn post(&self, body: &Value) {
        let response = self
            .http
            .post(format!("{}/v1/responses", self.url))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }

    /// `path` with the metrics token, or (anything else) an admin's token.
    async fn get(&self, path: &str) -> (u16, String) {
        let token = if path == "/metrics" {
            TOKEN
        } else {
            &self.admin.token
        };
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn status(&self) -> Value {
        let (code, body) = self.get("/v1/sites/shop/webhooks").await;
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[tokio::test]
async fn an_answer_is_delivered_signed_within_a_second_and_its_follow_up_updates_it() {
    let receiver = Receiver::start().await;
    let app = spawn_app(&hook("crm", &receiver.url(), "")).await;

    let started = Instant::now();
    app.post(&answer(1, 2)).await;
    let got = receiver.wait_for(1, Duration::from_secs(1)).await;
    let first_after = started.elapsed();

    let first = &got[0];
    let key = "shop/crm/6f1c2a3b-4d5e-4f60-8a7b-000000000001/created";
    assert_eq!(first.header("idempotency-key"), key);
    assert_eq!(first.header("pulso-event"), "answer.created");
    assert_eq!(first.header("content-type"), "application/json");
    let signature = first.header("pulso-signature");
    let tolerance = Duration::from_secs(300);
    assert_eq!(
        webhooks::verify(SECRET, signature, &first.body, now(), tolerance),
        Ok(())
    );
    assert_eq!(
        webhooks::verify(
            "a-bad-secret-0123456789",
            signature,
            &first.body,
            now(),
            tolerance
        ),
        Err(VerifyError::Mismatch)
    );
    assert!(matches!(
        webhooks::verify(SECRET, signature, &first.body, now() + 3600, tolerance),
        Err(VerifyError::Stale(_))
    ));
    let event = first.json();
    assert_eq!(event["id"], key);
    assert_eq!(event["type"], "answer.created");
    assert_eq!(event["update"], false);
    assert_eq!(event["answer"]["score"], 2);
    assert_eq!(event["answer"]["class"], "detractor");
    assert_eq!(event["answer"]["band"], "unhappy");
    assert_eq!(
        event["answer"]["page"], "/done",
        "query strings never leave"
    );
    assert_eq!(event["answer"]["follow_up"], Value::Null);
    assert_eq!(
        event["dashboard_url"],
        "https://pulso.example/dashboard/shop"
    );

    // The follow-up completes the answer: a second event for the same answer.
    let mut completed = answer(1, 2);
    completed["rev"] = json!(2);
    completed["follow_up"] =
        json!({"kind": "closed", "reasons": ["late", "other"], "other": "Box was wet"});
    app.post(&completed).await;
    let got = receiver.wait_for(2, Duration::from_secs(1)).await;
    let update = got[1].json();
    assert_eq!(update["type"], "answer.completed");
    assert_eq!(update["update"], true);
    assert_eq!(update["answer"]["id"], event["answer"]["id"]);
    assert_eq!(update["answer"]["reason_ids"], json!(["late", "other"]));
    assert_eq!(update["answer"]["other_text"], "Box was wet");

    // Retries of the same revisions change nothing and send nothing.
    app.post(&completed).await;
    app.post(&answer(1, 2)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2);

    let status = app.status().await;
    let crm = &status["webhooks"][0];
    assert_eq!(crm["id"], "crm");
    assert_eq!(crm["target"], format!("http://{}", receiver.addr));
    assert_eq!(
        (
            crm["deliveries"]["delivered"].as_i64(),
            crm["deliveries"]["pending"].as_i64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(crm["events"][0]["state"], "delivered");
    eprintln!("first delivery {first_after:?} after the answer");
}

#[tokio::test]
async fn filters_and_slack_messages() {
    let receiver = Receiver::start().await;
    let hooks = hook(
        "slack",
        &receiver.url(),
        "format = \"slack\"\nclasses = [\"detractor\"]\nanswers = \"completed\"",
    );
    let app = spawn_app(&hooks).await;
    // A promoter, and a detractor without follow-up: nothing for this webhook.
    app.post(&answer(1, 10)).await;
    app.post(&answer(2, 3)).await;
    let mut done = answer(2, 3);
    done["rev"] = json!(2);
    done["follow_up"] = json!({"kind": "closed", "reasons": ["late"]});
    app.post(&done).await;
    let got = receiver.wait_for(1, Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    let message = got[0].json();
    let text = message["text"].as_str().unwrap();
    assert!(
        text.starts_with("*Detractor: 3/10* on `checkout_nps`"),
        "{text}"
    );
    assert!(text.contains("*Reasons:* Late delivery"), "{text}");
    assert!(text.contains("*User:* `u-42`"), "{text}");
    assert_eq!(message["unfurl_links"], false);
    assert!(text.contains("<https://pulso.example/dashboard/shop|Open the dashboard>"));
    assert_eq!(message["blocks"][0]["type"], "section");
}

/// A score changed after its alert is corrected, by the webhooks that were
/// told of it, even when the new score is outside their filters; and a
/// change into a webhook's filters reaches it, under `score_only` too.
#[tokio::test]
async fn a_changed_score_follows_its_alert() {
    let receiver = Receiver::start().await;
    let hooks = [
        hook("alerts", &receiver.url(), "classes = [\"detractor\"]"),
        hook(
            "slack",
            &receiver.url(),
            "format = \"slack\"\nclasses = [\"detractor\"]",
        ),
        hook(
            "pager",
            &receiver.url(),
            "classes = [\"detractor\"]\nanswers = \"score_only\"",
        ),
    ]
    .concat();
    let app = spawn_app(&hooks).await;
    let of = |got: &[Received], hook: &str| -> Vec<Value> {
        got.iter()
            .filter(|r| {
                r.header("idempotency-key")
                    .starts_with(&format!("shop/{hook}/"))
            })
            .map(Received::json)
            .collect()
    };

    // 2, then 9: each of the three heard of the detractor, and each hears
    // it is one no more.
    app.post(&answer(1, 2)).await;
    let mut nine = answer(1, 9);
    nine["rev"] = json!(2);
    app.post(&nine).await;
    let got = receiver.wait_for(6, Duration::from_secs(3)).await;
    let alerts = of(&got, "alerts");
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[0]["type"], "answer.created");
    assert_eq!(alerts[1]["type"], "answer.updated");
    assert_eq!(alerts[1]["update"], true);
    assert_eq!(alerts[1]["answer"]["score"], 9);
    assert_eq!(alerts[1]["answer"]["class"], "promoter");
    assert_eq!(
        alerts[1]["previous"],
        json!({"score": 2, "class": "detractor", "band": "unhappy"})
    );
    assert!(alerts[1]["id"].as_str().unwrap().ends_with("/updated-2"));
    let slack = of(&got, "slack");
    let text = slack[1]["text"].as_str().unwrap();
    assert!(text.starts_with("Update: score changed 2 → 9."), "{text}");
    assert_eq!(of(&got, "pager")[1]["type"], "answer.updated");

    // 9, then 2 (score_only included): a detractor that was not one at first
    // reaches every detractor webhook.
    app.post(&answer(2, 9)).await;
    let mut two = answer(2, 2);
    two["rev"] = json!(2);
    app.post(&two).await;
    let got = receiver.wait_for(9, Duration::from_secs(3)).await;
    for hook in ["alerts", "slack", "pager"] {
        let events = of(&got, hook);
        assert_eq!(events.len(), 3, "{hook}: {events:?}");
    }
    let pager = of(&got, "pager");
    assert_eq!(pager[2]["type"], "answer.created");
    assert_eq!(pager[2]["answer"]["score"], 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 9, "nothing more");
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_once() {
    let mut receiver = Receiver::reserve().await;
    let app = spawn_app(&hook("crm", &receiver.url(), "")).await;
    for n in 1..=20 {
        app.post(&answer(n, (n % 11) as u8)).await;
    }
    // Down long enough for several failed attempts each.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = app.status().await;
    let crm = &status["webhooks"][0];
    assert_eq!(crm["deliveries"]["pending"], 20, "{crm}");
    assert!(
        crm["deliveries"]["last_error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{crm}"
    );
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("pulso_webhook_delivery_failures_total{site=\"shop\",webhook=\"crm\"}"),
        "{metrics}"
    );

    receiver.up().await;
    let got = receiver.wait_for(20, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut keys: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("idempotency-key").to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        20,
        "every event, none twice: {} requests",
        got.len()
    );
    let status = app.status().await;
    assert_eq!(status["webhooks"][0]["deliveries"]["delivered"], 20);
    assert_eq!(status["webhooks"][0]["deliveries"]["pending"], 0);
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("pulso_webhook_deliveries_total{site=\"shop\",webhook=\"crm\"} 20"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_event_is_given_up_after_its_period_and_shown_as_failed() {
    let receiver = Receiver::reserve().await;
    let app = spawn_app(&hook("crm", &receiver.url(), "give_up_after = \"2s\"")).await;
    app.post(&answer(1, 2)).await;
    let start = Instant::now();
    let crm = loop {
        let status = app.status().await;
        if status["webhooks"][0]["deliveries"]["failed"] == 1 {
            break status["webhooks"][0].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(crm["deliveries"]["pending"], 0);
    assert_eq!(crm["events"][0]["state"], "failed");
    assert!(crm["events"][0]["attempts"].as_i64().unwrap() >= 2, "{crm}");
    let (code, failed) = app.get("/v1/sites/shop/webhooks?state=delivered").await;
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&failed).unwrap()["webhooks"][0]["events"],
        json!([])
    );
    let (code, body) = app.get("/v1/sites/shop/webhooks?state=lost").await;
    assert_eq!(code, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["field"],
        "state"
    );
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("pulso_webhook_events_failed_total{site=\"shop\",webhook=\"crm\"} 1"),
        "{metrics}"
    );
    // The dashboard shows the same state to a signed-in analyst.
    let cookie = common::app::sign_in(&app.url, &app.admin.email, &app.admin.password).await;
    let page = Client::new()
        .get(format!("{}/dashboard/shop", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = &page[page.find("<h2>Webhooks</h2>").expect("a webhooks section")..];
    assert!(table.contains("<td class=\"bad\">1</td>"), "{table}");
    assert!(table.contains("Connection refused"), "{table}");
    // The status is the analysts': no token, no status.
    let response = Client::new()
        .get(format!("{}/v1/sites/shop/webhooks", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
