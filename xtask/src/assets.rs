//! `cargo xtask widget`: the widget bundle (Leptos → wasm32 → wasm-bindgen →
//! wasm-opt), content-hashed, and the loader that names it, each precompressed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::tools::{self, WASM_TARGET};
use crate::{Result, cargo, exec, root};

/// What a build wrote.
pub struct Built {
    pub dir: PathBuf,
    pub loader: PathBuf,
    /// The lazy bundle's files (JS glue, wasm, the loader's boot module).
    pub bundle: Vec<PathBuf>,
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root().join(p) } else { p })
        .unwrap_or_else(|| root().join("target"))
}

/// Where the collector finds the loader and bundle.
pub fn assets_dir() -> PathBuf {
    target_dir().join("pulso-assets")
}

pub fn build() -> Result<Built> {
    tools::wasm_target()?;
    let wasm_bindgen = tools::wasm_bindgen()?;
    let build = [
        "build",
        "-p",
        "pulso-widget",
        "--target",
        WASM_TARGET,
        "--profile",
        "widget",
    ];
    let compiled = match tools::nightly() {
        Some(nightly) => {
            // Its own target folder: stable and nightly artefacts never evict
            // each other.
            let dir = target_dir().join("nightly");
            exec(
                Command::new("rustup")
                    .args(["run", &nightly, "cargo"])
                    .args(build)
                    .args(["-Zbuild-std=std,panic_abort"])
                    .env("CARGO_TARGET_DIR", &dir)
                    // No panic machinery, no source locations (which
                    // would also ship the build machine's paths), no
                    // `Debug` formatting: none of them is seen by a user.
                    .env(
                        "RUSTFLAGS",
                        "-Zunstable-options -Cpanic=immediate-abort \
                         -Zlocation-detail=none -Zfmt-debug=none",
                    )
                    .current_dir(root()),
            )?;
            dir.join(WASM_TARGET).join("widget/pulso_widget.wasm")
        }
        None => {
            exec(cargo().args(build))?;
            target_dir()
                .join(WASM_TARGET)
                .join("widget/pulso_widget.wasm")
        }
    };
    let stage = target_dir().join("widget-stage");
    recreate(&stage)?;
    exec(
        Command::new(&wasm_bindgen)
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&stage)
            .arg(&compiled),
    )?;
    let glue = stage.join("pulso_widget.js");
    let wasm = stage.join("pulso_widget_bg.wasm");
    if let Some(wasm_opt) = tools::wasm_opt() {
        exec(
            Command::new(&wasm_opt[0])
                .args(&wasm_opt[1..])
                .args(["-Oz", "--strip-debug", "--strip-producers"])
                .arg(&wasm)
                .arg("-o")
                .arg(&wasm),
        )?;
    }

    let terser = tools::terser();
    if let Some(terser) = &terser {
        exec(
            Command::new(&terser[0])
                .args(&terser[1..])
                .arg(&glue)
                .args(["--module", "--compress", "--mangle", "-o"])
                .arg(&glue),
        )?;
    }
    let boot = stage.join("boot.js");
    std::fs::copy(root().join("widget/loader/boot.js"), &boot)
        .map_err(|e| format!("cannot copy the boot module: {e}"))?;
    if let Some(terser) = &terser {
        exec(
            Command::new(&terser[0])
                .args(&terser[1..])
                .arg(&boot)
                .args(["--module", "--compress", "--mangle", "-o"])
                .arg(&boot),
        )?;
    }
    let glue_bytes = read(&glue)?;
    let wasm_bytes = read(&wasm)?;
    let boot_bytes = read(&boot)?;
    let mut hasher = Sha256::new();
    hasher.update(&glue_bytes);
    hasher.update(&wasm_bytes);
    hasher.update(&boot_bytes);
    let hash: String = hasher.finalize()[..5]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = format!("pulso-{hash}");

    let dir = assets_dir();
    recreate(&dir)?;
    recreate(&dir.join("widget"))?;
    let bundle = vec![
        dir.join("widget").join(format!("{name}.js")),
        dir.join("widget").join(format!("{name}.wasm")),
        dir.join("widget").join(format!("{name}-boot.js")),
    ];
    write(&bundle[0], &glue_bytes)?;
    write(&bundle[1], &wasm_bytes)?;
    write(&bundle[2], &boot_bytes)?;
    let loader_source = std::fs::read_to_string(root().join("widget/loader/pulso.js"))
        .map_err(|e| format!("cannot read the loader: {e}"))?;
    let loader = dir.join("pulso.js");
    write(
        &loader,
        minify(&loader_source)
            .replace("__BUNDLE__", &name)
            .as_bytes(),
    )?;
    if let Some(terser) = &terser {
        exec(
            Command::new(&terser[0])
                .args(&terser[1..])
                .arg(&loader)
                .args(["--ecma", "2020", "--compress", "passes=2", "--mangle", "-o"])
                .arg(&loader),
        )?;
    }
    for file in bundle.iter().chain([&loader]) {
        precompress(file)?;
    }
    eprintln!("widget: {} (bundle {name})", dir.display());
    Ok(Built {
        dir,
        loader,
        bundle,
    })
}

/// The loader's comments and indentation are bytes every page pays for: drop them.
fn minify(source: &str) -> String {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("in-memory brotli");
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in-memory gzip");
    encoder.finish().expect("in-memory gzip")
}

/// `file.br` and `file.gz` beside `file`, served by the collector as they are.
fn precompress(file: &Path) -> Result {
    let bytes = read(file)?;
    let mut name = file.as_os_str().to_owned();
    name.push(".br");
    write(Path::new(&name), &brotli(&bytes))?;
    let mut name = file.as_os_str().to_owned();
    name.push(".gz");
    write(Path::new(&name), &gzip(&bytes))
}

pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn recreate(dir: &Path) -> Result {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_drops_comments_and_indentation_only() {
        assert_eq!(
            minify("// about\n(function () {\n  // why\n  var a = 'http://x';\n\n})();\n"),
            "(function () {\nvar a = 'http://x';\n})();"
        );
    }

    #[test]
    fn compressed_copies_round_trip() {
        let text = b"pulso pulso pulso pulso".repeat(20);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(&text)[..], &mut back).unwrap();
        assert_eq!(back, text);
        let mut back = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gzip(&text)[..]),
            &mut back,
        )
        .unwrap();
        assert_eq!(back, text);
    }
}
