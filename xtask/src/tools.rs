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

/// wasm-opt, installed from the npm registry into target/tools when npm is there.
/// `None` (with a note) when it cannot be had: the bundle is then only a little larger.
pub fn wasm_opt() -> Option<Vec<String>> {
    let dir = root().join("target/tools");
    let script = dir.join("node_modules/binaryen/bin/wasm-opt");
    if !script.is_file() {
        if on_path("npm").is_none() || on_path("node").is_none() {
            eprintln!(
                "note: node and npm not found, so no wasm-opt: the bundle is built without it"
            );
            return None;
        }
        let _ = std::fs::create_dir_all(&dir);
        let installed = exec(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(&dir)
                .arg(BINARYEN),
        );
        if let Err(e) = installed {
            eprintln!("note: {e}; the bundle is built without wasm-opt");
            return None;
        }
    }
    Some(vec!["node".into(), script.to_string_lossy().into_owned()])
}

/// Debian's chromium and chromium-driver, installed with apt-get when we are
/// root; otherwise an error that names them.
pub fn chromium() -> Result<PathBuf> {
    if let (Some(_), Some(driver)) = (chromium_binary(), on_path("chromedriver")) {
        return Ok(driver);
    }
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root_user || on_path("apt-get").is_none() {
        return Err("the browser tests need Chromium and ChromeDriver: install Debian's \
                    `chromium` and `chromium-driver` packages (apt-get install chromium chromium-driver)"
            .into());
    }
    exec(Command::new("apt-get").args(["update", "-qq"]))?;
    exec(
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "chromium",
                "chromium-driver",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    on_path("chromedriver")
        .ok_or_else(|| "chromium-driver installed but chromedriver is not on PATH".into())
}

pub fn chromium_binary() -> Option<PathBuf> {
    on_path("chromium").or_else(|| on_path("chromium-browser"))
}
