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
    // Only the nightly can build without LLVM's function merging, which
    // snipping dead code by name needs (see `snip`).
    let nightly = tools::nightly();
    let compiled = match &nightly {
        Some(nightly) => {
            // Its own target folder: stable and nightly artefacts never evict
            // each other.
            let dir = target_dir().join("nightly");
            exec(
                Command::new("rustup")
                    .args(["run", nightly, "cargo"])
                    .args(build)
                    .args([
                        "-Zbuild-std=std,panic_abort",
                        "-Zbuild-std-features=optimize_for_size",
                    ])
                    .env("CARGO_TARGET_DIR", &dir)
                    // No panic machinery, no source locations (which
                    // would also ship the build machine's paths), no
                    // `Debug` formatting: none of them is seen by a user.
                    // No function merging: a merged body keeps one of its
                    // names, and `snip` goes by names.
                    .env(
                        "RUSTFLAGS",
                        "-Zunstable-options -Cpanic=immediate-abort \
                         -Zlocation-detail=none -Zfmt-debug=none -Zmerge-functions=disabled",
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
    // The exports the card never uses, and on the nightly (no function
    // merging) wasm-streams' code, reachable only from them and from the
    // function table, which wasm-opt keeps whole (see UNUSED_EXPORTS).
    crate::snip::snip(
        &wasm,
        UNUSED_EXPORTS,
        nightly.as_ref().map(|_| "wasm_streams"),
    )?;
    if let Some(wasm_opt) = tools::wasm_opt() {
        // Besides optimising, wasm-opt gives every import and export a one- or
        // two-letter name and prints the mapping; the glue is renamed to match.
        // wasm-bindgen's names carry a 16-digit hash each (~140 of them):
        // random text brotli cannot shrink, once in the wasm and again in the glue.
        let mut cmd = Command::new(&wasm_opt[0]);
        cmd.args(&wasm_opt[1..])
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
    // V8's explicit compile hint (Chromium 136 on; to other engines, a comment): every
    // function of the module compiles eagerly while it streams in, off the main
    // thread, instead of lazily at its first call, and nearly all of them run
    // before the card is seen (boot.js, the glue the wasm calls while it mounts).
    // Six alternating pairs of runs of the time-to-visible benchmark (means): the ratio to the
    // plain-JS card 1.21 warm and 1.57 cold with it, 1.25 and 1.75 without.
    let mut module_bytes = b"//# allFunctionsCalledOnLoad\n".to_vec();
    module_bytes.extend(read(&module)?);
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

/// Exports the card never uses, which `snip` drops with the code only they
/// reach: wasm-streams' JS stream adapters (`IntoUnderlyingSink` and friends),
/// linked because Leptos always depends on server_fn, which the card never
/// calls. JS gets such an object only from the wasm, through an import naming
/// the class; the renaming checks no such import is left.
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
    let glue = drop_unimported(glue, &imports)?;
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

/// The glue without the functions it provides for imports the wasm no longer
/// has (code that only wasm-opt knew was unused, or that `snip` cut): they
/// would be shipped under their full names. wasm-bindgen writes its import
/// object as `const import0 = {` … `};`, one `KEY: function(…) {` … `},`
/// entry per import (or on one line); anything else there is refused.
fn drop_unimported(glue: &str, imports: &std::collections::HashMap<&str, &str>) -> Result<String> {
    const OPEN: &str = "    const import0 = {";
    const CLOSE: &str = "    };";
    const ENTRY: &str = "        ";
    const INNER: &str = "         ";
    let mut out = String::with_capacity(glue.len());
    // Lines with their own line ends, so that what is kept is kept as it was.
    let mut lines = glue.split_inclusive('\n');
    let text = |line: &str| line.trim_end_matches(['\n', '\r']).to_owned();
    let mut found = false;
    while let Some(line) = lines.next() {
        out.push_str(line);
        if text(line) != OPEN {
            continue;
        }
        if std::mem::replace(&mut found, true) {
            return Err("the glue has more than one import object".into());
        }
        loop {
            let line = lines
                .next()
                .ok_or("the glue's import object never closes")?;
            let first = text(line);
            if first == CLOSE || first == "        __proto__: null," {
                out.push_str(line);
                if first == CLOSE {
                    break;
                }
                continue;
            }
            let key = first
                .strip_prefix(ENTRY)
                .and_then(|rest| rest.split_once(": function("))
                .map(|(key, _)| key)
                .filter(|key| !key.starts_with(' '))
                .ok_or_else(|| format!("the glue's import object holds `{}`", first.trim()))?;
            let mut entry = vec![line];
            // An entry on one line, or up to its first line back at its
            // indentation, which closes it (`},`, or `}, arguments); },`).
            let mut ended = first.ends_with("},");
            while !ended {
                let line = lines
                    .next()
                    .ok_or_else(|| format!("the glue's import {key} never ends"))?;
                let last = text(line);
                if last.starts_with(ENTRY) && !last.starts_with(INNER) {
                    if !last.ends_with("},") {
                        return Err(format!("the glue's import {key} ends unlike the others"));
                    }
                    ended = true;
                }
                entry.push(line);
            }
            if imports.contains_key(key) {
                out.extend(entry);
            }
        }
    }
    if !found {
        return Err("the glue has no import object".into());
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

pub fn write(path: &Path, bytes: &[u8]) -> Result {
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

    /// A glue shaped as wasm-bindgen writes it: the import object (one
    /// entry per import, on several lines), then `rest`.
    fn glue(imports: &[(&str, &str)], rest: &str) -> String {
        let mut glue = String::from(
            "function __wbg_get_imports() {\n    const import0 = {\n        __proto__: null,\n",
        );
        for (key, body) in imports {
            glue.push_str(&format!(
                "        {key}: function(arg0) {{\n            {body}\n        }},\n"
            ));
        }
        glue.push_str("    };\n    return {\n        \"./w_bg.js\": import0,\n    };\n}\n");
        glue.push_str(rest);
        glue
    }

    #[test]
    fn bindings_take_their_minified_names() {
        let glue = glue(
            &[
                ("__wbg_body_1a", "return arg0.body;"),
                ("__wbg_log_2b", "console.log(arg0);"),
            ],
            "export function show(o) { return wasm.show(o) !== 0; }\nwasm.__wbindgen_start();\n",
        );
        let mapping = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"], ["./w_bg.js", "__wbg_log_2b", "c"]],
            "exports": [["show", "d"], ["__wbindgen_start", "e"], ["memory", "f"]]}"#;
        let renamed = rename_bindings(&glue, mapping).unwrap();
        assert_eq!(
            renamed,
            self::glue(
                &[("b", "return arg0.body;"), ("c", "console.log(arg0);")],
                "export function show(o) { return wasm.d(o) !== 0; }\nwasm.e();\n",
            )
            .replace("\"./w_bg.js\":", "\"a\":")
        );
    }

    #[test]
    fn imports_the_wasm_no_longer_has_leave_the_glue() {
        let glue = glue(
            &[
                ("__wbg_body_1a", "return arg0.body;"),
                ("__wbg_view_3c", "return arg0.view;"),
            ],
            "",
        )
        .replace(
            "        __wbg_view_3c",
            "        __wbg_one_line_4d: function() { return 1; },\n\
             \x20       __wbg_fetch_5e: function() { return handleError(function (arg0) {\n\
             \x20           arg0.fetch();\n\
             \x20       }, arguments); },\n\
             \x20       __wbg_view_3c",
        );
        let mapping = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"]], "exports": []}"#;
        let renamed = rename_bindings(&glue, mapping).unwrap();
        assert!(
            renamed.contains(
                "        b: function(arg0) {\n            return arg0.body;\n        },\n"
            )
        );
        for gone in ["view", "one_line", "fetch", "__wbg_body"] {
            assert!(!renamed.contains(gone), "{gone}: {renamed}");
        }
        // Something else in the import object is not guessed at.
        let odd = glue.replace("        __proto__: null,", "        something: 1,");
        assert!(rename_bindings(&odd, mapping).is_err());
    }

    #[test]
    fn glue_that_does_not_match_the_wasm_is_refused() {
        let mapping = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"]], "exports": []}"#;
        let body = [("__wbg_body_1a", "return arg0.body;")];
        // A property of something else named like the exports' object is
        // left alone.
        let renamed = rename_bindings(&glue(&body, "mywasm.show();"), mapping).unwrap();
        assert!(renamed.ends_with("mywasm.show();"));
        // An export the wasm does not have.
        assert!(rename_bindings(&glue(&body, "wasm.show();"), mapping).is_err());
        // No import object at all.
        assert!(rename_bindings("const i = {}; x = { \"./w_bg.js\": i };", mapping).is_err());
        // A dropped class whose objects can still reach JS.
        let dropped = r#"{"imports": [["./w_bg.js", "__wbg_intounderlyingsink_new_1a", "b"]], "exports": []}"#;
        let sink = [("__wbg_intounderlyingsink_new_1a", "return 1;")];
        assert!(rename_bindings(&glue(&sink, ""), dropped).is_err());
        // An import the glue does not provide.
        assert!(rename_bindings(&glue(&[], ""), mapping).is_err());
        // One import keyed twice and another not at all: as many keys as
        // imports, but not the same ones.
        let two = r#"{"imports": [["./w_bg.js", "__wbg_body_1a", "b"], ["./w_bg.js", "__wbg_log_2b", "c"]], "exports": []}"#;
        let twice = glue(
            &[
                ("__wbg_body_1a", "return 1;"),
                ("__wbg_body_1a", "return 2;"),
            ],
            "",
        );
        let refused = rename_bindings(&twice, two).unwrap_err();
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
