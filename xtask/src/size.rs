//! `cargo xtask size`: what the loader and the lazy bundle cost on the wire.

use std::path::Path;

use crate::Result;
use crate::assets::{self, brotli, gzip, read};

/// Budgets (brotli bytes): the loader (1.2 KB); the lazy bundle under
/// PostHog's surveys extension with room to spare (39,598 B when set).
const LOADER_BUDGET: usize = 1200;
const BUNDLE_BUDGET: usize = 40_000;

pub fn run() -> Result {
    check(&assets::build()?)
}

/// Prints the sizes of what `built` holds and fails above the budgets
/// (`cargo xtask test` runs it on the build it tests).
pub fn check(built: &assets::Built) -> Result {
    println!("{:<28} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let loader = sizes(&built.loader)?;
    print_row("loader pulso.js", loader);
    let mut total = (0, 0, 0);
    for file in &built.bundle {
        let s = sizes(file)?;
        print_row(&file.file_name().unwrap_or_default().to_string_lossy(), s);
        total = (total.0 + s.0, total.1 + s.1, total.2 + s.2);
    }
    print_row("bundle total (lazy)", total);
    let mut over = Vec::new();
    if loader.2 > LOADER_BUDGET {
        over.push(format!(
            "loader {} > {LOADER_BUDGET} bytes brotli",
            loader.2
        ));
    }
    if total.2 > BUNDLE_BUDGET {
        over.push(format!("bundle {} > {BUNDLE_BUDGET} bytes brotli", total.2));
    }
    if over.is_empty() {
        println!(
            "within budget: loader <= {LOADER_BUDGET} B, bundle <= {BUNDLE_BUDGET} B (brotli)"
        );
        Ok(())
    } else {
        Err(format!("over budget: {}", over.join(", ")))
    }
}

fn sizes(path: &Path) -> Result<(usize, usize, usize)> {
    let bytes = read(path)?;
    Ok((bytes.len(), gzip(&bytes).len(), brotli(&bytes).len()))
}

fn print_row(name: &str, (raw, gz, br): (usize, usize, usize)) {
    println!("{name:<28} {raw:>9} {gz:>9} {br:>9}");
}
