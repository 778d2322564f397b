//! No answer the collector acknowledged is ever lost: SIGKILL under load, a
//! database that cannot be written, and the browser's outbox delivering later.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulso_e2e::{Stack, card, choose_score, eventually, in_card, send, spied, with_browser};
use sqlx::Connection;

/// Limits high enough for a load generator on one address.
pub(crate) const NO_LIMITS: &str = "[server.limits]
per_ip_per_second = 1000000
per_ip_burst = 1000000
per_site_per_second = 1000000
per_site_burst = 1000000
";

fn answer(n: u64) -> serde_json::Value {
    serde_json::json!({
        "id": format!("00000000-0000-4000-8000-{n:012x}"), "rev": 1, "site": "shop",
        "survey": "checkout_nps", "respondent": format!("load-{n}"), "score": n % 11, "locale": "en"
    })
}

/// Posts answers from `workers` tasks until `stop`, recording every id that got
/// a 2xx; refused connections (the collector is down) are simply retried.
pub(crate) fn load(
    collector: String,
    workers: usize,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<String>>>, Vec<tokio::task::JoinHandle<()>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicU64::new(1));
    let tasks = (0..workers)
        .map(|_| {
            let (acked, next, stop, url) =
                (acked.clone(), next.clone(), stop.clone(), collector.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap();
                // Bounded whatever happens: at most 2,000 posts per worker.
                for _ in 0..2000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let a = answer(next.fetch_add(1, Ordering::Relaxed));
                    match http
                        .post(format!("{url}/v1/responses"))
                        .json(&a)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            acked
                                .lock()
                                .unwrap()
                                .push(a["id"].as_str().unwrap().to_owned());
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect();
    (acked, tasks)
}

pub(crate) fn ids_in(rows: &[csv::StringRecord]) -> HashMap<String, usize> {
    let mut count = HashMap::new();
    for row in rows {
        *count
            .entry(row[Stack::column("id")].to_owned())
            .or_insert(0) += 1;
    }
    count
}

/// The collector is killed with SIGKILL four times under load and restarted;
/// every answer that got a 2xx is in the export exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_answers_survive_sigkill() {
    let mut stack = Stack::start_with(NO_LIMITS).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, tasks) = load(stack.collector.clone(), 4, stop.clone());
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        stack.kill().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        stack.restart().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "the load generator got only {} answers through",
        acked.len()
    );
    let stored = ids_in(&stack.export_csv().await);
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| stored.get(*id) != Some(&1))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged answers lost or doubled: {lost:?}",
        lost.len(),
        acked.len()
    );
}

/// SIGTERM under load: the collector stops accepting, finishes what is in
/// flight and exits cleanly; every answer it acknowledged is there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_cleanly_and_keeps_every_acknowledged_answer() {
    let mut stack = Stack::start_with(NO_LIMITS).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, tasks) = load(stack.collector.clone(), 4, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = stack.terminate().await;
    assert!(status.success(), "exit after SIGTERM: {status}");
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    stack.restart().await;
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    let stored = ids_in(&stack.export_csv().await);
    assert!(acked.iter().all(|id| stored.get(id) == Some(&1)));
}

/// While another process holds the database's write lock, answers get 503 (not
/// a hang, never a 2xx); the answer made in a real browser waits in its outbox
/// and lands once the database can be written again, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_loses_nothing_and_the_browser_delivers_later() {
    let stack = Stack::start_with(NO_LIMITS).await;
    let database = format!("sqlite://{}", stack.database().display());
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    let outage_answers = with_browser_value(move |client| async move {
        client.goto(&format!("{shop}/done")).await.unwrap();
        let root = card(&client).await;

        // A backup job, say, takes the write lock.
        let mut lock = sqlx::SqliteConnection::connect(&database).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut lock)
            .await
            .unwrap();

        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        let mut outage_answers = Vec::new();
        for n in 0..5 {
            let a = answer(900 + n);
            let started = std::time::Instant::now();
            let r = http
                .post(format!("{collector}/v1/responses"))
                .json(&a)
                .send()
                .await;
            let status = r.expect("an answer, not a hang").status();
            assert_eq!(status, 503, "during the outage");
            // The default deadline of 2 s, with room for a busy machine.
            let took = started.elapsed();
            assert!(took < Duration::from_secs(3), "503 after {took:?}");
            outage_answers.push(a["id"].as_str().unwrap().to_owned());
        }
        let ready = http
            .get(format!("{collector}/readyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            ready.status(),
            200,
            "reads still work: the database is reachable"
        );

        choose_score(&root, 2).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Answered during the outage")
            .await
            .unwrap();
        assert_eq!(send(&root).await, "Thank you for your feedback!");
        let waiting = outbox(&client).await;
        assert_eq!(
            waiting.len(),
            1,
            "one answer waits in the outbox: {waiting:?}"
        );

        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
        lock.close().await.unwrap();

        // The next page view sends the outbox.
        client.goto(&shop).await.unwrap();
        eventually("the outbox to empty", || async {
            outbox(&client).await.is_empty().then_some(())
        })
        .await;
        outage_answers
    })
    .await;

    let rows = stack.export_csv().await;
    let stored = ids_in(&rows);
    for id in &outage_answers {
        assert!(
            !stored.contains_key(id),
            "an answer refused with 503 was stored: {id}"
        );
    }
    let browser: Vec<_> = rows
        .iter()
        .filter(|r| &r[Stack::column("open_text")] == "Answered during the outage")
        .collect();
    assert_eq!(browser.len(), 1, "{rows:?}");
    assert_eq!(&browser[0][Stack::column("score")], "2");
}

/// The collector is down (killed) while a visitor answers: the card keeps the
/// answer in the outbox and thanks them; after a restart the next page view
/// delivers it, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_made_while_the_collector_is_down_arrive_after_it_restarts() {
    let stack = Arc::new(tokio::sync::Mutex::new(Stack::start().await));
    let (shop, handle) = (stack.lock().await.shop.clone(), stack.clone());
    with_browser(move |client| async move {
        client.goto(&format!("{shop}/done")).await.unwrap();
        let root = card(&client).await;
        handle.lock().await.kill().await;
        choose_score(&root, 8).await;
        in_card(&root, "textarea")
            .await
            .send_keys("Sent while you were down")
            .await
            .unwrap();
        assert_eq!(send(&root).await, "Thank you for your feedback!");
        assert_eq!(outbox(&client).await.len(), 1);

        handle.lock().await.restart().await;
        client.goto(&shop).await.unwrap();
        eventually("the outbox to empty", || async {
            outbox(&client).await.is_empty().then_some(())
        })
        .await;
    })
    .await;

    let rows = stack.lock().await.export_csv().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        &rows[0][Stack::column("open_text")],
        "Sent while you were down"
    );
    assert_eq!(&rows[0][Stack::column("score")], "8");
}

/// The ids waiting in the loader's outbox (of whichever collector: each
/// test has one).
async fn outbox(client: &fantoccini::Client) -> Vec<String> {
    let value = client
        .execute(
            "const k = Object.keys(localStorage).find((k) => /^pulso:.*:shop:o$/.test(k)); \
             return JSON.parse(k && localStorage.getItem(k) || '[]').map(function (e) { return e.id })",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

/// [`with_browser`] for a body that hands back a value.
async fn with_browser_value<T, F, Fut>(body: F) -> T
where
    T: Send + 'static,
    F: FnOnce(fantoccini::Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let slot = Arc::new(Mutex::new(None));
    let out = slot.clone();
    with_browser(move |client| {
        let run = body(client);
        async move {
            let value = run.await;
            *out.lock().unwrap() = Some(value);
        }
    })
    .await;
    let value = slot.lock().unwrap().take();
    value.expect("the browser part ran to its end")
}

/// A page where no survey is due fetches its configuration only. An answer
/// left in the outbox is sent by the next page view, which imports the
/// outbox's module but fetches no card; a survey shown on the same page then
/// does fetch the wasm, so the spy would see one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_the_outbox_fetches_no_card() {
    let stack = Stack::start().await;
    let shop = stack.shop.clone();
    let body = answer(4242).to_string();
    let id = answer(4242)["id"].as_str().unwrap().to_owned();
    let seeded = id.clone();
    let key = pulso_e2e::storage_key(&stack.collector, "o");
    with_browser(move |client| async move {
        let fetched = || spied(&client, "fetched");
        let page = format!("{shop}/t/spy/blog");
        client.goto(&page).await.unwrap();
        // Nothing due, nothing waiting: the configuration, and no more.
        eventually("the configuration fetch", || async {
            (!fetched().await.is_empty()).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = fetched().await;
        assert!(
            idle.len() == 1 && idle[0].ends_with("/v1/sites/shop/config"),
            "{idle:?}"
        );
        client
            .execute(
                "localStorage.setItem(arguments[2], JSON.stringify([{id: arguments[0], rev: 1, \
                 body: arguments[1], tries: 0, at: 0}]))",
                vec![seeded.into(), body.into(), key.into()],
            )
            .await
            .unwrap();
        client.goto(&page).await.unwrap();
        eventually("the outbox to empty", || async {
            outbox(&client).await.is_empty().then_some(())
        })
        .await;
        let sent = fetched().await;
        assert!(
            sent.iter().any(|u| u.ends_with("/v1/responses")),
            "{sent:?}"
        );
        assert!(!sent.iter().any(|u| u.ends_with(".wasm")), "{sent:?}");

        // The control: a survey shown now fetches the card.
        client
            .execute("pulso('show', 'checkout_nps')", vec![])
            .await
            .unwrap();
        pulso_e2e::card(&client).await;
        let shown = fetched().await;
        assert!(shown.iter().any(|u| u.ends_with(".wasm")), "{shown:?}");
        // A preview has the site's theme (the example's accent) like any card.
        let accent = client
            .execute(
                "return getComputedStyle(document.querySelector('pulso-survey').shadowRoot                  .querySelector('.card')).getPropertyValue('--pulso-accent')",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(accent, "#b5542c");
    })
    .await;
    let rows = stack.export_csv().await;
    assert!(
        rows.iter().any(|r| r.get(0) == Some(id.as_str())),
        "the outbox's answer is stored"
    );
}

/// The collector gone when a survey comes due: the card cannot load, and each
/// failed request is reported by the loader as a console warning, the card's
/// wasm included, rather than left as an unhandled rejection in the host page
/// (error monitors report those as the site's own errors).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_that_cannot_load_is_a_warning() {
    let mut stack = Stack::start().await;
    let page = format!("{}/t/spy/checkout", stack.shop);
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        // The configuration has arrived (a resource entry is made when its
        // response ends): the collector goes down after it, not during it.
        eventually("the configuration", || async {
            client
                .execute(
                    "return performance.getEntriesByType('resource') \
                     .some((e) => e.name.endsWith('/v1/sites/shop/config'))",
                    vec![],
                )
                .await
                .ok()?
                .as_bool()?
                .then_some(())
        })
        .await;
        stack.kill().await;
        client
            .execute("pulso('track', 'checkout_done')", vec![])
            .await
            .unwrap();
        let warned = eventually("warnings for the module and the wasm", || async {
            let warned = spied(&client, "warned").await;
            (warned.len() >= 2).then_some(warned)
        })
        .await;
        let fetched = spied(&client, "fetched").await;
        assert!(fetched.iter().any(|u| u.ends_with(".wasm")), "{fetched:?}");
        assert!(
            warned.iter().all(|w| w.starts_with("pulso: ")),
            "{warned:?}"
        );
        // The module's import, and the wasm's fetch on its own.
        assert!(warned.iter().any(|w| w.contains("import")), "{warned:?}");
        assert!(
            warned
                .iter()
                .any(|w| !w.contains("import") && w.contains("fetch")),
            "{warned:?}"
        );
        assert!(
            client
                .find(fantoccini::Locator::Css("pulso-survey"))
                .await
                .is_err(),
            "no card without a collector"
        );
    })
    .await;
}

/// A card whose wasm failed to load (a network blip) loads at the next survey
/// of the same page view: single-page apps live long, and one failed fetch
/// must not cost every later survey.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_card_load_is_tried_again() {
    let stack = Stack::start().await;
    let page = format!("{}/t/spy/checkout", stack.shop);
    with_browser(move |client| async move {
        client.goto(&page).await.unwrap();
        client
            .execute(
                "window.fail = /\\.wasm$/; pulso('show', 'checkout_nps')",
                vec![],
            )
            .await
            .unwrap();
        eventually("warnings for the failed load", || async {
            let warned = spied(&client, "warned").await;
            (warned.len() >= 2).then_some(())
        })
        .await;
        assert!(
            client
                .find(fantoccini::Locator::Css("pulso-survey"))
                .await
                .is_err(),
            "no card without its wasm"
        );
        client
            .execute("window.fail = null; pulso('show', 'checkout_nps')", vec![])
            .await
            .unwrap();
        let root = card(&client).await;
        choose_score(&root, 8).await;
        in_card(&root, "textarea").await;
        let wasm = spied(&client, "fetched")
            .await
            .into_iter()
            .filter(|u| u.ends_with(".wasm"))
            .count();
        assert_eq!(wasm, 2, "the failed fetch, then the one that worked");
    })
    .await;
}

/// Opens a connection to `address` and sends the start of a request whose
/// headers never end, as a slow (or hostile) client does.
async fn half_sent(address: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    socket
        .write_all(b"POST /v1/responses HTTP/1.1\r\nHost: pulso\r\nContent-Type: appl")
        .await
        .unwrap();
    socket
}

/// Whether the server closes `socket` (end of stream or a reset) within the
/// test's patience; whatever it writes first (a 408, say) is read past.
async fn closed_by_server(socket: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Slow clients cannot hold the collector: fifty connections trickling a
/// request's headers are closed at the header timeout while others are
/// answered; a keep-alive connection left idle is closed too; and past the
/// connection cap, a new connection waits for a free place rather than being
/// served beyond it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_and_others_still_answered() {
    let stack = Stack::start_with(&format!(
        "header_timeout = \"2s\"\nmax_connections = 60\n{NO_LIMITS}"
    ))
    .await;
    let address = stack.collector.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..50 {
        slow.push(half_sent(&address).await);
    }
    let health = reqwest::get(format!("{}/healthz", stack.collector))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "answered beside fifty slow clients");
    for (i, socket) in slow.iter_mut().enumerate() {
        assert!(
            closed_by_server(socket).await,
            "slow connection {i} was never closed"
        );
    }

    // An idle keep-alive connection: one request answered, then silence.
    {
        use tokio::io::AsyncWriteExt;
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: pulso\r\n\r\n")
            .await
            .unwrap();
        assert!(
            closed_by_server(&mut socket).await,
            "an idle keep-alive connection stayed open"
        );
    }

    // At the cap: sixty slow connections hold every place; a request waits
    // until the header timeout frees them, then is answered.
    let mut held = Vec::new();
    for _ in 0..60 {
        held.push(half_sent(&address).await);
    }
    let url = format!("{}/healthz", stack.collector);
    let waiting = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "served beyond the connection cap");
    assert_eq!(waiting.await.unwrap().unwrap(), 200);
    drop(held);
}

/// SIGTERM while slow clients hold connections that will never finish: the
/// collector stops within its drain timeout rather than waiting for them
/// (before, fifty half-sent requests kept it alive past 30 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_not_held_by_half_sent_requests() {
    let mut stack = Stack::start_with(&format!(
        "header_timeout = \"120s\"\ndrain_timeout = \"2s\"\n{NO_LIMITS}"
    ))
    .await;
    let address = stack.collector.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..50 {
        slow.push(half_sent(&address).await);
    }
    // A request in flight is still answered as the drain begins.
    let health = reqwest::get(format!("{}/healthz", stack.collector))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // `terminate` fails the test unless the process exits within 10 s.
    let status = stack.terminate().await;
    assert!(status.success(), "exit after SIGTERM: {status}");
    drop(slow);
}
