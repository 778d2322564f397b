//! Where in `pulso.toml` a value is written: the line a configuration error
//! names, found by walking toml's spanned document along the error's path.

use survey::PathSeg;

pub(super) fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `sites.shop.surveys[0].bands[1]`: a path as people read it.
pub(super) fn dotted(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) if out.is_empty() => out.push_str(k),
            PathSeg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Where in the file the value at `path` is written: the deepest part of the
/// path that the file spells out (a defaulted value points at its table).
pub(super) fn offset_of(text: &str, path: &[PathSeg]) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue>]> = None;
    for seg in path {
        let value = match (seg, table, array) {
            (PathSeg::Key(name), Some(t), _) => {
                let Some((k, v)) = t
                    .iter()
                    .find(|(k, _)| k.get_ref().as_ref() == name.as_str())
                else {
                    break;
                };
                best = Some(k.span().start);
                v
            }
            (PathSeg::Index(i), _, Some(items)) => {
                let Some(v) = items.get(*i) else { break };
                best = Some(v.span().start);
                v
            }
            _ => break,
        };
        (table, array) = match value.get_ref() {
            DeValue::Table(t) => (Some(t), None),
            DeValue::Array(a) => (None, Some(&a[..])),
            _ => (None, None),
        };
    }
    best
}

/// The segments of a dotted path (`assign[0].to`, `deadlines.detractor`).
pub(super) fn segments(dotted: &str) -> Vec<PathSeg> {
    let mut out = Vec::new();
    for part in dotted.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        out.push(PathSeg::Key(key.to_owned()));
        if let Some(i) = index {
            out.push(PathSeg::Index(i));
        }
    }
    out
}
