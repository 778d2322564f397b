//! `cargo xtask bench`, the parts of issue #7: ingest rate and latency against
//! a no-op endpoint of the same server (SQLite and PostgreSQL), the collector's
//! memory at rest and after 1,000,000 stored answers, and the widget's bytes
//! next to the peers' from the npm registry.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::assets::{self, brotli, gzip, read, target_dir};
use crate::{Result, exec};

/// Concurrent clients of the load generator.
const LEVELS: [usize; 4] = [1, 16, 64, 256];
const SECONDS: &str = "3s";
/// Rounds per level, the servers taking turns in an order rotated each round:
/// a level's figures are the median round's, so one noisy moment of a shared
/// machine moves none of them (with three rounds in a fixed order, the
/// one-client level's ratio of ingest with rollups to without read 0.82 in one
/// run and 0.45 in the next).
const ROUNDS: usize = 5;

/// Peers, pinned: PostHog's surveys extension and SurveyJS (core, UI, CSS).
const POSTHOG: &str = "posthog-js@1.449.2";
const SURVEY_CORE: &str = "survey-core@2.5.38";
const SURVEY_JS_UI: &str = "survey-js-ui@2.5.38";

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &Path, database_url: &str) -> Result<Server> {
        Server::spawn(bin, &["serve", database_url])
    }

    /// `pulso-bench ARGS`, a server that prints `listening on URL`.
    fn spawn(bin: &Path, args: &[&str]) -> Result<Server> {
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start pulso-bench serve: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| format!("pulso-bench serve: {e}"))?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("pulso-bench serve said `{line}`"))?
            .to_owned();
        Ok(Server { child, url })
    }

    /// VmRSS and VmHWM (peak) of the server, in kB.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Median milliseconds of writing 4 KiB and fsyncing it, in `dir`: what one
/// durable commit costs at least on this disk.
fn fsync_ms(dir: &Path) -> Result<f64> {
    use std::io::Write;
    let path = dir.join("fsync.probe");
    let mut file = std::fs::File::create(&path).map_err(|e| format!("fsync probe: {e}"))?;
    let mut times = Vec::new();
    for _ in 0..200 {
        file.write_all(&[0u8; 4096])
            .map_err(|e| format!("fsync probe: {e}"))?;
        let start = std::time::Instant::now();
        file.sync_all().map_err(|e| format!("fsync probe: {e}"))?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = std::fs::remove_file(&path);
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The rates of one backend's rows: each level's ratio, and the best rates.
struct Rates {
    worst: f64,
    best: f64,
    best_at: usize,
    /// The best no-op and ingest rates over all levels.
    noop_peak: f64,
    ingest_peak: f64,
    /// The no-op's rate with one client.
    noop_one: f64,
    /// Per level: clients, the no-op's and ingest's rates, and the rate of
    /// each other server (median rounds).
    levels: Vec<(usize, f64, f64, Vec<f64>)>,
}

struct Load {
    rate: f64,
    p50: f64,
    p99: f64,
    errors: u64,
}

/// `random_ids`: answer ids random (v4), as cards made them before, instead
/// of in time order (see `ids` in pulso-bench).
fn load(
    bin: &Path,
    url: &str,
    path: &str,
    concurrency: usize,
    limit: &str,
    random_ids: bool,
) -> Result<Load> {
    let concurrency = concurrency.to_string();
    let mut args = vec!["load", url, path, &concurrency, limit];
    if random_ids {
        args.push("--random-ids");
    }
    eprintln!("$ pulso-bench {}", args.join(" "));
    let out = Command::new(bin)
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run the load generator: {e}"))?;
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let field = |key: &str| -> Option<f64> {
        let rest = line.split(&format!("\"{key}\":")).nth(1)?;
        rest.split([',', '}']).next()?.trim().parse().ok()
    };
    Ok(Load {
        rate: field("rate").ok_or_else(|| format!("load generator said `{line}`"))?,
        p50: field("p50_ms").unwrap_or(0.0),
        p99: field("p99_ms").unwrap_or(0.0),
        errors: field("errors").unwrap_or(0.0) as u64,
    })
}

/// The round of median rate.
fn median(mut loads: Vec<Load>) -> Load {
    loads.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    loads.swap_remove(loads.len() / 2)
}

/// A server of `POST /v1/responses` that takes its turn beside ingest in the
/// same rounds, and whether the load generator sends it random answer ids.
struct Other<'a> {
    server: &'a Server,
    random_ids: bool,
}

/// The ingest table of one backend; the lowest and highest ratios of ingest
/// to no-op, with the clients of the highest.
/// `others` take their turns in the same rounds.
fn ingest(
    bin: &Path,
    backend: &str,
    server: &Server,
    others: &[Other],
    table: &mut String,
) -> Result<Rates> {
    let mut rates = Rates {
        worst: f64::MAX,
        best: 0.0,
        best_at: 0,
        noop_peak: 0.0,
        ingest_peak: 0.0,
        noop_one: 0.0,
        levels: Vec::new(),
    };
    for concurrency in LEVELS {
        let (mut noops, mut reals, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let mut theirs: Vec<Vec<Load>> = others.iter().map(|_| Vec::new()).collect();
        for round in 0..ROUNDS {
            // Turn by turn: the no-op (0), ingest (1), each other server (2…),
            // the order rotated each round, so none always follows another.
            let turns = 2 + others.len();
            let (mut noop, mut real) = (None, None);
            for turn in (0..turns).map(|t| (t + round) % turns) {
                match turn {
                    0 => {
                        noop = Some(load(
                            bin,
                            &server.url,
                            "/bench/noop",
                            concurrency,
                            SECONDS,
                            false,
                        )?)
                    }
                    1 => {
                        real = Some(load(
                            bin,
                            &server.url,
                            "/v1/responses",
                            concurrency,
                            SECONDS,
                            false,
                        )?)
                    }
                    n => theirs[n - 2].push(load(
                        bin,
                        &others[n - 2].server.url,
                        "/v1/responses",
                        concurrency,
                        SECONDS,
                        others[n - 2].random_ids,
                    )?),
                }
            }
            let (noop, real) = (
                noop.ok_or("no no-op round")?,
                real.ok_or("no ingest round")?,
            );
            ratios.push(real.rate / noop.rate);
            noops.push(noop);
            reals.push(real);
        }
        let (noop, real) = (median(noops), median(reals));
        let theirs: Vec<f64> = theirs.into_iter().map(|l| median(l).rate).collect();
        rates
            .levels
            .push((concurrency, noop.rate, real.rate, theirs));
        ratios.sort_by(f64::total_cmp);
        let ratio = real.rate / noop.rate;
        rates.worst = rates.worst.min(ratio);
        if ratio > rates.best {
            (rates.best, rates.best_at) = (ratio, concurrency);
        }
        rates.noop_peak = rates.noop_peak.max(noop.rate);
        rates.ingest_peak = rates.ingest_peak.max(real.rate);
        if concurrency == 1 {
            rates.noop_one = noop.rate;
        }
        let _ = writeln!(
            table,
            "| {backend} | {concurrency} | {:.0} ({:.2} / {:.2} ms) | {:.0} | {ratio:.2} ({:.2}–{:.2}) | {:.2} | {:.2} | {} |",
            noop.rate,
            noop.p50,
            noop.p99,
            real.rate,
            ratios[0],
            ratios[ratios.len() - 1],
            real.p50,
            real.p99,
            real.errors
        );
    }
    Ok(rates)
}

/// Runs the ingest and memory benchmarks; returns the RESULTS.md section.
pub fn ingest_section(bin: &Path) -> Result<String> {
    let dir = target_dir().join("bench");
    let db = dir.join("ingest.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut table = String::from(
        "| backend | clients | no-op answers/s (p50 / p99) | ingest answers/s | ingest / no-op (rounds' range) | p50 ms | p99 ms | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let sqlite = Server::start(bin, &format!("sqlite://{}", db.display()))?;
    std::thread::sleep(std::time::Duration::from_secs(1));
    let rest = sqlite.memory();
    let fsync = fsync_ms(&dir)?;
    // Beside it, in the same rounds: the collector on a database that keeps
    // no rollups, the handler a user would write instead, and the collector
    // sent random answer ids (as cards made them before).
    let plain_db = dir.join("ingest-no-rollups.db");
    let peer_db = dir.join("ingest-peer.db");
    let random_db = dir.join("ingest-random-ids.db");
    for suffix in ["", "-wal", "-shm"] {
        for db in [&plain_db, &peer_db, &random_db] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    let plain_url = format!("sqlite://{}", plain_db.display());
    let plain = Server::spawn(bin, &["serve", &plain_url, "--no-rollups"])?;
    let peer = Server::spawn(bin, &["peer", &peer_db.to_string_lossy()])?;
    let random = Server::start(bin, &format!("sqlite://{}", random_db.display()))?;
    let others = [
        Other {
            server: &plain,
            random_ids: false,
        },
        Other {
            server: &peer,
            random_ids: false,
        },
        Other {
            server: &random,
            random_ids: true,
        },
    ];
    let lite = ingest(bin, "SQLite", &sqlite, &others, &mut table)?;
    drop((plain, peer, random));
    let peers = peers_section(&lite);
    // Up to a million stored answers, then the memory again.
    let stored = count_answers(bin, &db)?;
    let more = 1_000_000u64.saturating_sub(stored);
    load(
        bin,
        &sqlite.url,
        "/v1/responses",
        64,
        &more.to_string(),
        false,
    )?;
    let after = sqlite.memory();
    let total = count_answers(bin, &db)?;
    drop(sqlite);

    let postgres = crate::postgres::Server::start()?;
    let pg = Server::start(bin, &postgres.url)?;
    let pg_rates = ingest(bin, "PostgreSQL", &pg, &[], &mut table)?;
    drop(pg);
    drop(postgres);

    Ok(format!(
        "## Ingest: answers per second and latency\n\n\
         `pulso-bench serve` runs the collector (rate limits off) with a no-op endpoint, `POST \
         /bench/noop`, beside `POST /v1/responses` on the same server and port, behind the same layers; \
         the load generator is a separate process (`pulso-bench load`, keep-alive connections, every \
         answer a new one with ids as browsers make them: the card's answer id in time order, a \
         UUIDv7, and the loader's respondent id, random, a new respondent each time) on loopback. Each level runs {ROUNDS} rounds of {SECONDS} per endpoint, the \
         servers taking turns in an order rotated each round; a row shows the median round of each (its rate and latency). \
         \"ingest / no-op\" is the ratio of their rates in the same run (in brackets, the lowest and \
         highest of the rounds' ratios): what validating and durably storing an answer costs \
         against the limit of the HTTP server on this machine (load generator included). SQLite: a \
         file on the local disk, WAL, `synchronous=FULL`; PostgreSQL 15 from Debian, defaults \
         (`synchronous_commit=on`), on loopback.\n\n{table}\n\
         Target: SQLite ingest at least 0.5 of the no-op limit. The limit, the no-op's best \
         (median) rate over the levels, is {:.0} answers/s; ingest's best is {:.0}: {:.3} of it, {}. Level by level the ratio \
         runs from {:.2} to {:.2} (best at {} clients; PostgreSQL {:.2} to {:.2}).\n\n\
         A client waits for its answer's commit, and a commit waits for the disk: one fsync of \
         4 KiB took {fsync:.2} ms here (median of 200). With one client the rate cannot exceed \
         1 / (the no-op's time per answer + one fsync) = {:.0} answers/s, {:.2} of that level's \
         no-op rate, \
         whatever the code does; group commit wins the fsync back only where clients overlap.\n\n\
         {peers}\n\
         ## Collector memory\n\n\
         | state | resident | peak |\n|---|---:|---:|\n\
         | at rest (SQLite, empty) | {:.1} MB | {:.1} MB |\n\
         | after {total} stored answers (ingested over HTTP) | {:.1} MB | {:.1} MB |\n",
        lite.noop_peak,
        lite.ingest_peak,
        lite.ingest_peak / lite.noop_peak,
        if lite.ingest_peak / lite.noop_peak >= 0.5 {
            "met"
        } else {
            "MISSED"
        },
        lite.worst,
        lite.best,
        lite.best_at,
        pg_rates.worst,
        pg_rates.best,
        1000.0 / (1000.0 / lite.noop_one + fsync),
        1000.0 / (1000.0 / lite.noop_one + fsync) / lite.noop_one,
        rest.0 as f64 / 1024.0,
        rest.1 as f64 / 1024.0,
        after.0 as f64 / 1024.0,
        after.1 as f64 / 1024.0,
    ))
}

/// Ingest on SQLite against the collector without rollups and against the
/// handler a user would write (`pulso-bench peer`), from the same rounds.
fn peers_section(lite: &Rates) -> String {
    let mut table = String::from(
        "| clients | no-op | Pulso | Pulso without rollups | plain handler | Pulso, random answer ids | Pulso / plain handler | Pulso / no-op | with / without rollups | time-ordered / random ids |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut verdicts = Vec::new();
    let mut worst_rollups = f64::MAX;
    for (clients, noop, pulso, others) in &lite.levels {
        let (plain, peer, random) = (others[0], others[1], others[2]);
        worst_rollups = worst_rollups.min(pulso / plain);
        let _ = writeln!(
            table,
            "| {clients} | {noop:.0} | {pulso:.0} | {plain:.0} | {peer:.0} | {random:.0} | {:.1} | {:.2} | {:.2} | {:.2} |",
            pulso / peer,
            pulso / noop,
            pulso / plain,
            pulso / random
        );
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        if *clients == 64 {
            verdicts.push(format!(
                "at least 3× the plain handler at 64 clients — {:.1}×: {}",
                pulso / peer,
                verdict(pulso / peer >= 3.0)
            ));
        }
        if *clients == 64 || *clients == 256 {
            verdicts.push(format!(
                "at least 0.5 of the no-op at {clients} clients — {:.2}: {}",
                pulso / noop,
                verdict(pulso / noop >= 0.5)
            ));
        }
    }
    verdicts.push(format!(
        "with rollups at least 0.9 of the rate without them at every level — worst {worst_rollups:.2}: {}",
        if worst_rollups >= 0.9 { "met" } else { "MISSED" }
    ));
    format!(
        "## Ingest against what users would build instead\n\n\
         In the same rounds as the table above, each level's median round (answers/s): the \
         collector as shipped; the same collector on a database whose rollups' triggers were \
         dropped (what the rollups cost ingest); and the plain handler a user would write instead \
         (`pulso-bench peer`: axum, the answer as JSON, one sqlx transaction per answer through \
         sqlx's default pool, the same upsert by id and revision, into an SQLite file with WAL and \
         `synchronous=FULL`). Same machine, same load generator, same bodies; except for \
         \"Pulso, random answer ids\": the collector as shipped, on a database of its own, sent \
         answer ids that are random (v4) UUIDs, as the card made them before its ids were put in \
         time order. A random id lands on a random page of the index of ids, so each answer of a \
         batch dirties a page of its own, which the commit writes to the WAL; ids in time order \
         share the index's last page. (The respondent ids stay random: the loader makes one per \
         browser, long before most of its answers.)\n\n{table}\n\
         Targets: {}.\n",
        verdicts.join("; ")
    )
}

/// The rows of the file, through `pulso-bench read` (sqlite3's CLI may be missing).
fn count_answers(bin: &Path, db: &Path) -> Result<u64> {
    let out = Command::new(bin)
        .args(["read", &db.to_string_lossy()])
        .output()
        .map_err(|e| format!("cannot count the answers: {e}"))?;
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    line.split("\"rows\":")
        .nth(1)
        .and_then(|r| r.split([',', '}']).next())
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("pulso-bench read said `{line}`"))
}

/// An npm package's tarball, unpacked into target/tools/peers/NAME.
fn unpack(spec: &str) -> Result<PathBuf> {
    let peers = target_dir().join("tools/peers");
    let dir = peers.join(spec.replace('@', "-"));
    if dir.join("package").is_dir() {
        return Ok(dir.join("package"));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let out = Command::new("npm")
        .args(["pack", spec, "--silent", "--pack-destination"])
        .arg(&dir)
        .output()
        .map_err(|e| format!("npm is needed to fetch {spec}: {e}"))?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || name.is_empty() {
        return Err(format!(
            "npm pack {spec} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    exec(
        Command::new("tar")
            .arg("-xzf")
            .arg(dir.join(&name))
            .arg("-C")
            .arg(&dir),
    )?;
    Ok(dir.join("package"))
}

fn sizes(files: &[PathBuf]) -> Result<(usize, usize, usize)> {
    let mut total = (0, 0, 0);
    for file in files {
        let bytes = read(file)?;
        total.0 += bytes.len();
        total.1 += gzip(&bytes).len();
        total.2 += brotli(&bytes).len();
    }
    Ok(total)
}

/// Our loader and lazy bundle next to the peers' (brotli q11, gzip -9).
pub fn bytes_section() -> Result<String> {
    let built = assets::build()?;
    let posthog = unpack(POSTHOG)?;
    let core = unpack(SURVEY_CORE)?;
    let ui = unpack(SURVEY_JS_UI)?;
    let rows = [
        (
            "Pulso loader `pulso.js` (every page)",
            vec![built.loader.clone()],
        ),
        (
            "Pulso lazy bundle: module (boot.js + glue) + wasm (when a survey is due)",
            built.bundle.clone(),
        ),
        (
            "PostHog `posthog-js` `dist/array.js` (every page)",
            vec![posthog.join("dist/array.js")],
        ),
        (
            "PostHog `dist/surveys.js` (when a survey is due)",
            vec![posthog.join("dist/surveys.js")],
        ),
        (
            "SurveyJS `survey-core` + `survey-js-ui` + CSS (minified)",
            vec![
                core.join("survey.core.min.js"),
                ui.join("survey-js-ui.min.js"),
                core.join("survey-core.min.css"),
            ],
        ),
    ];
    let mut table = String::from("| what | raw | gzip | brotli |\n|---|---:|---:|---:|\n");
    let mut ours = 0;
    let mut posthog_surveys = 0;
    for (name, files) in &rows {
        let (raw, gz, br) = sizes(files)?;
        if name.starts_with("Pulso lazy") {
            ours = br;
        }
        if name.contains("surveys.js") {
            posthog_surveys = br;
        }
        let _ = writeln!(table, "| {name} | {raw} | {gz} | {br} |");
    }
    Ok(format!(
        "## Widget bytes next to the peers'\n\n\
         npm packages pinned: `{POSTHOG}`, `{SURVEY_CORE}`, `{SURVEY_JS_UI}`.\n\n{table}\n\
         Targets: the lazy bundle smaller than PostHog's surveys extension — {ours} vs \
         {posthog_surveys} bytes brotli: {}; at most 40,000 bytes brotli: {}. (PostHog's \
         extension also needs its `array.js` on every page; Pulso's every-page cost is the \
         loader.)\n",
        if ours < posthog_surveys {
            "met"
        } else {
            "MISSED"
        },
        if ours <= 40_000 { "met" } else { "MISSED" },
    ))
}

/// Time from a page's start, where it asks for a card at once, to a visible
/// card, against a plain-JS card of the same first screen asked for at the
/// same moment, in headless Chromium (the e2e crate's ignored benchmark).
pub fn visible_section() -> Result<String> {
    let chromedriver = crate::tools::chromium()?;
    let chromium = crate::tools::chromium_binary().ok_or("chromium is not on PATH")?;
    // The collector as deployed: a release build.
    exec(crate::cargo().args([
        "build",
        "--release",
        "-p",
        "pulso-collector",
        "--bin",
        "pulso",
    ]))?;
    let tmp = target_dir().join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let out = target_dir().join("bench/visible.json");
    exec(
        crate::cargo()
            .args([
                "test",
                "-p",
                "pulso-e2e",
                "--test",
                "e2e",
                "bench_time_to_visible",
                "--",
                "--ignored",
            ])
            .env("PULSO_E2E_BIN", target_dir().join("release/pulso"))
            .env("PULSO_E2E_ASSETS", assets::assets_dir())
            .env("PULSO_E2E_CHROMEDRIVER", &chromedriver)
            .env("PULSO_E2E_CHROMIUM", &chromium)
            .env("PULSO_BENCH_OUT", &out)
            .env("TMPDIR", &tmp),
    )?;
    let json = std::fs::read_to_string(&out).map_err(|e| format!("no benchmark output: {e}"))?;
    let number = |path: &[&str]| -> f64 {
        let mut rest = json.as_str();
        for key in path {
            rest = rest.split(&format!("\"{key}\":")).nth(1).unwrap_or("");
        }
        rest.split([',', '}'])
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    let mut table = String::from(
        "| cache | Pulso (page start → card) | plain-JS card | Pulso / plain |\n|---|---:|---:|---:|\n",
    );
    let mut ratios = Vec::new();
    for cache in ["warm", "cold"] {
        let (ours, plain) = (number(&[cache, "pulso_ms"]), number(&[cache, "plain_ms"]));
        ratios.push(ours / plain);
        let _ = writeln!(
            table,
            "| {cache} | {ours:.1} ms | {plain:.1} ms | {:.2} |",
            ours / plain
        );
    }
    Ok(format!(
        "## Time from `track()` to a visible card\n\n\
         Headless Chromium, pages of the demo shop's origin, loopback to the collector (a release \
         build). Each page asks for its card in its head, at once: Pulso's queues \
         `pulso('track', 'checkout_done')` before its loader arrives; the other loads \
         `tests/pages/plain-card.js`, a plain-JS card of the same first screen (question, 0–10 \
         scale, end labels, close; same stylesheet, same configuration request), and calls it. \
         Both clocks start at the page's navigation and stop when the card's box is first laid out \
         (polled each animation frame): each pays for its own scripts and its configuration fetch. \
         Medians: warm = one browser, the page loaded again for each of {} samples (HTTP cache \
         filled); cold = a new browser with an empty cache for each of {} samples; the two cards \
         alternate, each first in every other round.\n\n{table}\n\
         Targets: warm at most 1.2× the plain-JS card — {:.3}×: {}; cold at most 1.5× — \
         {:.3}×: {}.\n",
        number(&["warm_samples"]),
        number(&["cold_samples"]),
        ratios[0],
        if ratios[0] <= 1.2 { "met" } else { "MISSED" },
        ratios[1],
        if ratios[1] <= 1.5 { "met" } else { "MISSED" },
    ))
}
