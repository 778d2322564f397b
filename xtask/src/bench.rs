//! `cargo xtask bench [N]`: ingest against a no-op endpoint (SQLite and
//! PostgreSQL), memory, time to a visible card against a plain-JS card, the
//! widget's bytes against the peers', and exports and the report over N
//! generated answers (default 1,000,000) against a baseline that only reads the
//! rows, all in one run; writes bench/RESULTS.md. Ratios are what to compare
//! across machines, not seconds.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::assets::target_dir;
use crate::{Result, cargo, exec, root};

struct Run {
    seconds: f64,
    peak_kb: u64,
    bytes: u64,
}

fn field(line: &str, key: &str) -> Option<f64> {
    let rest = line.split(&format!("\"{key}\":")).nth(1)?;
    rest.split([',', '}']).next()?.trim().parse().ok()
}

fn run(bin: &Path, args: &[&str]) -> Result<Run> {
    let line = json_line(bin, args)?;
    Ok(Run {
        seconds: field(&line, "seconds").ok_or("no seconds in the bench output")?,
        peak_kb: field(&line, "peak_rss_kb").unwrap_or(0.0) as u64,
        bytes: field(&line, "bytes").unwrap_or(0.0) as u64,
    })
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or("?".into(), |kb| {
            format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0)
        });
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {memory}; {rustc}; SQLite file on the local disk")
}

pub fn run_all(answers: u64) -> Result {
    exec(cargo().args([
        "build",
        "--release",
        "-p",
        "pulso-collector",
        "--bin",
        "pulso-bench",
    ]))?;
    let bin = target_dir().join("release/pulso-bench");
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let db = dir.join(format!("answers-{answers}.db"));
    let db_arg = db.to_string_lossy().into_owned();
    if !db.is_file() {
        let generated = run(&bin, &["generate", &db_arg, &answers.to_string()])?;
        eprintln!("generated {answers} answers in {:.1} s", generated.seconds);
    }

    // Once untimed, so the baseline does not pay for a cold page cache alone.
    run(&bin, &["read", &db_arg])?;
    let baseline = run(&bin, &["read", &db_arg])?;
    let rate = |r: &Run| answers as f64 / r.seconds;
    let mut table = String::from(
        "| task | rows/s | vs. reading the rows | seconds | peak memory | output |\n|---|---:|---:|---:|---:|---:|\n",
    );
    let mut line = |name: &str, r: &Run| {
        let _ = writeln!(
            table,
            "| {name} | {:.0} | {:.2} | {:.2} | {:.1} MB | {} |",
            rate(r),
            rate(r) / rate(&baseline),
            r.seconds,
            r.peak_kb as f64 / 1024.0,
            if r.bytes > 0 {
                format!("{:.0} MB", r.bytes as f64 / 1e6)
            } else {
                "–".into()
            }
        );
    };
    line("baseline: read the rows", &baseline);
    let mut worst_ratio = f64::MAX;
    let mut worst_memory = 0u64;
    for format in ["csv", "json", "ndjson"] {
        let r = run(&bin, &["export", &db_arg, format])?;
        worst_ratio = worst_ratio.min(rate(&r) / rate(&baseline));
        worst_memory = worst_memory.max(r.peak_kb);
        line(&format!("export {format}"), &r);
    }
    let report = run(&bin, &["report-rows", &db_arg])?;
    line("report, counted answer by answer", &report);

    let verdict = format!(
        "Targets: exports at least 0.5 of the baseline's rate — worst {worst_ratio:.2}: {}; \
         peak memory under 100 MB — worst {:.1} MB: {}.",
        if worst_ratio >= 0.5 { "met" } else { "MISSED" },
        worst_memory as f64 / 1024.0,
        if worst_memory < 100 * 1024 {
            "met"
        } else {
            "MISSED"
        },
    );
    let inbox = inbox_section(&bin, &db_arg, answers)?;
    let rollups = rollups_section(&bin, &dir, &db_arg, answers)?;
    let decode = decode_section(&bin)?;
    let signin = signin_section(&bin)?;
    let bytes = crate::bench_ingest::bytes_section()?;
    let ingest = crate::bench_ingest::ingest_section(&bin)?;
    let visible = crate::bench_ingest::visible_section()?;
    let text = format!(
        "# Benchmark results\n\n\
         Written by `cargo xtask bench {answers}` on {}, in one run.\n\n\
         Machine: {}.\n\n{ingest}\n{decode}\n{signin}\n{visible}\n{bytes}\n\
         ## Exports and the report over {answers} answers\n\n\
         Each task runs in its own process over the same SQLite file; \"vs. reading the rows\" is its \
         rate divided by the rate of a process that only reads the same rows from the database in the \
         same run (the limit set by SQLite and row decoding). Peak memory is the process's VmHWM.\n\n\
         {table}\n{verdict}\n\n{rollups}\n{inbox}",
        today(),
        machine(),
    );
    let out = root().join("bench/RESULTS.md");
    std::fs::create_dir_all(out.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("cannot create bench/: {e}"))?;
    std::fs::write(&out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("{text}");
    Ok(())
}

/// The JSON line `pulso-bench ARGS` prints.
fn json_line(bin: &Path, args: &[&str]) -> Result<String> {
    eprintln!("$ pulso-bench {}", args.join(" "));
    let out = Command::new(bin)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run pulso-bench: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pulso-bench {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The inbox's first page, counts and text search over the generated
/// answers, next to plain indexed reads of the same rows.
fn inbox_section(bin: &Path, db: &str, answers: u64) -> Result<String> {
    let line = json_line(bin, &["inbox", db])?;
    let get = |key| field(&line, key).ok_or(format!("no {key} in the inbox output"));
    let (page, read, counts) = (get("page_ms")?, get("read_ms")?, get("counts_ms")?);
    let (search, search_read) = (get("search_ms")?, get("search_read_ms")?);
    Ok(format!(
        "## The inbox over {answers} answers\n\n\
         In one process over the same SQLite file, {:.0} alternating rounds after a warm-up; \
         medians. The first page is the newest 50 answers but dismissed ones, as the inbox opens; \
         the plain read takes the same 50 rows by the (site, created_at, id) index and nothing else. \
         The search is the inbox's text search for \"mensajero\" (FTS5, accents folded; a quarter \
         of the \"Other\" texts have it), its first 50 rows; its plain read takes those 50 rows by \
         primary key. The counts are the inbox's tabs (answers per status, and how many are \
         overdue), a scan of the site's answers.\n\n\
         | query | ms | vs. the plain read |\n|---|---:|---:|\n\
         | plain read: the newest 50 rows | {read:.2} | 1.00 |\n\
         | inbox: first page | {page:.2} | {:.1} |\n\
         | plain read: the search's 50 rows by id | {search_read:.2} | 1.00 |\n\
         | inbox: text search, first page | {search:.2} | {:.1} |\n\
         | inbox: counts per status and overdue | {counts:.1} | – |\n",
        get("rounds")?,
        page / read,
        search / search_read,
    ))
}

/// The report from the rollups over `answers` and ten times as many
/// answers, against a plain read of one page of rows from the same file.
fn rollups_section(bin: &Path, dir: &Path, db: &str, answers: u64) -> Result<String> {
    let more = answers * 10;
    let big = dir.join(format!("answers-{more}.db"));
    let big_arg = big.to_string_lossy().into_owned();
    if !big.is_file() {
        let generated = run(bin, &["generate", &big_arg, &more.to_string()])?;
        eprintln!("generated {more} answers in {:.1} s", generated.seconds);
    }
    let mut table = String::from(
        "| answers | report ms | one page of rows ms | report / page |\n|---:|---:|---:|---:|\n",
    );
    let mut worst: f64 = 0.0;
    for file in [db, big_arg.as_str()] {
        let line = json_line(bin, &["report", file])?;
        let get = |key| field(&line, key).ok_or(format!("no {key} in the report output"));
        let (report, page) = (get("report_ms")?, get("page_ms")?);
        worst = worst.max(report);
        let _ = writeln!(
            table,
            "| {:.0} | {report:.1} | {page:.2} | {:.0} |",
            get("answers")?,
            report / page
        );
    }
    Ok(format!(
        "## The report from rollups\n\n\
         The report (`GET …/report`, no filter, UTC) as the collector computes it: from the \
         rollups the database keeps per UTC day and hour (maintained by triggers in each \
         answer's transaction), the latest \"Other\" texts and the team's response times by \
         indexed reads. In one process over an SQLite file of the answers above and one of ten \
         times as many (the same year, so the same number of days); {} rounds after a warm-up, \
         alternating with a plain read of one page of rows (the newest 50, by the (site, \
         created_at, id) index); medians. The table above has the same report counted answer by \
         answer, the reference the rollups are tested against.\n\n{table}\n\
         Target: the report under 200 ms at both sizes — worst {worst:.1} ms: {}.\n",
        21,
        if worst < 200.0 { "met" } else { "MISSED" },
    ))
}

/// A wrong password for an account against an unknown email: the time says
/// nothing of which emails have accounts.
fn signin_section(bin: &Path) -> Result<String> {
    let line = json_line(bin, &["signin"])?;
    let get = |key| field(&line, key).ok_or(format!("no {key} in the signin output"));
    let (known, unknown) = (get("known_ms")?, get("unknown_ms")?);
    Ok(format!(
        "## A failed sign-in, known email or not

\
         `POST /signin` over loopback to a collector on SQLite (release build), a wrong password \
         each time: for an account that exists, and for an email that has none (verified \
         against a dummy Argon2id hash), {:.0} attempts each in alternating rounds of four; medians.\n\n\
         | email | ms per attempt | vs. the known email |\n|---|---:|---:|\n\
         | has an account | {known:.1} | 1.00 |\n\
         | has none | {unknown:.1} | {:.2} |\n\n\
         Target: the same time within the noise (0.9–1.1) — {}.\n",
        get("attempts")?,
        unknown / known,
        if (0.9..=1.1).contains(&(unknown / known)) {
            "met"
        } else {
            "MISSED"
        },
    ))
}

/// The cost of the worst body a client may send against a normal answer's,
/// through ingest's I/O-free steps (one process, alternating rounds).
fn decode_section(bin: &Path) -> Result<String> {
    let line = json_line(bin, &["decode"])?;
    let get = |key| field(&line, key).ok_or(format!("no {key} in the decode output"));
    let (normal, worst) = (get("normal_us")?, get("worst_us")?);
    Ok(format!(
        "## Decoding a worst-case body

\
         Ingest's steps before any I/O (decode, clean, validate, the row to store), median of \
         seven alternating rounds in one process: a normal answer ({:.0} bytes) against the \
         largest body a client may send, {:.0} bytes of {:.0} props (the decoder keeps 32 and \
         skips the rest unread).\n\n\
         | body | µs per body | vs. a normal answer |\n|---|---:|---:|\n\
         | normal answer | {normal:.2} | 1.0 |\n\
         | 64 KiB of props | {worst:.1} | {:.0} |\n\n\
         Per byte, the worst body costs {:.2}× what a normal answer does (work linear in the body).\n",
        get("normal_bytes")?,
        get("worst_bytes")?,
        get("worst_props")?,
        worst / normal,
        (worst / get("worst_bytes")?) / (normal / get("normal_bytes")?),
    ))
}

/// Today (UTC) from `date`: xtask keeps its dependencies few.
fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
