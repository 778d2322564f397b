//! `cargo xtask widget`: the widget bundle (Leptos → wasm32 → wasm-bindgen →
//! wasm-opt), content-hashed, and the loader that names it, each precompressed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::tools::{self, WASM_TARGET};
use crate::{Result, cargo, exec, exec_output, root};

/// What a build wrote.
pub struct Built {
    pub dir: PathBuf,
    pub loader: PathBuf,
    /// The lazy bundle's files: the module (boot.js with the wasm-bindgen
    /// glue) and the wasm.
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
        // Besides optimising, wasm-opt gives every import and export a one- or
        // two-letter name and prints the mapping; the glue is renamed to match.
        // wasm-bindgen's names carry a 16-digit hash each (~140 of them):
        // random text brotli cannot shrink, once in the wasm and again in the glue.
        let mut cmd = Command::new(&wasm_opt[0]);
        cmd.args(&wasm_opt[1..])
            .args([
                "--remove-exports",
                &format!("--pass-arg=remove-exports@*{UNUSED_EXPORTS}*"),
            ])
            .args(["-Oz", "--strip-debug", "--strip-producers"])
            .arg("--minify-imports-and-exports-and-modules")
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm);
        let mapping = exec_output(&mut cmd)?;
        // Then optimised again until it stops shrinking: the short names let
        // more functions fold (~500 B brotli for ~4 s). Not one run with
        // `--converge`, which would repeat the renaming and print one mapping
        // per round.
        exec(
            Command::new(&wasm_opt[0])
                .args(&wasm_opt[1..])
                .args(["-Oz", "--converge"])
                .arg(&wasm)
                .arg("-o")
                .arg(&wasm),
        )?;
        let source = std::fs::read_to_string(&glue)
            .map_err(|e| format!("cannot read {}: {e}", glue.display()))?;
        write(&glue, rename_bindings(&source, &mapping)?.as_bytes())?;
    }
    let source = std::fs::read_to_string(&glue)
        .map_err(|e| format!("cannot read {}: {e}", glue.display()))?;
    write(&glue, drop_unused_classes(&source).as_bytes())?;

    // boot.js imports the glue; one module of the two is one request less
    // before the card (the loader fetches it and the wasm side by side).
    let boot = stage.join("boot.js");
    std::fs::copy(root().join("widget/loader/boot.js"), &boot)
        .map_err(|e| format!("cannot copy the boot module: {e}"))?;
    let module = stage.join("card.js");
    exec(
        Command::new(tools::esbuild()?)
            .arg(&boot)
            .args(["--bundle", "--format=esm", "--log-level=warning"])
            .arg(format!("--outfile={}", module.display())),
    )?;
    let terser = tools::terser();
    if let Some(terser) = &terser {
        exec(
            Command::new(&terser[0])
                .args(&terser[1..])
                .arg(&module)
                .args(["--module", "--compress", "--mangle", "-o"])
                .arg(&module),
        )?;
    }
    let module_bytes = read(&module)?;
    if String::from_utf8_lossy(&module_bytes)
        .to_ascii_lowercase()
        .contains(UNUSED_EXPORTS)
    {
        return Err(format!(
            "{} still holds wasm-streams' stream adapters (`{UNUSED_EXPORTS}`): \
             has wasm-bindgen's glue changed shape?",
            module.display()
        ));
    }
    let wasm_bytes = read(&wasm)?;
    let mut hasher = Sha256::new();
    hasher.update(&module_bytes);
    hasher.update(&wasm_bytes);
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
    ];
    write(&bundle[0], &module_bytes)?;
    write(&bundle[1], &wasm_bytes)?;
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

/// The mapping `wasm-opt --minify-imports-and-exports-and-modules` prints.
#[derive(serde::Deserialize)]
struct Minified {
    /// `[module, name, new name]`
    imports: Vec<(String, String, String)>,
    /// `[name, new name]`
    exports: Vec<(String, String)>,
}

/// Exports the card never uses and wasm-opt drops, with the code only they
/// reach (1.25 KB brotli): wasm-streams' JS stream adapters (`IntoUnderlyingSink`
/// and friends), linked because Leptos always depends on server_fn, which the
/// card never calls. JS gets such an object only from the wasm, through an
/// import naming the class; the renaming checks no such import is left.
const UNUSED_EXPORTS: &str = "intounderlying";

/// The glue without the one statement that keeps each unused class alive:
/// `if (Symbol.dispose) Class.prototype[Symbol.dispose] = …;` mutates the
/// class, so esbuild must keep it and its calls into the wasm. Without it
/// nothing refers to them and esbuild leaves them out, with their finalization
/// registries once those are marked pure (an unused registry does nothing);
/// the build checks that it did. ~240 B brotli.
fn drop_unused_classes(glue: &str) -> String {
    glue.replace(
        "new FinalizationRegistry(",
        "/* @__PURE__ */ new FinalizationRegistry(",
    )
    .lines()
    .filter(|line| {
        !line
            .strip_prefix("if (Symbol.dispose) ")
            .is_some_and(|rest| {
                rest.split('.')
                    .next()
                    .is_some_and(|class| class.to_ascii_lowercase().contains(UNUSED_EXPORTS))
            })
    })
    .map(|line| format!("{line}\n"))
    .collect()
}

/// The module name wasm-opt gives all imports when it merges their modules.
const MINIFIED_MODULE: &str = "a";

/// Renames wasm-bindgen's glue to the minified imports and exports: the keys of
/// its import object (`__wbg_…: function`), its module's key, and its uses of
/// exports (`wasm.show(…)`). Fails, rather than shipping a glue that cannot
/// instantiate, when the glue is not shaped as expected.
fn rename_bindings(glue: &str, mapping: &str) -> Result<String> {
    let map: Minified = serde_json::from_str(mapping)
        .map_err(|e| format!("wasm-opt's import/export mapping: {e}"))?;
    let mut modules: Vec<&str> = map.imports.iter().map(|(m, ..)| m.as_str()).collect();
    modules.sort_unstable();
    modules.dedup();
    let [module] = modules[..] else {
        return Err(format!(
            "the glue imports from {} modules, the renaming handles one",
            modules.len()
        ));
    };
    if let Some((_, name, _)) = map
        .imports
        .iter()
        .find(|(_, name, _)| name.contains(UNUSED_EXPORTS))
    {
        return Err(format!(
            "the wasm still imports {name}: the exports of its class were dropped"
        ));
    }
    let imports: std::collections::HashMap<&str, &str> = map
        .imports
        .iter()
        .map(|(_, name, short)| (name.as_str(), short.as_str()))
        .collect();
    let exports: std::collections::HashMap<&str, &str> = map
        .exports
        .iter()
        .map(|(name, short)| (name.as_str(), short.as_str()))
        .collect();
    let module_key = format!("\"{module}\":");
    if glue.matches(&module_key).count() != 1 {
        return Err(format!("the glue names module {module} other than once"));
    }
    let glue = glue.replace(&module_key, &format!("\"{MINIFIED_MODULE}\":"));

    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(glue.len());
    // Each import keyed exactly once: a count alone would let a name keyed
    // twice hide one left out.
    let mut renamed_imports = std::collections::HashSet::new();
    let mut rest = glue.as_str();
    while let Some(start) = rest.find(is_ident) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c| !is_ident(c)).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        let key = after.trim_start().starts_with(':');
        let export_use = out
            .strip_suffix("wasm.")
            .is_some_and(|before| !before.ends_with(is_ident));
        if export_use {
            match exports.get(word) {
                Some(short) => out.push_str(short),
                // In the methods of a class whose objects never reach JS.
                None if word.contains(UNUSED_EXPORTS) => out.push_str(word),
                None => {
                    return Err(format!("the glue uses export {word}, which the wasm lacks"));
                }
            }
        } else if let (true, Some(short)) = (key, imports.get(word)) {
            if !renamed_imports.insert(word) {
                return Err(format!("the glue keys import {word} more than once"));
            }
            out.push_str(short);
        } else {
            out.push_str(word);
        }
        rest = after;
    }
    out.push_str(rest);
    let mut missing: Vec<&str> = imports
        .keys()
        .filter(|name| !renamed_imports.contains(*name))
        .copied()
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        return Err(format!(
            "the glue provides none of the wasm's imports {}",
            missing.join(", ")
        ));
    }
    Ok(out)
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
    fn only_the_unused_classes_lose_their_dispose_alias() {
        let glue = "export class IntoUnderlyingSink {}\n\
                    if (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;\n\
                    export class Handle {}\n\
                    if (Symbol.dispose) Handle.prototype[Symbol.dispose] = Handle.prototype.free;\n\
                    const F = x ? {} : new FinalizationRegistry(p => free(p));\n";
        assert_eq!(
            drop_unused_classes(glue),
            "export class IntoUnderlyingSink {}\n\
             export class Handle {}\n\
             if (Symbol.dispose) Handle.prototype[Symbol.dispose] = Handle.prototype.free;\n\
             const F = x ? {} : /* @__PURE__ */ new FinalizationRegistry(p => free(p));\n"
        );
    }

    #[test]
    fn bindings_take_their_minified_names() {
        let glue = "function g() {\n    const import0 = {\n        __wbg_body_1a: function(arg0) { return arg0.body; },\n        __wbg_log_2b: function(arg0) { console.log(arg0); },\n    };\n    return { \"./w_bg.js\": import0 };\n}\nexport function show(o) { return wasm.show(o) !== 0; }\nwasm.__wbindgen_start();\n";
        let mapping = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"], ["./w_bg.js", "__wbg_log_2b", "c"]],
            "exports": [["show", "d"], ["__wbindgen_start", "e"], ["memory", "f"]]}"#;
        let renamed = rename_bindings(glue, mapping).unwrap();
        assert_eq!(
            renamed,
            "function g() {\n    const import0 = {\n        b: function(arg0) { return arg0.body; },\n        c: function(arg0) { console.log(arg0); },\n    };\n    return { \"a\": import0 };\n}\nexport function show(o) { return wasm.d(o) !== 0; }\nwasm.e();\n"
        );
    }

    #[test]
    fn glue_that_does_not_match_the_wasm_is_refused() {
        let mapping = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"]], "exports": []}"#;
        // A property of something else named like the exports' object is
        // left alone.
        let glue =
            "const i = { __wbg_body_1a: function() {} }; x = { \"./w_bg.js\": i }; mywasm.show();";
        assert!(
            rename_bindings(glue, mapping)
                .unwrap()
                .ends_with("mywasm.show();")
        );
        // An export the wasm does not have.
        let glue =
            "const i = { __wbg_body_1a: function() {} }; x = { \"./w_bg.js\": i }; wasm.show();";
        assert!(rename_bindings(glue, mapping).is_err());
        // A dropped class whose objects can still reach JS.
        let glue = "const i = { __wbg_intounderlyingsink_new_1a: function() {} }; x = { \"./w_bg.js\": i };";
        let dropped = r#"{"imports": [["./w_bg.js", "__wbg_intounderlyingsink_new_1a", "b"]], "exports": []}"#;
        assert!(rename_bindings(glue, dropped).is_err());
        // An import the glue does not provide.
        let glue = "const i = {}; x = { \"./w_bg.js\": i };";
        assert!(rename_bindings(glue, mapping).is_err());
        // One import keyed twice and another not at all: as many keys as
        // imports, but not the same ones.
        let two = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"], ["./w_bg.js", "__wbg_log_2b", "c"]], "exports": []}"#;
        let glue = "const i = { __wbg_body_1a: 1, __wbg_body_1a: 2 }; x = { \"./w_bg.js\": i };";
        let refused = rename_bindings(glue, two).unwrap_err();
        assert!(refused.contains("__wbg_body_1a"), "{refused}");
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
