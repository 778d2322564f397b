//! `pulso-bench`: the collector's side of `cargo xtask bench`. Each mode runs in
//! its own process so its peak memory is its own, and prints one JSON line.
//!
//!   pulso-bench generate DB N      N generated answers in a fresh SQLite file
//!   pulso-bench read DB            baseline: read every row, do nothing else
//!   pulso-bench export DB FORMAT   stream the export (csv, json, ndjson) to nowhere
//!   pulso-bench report DB          the report (from the rollups), against a plain read of
//!                                  one page of rows, in alternating rounds; milliseconds
//!   pulso-bench report-rows DB     the report counted answer by answer, over every row
//!   pulso-bench inbox DB           the inbox's first page, its counts and a text search,
//!                                  against plain indexed reads of the same rows, in
//!                                  alternating rounds; milliseconds per query (medians)
//!   pulso-bench serve DB_URL       the collector (limits off) plus `POST /bench/noop`, an
//!                                  endpoint that answers like ingest and does nothing, on one
//!                                  port; prints `listening on http://ADDR`, runs until killed;
//!                                  with --no-rollups, the database keeps no rollups
//!   pulso-bench peer PATH          what a user would write instead: a plain axum handler
//!                                  inserting each answer in its own transaction (sqlx) into
//!                                  the SQLite file PATH; `POST /v1/responses`, as serve
//!   pulso-bench decode             the ingest's I/O-free steps (decode, clean, validate)
//!                                  on a normal answer and on a worst-case 64 KiB body of
//!                                  ~7,300 props, in alternating rounds; microseconds per body
//!   pulso-bench signin             failed sign-ins over HTTP on loopback, a wrong password
//!                                  for an account against an email with none, in alternating
//!                                  rounds; milliseconds per attempt
//!   pulso-bench load URL PATH CONCURRENCY LIMIT [--random-ids]
//!                                  the load generator: CONCURRENCY clients post answers with
//!                                  keep-alive to URL/PATH for LIMIT ("5s") or LIMIT answers,
//!                                  with ids as browsers make them (see `ids`); prints rate and
//!                                  latency percentiles

use std::time::Instant;

use collector::config::parse;
use collector::export::{Format, export_stream};
use collector::store::{Filter, Store};
use futures_util::StreamExt;
use sqlx::Connection;

mod peer;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SITE: &str = "shop";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "serve") {
        // The collector on the runtime it ships with.
        let url = args.get(1).ok_or("serve needs DB_URL")?;
        return collector::server::runtime(url)?
            .block_on(serve(url, args.get(2).is_some_and(|a| a == "--no-rollups")));
    }
    tokio::runtime::Runtime::new()?.block_on(run(args))
}

/// Every mode but `serve`, on tokio's default runtime (the peer's is what a
/// user would write: `#[tokio::main]`).
async fn run(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    match args.first().map(String::as_str) {
        Some("peer") => return peer::serve(args.get(1).ok_or("peer needs PATH")?).await,
        Some("load") => return load(&args[1..]).await,
        Some("decode") => return decode(),
        Some("signin") => return signin().await,
        _ => {}
    }
    let (mode, db) = match args.as_slice() {
        [mode, db, ..] => (mode.as_str(), format!("sqlite://{db}")),
        _ => {
            return Err(
                "usage: pulso-bench generate|read|export|report|report-rows|inbox DB [N|FORMAT]"
                    .into(),
            );
        }
    };
    if mode == "inbox" {
        return inbox(&db).await;
    }
    if mode == "report" {
        return report(&db).await;
    }
    if mode == "generate" {
        let n: u64 = args.get(2).ok_or("generate needs N")?.parse()?;
        let started = Instant::now();
        generate(&db, n).await?;
        return report_line(mode, n, started, 0);
    }
    let store = Store::open(&db).await?;
    let started = Instant::now();
    let (rows, bytes) = match mode {
        "read" => {
            let mut rows = 0u64;
            let mut stream = std::pin::pin!(store.answers(SITE, &Filter::default()));
            while let Some(row) = stream.next().await {
                std::hint::black_box(row?);
                rows += 1;
            }
            (rows, 0)
        }
        "export" => {
            let format: Format = args.get(2).map_or("csv", String::as_str).parse()?;
            let mut bytes = 0u64;
            let mut chunks = std::pin::pin!(export_stream(
                store.clone(),
                SITE.into(),
                Filter::default(),
                format
            ));
            while let Some(chunk) = chunks.next().await {
                bytes += chunk?.len() as u64;
            }
            (0, bytes)
        }
        "report-rows" => {
            let settings = parse(
                "pulso.toml",
                include_str!("../../../../examples/pulso.toml"),
            )?;
            let site = &settings.sites[SITE];
            let report = collector::report::report_by_rows(
                &store,
                site,
                &Filter::default(),
                &jiff::tz::TimeZone::UTC,
            )
            .await?;
            (report.overall.answers, 0)
        }
        _ => return Err(format!("unknown mode {mode}").into()),
    };
    report_line(mode, rows, started, bytes)
}

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report_line(
    mode: &str,
    rows: u64,
    started: Instant,
    bytes: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let seconds = started.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({"mode": mode, "rows": rows, "seconds": seconds, "bytes": bytes, "peak_rss_kb": peak_kb})
    );
    Ok(())
}

/// The "Other" texts of the generated answers, in turn.
const OTHER_TEXTS: [&str; 4] = [
    "The courier left the parcel outside, in the rain",
    "El mensajero dejó el paquete fuera, bajo la lluvia",
    "Tracking showed delivered two days before it came",
    "The box was crushed and the label half torn",
];

/// The inbox over the generated answers: its first page (newest first, all
/// but dismissed) and its counts per status, and a text search ("mensajero",
/// typed without its accent's help: a quarter of the "Other" texts), each
/// next to a plain indexed read of the same rows (the newest 50 by the
/// (site, created_at, id) index; the search's 50 by primary key).
async fn inbox(db: &str) -> Result<(), Box<dyn std::error::Error>> {
    use collector::store::InboxFilter;
    let store = Store::open(db).await?;
    let mut plain = sqlx::SqliteConnection::connect(db).await?;
    let search = InboxFilter {
        words: vec!["mensajero".into()],
        ..InboxFilter::default()
    };
    let ms = |started: Instant| started.elapsed().as_secs_f64() * 1e3;
    let (mut page, mut read, mut counts, mut found, mut by_id) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut hits = 0;
    for round in 0..41 {
        let started = Instant::now();
        std::hint::black_box(
            store
                .inbox_page(SITE, &InboxFilter::default(), None, 50, None)
                .await?,
        );
        page.push(ms(started));

        read.push(newest_page(&mut plain).await?);

        let started = Instant::now();
        std::hint::black_box(
            store
                .inbox_counts(SITE, &InboxFilter::default(), &[])
                .await?,
        );
        counts.push(ms(started));

        let started = Instant::now();
        let rows = store.inbox_page(SITE, &search, None, 50, None).await?.0;
        found.push(ms(started));
        hits = rows.len();

        let sql = format!(
            "SELECT id, score, class, band, step, open_text, other_text, reason_texts, created_at
             FROM answers WHERE id IN ({})",
            vec!["?"; rows.len()].join(",")
        );
        let started = Instant::now();
        let mut q = sqlx::query(&sql);
        for r in &rows {
            q = q.bind(&r.id);
        }
        std::hint::black_box(q.fetch_all(&mut plain).await?);
        by_id.push(ms(started));

        if round == 0 {
            // A warm-up round: the page cache, the statement caches.
            for v in [&mut page, &mut read, &mut counts, &mut found, &mut by_id] {
                v.clear();
            }
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "mode": "inbox", "seconds": 0, "rounds": page.len(),
            "page_ms": median(&mut page), "read_ms": median(&mut read),
            "counts_ms": median(&mut counts), "search_ms": median(&mut found),
            "search_read_ms": median(&mut by_id), "search_rows": hits,
        })
    );
    Ok(())
}

/// Answers spread over a year, every score, both steps, each band's reasons,
/// some "Other" texts and props: shaped like real data.
async fn generate(db: &str, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    Store::open(db).await?.close().await;
    let path = db.strip_prefix("sqlite://").unwrap_or(db).to_owned();
    tokio::task::spawn_blocking(move || insert_generated(&path, n)).await??;
    Store::open(db).await?.rebuild_rollups().await?;
    Ok(())
}

/// The rows of [`generate`], through rusqlite in this thread (sqlx hands
/// every statement to a worker thread: most of the time of a million).
fn insert_generated(path: &str, n: u64) -> rusqlite::Result<()> {
    let mut connection = rusqlite::Connection::open(path)?;
    // Made data, made again if lost: no fsync per batch.
    connection.pragma_update(None, "synchronous", "OFF")?;
    // Faster in bulk: the rollups' triggers are set aside while the answers
    // go in, the rollups rebuilt after (`pulso rollup --rebuild`), and the
    // triggers put back as they were.
    let triggers: Vec<String> = connection
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rollup_%'")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for trigger in ROLLUP_TRIGGERS {
        connection.execute(&format!("DROP TRIGGER IF EXISTS {trigger}"), [])?;
    }
    let reasons = [
        (
            "detractor_0_3",
            "delivery_late;other",
            "My order arrived late; Other",
        ),
        ("detractor_4_6", "prices", "Lower prices"),
        ("passive", "faster_delivery", "Faster delivery"),
        (
            "promoter",
            "product_quality;fast_delivery",
            "The quality of the products; Fast delivery",
        ),
    ];
    let start = 1_764_547_200_000i64; // 2025-12-01
    let mut i = 0u64;
    while i < n {
        let tx = connection.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO answers (id, rev, site, survey, respondent, score, class, band, step, page,
                    locale, user_id, props, follow_up, open_text, created_at, updated_at,
                    first_survey, reason_ids, reason_texts, other_text)
                 VALUES (?1, 2, 'shop', 'checkout_nps', ?2, ?3, ?4, ?5, ?6, '/done', 'en', NULL,
                    '{\"plan\":\"pro\",\"total\":24}', 'closed', NULL, ?7, ?7, 0, ?8, ?9, ?10)",
            )?;
            for _ in 0..100_000.min(n - i) {
                i += 1;
                let score = (i * 7919 % 11) as i64;
                let (class, band) = match score {
                    0..=3 => ("detractor", 0),
                    4..=6 => ("detractor", 1),
                    7..=8 => ("passive", 2),
                    _ => ("promoter", 3),
                };
                let (band, ids, texts) = reasons[band];
                let at = start + (i as i64 * 31_536_000_000 / n as i64);
                let other = ids
                    .contains("other")
                    .then_some(OTHER_TEXTS[(i / 11 % 4) as usize]);
                insert.execute(rusqlite::params![
                    format!("00000000-0000-4000-8000-{i:012x}"),
                    format!("respondent-{}", i % 250_000),
                    score,
                    class,
                    band,
                    if i.is_multiple_of(3) {
                        "onboarding"
                    } else {
                        "checkout_done"
                    },
                    at,
                    ids,
                    texts,
                    other,
                ])?;
            }
        }
        tx.commit()?;
    }
    for trigger in triggers {
        connection.execute(&trigger, [])?;
    }
    Ok(())
}

/// Milliseconds to read one page of rows plainly: the site's newest 50 by
/// the (site, created_at, id) index, the columns a list shows.
async fn newest_page(plain: &mut sqlx::SqliteConnection) -> Result<f64, sqlx::Error> {
    let started = Instant::now();
    std::hint::black_box(
        sqlx::query(
            "SELECT id, score, class, band, step, open_text, other_text, reason_texts, created_at
             FROM answers WHERE site = ?1 ORDER BY created_at DESC, id DESC LIMIT 50",
        )
        .bind(SITE)
        .fetch_all(plain)
        .await?,
    );
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

/// The triggers that keep the rollups (SQLite's names; PostgreSQL has the
/// first two and `rollup_update`).
const ROLLUP_TRIGGERS: [&str; 7] = [
    "rollup_insert",
    "rollup_insert_reasons",
    "rollup_insert_folded",
    "rollup_delete",
    "rollup_update",
    "rollup_update_scores",
    "rollup_update_reasons",
];

/// The report from the rollups, against a plain read of one page of rows
/// (the newest 50 by the (site, created_at, id) index), in alternating rounds
/// after a warm-up; medians in milliseconds.
async fn report(db: &str) -> Result<(), Box<dyn std::error::Error>> {
    let settings = parse(
        "pulso.toml",
        include_str!("../../../../examples/pulso.toml"),
    )?;
    let site = &settings.sites[SITE];
    let store = Store::open(db).await?;
    let mut plain = sqlx::SqliteConnection::connect(db).await?;
    let ms = |started: Instant| started.elapsed().as_secs_f64() * 1e3;
    let (mut reports, mut pages) = (Vec::new(), Vec::new());
    let mut answers = 0;
    for round in 0..22 {
        let started = Instant::now();
        let report =
            collector::report::report(&store, site, &Filter::default(), &jiff::tz::TimeZone::UTC)
                .await?;
        reports.push(ms(started));
        answers = report.overall.answers;
        pages.push(newest_page(&mut plain).await?);
        if round == 0 {
            reports.clear();
            pages.clear();
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "mode": "report", "seconds": 0, "rounds": reports.len(), "answers": answers,
            "report_ms": median(&mut reports), "page_ms": median(&mut pages),
        })
    );
    Ok(())
}

/// The example configuration with the rate limits out of the way.
fn bench_settings(
    database_url: &str,
) -> Result<collector::config::Settings, Box<dyn std::error::Error>> {
    let text = include_str!("../../../../examples/pulso.toml").replace(
        "[sites.shop]",
        "[server.limits]\nper_ip_per_second = 100000000\nper_ip_burst = 100000000\n\
         per_site_per_second = 100000000\nper_site_burst = 100000000\n\n[sites.shop]",
    );
    let mut settings = parse("pulso.toml", &text)?;
    settings.database_url = collector::config::Secret::new(database_url);
    Ok(settings)
}

async fn serve(database_url: &str, no_rollups: bool) -> Result<(), Box<dyn std::error::Error>> {
    use axum::routing::post;
    let settings = bench_settings(database_url)?;
    let store = Store::open(settings.database_url.expose()).await?;
    if no_rollups {
        // What ingest costs without them: the triggers that keep them, gone.
        let mut db = sqlx::AnyConnection::connect(database_url).await?;
        let on = if database_url.starts_with("sqlite:") {
            ""
        } else {
            " ON answers"
        };
        for trigger in ROLLUP_TRIGGERS {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}{on}"))
                .execute(&mut db)
                .await?;
        }
    }
    let state = collector::AppState::new(settings, store);
    // The limit: same server, same port, same layers, no work.
    let noop = axum::Router::new().route(
        "/bench/noop",
        post(|body: axum::body::Bytes| async move {
            std::hint::black_box(body);
            axum::Json(serde_json::json!({"id": "noop", "rev": 1, "stored": true}))
        }),
    );
    let http = state.settings().http.clone();
    let app = collector::app_with(state, noop);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    // The collector's own accept loop (timeouts, connection cap), as shipped.
    collector::server::run(listener, app, &http, std::future::pending()).await?;
    Ok(())
}

/// Decode, clean and validate, as ingest does before any I/O, on a normal
/// answer and on the worst body a client may send (64 KiB of props), in
/// alternating rounds; prints the median microseconds per body of each.
fn decode() -> Result<(), Box<dyn std::error::Error>> {
    let settings = parse(
        "pulso.toml",
        include_str!("../../../../examples/pulso.toml"),
    )?;
    let site = &settings.sites[SITE];
    let normal = br#"{"id":"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b","rev":1,"site":"shop","survey":"checkout_nps","respondent":"r-1","score":2,"step":"checkout_done","page":"/done","locale":"en","props":{"plan":"pro","total":24}}"#.to_vec();
    let head = r#"{"id":"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b","rev":1,"site":"shop","survey":"checkout_nps","respondent":"r-1","score":2,"step":"checkout_done","locale":"en","props":{"#;
    let mut worst = head.to_owned();
    let mut keys = 0;
    while worst.len() + 16 < collector::http::MAX_BODY_BYTES {
        worst.push_str(&format!("\"{keys}\":0,"));
        keys += 1;
    }
    worst.pop();
    worst.push_str("}}");
    let worst = worst.into_bytes();
    let per_body = |body: &[u8], n: u32| {
        let started = Instant::now();
        for _ in 0..n {
            let answer = collector::http::decode_answer(std::hint::black_box(body))
                .map_err(|e| e.message)
                .expect("the bench bodies decode");
            std::hint::black_box(collector::http::prepare(site, answer).is_ok());
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    };
    let (mut normals, mut worsts) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        normals.push(per_body(&normal, 20_000));
        worsts.push(per_body(&worst, 200));
    }
    let (normal_us, worst_us) = (median(&mut normals), median(&mut worsts));
    println!(
        "{}",
        serde_json::json!({
            "mode": "decode", "seconds": 0, "normal_us": normal_us, "worst_us": worst_us,
            "worst_bytes": worst.len(), "worst_props": keys, "normal_bytes": normal.len(),
        })
    );
    Ok(())
}

/// Failed sign-ins through the collector over loopback: a wrong password
/// for an account that exists against an email that has none (which the
/// collector verifies against a dummy hash), 25 alternating rounds of 4
/// each; prints the median milliseconds per attempt of each.
async fn signin() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("pulso-bench-signin-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("pulso.db").display());
    let text = include_str!("../../../../examples/pulso.toml").replace(
        "[sites.shop]",
        "[server.limits]\ntoken_failures_per_client = 1000000\nsign_in_failures_per_account = 1000000\n\n[sites.shop]",
    );
    let settings = parse("pulso.toml", &text)?;
    let store = Store::open(&url).await?;
    let hash = collector::people::password::hash("lilac-tundra-oboe-91");
    store
        .create_user(
            &collector::store::NewUser {
                email: "known@pulso.test",
                name: "Known",
                owner: false,
                role: None,
                invite: None,
                password_hash: Some(&hash),
                now: 0,
            },
            &[],
        )
        .await?;
    let state = collector::AppState::new(settings, store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(collector::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::new();
    let attempt = async |email: &str| -> Result<f64, Box<dyn std::error::Error>> {
        let started = Instant::now();
        let response = http
            .post(format!("{base}/signin"))
            .header("sec-fetch-site", "same-origin")
            .form(&[("email", email), ("password", "not-the-password-1")])
            .send()
            .await?;
        let status = response.status().as_u16();
        response.bytes().await?;
        if status != 401 {
            return Err(format!("a wrong sign-in answered {status}").into());
        }
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    attempt("known@pulso.test").await?;
    attempt("unknown@pulso.test").await?;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..25 {
        for _ in 0..4 {
            known.push(attempt("known@pulso.test").await?);
        }
        for _ in 0..4 {
            unknown.push(attempt("unknown@pulso.test").await?);
        }
    }
    let (known_ms, unknown_ms) = (median(&mut known), median(&mut unknown));
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{}",
        serde_json::json!({
            "mode": "signin", "seconds": 0, "known_ms": known_ms, "unknown_ms": unknown_ms,
            "attempts": known.len(),
        })
    );
    Ok(())
}

/// A random (v4) UUID.
fn random_uuid() -> String {
    let x = fastrand::u128(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        (x >> 96) as u32,
        (x >> 80) as u16,
        (x >> 68) as u16 & 0xfff,
        8 | (x >> 66) as u8 & 3,
        (x >> 48) as u16 & 0xfff,
        x as u64 & 0xffff_ffff_ffff
    )
}

/// An answer's id and its respondent's, as browsers make them: the card's
/// answer id is a UUIDv7 (the clock's milliseconds, then random bits:
/// boot.js), the loader's respondent id a random UUID, made once per browser.
/// With `random_ids`, the answer's id is a random UUID as well, as cards made
/// it before (the benchmark's comparison of the two).
fn ids(random_ids: bool) -> (String, String) {
    let id = if random_ids {
        random_uuid()
    } else {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let tail = random_uuid();
        format!("{:08x}-{:04x}-7{}", ms >> 16, ms & 0xffff, &tail[15..])
    };
    (id, random_uuid())
}

/// The load generator. Every answer has an id of its own and a respondent of
/// its own (see [`ids`]), so every post creates an answer.
async fn load(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let (args, random_ids) = match args {
        [rest @ .., flag] if flag == "--random-ids" => (rest, true),
        _ => (args, false),
    };
    let [url, path, concurrency, limit] = args else {
        return Err(
            "usage: pulso-bench load URL PATH CONCURRENCY SECONDSs|COUNT [--random-ids]".into(),
        );
    };
    let concurrency: usize = concurrency.parse()?;
    let (deadline, count) = match limit.strip_suffix('s') {
        Some(seconds) => (
            Some(std::time::Duration::from_secs_f64(seconds.parse()?)),
            u64::MAX,
        ),
        None => (None, limit.parse()?),
    };
    let next = Arc::new(AtomicU64::new(0));
    let target = format!("{url}{path}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, client, target) = (next.clone(), client.clone(), target.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count || deadline.is_some_and(|d| started.elapsed() >= d) {
                        break;
                    }
                    let (id, respondent) = ids(random_ids);
                    let body = format!(
                        r#"{{"id":"{id}","rev":1,"site":"shop","survey":"checkout_nps","respondent":"{respondent}","score":{},"step":"checkout_done","page":"/done","locale":"en","props":{{"plan":"pro","total":24}}}}"#,
                        n % 11
                    );
                    let sent = Instant::now();
                    let response = client
                        .post(&target)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            latencies.push(sent.elapsed().as_micros() as u64);
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "mode": "load", "requests": latencies.len(), "errors": errors, "seconds": seconds,
            "rate": latencies.len() as f64 / seconds, "p50_ms": percentile(0.50), "p99_ms": percentile(0.99),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The version digit and the variant's first digit of a UUID.
    fn version_and_variant(id: &str) -> (char, char) {
        assert!(survey::is_uuid(id), "{id}");
        (id.as_bytes()[14] as char, id.as_bytes()[19] as char)
    }

    #[test]
    fn ids_are_shaped_as_browsers_make_them() {
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64
        };
        let before = now();
        let (id, respondent) = ids(false);
        let ms = u64::from_str_radix(&id[..8], 16).unwrap() << 16
            | u64::from_str_radix(&id[9..13], 16).unwrap();
        assert!((before..=now()).contains(&ms), "{id}");
        let (version, variant) = version_and_variant(&id);
        assert_eq!(version, '7');
        assert!("89ab".contains(variant), "{id}");
        let (version, variant) = version_and_variant(&respondent);
        assert_eq!(version, '4');
        assert!("89ab".contains(variant), "{respondent}");
        // Random tails: two ids of one millisecond still differ.
        assert_ne!(ids(false).0[15..], ids(false).0[15..]);

        let (random, _) = ids(true);
        assert_eq!(version_and_variant(&random).0, '4');
        assert_ne!(random, ids(true).0);
    }
}
