//! `cargo xtask test`: everything CI checks, on a fresh machine too: installs
//! what is missing, then fmt, clippy (native and wasm32), unit and integration
//! tests, the widget's tests in headless Chromium, and the end-to-end suite.

use crate::assets::{self, target_dir};
use crate::tools::{self, WASM_TARGET};
use crate::{Result, cargo, exec, root};

/// Free disk a clean run needs for `target/` and the fuzz target, with
/// room to spare: a CI run that ran out of disk failed every step after
/// clippy with errors that named everything but the cause. A clean run
/// with `CI=true` left 5.0 GB in `target/` and 1.7 GB in the fuzz target.
const FULL_RUN_DISK: u64 = 10_000_000_000;

pub fn run() -> Result {
    tools::enough_disk(FULL_RUN_DISK)?;
    tools::wasm_target()?;
    let wasm_bindgen = tools::wasm_bindgen()?;
    let chromedriver = tools::chromium()?;
    let chromium = tools::chromium_binary().ok_or("chromium is not on PATH")?;
    let axe = tools::axe_core()?;
    let soffice = tools::libreoffice()?;
    let st = crate::schemathesis::install()?;
    // The PostgreSQL backend's suites and the two-collector test run on it.
    let postgres = crate::postgres::Server::start()?;
    let nginx = tools::nginx()?;

    // Headless Chromium leaves temp profiles behind when a test dies: keep them in target/.
    let tmp = target_dir().join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;

    let mut failed = Vec::new();
    let mut step = |name: &str, result: Result| {
        if let Err(e) = result {
            eprintln!("FAILED: {name}: {e}");
            failed.push(name.to_owned());
        }
    };

    step("fmt", exec(cargo().args(["fmt", "--all", "--check"])));
    // The patched send_wrapper (see the workspace's Cargo.toml): its own
    // tests, native; the card's browser tests run the wasm side.
    step(
        "tests (patches/send_wrapper)",
        exec(
            cargo()
                .args(["test", "--manifest-path", "patches/send_wrapper/Cargo.toml"])
                .arg("--target-dir")
                .arg(crate::assets::target_dir().join("patches")),
        ),
    );
    step(
        "clippy (native)",
        exec(cargo().args([
            "clippy",
            "--workspace",
            "--exclude",
            "pulso-widget",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    step(
        "clippy (wasm32)",
        exec(cargo().args([
            "clippy",
            "-p",
            "pulso-widget",
            "-p",
            "pulso-survey",
            "--target",
            WASM_TARGET,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );

    let built = assets::build();
    let assets_ok = built.is_ok();
    if let Ok(built) = &built {
        step("size budgets", crate::size::check(built));
    }
    step("widget build", built.map(|_| ()));
    step(
        "collector build",
        exec(cargo().args(["build", "-p", "pulso-collector", "--bin", "pulso"])),
    );

    // Unit, integration and end-to-end tests (the e2e crate finds the collector,
    // the assets and chromedriver through these variables).
    step(
        "tests",
        exec(
            cargo()
                .args([
                    "test",
                    "--workspace",
                    "--exclude",
                    "pulso-widget",
                    "--no-fail-fast",
                ])
                .env("PULSO_E2E_BIN", target_dir().join("debug/pulso"))
                .env("PULSO_E2E_ASSETS", assets::assets_dir())
                .env("PULSO_E2E_CHROMEDRIVER", &chromedriver)
                .env("PULSO_E2E_CHROMIUM", &chromium)
                .env("PULSO_E2E_DOCS", root().join("docs"))
                .env("PULSO_E2E_AXE", &axe)
                .env("PULSO_E2E_SOFFICE", &soffice)
                .env("PULSO_E2E_POSTGRES", &postgres.url)
                .env("PULSO_E2E_POSTGRES_RESTART", postgres.restart_command())
                .env("PULSO_E2E_NGINX", &nginx)
                .env("TMPDIR", &tmp),
        ),
    );
    // The storage and API suites again, each test on a fresh PostgreSQL database.
    step(
        "tests (PostgreSQL backend)",
        exec(
            cargo()
                // The workspace's feature set, so nothing is compiled again.
                .args([
                    "test",
                    "--workspace",
                    "--exclude",
                    "pulso-widget",
                    "--test",
                    "api",
                    "--test",
                    "openapi",
                    "--test",
                    "ingest",
                    "--test",
                    "inbox",
                    "--test",
                    "inbox_pages",
                    "--test",
                    "inbox_work",
                    "--test",
                    "people",
                    "--test",
                    "people_admin",
                    "--test",
                    "people_secrets",
                    "--test",
                    "privacy",
                    "--test",
                    "security",
                    "--test",
                    "webhooks",
                    "--test",
                    "store",
                    "--test",
                    "rollups",
                    "--test",
                    "programme",
                    "--test",
                    "digest",
                ])
                .env("PULSO_TEST_POSTGRES", &postgres.url),
        ),
    );
    if !assets_ok {
        eprintln!("note: end-to-end tests need the widget build, which failed");
    }

    // The API against its own OpenAPI document.
    step(
        "schemathesis",
        crate::schemathesis::run(&st, &target_dir().join("debug/pulso")),
    );

    let runner = wasm_bindgen.with_file_name("wasm-bindgen-test-runner");
    step(
        "widget tests (wasm32, headless Chromium)",
        exec(
            cargo()
                .args(["test", "-p", "pulso-widget", "--target", WASM_TARGET])
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
                .env("CHROMEDRIVER", &chromedriver)
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
                .env("TMPDIR", &tmp),
        ),
    );

    drop(postgres);

    // A short fuzz run of the ingest decisions; `cargo xtask fuzz` runs longer.
    step("fuzz (ingest, 20 s)", crate::fuzz::run(20));

    if failed.is_empty() {
        println!("xtask test: all steps passed");
        Ok(())
    } else {
        Err(format!("failed steps: {}", failed.join(", ")))
    }
}
