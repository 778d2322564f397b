//! A report's counts from the rollups: answers counted per UTC day and hour.
//!
//! Most of a report is whole UTC days. A day is split where something the
//! report cuts at falls inside it: the filter's `from` or `to`, or the start
//! of a week in the report's time zone (a Monday's midnight there: inside a
//! UTC day unless the zone is at UTC's own time).
//! Every piece of a split day but its longest is counted from the hours it
//! covers whole, plus the answers themselves in the part-hours at its edges
//! (only where a cut is not on the hour: a `from` to the millisecond, a zone
//! half an hour off UTC); the longest is the day less the others. So a
//! report reads a row per day and key, and a few hours per week; answers
//! only in the minutes around cuts that are off the hour.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::StreamExt;

use super::{Answers, Place, Totals, counts_displays, follow_up_key, monday, week_of};
use crate::store::{AnswerRow, Filter, Periods, Store, StoreError, Unit};

const DAY: i64 = Unit::Day.millis();
const HOUR: i64 = Unit::Hour.millis();

/// Survey, step (`""`: none), band, class and score.
type ScoreKey = (String, String, String, String, i64);
/// Survey, step, band and the reasons chosen (`reason_ids`; [`OPEN`] for
/// an open follow-up).
type ReasonKey = (String, String, String, String);
/// Survey and step.
type DisplayKey = (String, String);
/// Band, and whether the call to action was clicked.
type CtaKey = (String, bool);

/// Counts of answers, of follow-ups and of displays, by what a report
/// breaks them down by (apart from time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counts {
    scores: HashMap<ScoreKey, i64>,
    reasons: HashMap<ReasonKey, i64>,
    /// Shown, and dismissed.
    displays: HashMap<DisplayKey, (i64, i64)>,
    /// Answers offered the thank-you's call to action.
    ctas: HashMap<CtaKey, i64>,
}

impl Counts {
    /// Adds `other`, times `sign`.
    fn add(&mut self, other: &Counts, sign: i64) {
        for (key, n) in &other.scores {
            *self.scores.entry(key.clone()).or_default() += sign * n;
        }
        for (key, n) in &other.reasons {
            *self.reasons.entry(key.clone()).or_default() += sign * n;
        }
        for (key, (shown, dismissed)) in &other.displays {
            let slot = self.displays.entry(key.clone()).or_default();
            slot.0 += sign * shown;
            slot.1 += sign * dismissed;
        }
        for (key, n) in &other.ctas {
            *self.ctas.entry(key.clone()).or_default() += sign * n;
        }
    }

    fn add_row(&mut self, row: &AnswerRow) {
        let key = (
            row.survey.clone(),
            row.step.clone().unwrap_or_default(),
            row.band.clone(),
            row.class.clone(),
            row.score,
        );
        *self.scores.entry(key).or_default() += 1;
        if let Some(reasons) = follow_up_key(row) {
            let key = (
                row.survey.clone(),
                row.step.clone().unwrap_or_default(),
                row.band.clone(),
                reasons,
            );
            *self.reasons.entry(key).or_default() += 1;
        }
        if let Some(clicked) = row.cta {
            *self.ctas.entry((row.band.clone(), clicked)).or_default() += 1;
        }
    }

    /// Into `totals`, all in `week`.
    fn into_totals(self, totals: &mut Totals, week: &str) {
        for ((survey, step, band, class, score), n) in self.scores {
            let answers = Answers {
                week,
                survey: &survey,
                step: &step,
                band: &band,
                class: &class,
                score,
            };
            totals.add(&answers, u64::try_from(n).unwrap_or(0));
        }
        for ((survey, step, band, reasons), n) in self.reasons {
            let at = Place {
                week,
                survey: &survey,
                step: &step,
            };
            totals.add_follow_ups(&at, &band, &reasons, u64::try_from(n).unwrap_or(0));
        }
        for ((survey, step), (shown, dismissed)) in self.displays {
            let at = Place {
                week,
                survey: &survey,
                step: &step,
            };
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            totals.add_displays(&at, count(shown), count(dismissed));
        }
        for ((band, clicked), n) in self.ctas {
            totals.add_ctas(&band, clicked, u64::try_from(n).unwrap_or(0));
        }
    }
}

/// Counts per period, from the rollups of `unit`.
async fn read(
    store: &Store,
    site: &str,
    filter: &Filter,
    unit: Unit,
    periods: &Periods,
) -> Result<BTreeMap<i64, Counts>, StoreError> {
    let (scores, reasons, displays, ctas) = futures_util::try_join!(
        store.score_counts(site, filter, unit, periods),
        store.reason_counts(site, filter, unit, periods),
        async {
            if !counts_displays(filter) {
                return Ok(Vec::new());
            }
            store
                .display_counts(
                    site,
                    filter.survey.as_deref(),
                    filter.step.as_deref(),
                    unit,
                    periods,
                )
                .await
        },
        store.cta_counts(site, filter, unit, periods),
    )?;
    let mut counts: BTreeMap<i64, Counts> = BTreeMap::new();
    for c in scores {
        let key = (c.survey, c.step, c.band, c.class, c.score);
        *counts
            .entry(c.period)
            .or_default()
            .scores
            .entry(key)
            .or_default() += c.n;
    }
    for c in reasons {
        *counts
            .entry(c.period)
            .or_default()
            .reasons
            .entry((c.survey, c.step, c.band, c.reasons))
            .or_default() += c.n;
    }
    for c in displays {
        let slot = counts
            .entry(c.period)
            .or_default()
            .displays
            .entry((c.survey, c.step))
            .or_default();
        slot.0 += c.shown;
        slot.1 += c.dismissed;
    }
    for c in ctas {
        *counts
            .entry(c.period)
            .or_default()
            .ctas
            .entry((c.band, c.clicked))
            .or_default() += c.n;
    }
    Ok(counts)
}

/// How often `serve` folds the finished days into the day rollups.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Folds every finished UTC day into the day rollups: at start, then every
/// ten minutes, so a report reads at most the hours of today and of a day
/// that ended since. (With several collectors on one database each runs
/// it; the later ones find the days folded.)
pub async fn keep_folding(store: Store) {
    let mut tick = tokio::time::interval(FOLD_EVERY);
    loop {
        tick.tick().await;
        let today = jiff::Timestamp::now().as_millisecond().div_euclid(DAY);
        match store.fold_rollups(today).await {
            Ok(0) => {}
            Ok(days) => tracing::info!(days, "folded the finished days into the day rollups"),
            Err(error) => tracing::warn!(%error, "folding the rollups failed; tried again soon"),
        }
    }
}

/// Counts per UTC day in [from, to) (`None`: unbounded): the folded days
/// from the day rollups, the days after them summed from their hours.
async fn read_days(
    store: &Store,
    site: &str,
    filter: &Filter,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<BTreeMap<i64, Counts>, StoreError> {
    // First: a fold after this read only moves days read from hours here.
    let folded = store.folded_day().await?;
    let before = to.map_or(folded, |t| t.min(folded));
    let after = from.map_or(folded, |f| f.max(folded));
    let folded_days = async {
        if from.is_none_or(|f| f < before) {
            read(
                store,
                site,
                filter,
                Unit::Day,
                &Periods::Range(from, Some(before)),
            )
            .await
        } else {
            Ok(BTreeMap::new())
        }
    };
    let recent_hours = async {
        if to.is_none_or(|t| after < t) {
            let hours = Periods::Range(Some(after * 24), to.map(|t| t * 24));
            read(store, site, filter, Unit::Hour, &hours).await
        } else {
            Ok(BTreeMap::new())
        }
    };
    let (mut days, hours) = futures_util::try_join!(folded_days, recent_hours)?;
    for (hour, counts) in hours {
        days.entry(hour.div_euclid(24)).or_default().add(&counts, 1);
    }
    Ok(days)
}

/// A stretch of one UTC day between two cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    start: i64,
    end: i64,
    /// Inside the report's [from, to).
    counted: bool,
}

/// Where the report cuts the UTC day `day` (days since the epoch), strictly
/// inside it, in order: `from`, `to`, the start of a week in `tz`.
fn cuts(day: i64, from: Option<i64>, to: Option<i64>, tz: &jiff::tz::TimeZone) -> Vec<i64> {
    let (start, end) = (day * DAY, (day + 1) * DAY);
    let inside = |t: i64| start < t && t < end;
    let mut cuts: Vec<i64> = [from, to, week_start(start, end, tz)]
        .into_iter()
        .flatten()
        .filter(|&t| inside(t))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The instant a week starts in `tz` within [start, end), if one does (a
/// UTC day holds at most one Monday midnight).
fn week_start(start: i64, end: i64, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let last = monday(end - 1, tz)?;
    if monday(start, tz)? == last {
        return None;
    }
    let begins = last
        .to_zoned_datetime(tz.clone())
        .ok()?
        .start_of_day()
        .ok()?;
    Some(begins.timestamp().as_millisecond())
}

/// The UTC day `day` cut at `cuts`, each piece marked counted or not.
fn pieces(day: i64, cuts: &[i64], from: Option<i64>, to: Option<i64>) -> Vec<Piece> {
    let mut edges = vec![day * DAY];
    edges.extend_from_slice(cuts);
    edges.push((day + 1) * DAY);
    edges
        .windows(2)
        .map(|w| Piece {
            start: w[0],
            end: w[1],
            counted: from.is_none_or(|f| f <= w[0]) && to.is_none_or(|t| w[1] <= t),
        })
        .collect()
}

/// The whole hours of [start, end), and the part-hours at its edges.
fn hours_of(start: i64, end: i64) -> (std::ops::Range<i64>, Vec<(i64, i64)>) {
    let (first, last) = (
        start.div_euclid(HOUR) + i64::from(start % HOUR != 0),
        end / HOUR,
    );
    if first > last {
        return (0..0, vec![(start, end)]);
    }
    let mut parts = Vec::new();
    if start < first * HOUR {
        parts.push((start, first * HOUR));
    }
    if last * HOUR < end {
        parts.push((last * HOUR, end));
    }
    (first..last, parts)
}

/// What a report counts of the answers `filter` lets through on `site`,
/// weeks in `tz`.
pub(super) async fn totals(
    store: &Store,
    site: &str,
    filter: &Filter,
    tz: &jiff::tz::TimeZone,
) -> Result<Totals, StoreError> {
    let mut totals = Totals::default();
    let (from, to) = (filter.from, filter.to);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Ok(totals);
    }
    let days = read_days(
        store,
        site,
        filter,
        from.map(|f| f.div_euclid(DAY)),
        to.map(|t| (t + DAY - 1).div_euclid(DAY)),
    )
    .await?;

    // The days that are split, and what of them is read hour by hour and
    // answer by answer: every piece but the longest.
    let mut split: HashMap<i64, Vec<Piece>> = HashMap::new();
    let mut hours: BTreeSet<i64> = BTreeSet::new();
    let mut parts: Vec<(i64, i64)> = Vec::new();
    for &day in days.keys() {
        let cuts = cuts(day, from, to, tz);
        if cuts.is_empty() {
            continue;
        }
        let pieces = pieces(day, &cuts, from, to);
        for piece in direct(&pieces) {
            let (whole, edges) = hours_of(piece.start, piece.end);
            hours.extend(whole);
            parts.extend(edges);
        }
        split.insert(day, pieces);
    }
    let hours = if hours.is_empty() {
        BTreeMap::new()
    } else {
        let list = Periods::List(hours.into_iter().collect());
        read(store, site, filter, Unit::Hour, &list).await?
    };
    let mut rows: HashMap<(i64, i64), Counts> = HashMap::new();
    for (start, end) in parts {
        let only = Filter {
            from: Some(start),
            to: Some(end),
            ..filter.clone()
        };
        let mut counts = Counts::default();
        let mut answers = std::pin::pin!(store.answers(site, &only));
        while let Some(row) = answers.next().await {
            counts.add_row(&row?);
        }
        if counts_displays(filter) {
            let displays = store
                .displays_between(
                    site,
                    filter.survey.as_deref(),
                    filter.step.as_deref(),
                    start,
                    end,
                )
                .await?;
            for (_, survey, step, dismissed) in displays {
                let slot = counts.displays.entry((survey, step)).or_default();
                slot.0 += 1;
                slot.1 += i64::from(dismissed);
            }
        }
        rows.insert((start, end), counts);
    }

    for (day, counts) in days {
        let Some(pieces) = split.get(&day) else {
            counts.into_totals(&mut totals, &week_of(day * DAY, tz));
            continue;
        };
        let mut rest = counts;
        let longest = longest(pieces);
        let mut counted = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if i == longest {
                continue;
            }
            let (whole, edges) = hours_of(piece.start, piece.end);
            let mut own = Counts::default();
            for hour in whole {
                if let Some(c) = hours.get(&hour) {
                    own.add(c, 1);
                }
            }
            for edge in edges {
                if let Some(c) = rows.get(&edge) {
                    own.add(c, 1);
                }
            }
            rest.add(&own, -1);
            if piece.counted {
                counted.push((piece.start, own));
            }
        }
        if pieces[longest].counted {
            counted.push((pieces[longest].start, rest));
        }
        for (start, counts) in counted {
            counts.into_totals(&mut totals, &week_of(start, tz));
        }
    }
    Ok(totals)
}

/// The index of the longest piece (the first of equals).
fn longest(pieces: &[Piece]) -> usize {
    let mut best = 0;
    for (i, p) in pieces.iter().enumerate() {
        if p.end - p.start > pieces[best].end - pieces[best].start {
            best = i;
        }
    }
    best
}

/// The pieces read directly: all but the longest.
fn direct(pieces: &[Piece]) -> impl Iterator<Item = &Piece> {
    let longest = longest(pieces);
    pieces
        .iter()
        .enumerate()
        .filter(move |(i, _)| *i != longest)
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn day_of(s: &str) -> i64 {
        ms(s) / DAY
    }

    #[test]
    fn a_utc_report_splits_no_day() {
        let utc = jiff::tz::TimeZone::UTC;
        // Monday 30 Nov 2026: the week starts at the day's own start.
        assert_eq!(
            cuts(day_of("2026-11-30T12:00:00Z"), None, None, &utc),
            Vec::<i64>::new()
        );
        assert_eq!(
            cuts(day_of("2026-11-29T12:00:00Z"), None, None, &utc),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn a_week_starts_inside_the_utc_day_before_in_madrid() {
        let madrid = jiff::tz::TimeZone::get("Europe/Madrid").unwrap();
        // Monday 30 Nov 2026 00:00 in Madrid is Sunday 23:00 UTC.
        let sunday = day_of("2026-11-29T12:00:00Z");
        assert_eq!(
            cuts(sunday, None, None, &madrid),
            [ms("2026-11-29T23:00:00Z")]
        );
        assert_eq!(cuts(sunday + 1, None, None, &madrid), Vec::<i64>::new());
        // In summer, 22:00 UTC.
        let sunday = day_of("2026-06-28T12:00:00Z");
        assert_eq!(
            cuts(sunday, None, None, &madrid),
            [ms("2026-06-28T22:00:00Z")]
        );
        // New York: Monday 00:00 is 05:00 UTC on Monday.
        let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            cuts(sunday + 1, None, None, &ny),
            [ms("2026-06-29T04:00:00Z")]
        );
    }

    #[test]
    fn from_and_to_cut_their_days_and_mark_what_counts() {
        let utc = jiff::tz::TimeZone::UTC;
        let day = day_of("2026-11-24T00:00:00Z");
        let from = ms("2026-11-24T10:30:00Z");
        let to = ms("2026-11-24T12:00:00Z");
        let cut = cuts(day, Some(from), Some(to), &utc);
        assert_eq!(cut, [from, to]);
        let p = pieces(day, &cut, Some(from), Some(to));
        assert_eq!(
            p.iter().map(|p| p.counted).collect::<Vec<_>>(),
            [false, true, false]
        );
        // The longest piece (after 12:00) is the day less the others.
        assert_eq!(longest(&p), 2);
        assert_eq!(direct(&p).count(), 2);
    }

    #[test]
    fn a_piece_is_whole_hours_and_part_hours_at_its_edges() {
        let h = HOUR;
        assert_eq!(hours_of(2 * h, 5 * h), (2..5, vec![]));
        assert_eq!(
            hours_of(2 * h + 30, 5 * h + 7),
            (3..5, vec![(2 * h + 30, 3 * h), (5 * h, 5 * h + 7)])
        );
        // Inside one hour: all of it answer by answer.
        assert_eq!(
            hours_of(2 * h + 1, 2 * h + 9),
            (0..0, vec![(2 * h + 1, 2 * h + 9)])
        );
        assert_eq!(hours_of(2 * h, 2 * h + 9), (2..2, vec![(2 * h, 2 * h + 9)]));
    }
}
