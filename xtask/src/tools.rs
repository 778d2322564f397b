//! Installs what the tasks need when it is missing, or says how to get it.

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, cargo, exec, on_path, root};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// binaryen's wasm-opt from the npm registry; Debian's older one has broken
/// bundles (see ARCHITECTURE.md, "Widget build").
const BINARYEN: &str = "binaryen@132.0.0";

/// The wasm32 target of the active toolchain.
pub fn wasm_target() -> Result {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("rustup is needed to add the {WASM_TARGET} target: {e}"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    exec(
        Command::new("rustup")
            .args(["target", "add", WASM_TARGET])
            .current_dir(root()),
    )
}

/// The nightly the widget is built with: std rebuilt for size
/// (`-Zbuild-std`) with `panic=immediate-abort`, ~7 KB less brotli than
/// stable. Pinned by date; the rest of the workspace stays on stable.
pub const NIGHTLY_DATE: &str = "2026-05-19";

/// A toolchain name for the pinned nightly, with `rust-src` and the wasm32
/// target; installed when missing. `None` (and a warning) when rustup cannot
/// get it: the widget is then built on stable, larger.
pub fn nightly() -> Option<String> {
    let pinned = format!("nightly-{NIGHTLY_DATE}");
    let dated = |name: &str| {
        Command::new("rustup")
            .args(["run", name, "rustc", "-V"])
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains(NIGHTLY_DATE)
            })
    };
    let name = if dated(&pinned) {
        pinned
    } else if dated("nightly") {
        // The channel is at the pinned date already: no download.
        "nightly".to_owned()
    } else if exec(Command::new("rustup").args([
        "toolchain",
        "install",
        &pinned,
        "--profile",
        "minimal",
    ]))
    .is_ok()
    {
        pinned
    } else {
        eprintln!("warning: no {pinned}: building the widget on stable (larger)");
        return None;
    };
    let ready =
        exec(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", &name]))
            .and_then(|()| {
                exec(Command::new("rustup").args([
                    "target",
                    "add",
                    WASM_TARGET,
                    "--toolchain",
                    &name,
                ]))
            });
    match ready {
        Ok(()) => Some(name),
        Err(e) => {
            eprintln!("warning: {e}: building the widget on stable (larger)");
            None
        }
    }
}

/// The wasm-bindgen version Cargo.lock pins; the CLI must be exactly this one.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen".into())
}

/// `wasm-bindgen` (and `wasm-bindgen-test-runner`) at the locked version.
pub fn wasm_bindgen() -> Result<PathBuf> {
    let version = locked_wasm_bindgen()?;
    let installed = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if installed.as_deref() != Some(&format!("wasm-bindgen {version}")) {
        // Not --locked: the CLI's own lock file pins a crate the registry no longer serves.
        exec(cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))?;
    }
    on_path("wasm-bindgen")
        .ok_or_else(|| "wasm-bindgen was installed but is not on PATH (add ~/.cargo/bin)".into())
}

/// terser, for the loader and the wasm-bindgen glue.
const TERSER: &str = "terser@5.44.0";
/// esbuild, which bundles boot.js and the wasm-bindgen glue into one module.
const ESBUILD: &str = "esbuild@0.25.12";
/// axe-core, the accessibility engine the browser tests inject into pages.
const AXE_CORE: &str = "axe-core@4.11.0";

/// A file of an npm package, installed (pinned) into target/tools if missing.
/// Installs are saved in target/tools/package.json, so one install does not
/// prune the packages of another.
fn npm_file(package: &str, file: &str) -> Result<PathBuf> {
    let dir = crate::assets::target_dir().join("tools");
    let name = package.rsplit_once('@').map_or(package, |(name, _)| name);
    let path = dir.join("node_modules").join(name).join(file);
    if path.is_file() {
        return Ok(path);
    }
    if on_path("npm").is_none() {
        apt_install(&format!("npm is needed to install {package}"), &["npm"])?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    exec(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--silent",
                "--prefix",
            ])
            .arg(&dir)
            .arg(package),
    )?;
    path.is_file()
        .then_some(path)
        .ok_or_else(|| format!("{package} installed without {file}"))
}

/// A command-line tool of an npm package, as the command line that runs it
/// with node; `None` (with a note saying what is done `without` it) when it
/// cannot be had. The build goes on without such a tool, a little larger.
fn node_tool(package: &str, script: &str, without: &str) -> Option<Vec<String>> {
    if on_path("node").is_none() {
        // npm brings node with it.
        if let Err(e) = apt_install(&format!("node is needed for {package}"), &["npm"]) {
            eprintln!("note: {e}; {without}");
            return None;
        }
    }
    match npm_file(package, script) {
        Ok(path) => Some(vec!["node".into(), path.to_string_lossy().into_owned()]),
        Err(e) => {
            eprintln!("note: {e}; {without}");
            None
        }
    }
}

/// wasm-opt from the npm registry's binaryen.
pub fn wasm_opt() -> Option<Vec<String>> {
    node_tool(
        BINARYEN,
        "bin/wasm-opt",
        "the bundle is built without wasm-opt",
    )
}

/// terser, the JavaScript minifier.
pub fn terser() -> Option<Vec<String>> {
    node_tool(TERSER, "bin/terser", "JavaScript is shipped unminified")
}

/// esbuild (its npm package installs the native binary as `bin/esbuild`).
pub fn esbuild() -> Result<PathBuf> {
    npm_file(ESBUILD, "bin/esbuild")
}

/// axe-core's browser build, for the accessibility tests.
pub fn axe_core() -> Result<PathBuf> {
    npm_file(AXE_CORE, "axe.min.js")
}

/// Installs Debian packages with apt-get when we are root; otherwise an error
/// that says `what` needs them and names them.
pub fn apt_install(what: &str, packages: &[&str]) -> Result {
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root_user || on_path("apt-get").is_none() {
        return Err(format!(
            "{what}: install Debian's {} (apt-get install {})",
            packages.join(", "),
            packages.join(" ")
        ));
    }
    exec(Command::new("apt-get").args(["update", "-qq"]))?;
    exec(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// nginx, for the tests of the example reverse-proxy configuration
/// (failover, forged client addresses): installed when root, else the test
/// run stops and says what to install.
pub fn nginx() -> Result<PathBuf> {
    let found = || {
        on_path("nginx").or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.exists()))
    };
    if let Some(nginx) = found() {
        return Ok(nginx);
    }
    apt_install("the reverse-proxy tests run nginx", &["nginx"])?;
    found().ok_or_else(|| "nginx installed but not found on PATH or in /usr/sbin".into())
}

/// LibreOffice without a GUI (`soffice`): the export test opens a CSV in it.
pub fn libreoffice() -> Result<PathBuf> {
    if let Some(soffice) = on_path("soffice") {
        return Ok(soffice);
    }
    apt_install(
        "the export test opens a CSV in LibreOffice",
        &["libreoffice-calc-nogui"],
    )?;
    on_path("soffice").ok_or_else(|| "libreoffice installed but soffice is not on PATH".into())
}

/// Debian's chromium and chromium-driver (the browser tests need them).
pub fn chromium() -> Result<PathBuf> {
    if let (Some(_), Some(driver)) = (chromium_binary(), on_path("chromedriver")) {
        return Ok(driver);
    }
    apt_install(
        "the browser tests need Chromium and ChromeDriver",
        &["chromium", "chromium-driver"],
    )?;
    on_path("chromedriver")
        .ok_or_else(|| "chromium-driver installed but chromedriver is not on PATH".into())
}

pub fn chromium_binary() -> Option<PathBuf> {
    on_path("chromium").or_else(|| on_path("chromium-browser"))
}

/// Free bytes on the file system that holds `path` (its nearest existing
/// ancestor), as `df` reports them; `None` if `df` cannot tell.
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let out = std::process::Command::new("df")
        .args(["-Pk"])
        .arg(existing)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    // `Filesystem 1024-blocks Used Available Capacity Mounted-on`, then one line.
    let available: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(available * 1024)
}

/// Stops with a message naming the shortfall when the disk that holds
/// `target/` has less than `needed` bytes free: a build that runs out of
/// disk fails half-way, with errors that name every step but the cause.
pub fn enough_disk(needed: u64) -> Result {
    let target = crate::assets::target_dir();
    match free_bytes(&target) {
        Some(free) if free < needed => Err(format!(
            "{} has {:.1} GB free; a full run needs about {:.0} GB (free some, or point \
             CARGO_TARGET_DIR at a larger disk)",
            target.display(),
            free as f64 / 1e9,
            needed as f64 / 1e9
        )),
        _ => Ok(()),
    }
}
