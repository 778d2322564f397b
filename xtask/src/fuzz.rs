//! `cargo xtask fuzz [SECONDS]`: the collector's ingest fuzz target under
//! libFuzzer (cargo fuzz) for a bounded time; a crash fails the task and leaves
//! its input in collector/fuzz/artifacts/.

use std::process::Command;

use crate::{Result, cargo, exec, root};

const CARGO_FUZZ: &str = "0.13.2";

/// Runs the `ingest` target for `seconds`.
pub fn run(seconds: u64) -> Result {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        exec(cargo().args(["install", "cargo-fuzz", "--version", CARGO_FUZZ]))?;
    }
    let fuzz = root().join("collector/fuzz");
    let corpus = fuzz.join("corpus/ingest");
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    // `-s none`: no sanitizer, so it builds on the stable toolchain; the target
    // is safe Rust, where panics (which libFuzzer reports) are the failures.
    // New inputs go to the first folder (ignored by git); the seeds are read only.
    exec(
        cargo()
            .args(["fuzz", "run", "--fuzz-dir"])
            .arg(&fuzz)
            .args(["-s", "none", "ingest"])
            .arg(&corpus)
            .arg(fuzz.join("seeds/ingest"))
            .arg("--")
            .arg(format!("-max_total_time={seconds}")),
    )
}
