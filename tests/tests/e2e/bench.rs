//! The benchmark of time to a visible card (`cargo xtask bench` runs it; it is
//! ignored by `cargo test`): from `pulso('track', ...)` to the card's first
//! paint-ready box, next to a plain-JS card of the same first screen on the
//! same page, warm (HTTP cache filled) and cold (a new browser each time).
//! Writes medians in milliseconds as JSON to `PULSO_BENCH_OUT`.

use fantoccini::Client;
use pulso_e2e::{Stack, with_browser};
use serde_json::{Value, json};

const CARD_CSS: &str = include_str!("../../../widget/src/card.css");
const WARM: usize = 15;
const COLD: usize = 20;

/// Milliseconds from `start` to a visible `.card` in the shadow root of `tag`.
async fn measure(client: &Client, start: &str, tag: &str) -> f64 {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         const visible = () => {{
           const host = document.querySelector('{tag}');
           const card = host && host.shadowRoot && host.shadowRoot.querySelector('.card');
           return card && card.getBoundingClientRect().height > 0;
         }};
         const t0 = performance.now();
         {start};
         (function poll() {{ visible() ? done(performance.now() - t0) : requestAnimationFrame(poll); }})();"
    );
    let ms = client
        .execute_async(&script, vec![])
        .await
        .expect("measure");
    ms.as_f64().expect("a number of milliseconds")
}

/// Loads the page with both cards' scripts ready, the survey history cleared.
async fn ready(client: &Client, page: &str) {
    client.goto(page).await.unwrap();
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             localStorage.removeItem('pulso.t.shop');
             const s = document.createElement('script');
             s.src = '/t/plain-card.js';
             document.head.append(s);
             (function wait() {
               window.plainCard && typeof pulso == 'function' && !pulso.q
                 ? done() : setTimeout(wait, 10);
             })();",
            vec![],
        )
        .await
        .unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench runs it"]
async fn bench_time_to_visible() {
    let out = std::env::var("PULSO_BENCH_OUT").expect("PULSO_BENCH_OUT");
    let stack = Stack::start().await;
    let page = format!("{}/t/bench/page", stack.shop);
    let pulso = "pulso('track', 'checkout_done', {total: 30})".to_owned();
    let plain = format!(
        "plainCard('{}', 'shop', {})",
        stack.collector,
        serde_json::to_string(CARD_CSS).unwrap()
    );

    // Warm: one browser, the page loaded again before each sample.
    let (page_w, pulso_w, plain_w) = (page.clone(), pulso.clone(), plain.clone());
    let warm: Value = {
        let (tx, rx) = tokio::sync::oneshot::channel();
        with_browser(move |client| async move {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for n in 0..=WARM {
                ready(&client, &page_w).await;
                let ours = measure(&client, &pulso_w, "pulso-survey").await;
                ready(&client, &page_w).await;
                let theirs = measure(&client, &plain_w, "plain-survey").await;
                // The first round fills the cache.
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

    // Cold: a new browser (empty cache) for every sample.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..COLD {
        for (start, tag, into) in [
            (&pulso, "pulso-survey", &mut a),
            (&plain, "plain-survey", &mut b),
        ] {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (page, start) = (page.clone(), start.clone());
            with_browser(move |client| async move {
                ready(&client, &page).await;
                let _ = tx.send(measure(&client, &start, tag).await);
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
