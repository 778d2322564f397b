//! Several stateless collectors on one PostgreSQL: they share nothing but the
//! database, and every answer is stored once whichever collector got it.

use std::collections::HashMap;

use pulso_e2e::{Nginx, TOKEN, example_config, start_collector};

use super::reliability::NO_LIMITS;
use serde_json::{Value, json};
use sqlx::Connection;

/// The tests of this file share one server and one of them restarts it: they
/// take turns.
static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A temporary folder holding `config` as its `pulso.toml`, for the collectors.
fn config_dir(config: String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pulso.toml"), config).unwrap();
    dir
}

/// A fresh database on the test server (`cargo xtask test` starts one).
async fn fresh_database() -> String {
    let server = std::env::var("PULSO_E2E_POSTGRES").expect(
        "PULSO_E2E_POSTGRES is not set: run the end-to-end tests through `cargo xtask test`",
    );
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "pulso_e2e_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn answer(n: u64, rev: u32, score: u8) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-{n:012x}"), "rev": rev, "site": "shop",
        "survey": "checkout_nps", "respondent": format!("scale-{n}"), "score": score,
        "step": "checkout_done", "locale": "en"
    })
}

async fn export(http: &reqwest::Client, collector: &str) -> String {
    let response = http
        .get(format!("{collector}/v1/sites/shop/export?format=csv"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_on_one_postgres_store_each_answer_once() {
    let _turn = SERVER.lock().await;
    let database = fresh_database().await;
    let dir = config_dir(example_config("http://shop.test"));
    let (_a, first) = start_collector(dir.path(), &database).await;
    let (_b, second) = start_collector(dir.path(), &database).await;
    let http = reqwest::Client::new();
    let post = |collector: &str, body: Value| {
        let request = http
            .post(format!("{collector}/v1/responses"))
            .json(&body)
            .send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(response.status(), 200, "{:?}", response.text().await);
        }
    };

    // Forty answers spread over both collectors.
    for n in 1..=40 {
        let to = if n % 2 == 0 { &first } else { &second };
        post(to, answer(n, 1, (n % 11) as u8)).await;
    }
    // The same answer to both at once, then its next revision to one and a
    // late copy of the first revision to the other.
    tokio::join!(
        post(&first, answer(100, 1, 3)),
        post(&second, answer(100, 1, 3))
    );
    let mut completed = answer(100, 2, 3);
    completed["follow_up"] = json!({"kind": "open", "text": "Completed on the second collector"});
    post(&second, completed).await;
    post(&first, answer(100, 1, 3)).await;

    let (a, b) = (export(&http, &first).await, export(&http, &second).await);
    assert_eq!(a, b, "both collectors read the same database");
    let mut reader = csv::Reader::from_reader(a.as_bytes());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut texts = HashMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        *seen.entry(row[0].to_owned()).or_default() += 1;
        texts.insert(
            row[0].to_owned(),
            row[pulso_e2e::Stack::column("open_text")].to_owned(),
        );
    }
    assert_eq!(seen.len(), 41);
    assert!(seen.values().all(|n| *n == 1), "an answer twice: {seen:?}");
    assert_eq!(
        texts["00000000-0000-4000-8000-000000000064"],
        "Completed on the second collector"
    );
}

/// PostgreSQL restarted under load: posts get 503 while it is down (never a
/// 2xx for an answer that is not stored), the collector reconnects by itself,
/// and every acknowledged answer is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_loses_no_acknowledged_answer() {
    let restart = std::env::var("PULSO_E2E_POSTGRES_RESTART").expect(
        "PULSO_E2E_POSTGRES_RESTART is not set: run the end-to-end tests through `cargo xtask test`",
    );
    let _turn = SERVER.lock().await;
    let database = fresh_database().await;
    let dir = config_dir(
        example_config("http://shop.test")
            .replace("[sites.shop]", &format!("{NO_LIMITS}\n[sites.shop]")),
    );
    let (_collector, url) = start_collector(dir.path(), &database).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let (url, stop) = (url.clone(), stop.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let (mut acked, mut refused) = (Vec::new(), 0);
                for i in 0..100_000u64 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let n = 1_000_000 * (w + 1) + i;
                    let sent = http
                        .post(format!("{url}/v1/responses"))
                        .json(&answer(n, 1, (n % 11) as u8))
                        .send()
                        .await;
                    match sent.map(|r| r.status().as_u16()) {
                        Ok(200) => acked.push(format!("00000000-0000-4000-8000-{n:012x}")),
                        Ok(503) | Err(_) => refused += 1,
                        Ok(other) => panic!("status {other}"),
                    }
                }
                (acked, refused)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let restarted = tokio::process::Command::new("sh")
        .args(["-c", &restart])
        .output()
        .await
        .unwrap();
    assert!(restarted.status.success(), "{restarted:?}");
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = Vec::new();
    for worker in workers {
        acked.extend(worker.await.unwrap().0);
    }
    assert!(acked.len() > 50, "only {} answers got through", acked.len());

    let http = reqwest::Client::new();
    let csv = export(&http, &url).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut stored: HashMap<String, usize> = HashMap::new();
    for row in reader.records() {
        *stored.entry(row.unwrap()[0].to_owned()).or_default() += 1;
    }
    for id in &acked {
        assert_eq!(stored.get(id), Some(&1), "acknowledged answer {id}");
    }
}

/// The example nginx configuration (`examples/deploy/nginx.conf`, with test
/// ports and no TLS) in front of two collectors on one PostgreSQL: answers and
/// exports pass through it, and when a collector dies its share goes to the
/// other without a failed post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_nginx_configuration_fronts_two_collectors_and_fails_over() {
    let _turn = SERVER.lock().await;
    let database = fresh_database().await;
    let dir = config_dir(example_config("http://shop.test"));
    let (mut first, first_url) = start_collector(dir.path(), &database).await;
    let (_second, second_url) = start_collector(dir.path(), &database).await;
    let nginx = Nginx::start(dir.path(), [&first_url, &second_url]).await;
    let proxy = nginx.url.clone();
    let http = reqwest::Client::new();

    let post = |n: u64| {
        let request = http
            .post(format!("{proxy}/v1/responses"))
            .json(&answer(n, 1, (n % 11) as u8))
            .send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(
                response.status(),
                200,
                "answer {n}: {:?}",
                response.text().await
            );
        }
    };
    for n in 1..=20 {
        post(n).await;
    }
    // One collector dies: nginx sends its share to the other.
    first.kill().await.unwrap();
    for n in 21..=40 {
        post(n).await;
    }
    let csv = export(&http, &proxy).await;
    let ids: std::collections::HashSet<String> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].to_owned())
        .collect();
    assert_eq!(ids.len(), 40);
}

/// Two collectors race on the same answers: the score's revision reaches
/// one, the follow-up's the other, at the same moment. The follow-up reaches
/// the webhook for every answer: in a `completed` event, or in the `created`
/// one when the follow-up's revision was stored first. (Before, both
/// collectors could read "new", and the second's event, keyed `created`,
/// was dropped as a duplicate: the follow-up never reached the webhook.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_collectors_raise_every_event() {
    let _turn = SERVER.lock().await;
    let database = fresh_database().await;
    let dir = config_dir(
        example_config("http://shop.test")
            .replace("[sites.shop]", &format!("{NO_LIMITS}\n[sites.shop]"))
            + "\n[[sites.shop.webhooks]]\nid = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\n\
               secret = \"race-test-secret-0123456789\"\n",
    );
    let (_a, first) = start_collector(dir.path(), &database).await;
    let (_b, second) = start_collector(dir.path(), &database).await;
    let http = reqwest::Client::new();
    let post = |collector: &str, body: Value| {
        let request = http
            .post(format!("{collector}/v1/responses"))
            .json(&body)
            .send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(response.status(), 200, "{:?}", response.text().await);
        }
    };
    let answers = 1..=150u64;
    for round in answers.clone().collect::<Vec<_>>().chunks(30) {
        let posts = round.iter().flat_map(|&n| {
            let mut completed = answer(n, 2, 3);
            completed["follow_up"] = json!({"kind": "open", "text": "Raced"});
            [post(&first, answer(n, 1, 3)), post(&second, completed)]
        });
        futures_util::future::join_all(posts).await;
    }
    let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
    let events: Vec<(String, String)> = sqlx::query_as("SELECT key, body FROM webhook_events")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let events: HashMap<String, Value> = events
        .into_iter()
        .map(|(key, body)| (key, serde_json::from_str(&body).unwrap()))
        .collect();
    let mut lost = Vec::new();
    for n in answers {
        let key = |phase: &str| format!("shop/crm/00000000-0000-4000-8000-{n:012x}/{phase}");
        let created = &events[&key("created")];
        let told =
            events.contains_key(&key("completed")) || created["answer"]["follow_up"] == "open";
        if !told {
            lost.push(n);
        }
    }
    assert!(
        lost.is_empty(),
        "follow-ups that never reached the webhook: {lost:?}"
    );
}
