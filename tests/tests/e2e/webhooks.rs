//! Webhooks end to end: events of acknowledged answers survive SIGKILL, and a
//! detractor answered in a real browser reaches a Slack-format receiver.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use collector::webhooks::verify;
use pulso_e2e::{
    Receiver, Stack, card, choose_score, click_when_there, in_card, send, with_browser,
};

use super::reliability::{NO_LIMITS, ids_in, load};

const SECRET: &str = "e2e-webhook-secret-0123456789";

fn hook(url: &str, extra: &str) -> String {
    format!(
        "[[sites.shop.webhooks]]\nid = \"alerts\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n{extra}\n"
    )
}

/// Waits up to `within` for `done` to hold over what the receiver got.
async fn received_until(
    receiver: &Receiver,
    within: Duration,
    done: impl Fn(&[(axum::http::HeaderMap, String)]) -> bool,
) -> Vec<(axum::http::HeaderMap, String)> {
    let start = Instant::now();
    loop {
        let got = receiver.received();
        if done(&got) {
            return got;
        }
        assert!(
            start.elapsed() < within,
            "{} deliveries after {within:?}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signed(headers: &axum::http::HeaderMap, body: &str) -> bool {
    let now = jiff::Timestamp::now().as_second();
    let signature = headers["pulso-signature"].to_str().unwrap();
    verify(
        SECRET,
        signature,
        body.as_bytes(),
        now,
        Duration::from_secs(300),
    )
    .is_ok()
}

/// Answers acknowledged while the receiver is down, then the collector killed
/// with SIGKILL: after a restart every answer's event arrives, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_acknowledged_answers_survive_sigkill() {
    let mut receiver = Receiver::reserve().await;
    let mut stack = Stack::start_configured(NO_LIMITS, &hook(&receiver.url(), "")).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, tasks) = load(stack.collector.clone(), 2, stop.clone());
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Killed under load, with events waiting for a receiver that is down.
    stack.kill().await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "only {} answers acknowledged",
        acked.len()
    );
    assert!(receiver.received().is_empty());

    receiver.up().await;
    stack.restart().await;
    let stored = ids_in(&stack.export_csv().await);
    // Claims cut short by the kill come due again when their lease (30 s) ends.
    let got = received_until(&receiver, Duration::from_secs(60), |got| {
        got.len() >= stored.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if receiver.received().len() > got.len() {
        receiver.received()
    } else {
        got
    };

    let mut per_key: HashMap<String, usize> = HashMap::new();
    let mut answered = Vec::new();
    for (headers, body) in &got {
        assert!(signed(headers, body), "bad signature on {body}");
        *per_key
            .entry(headers["idempotency-key"].to_str().unwrap().to_owned())
            .or_default() += 1;
        let event: serde_json::Value = serde_json::from_str(body).unwrap();
        answered.push(event["answer"]["id"].as_str().unwrap().to_owned());
    }
    assert!(
        per_key.values().all(|n| *n == 1),
        "an event was delivered twice"
    );
    assert_eq!(per_key.len(), stored.len(), "one event per stored answer");
    for id in &acked {
        assert!(
            answered.contains(id),
            "no event for acknowledged answer {id}"
        );
    }
}

/// A detractor answers in the shop; the team's Slack channel (here a local
/// receiver) gets the alert at once, then its update with what was said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detractor_in_the_browser_reaches_slack() {
    let mut receiver = Receiver::reserve().await;
    receiver.up().await;
    let slack = hook(
        &receiver.url(),
        "format = \"slack\"\nclasses = [\"detractor\"]",
    );
    let stack = Stack::start_configured("", &slack).await;
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        client.goto(&shop).await.unwrap();
        for button in ["add-to-cart", "checkout", "place-order"] {
            click_when_there(&client, button).await;
        }
        let root = card(&client).await;
        choose_score(&root, 2).await;
        in_card(&root, "textarea")
            .await
            .send_keys("The courier left the parcel in the rain")
            .await
            .unwrap();
        assert_eq!(send(&root).await, "Thank you for your feedback!");
    })
    .await;

    let got = received_until(&receiver, Duration::from_secs(10), |got| got.len() >= 2).await;
    let messages: Vec<serde_json::Value> = got
        .iter()
        .map(|(headers, body)| {
            assert!(signed(headers, body));
            serde_json::from_str(body).unwrap()
        })
        .collect();
    let alert = messages[0]["text"].as_str().unwrap();
    assert!(
        alert.starts_with("*Detractor: 2/10* on `checkout_nps` after `checkout_done`"),
        "{alert}"
    );
    assert!(alert.contains("_No follow-up yet._"), "{alert}");
    let update = messages[1]["text"].as_str().unwrap();
    assert!(
        update.starts_with("Update, follow-up completed: *Detractor: 2/10*"),
        "{update}"
    );
    assert!(
        update.contains(">The courier left the parcel in the rain"),
        "{update}"
    );
    assert!(update.contains("*Band:* detractor_0_3"), "{update}");
    assert!(update.contains("*Page:* `/done`"), "{update}");
    assert!(
        update.contains(&format!(
            "<{}/dashboard/shop|Open the dashboard>",
            stack.collector
        )),
        "{update}"
    );
    assert_eq!(messages[1]["blocks"][0]["text"]["type"], "mrkdwn");
}
