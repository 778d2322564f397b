//! The NPS by segment: the answers a filter lets through grouped by the
//! value of one prop or kept trait (`by=prop:plan`, `by=trait:country`), the
//! most frequent values first and the rest together as "other", each with
//! its margin and whether it differs significantly from the rest of the
//! answers (the two-sample test of [`super::change`]).
//!
//! Counted answer by answer over the filter's rows: props are whatever a
//! page passes, so no rollup keeps them. Its cost follows the answers in
//! the filter's period (the dashboard asks for it only when a segment is
//! chosen).

use std::collections::HashMap;

use futures_util::StreamExt;
use serde::Serialize;

use super::{Change, SMALL_SAMPLE, Tally, change, round};
use crate::store::{AnswerRow, Filter, SegmentOf, Store, StoreError};

/// Values listed one by one; the rest are "other".
pub const TOP_VALUES: usize = 8;

/// The breakdown of a report by a prop or a kept trait.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Segments {
    /// `prop:KEY` or `trait:KEY`.
    pub by: String,
    /// The most frequent values first; then, if any, the rest as one row
    /// (`other`), then the answers without the key (`value` null).
    pub values: Vec<SegmentStats>,
}

/// One value of a segment.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SegmentStats {
    /// The value (a number or boolean as JSON writes it); null for the
    /// answers without the key.
    pub value: Option<String>,
    /// The values past the first [`TOP_VALUES`], together.
    pub other: bool,
    pub answers: u64,
    pub nps: Option<f64>,
    pub margin_of_error: Option<f64>,
    pub small_sample: bool,
    /// This segment against the rest of the answers (all the others).
    pub against_rest: Option<Change>,
}

/// The value of `key` in a stored JSON object, as segments compare it.
fn value_of(json: Option<&str>, key: &str) -> Option<String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json?).ok()?;
    match map.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The segment value of one answer.
pub fn segment_of(row: &AnswerRow, of: SegmentOf, key: &str) -> Option<String> {
    match of {
        SegmentOf::Prop => value_of(Some(&row.props), key),
        SegmentOf::Trait => value_of(row.traits.as_deref(), key),
    }
}

/// Tallies per value into the breakdown.
pub fn breakdown(by: String, tallies: HashMap<Option<String>, Tally>) -> Segments {
    let mut total = Tally::default();
    for t in tallies.values() {
        total.detractors += t.detractors;
        total.passives += t.passives;
        total.promoters += t.promoters;
    }
    let mut known: Vec<(String, Tally)> = Vec::new();
    let mut missing = None;
    for (value, tally) in tallies {
        match value {
            Some(v) => known.push((v, tally)),
            None => missing = Some(tally),
        }
    }
    known.sort_by(|a, b| {
        b.1.answers()
            .cmp(&a.1.answers())
            .then_with(|| a.0.cmp(&b.0))
    });
    let row = |value: Option<String>, other: bool, tally: &Tally| SegmentStats {
        value,
        other,
        answers: tally.answers(),
        nps: tally.nps().map(|v| round(v, 1)),
        margin_of_error: tally.margin_of_error().map(|v| round(v, 1)),
        small_sample: tally.answers() < SMALL_SAMPLE,
        against_rest: change(tally, &total.without(tally)),
    };
    let mut values: Vec<SegmentStats> = known
        .iter()
        .take(TOP_VALUES)
        .map(|(v, t)| row(Some(v.clone()), false, t))
        .collect();
    if known.len() > TOP_VALUES {
        let mut rest = Tally::default();
        for (_, t) in &known[TOP_VALUES..] {
            rest.detractors += t.detractors;
            rest.passives += t.passives;
            rest.promoters += t.promoters;
        }
        values.push(row(None, true, &rest));
    }
    if let Some(tally) = missing {
        values.push(row(None, false, &tally));
    }
    Segments { by, values }
}

/// The breakdown of the answers `filter` lets through on `site` by `key` of
/// `of`.
pub async fn segments(
    store: &Store,
    site: &str,
    filter: &Filter,
    of: SegmentOf,
    key: &str,
) -> Result<Segments, StoreError> {
    let mut tallies: HashMap<Option<String>, Tally> = HashMap::new();
    let mut rows = std::pin::pin!(store.answers(site, filter));
    while let Some(row) = rows.next().await {
        let row = row?;
        tallies
            .entry(segment_of(&row, of, key))
            .or_default()
            .add(&row.class, 1);
    }
    Ok(breakdown(format!("{}:{key}", of.name()), tallies))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(detractors: u64, passives: u64, promoters: u64) -> Tally {
        Tally {
            detractors,
            passives,
            promoters,
        }
    }

    #[test]
    fn each_value_against_the_rest() {
        let tallies = HashMap::from([
            (Some("pro".to_owned()), tally(10, 20, 70)),
            (Some("free".to_owned()), tally(60, 20, 20)),
            (None, tally(1, 1, 1)),
        ]);
        let s = breakdown("trait:plan".into(), tallies);
        let values: Vec<_> = s
            .values
            .iter()
            .map(|v| (v.value.clone(), v.answers))
            .collect();
        assert_eq!(
            values,
            [
                (Some("free".into()), 100),
                (Some("pro".into()), 100),
                (None, 3)
            ]
        );
        // "pro" (NPS 60) against free and the rest together (61 d, 21 p, 21 P of 103).
        let pro = &s.values[1];
        assert_eq!(pro.nps, Some(60.0));
        let rest = tally(61, 21, 21);
        let expected = change(&tally(10, 20, 70), &rest).unwrap();
        assert_eq!(pro.against_rest, Some(expected));
        assert!(expected.significant);
        // Three answers: a small sample, never significant.
        let none = &s.values[2];
        assert!(none.small_sample);
        assert!(!none.against_rest.unwrap().significant);
    }

    #[test]
    fn past_the_top_values_the_rest_is_other() {
        let tallies: HashMap<Option<String>, Tally> = (0..12u64)
            .map(|i| (Some(format!("v{i:02}")), tally(1, 0, i + 1)))
            .collect();
        let s = breakdown("prop:country".into(), tallies);
        assert_eq!(s.values.len(), TOP_VALUES + 1);
        assert_eq!(s.values[0].value.as_deref(), Some("v11"));
        let other = s.values.last().unwrap();
        assert!(other.other);
        // v00..v03: 4 detractors, 1 + 2 + 3 + 4 promoters.
        assert_eq!(other.answers, 14);
    }

    #[test]
    fn values_as_segments_compare_them() {
        let json = Some(r#"{"plan":"pro","total":24.0,"trial":false}"#);
        assert_eq!(value_of(json, "plan").as_deref(), Some("pro"));
        assert_eq!(value_of(json, "total").as_deref(), Some("24.0"));
        assert_eq!(value_of(json, "trial").as_deref(), Some("false"));
        assert_eq!(value_of(json, "none"), None);
        assert_eq!(value_of(None, "plan"), None);
    }
}
