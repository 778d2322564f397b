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
