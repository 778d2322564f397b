//! Behind a reverse proxy: the shipped nginx configuration in front of a
//! collector, and the client address that rate limits count.

use pulso_e2e::{Nginx, Stack};

/// A client may write any `X-Forwarded-For` it likes: through the shipped
/// nginx, and straight to the collector from an address that is not a
/// trusted proxy, its requests still count as its own, so forging a fresh
/// address per request does not escape the per-IP limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_forwarded_for_does_not_escape_the_per_ip_limit() {
    let stack = Stack::start_with(
        "[server.limits]\nper_ip_per_second = 1\nper_ip_burst = 5\ntrusted_proxies = [\"127.0.0.1\"]\n",
    )
    .await;
    let nginx = Nginx::start(stack.dir.path(), [&stack.collector, &stack.collector]).await;
    // The clients are 127.0.0.2 and .3: on the loopback network, but not the
    // proxy; each has its own budget.
    for (base, client) in [(&nginx.url, 2), (&stack.collector, 3)] {
        let http = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, client]))
            .build()
            .unwrap();
        let mut statuses = Vec::new();
        for i in 0..12 {
            let response = http
                .get(format!("{base}/v1/sites/shop/config"))
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        assert!(
            statuses[..5].iter().all(|s| *s == 200),
            "{base}: {statuses:?}"
        );
        assert!(
            statuses.contains(&429),
            "{base}: never limited: {statuses:?}"
        );
    }
}

/// `/metrics` in a deployment: on the collector's own `metrics_listen`
/// address without a token; on its main address only with the metrics
/// token; and never through the shipped nginx configuration, token or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_inside_only() {
    let stack = Stack::start_with(
        "metrics_listen = \"127.0.0.1:0\"\nmetrics_token = \"metrics-token-0123456789\"\n",
    )
    .await;
    let http = reqwest::Client::new();
    let answer = serde_json::json!({
        "id": "00000000-0000-4000-8000-0000000000aa", "rev": 1, "site": "shop",
        "survey": "checkout_nps", "respondent": "r-metrics", "score": 9, "locale": "en"
    });
    let stored = http
        .post(format!("{}/v1/responses", stack.collector))
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    let inside = stack.metrics.clone().expect("a metrics address");
    let response = http.get(&inside).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("pulso_answers_stored"), "{text}");
    let direct = http
        .get(format!("{}/metrics", stack.collector))
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);
    let nginx = Nginx::start(stack.dir.path(), [&stack.collector, &stack.collector]).await;
    let through = http
        .get(format!("{}/metrics", nginx.url))
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(through.status(), 404);
}
