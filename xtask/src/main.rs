//! Pulso's tasks, run as `cargo xtask TASK`: one module per task.

mod assets;
mod bench;
mod bench_ingest;
mod demo;
mod demo_seed;
mod fuzz;
mod postgres;
mod schemathesis;
mod size;
mod snip;
mod test;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  demo     build the widget, start the collector on a SQLite file and the demo shop
  test     install what is missing, then fmt, clippy, unit, integration, wasm and end-to-end tests
  widget   build the widget bundle and the loader into target/pulso-assets
  size     build the widget and print the bytes of the loader and the bundle
  fuzz [S] fuzz the collector's ingest for S seconds (default 300)
  schemathesis  the API against its OpenAPI document (part of `test`)
  bench [N] exports and report over N generated answers (default 1000000) -> bench/RESULTS.md";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "demo" => demo::run(),
        "test" => test::run(),
        "widget" => assets::build().map(|_| ()),
        "size" => size::run(),
        "bench" => match std::env::args().nth(2).map(|s| s.parse::<u64>()) {
            None => bench::run_all(1_000_000),
            Some(Ok(n)) if n > 0 => bench::run_all(n),
            _ => Err("bench takes a number of answers".into()),
        },
        "schemathesis" => schemathesis::install().and_then(|st| {
            exec(cargo().args(["build", "-p", "pulso-collector", "--bin", "pulso"]))?;
            schemathesis::run(&st, &assets::target_dir().join("debug/pulso"))
        }),
        "fuzz" => match std::env::args().nth(2).map(|s| s.parse::<u64>()) {
            None => fuzz::run(300),
            Some(Ok(seconds)) => fuzz::run(seconds),
            Some(Err(_)) => Err("fuzz takes a number of seconds".into()),
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The cargo that runs us, so a pinned toolchain carries through.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    // A CI run builds once from a clean clone: incremental caches would only
    // take disk (several GB over the workspace's test binaries).
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
        c.env("CARGO_INCREMENTAL", "0");
    }
    c
}

/// Runs a command, failing with its command line if it fails.
pub fn exec(cmd: &mut Command) -> Result {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Runs a command as [`exec`] does, and returns what it printed on stdout.
pub fn exec_output(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {}", describe(cmd));
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if !out.status.success() {
        return Err(format!("`{}` failed ({})", describe(cmd), out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("`{}` printed non-UTF-8: {e}", describe(cmd)))
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `program` can be found on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
