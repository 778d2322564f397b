//! Code the linker keeps although nothing can run it: its bodies become
//! `unreachable`, so that wasm-opt drops whatever only they reached. This is
//! what rustwasm's wasm-snip does, on walrus (the library wasm-bindgen itself
//! rewrites modules with), since wasm-snip cannot read reference types.
//!
//! Removing an export is not enough for wasm-opt to drop what it reached:
//! a trait object's methods sit in the function table, and the table is kept
//! whole, because which slots are used is data (vtables in memory).

use std::collections::HashSet;
use std::path::Path;

use walrus::ir::{Unreachable, Visitor, dfs_in_order};
use walrus::{ExportId, ExportItem, FunctionId, Module};

use crate::Result;

/// Drops the module's exports whose names contain `exports`, and replaces the
/// bodies of their functions (and of those named alike), and of every
/// function of `krate` (defined in it, or generic code instantiated for its
/// types: their names say so), with `unreachable`. Returns how many bodies
/// were replaced.
///
/// Snipping a crate is sound only when its code is reachable from nothing but
/// those exports, and when no other function shares a body and a name with
/// one of it: the widget is built with LLVM's function merging off, and
/// `krate` is `None` otherwise (the exports are dropped all the same, and
/// wasm-opt drops what only they called). Refuses, changing nothing, when a
/// function left in place refers to a snipped one: then the code is not
/// dead, whatever its exports.
pub fn snip(path: &Path, exports: &str, krate: Option<&str>) -> Result<usize> {
    let bytes = crate::assets::read(path)?;
    let mut module =
        Module::from_buffer(&bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let dropped: Vec<(ExportId, FunctionId)> = module
        .exports
        .iter()
        .filter(|e| e.name.contains(exports))
        .filter_map(|e| match e.item {
            ExportItem::Function(f) => Some((e.id(), f)),
            _ => None,
        })
        .collect();
    // An export is wasm-bindgen's shim around the function of the same name.
    let named = |name: &str| name.contains(exports) || krate.is_some_and(|k| names_crate(name, k));
    let dead: HashSet<FunctionId> = dropped
        .iter()
        .map(|&(_, f)| f)
        .chain(
            module
                .funcs
                .iter()
                .filter(|f| f.name.as_deref().is_some_and(named))
                .map(|f| f.id()),
        )
        .collect();

    for (id, function) in module.funcs.iter_local() {
        if dead.contains(&id) {
            continue;
        }
        let mut refs = References {
            dead: &dead,
            found: None,
        };
        dfs_in_order(&mut refs, function, function.entry_block());
        if let Some(callee) = refs.found {
            let name = |id| module.funcs.get(id).name.as_deref().unwrap_or("?");
            return Err(format!(
                "{}: {} refers to {}, which is not dead code then: nothing snipped",
                path.display(),
                name(id),
                name(callee)
            ));
        }
    }

    for (export, _) in dropped {
        module.exports.delete(export);
    }
    for (id, function) in module.funcs.iter_local_mut() {
        if dead.contains(&id) {
            let entry = function.entry_block();
            let body = &mut function.block_mut(entry).instrs;
            body.clear();
            body.push((Unreachable {}.into(), Default::default()));
        }
    }
    crate::assets::write(path, &module.emit_wasm())?;
    Ok(dead.len())
}

/// Whether a demangled name (`wasm_streams[8a1f…]::readable::…`, or legacy
/// `wasm_streams::…`) names a path in `krate`, anywhere in it.
fn names_crate(name: &str, krate: &str) -> bool {
    name.match_indices(krate).any(|(at, _)| {
        let before = name[..at].chars().next_back();
        let after = &name[at + krate.len()..];
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && (after.starts_with('[') || after.starts_with("::"))
    })
}

/// Finds a reference (a call, a `ref.func`) to one of the dead functions.
struct References<'a> {
    dead: &'a HashSet<FunctionId>,
    found: Option<FunctionId>,
}

impl Visitor<'_> for References<'_> {
    fn visit_function_id(&mut self, function: &FunctionId) {
        if self.dead.contains(function) {
            self.found = Some(*function);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_by_crate_path_only() {
        for name in [
            "wasm_streams[cf9d0cda108bb69b]::readable::IntoUnderlyingSource::pull",
            "<futures_util[9f5b]::abortable::Abortable<<wasm_streams[cf9d]::readable::X>::pull::{closure#0}>>::try_poll",
            "wasm_streams::writable::into_underlying_sink::IntoUnderlyingSink::write",
        ] {
            assert!(names_crate(name, "wasm_streams"), "{name}");
        }
        for name in [
            "my_wasm_streams[1]::f",
            "wasm_streams_extra::f",
            "pulso_widget::card::wasm_streams_free",
            "js_sys[ef34]::futures::future_to_promise::<pulso_widget::X>",
        ] {
            assert!(!names_crate(name, "wasm_streams"), "{name}");
        }
    }

    /// A module with a dead function and a live one calling `callee`.
    fn module(callee_name: &str) -> Module {
        let mut module = Module::default();
        let mut callee = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        callee.func_body().i32_const(1).drop();
        let callee = callee.finish(vec![], &mut module.funcs);
        module.funcs.get_mut(callee).name = Some(callee_name.to_owned());
        let mut caller = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        caller.func_body().call(callee);
        let caller = caller.finish(vec![], &mut module.funcs);
        module.funcs.get_mut(caller).name = Some("pulso_widget::show".to_owned());
        module.exports.add("show", caller);
        module
    }

    #[test]
    fn a_crate_called_by_live_code_is_not_snipped() {
        let dir = std::env::temp_dir().join(format!("pulso-snip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("live.wasm");
        let bytes = module("wasm_streams[1]::readable::f").emit_wasm();
        std::fs::write(&path, &bytes).unwrap();
        let refused = snip(&path, "unused", Some("wasm_streams")).unwrap_err();
        assert!(
            refused.contains("pulso_widget::show refers to"),
            "{refused}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "unchanged");

        // Named otherwise, nothing is snipped and the module still runs the same.
        let path = dir.join("other.wasm");
        std::fs::write(&path, module("leptos[1]::f").emit_wasm()).unwrap();
        assert_eq!(snip(&path, "unused", Some("wasm_streams")).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dead_exports_go_and_their_code_becomes_unreachable() {
        let dir = std::env::temp_dir().join(format!("pulso-snip-dead-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dead.wasm");
        let mut module = Module::default();
        let mut inner = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        inner.func_body().i32_const(7).drop();
        let inner = inner.finish(vec![], &mut module.funcs);
        module.funcs.get_mut(inner).name = Some("wasm_streams[1]::f".to_owned());
        // The export calls into the crate: both are dead together.
        let mut shim = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        shim.func_body().call(inner);
        let shim = shim.finish(vec![], &mut module.funcs);
        module.funcs.get_mut(shim).name = Some("unusedthing_pull".to_owned());
        module.exports.add("unusedthing_pull", shim);
        let mut live = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        live.func_body().i32_const(1).drop();
        let live = live.finish(vec![], &mut module.funcs);
        module.exports.add("show", live);
        std::fs::write(&path, module.emit_wasm()).unwrap();

        assert_eq!(snip(&path, "unused", Some("wasm_streams")).unwrap(), 2);
        let snipped = Module::from_file(&path).unwrap();
        let exports: Vec<&str> = snipped.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(exports, ["show"]);
        let unreachable = |body: &walrus::LocalFunction| {
            let instrs = &body.block(body.entry_block()).instrs;
            instrs.len() == 1 && matches!(instrs[0].0, walrus::ir::Instr::Unreachable(_))
        };
        let mut bodies: Vec<(Option<&str>, bool)> = snipped
            .funcs
            .iter_local()
            .map(|(id, body)| (snipped.funcs.get(id).name.as_deref(), unreachable(body)))
            .collect();
        bodies.sort_unstable();
        assert_eq!(
            bodies,
            [
                (None, false),
                (Some("unusedthing_pull"), true),
                (Some("wasm_streams[1]::f"), true)
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
