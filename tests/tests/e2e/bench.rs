//! The benchmark of time to a visible card (`cargo xtask bench` runs it; it is
//! ignored by `cargo test`): from the start of a page that asks for a card at
//! once (`pulso('track', ...)` queued in the page's head) to the card's first
//! laid-out box, next to a plain-JS card of the same first screen asked for
//! at the same moment on the same kind of page. Both clocks start at the
//! page's navigation, so each pays for its own scripts and its configuration
//! fetch. Warm (HTTP cache filled) and cold (a new browser each time).
//! Writes medians in milliseconds as JSON to `PULSO_BENCH_OUT`.

use fantoccini::Client;
use pulso_e2e::{Stack, eventually, storage_key, with_browser};
use serde_json::{Value, json};

const WARM: usize = 30;
const COLD: usize = 20;

/// Loads `page` with the shop's survey history cleared, and returns when its
/// card was first visible, in milliseconds from the navigation's start.
async fn measure(client: &Client, stack_shop: &str, collector: &str, page: &str) -> f64 {
    // The history lives on the shop's origin: cleared from a blank page there.
    client.goto(&format!("{stack_shop}/t/blank")).await.unwrap();
    client
        .execute(
            "localStorage.removeItem(arguments[0])",
            vec![storage_key(collector, "t").into()],
        )
        .await
        .unwrap();
    client.goto(page).await.unwrap();
    eventually("the card to be visible", || async {
        let at = client
            .execute("return window.visibleAt", vec![])
            .await
            .ok()?;
        at.as_f64()
    })
    .await
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench runs it"]
async fn bench_time_to_visible() {
    let out = std::env::var("PULSO_BENCH_OUT").expect("PULSO_BENCH_OUT");
    // One visitor loading pages back to back, faster than any person: the
    // per-address limit (10 a second, bursts of 60) would refuse the
    // configuration within the warm rounds.
    let stack = Stack::start_with(crate::reliability::NO_LIMITS).await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    let pages = [
        format!("{shop}/t/visible/pulso"),
        format!("{shop}/t/visible/plain"),
    ];

    // Warm: one browser; the first round fills the cache.
    let warm: Value = {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (shop, collector, pages) = (shop.clone(), collector.clone(), pages.clone());
        with_browser(move |client| async move {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for n in 0..=WARM {
                // Each card goes first in every other round, so neither
                // always follows the other's page.
                let (ours, theirs) = if n % 2 == 0 {
                    let ours = measure(&client, &shop, &collector, &pages[0]).await;
                    (ours, measure(&client, &shop, &collector, &pages[1]).await)
                } else {
                    let theirs = measure(&client, &shop, &collector, &pages[1]).await;
                    (measure(&client, &shop, &collector, &pages[0]).await, theirs)
                };
                if n > 0 {
                    a.push(ours);
                    b.push(theirs);
                }
            }
            let _ = tx.send(json!({"pulso_ms": median(a), "plain_ms": median(b)}));
        })
        .await;
        rx.await.unwrap()
    };

    // Cold: a new browser (empty cache) for every sample, the two alternating,
    // each first in every other round.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for n in 0..COLD {
        let mut turns = [(&pages[0], &mut a), (&pages[1], &mut b)];
        turns.rotate_left(n % 2);
        for (page, into) in turns {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (shop, collector, page) = (shop.clone(), collector.clone(), page.clone());
            with_browser(move |client| async move {
                let _ = tx.send(measure(&client, &shop, &collector, &page).await);
            })
            .await;
            into.push(rx.await.unwrap());
        }
    }
    let cold = json!({"pulso_ms": median(a), "plain_ms": median(b)});
    let result = json!({"warm": warm, "cold": cold, "warm_samples": WARM, "cold_samples": COLD});
    std::fs::write(&out, result.to_string()).unwrap();
    println!("{result}");
}
