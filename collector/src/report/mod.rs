//! NPS reports: the score with its 95% margin of error, counts and shares per
//! class and band, the same per funnel step and survey, a weekly series, and the
//! reasons per band with the latest "Other" texts. Small samples are flagged,
//! never hidden. Counted from the rollups the database keeps (`rollups`), or
//! answer by answer (`report_by_rows`, the reference they are tested against).

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;
use survey::OTHER;

use crate::config::Site;
use crate::export::rfc3339;
use crate::store::{AnswerRow, Filter, OPEN, Store, StoreError};

mod compare;
mod rollups;
mod segments;

pub use compare::{Change, change};
pub use rollups::keep_folding;
pub use segments::{SegmentStats, Segments, segments};

/// Below this many answers a score is flagged as a small sample: its margin of
/// error is wide and the normal approximation behind it is rough.
pub const SMALL_SAMPLE: u64 = 30;
/// "Other" texts kept per band, newest first.
const LATEST_OTHER: usize = 10;

/// Answers counted by the classic NPS classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub detractors: u64,
    pub passives: u64,
    pub promoters: u64,
}

impl Tally {
    /// `n` answers of `class` (`detractor`, `passive`, else promoters).
    pub fn add(&mut self, class: &str, n: u64) {
        match class {
            "detractor" => self.detractors += n,
            "passive" => self.passives += n,
            _ => self.promoters += n,
        }
    }

    pub fn answers(&self) -> u64 {
        self.detractors + self.passives + self.promoters
    }

    /// % promoters − % detractors, −100 to 100; `None` without answers.
    pub fn nps(&self) -> Option<f64> {
        let n = self.answers() as f64;
        (n > 0.0).then(|| 100.0 * (self.promoters as f64 - self.detractors as f64) / n)
    }

    /// Half the width of the 95% confidence interval of the NPS, in points:
    /// 1.96 · √((p + d − (p − d)²) / n), p and d the promoter and detractor shares
    /// (the variance of a score of +1 / 0 / −1 per answer).
    pub fn margin_of_error(&self) -> Option<f64> {
        let n = self.answers() as f64;
        (n > 0.0).then(|| {
            let (p, d) = (self.promoters as f64 / n, self.detractors as f64 / n);
            let variance = (p + d - (p - d).powi(2)).max(0.0);
            100.0 * 1.96 * (variance / n).sqrt()
        })
    }
}

/// A count and its share of the answers in its group.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Share {
    pub count: u64,
    pub share: f64,
}

/// The numbers of one group of answers.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Stats {
    pub answers: u64,
    pub nps: Option<f64>,
    pub margin_of_error: Option<f64>,
    pub small_sample: bool,
    pub classes: BTreeMap<&'static str, Share>,
    pub bands: BTreeMap<String, Share>,
    /// Answers per score, 0 to 10.
    #[schema(value_type = Vec<u64>, min_items = 11, max_items = 11)]
    pub scores: [u64; 11],
    /// Cards shown (posted by the card as it shows) in this survey, step and
    /// time; a class or band filter counts none (a display has no score).
    pub displays: u64,
    /// Displays closed before any score.
    pub dismissed_displays: u64,
    /// Answers per display; `null` without displays.
    pub response_rate: Option<f64>,
    /// Dismissed displays per display; `null` without displays.
    pub dismissal_rate: Option<f64>,
    /// Under 10%: the NPS speaks for few of the people asked, and leans
    /// towards the very happy and the very unhappy.
    pub low_response_rate: bool,
    /// Answers that went on to a follow-up (open or closed); the rest are
    /// scores alone.
    pub with_follow_up: u64,
    /// `with_follow_up` per answer; `null` without answers.
    pub follow_up_rate: Option<f64>,
    /// Against the period before: a week against the week before it, a
    /// wave against the wave before. `null` for other groups, and where the
    /// period before has no answers.
    pub change: Option<Change>,
}

/// Below this response rate a report says its NPS speaks for few.
pub const LOW_RESPONSE_RATE: f64 = 0.1;

#[derive(Default)]
struct Group {
    tally: Tally,
    bands: BTreeMap<String, u64>,
    scores: [u64; 11],
    followed: u64,
    displays: u64,
    dismissed: u64,
}

impl Group {
    /// `n` answers of `score`, in `class` and `band`.
    fn add(&mut self, class: &str, band: &str, score: i64, n: u64) {
        self.tally.add(class, n);
        *self.bands.entry(band.to_owned()).or_default() += n;
        if let Some(slot) = usize::try_from(score)
            .ok()
            .and_then(|s| self.scores.get_mut(s))
        {
            *slot += n;
        }
    }

    fn stats(&self) -> Stats {
        let n = self.tally.answers();
        let share = |count: u64| Share {
            count,
            share: if n == 0 {
                0.0
            } else {
                round(count as f64 / n as f64, 4)
            },
        };
        Stats {
            answers: n,
            nps: self.tally.nps().map(|v| round(v, 1)),
            margin_of_error: self.tally.margin_of_error().map(|v| round(v, 1)),
            small_sample: n < SMALL_SAMPLE,
            classes: BTreeMap::from([
                ("detractor", share(self.tally.detractors)),
                ("passive", share(self.tally.passives)),
                ("promoter", share(self.tally.promoters)),
            ]),
            bands: self
                .bands
                .iter()
                .map(|(b, c)| (b.clone(), share(*c)))
                .collect(),
            scores: self.scores,
            displays: self.displays,
            dismissed_displays: self.dismissed,
            response_rate: rate(n, self.displays),
            dismissal_rate: rate(self.dismissed, self.displays),
            low_response_rate: rate(n, self.displays).is_some_and(|r| r < LOW_RESPONSE_RATE),
            with_follow_up: self.followed,
            follow_up_rate: rate(self.followed, n),
            change: None,
        }
    }

    /// The stats, with the change against `before`.
    fn stats_against(&self, before: Option<&Group>) -> Stats {
        Stats {
            change: before.and_then(|b| change(&self.tally, &b.tally)),
            ..self.stats()
        }
    }
}

/// What a report counts, however it was counted (answer by answer, or from
/// the rollups): the groups of every breakdown and the reasons per band.
#[derive(Default)]
struct Totals {
    overall: Group,
    by_step: BTreeMap<String, Group>,
    by_survey: BTreeMap<String, Group>,
    weekly: BTreeMap<String, Group>,
    /// Per band: closed answers, and how often each reason was chosen.
    reasons: BTreeMap<String, (u64, BTreeMap<String, u64>)>,
    /// Per band: answers offered the thank-you's call to action, and those
    /// that clicked it.
    ctas: BTreeMap<String, (u64, u64)>,
}

/// Where in a report's breakdowns something counts: its week, survey and
/// step (`""`: none).
struct Place<'a> {
    week: &'a str,
    survey: &'a str,
    step: &'a str,
}

/// Whether a filter lets displays be counted: one that asks for a class,
/// a band or the dismissed answers alone does not (a display has none).
fn counts_displays(filter: &Filter) -> bool {
    filter.class.is_none()
        && filter.band.is_none()
        && filter.segments.is_empty()
        && !matches!(filter.dismissed, crate::store::Dismissed::Only)
}

/// What the reason rollups key an answer's follow-up by: its reasons when
/// closed, [`OPEN`] when open, nothing without one.
fn follow_up_key(row: &AnswerRow) -> Option<String> {
    match row.follow_up.as_deref()? {
        "closed" => Some(row.reason_ids.clone().unwrap_or_default()),
        _ => Some(OPEN.to_owned()),
    }
}

/// Answers alike in everything a report breaks them down by.
struct Answers<'a> {
    week: &'a str,
    survey: &'a str,
    step: &'a str,
    band: &'a str,
    class: &'a str,
    score: i64,
}

impl Totals {
    fn add(&mut self, a: &Answers, n: u64) {
        if n == 0 {
            return;
        }
        self.overall.add(a.class, a.band, a.score, n);
        for (groups, key) in [
            (&mut self.by_step, a.step),
            (&mut self.by_survey, a.survey),
            (&mut self.weekly, a.week),
        ] {
            match groups.get_mut(key) {
                Some(group) => group.add(a.class, a.band, a.score, n),
                None => {
                    let mut group = Group::default();
                    group.add(a.class, a.band, a.score, n);
                    groups.insert(key.to_owned(), group);
                }
            }
        }
    }

    /// The groups `at` counts in: overall, its step, survey and week.
    fn groups_of(&mut self, at: &Place) -> [&mut Group; 4] {
        let [step, survey, week] = [
            (&mut self.by_step, at.step),
            (&mut self.by_survey, at.survey),
            (&mut self.weekly, at.week),
        ]
        .map(|(groups, key)| {
            if !groups.contains_key(key) {
                groups.insert(key.to_owned(), Group::default());
            }
            groups.get_mut(key).expect("just inserted")
        });
        [&mut self.overall, step, survey, week]
    }

    /// `n` follow-ups at `at` in `band`: closed ones that chose `reasons`
    /// (`;`-joined reason ids), or open ones ([`OPEN`]).
    fn add_follow_ups(&mut self, at: &Place, band: &str, reasons: &str, n: u64) {
        if n == 0 {
            return;
        }
        for group in self.groups_of(at) {
            group.followed += n;
        }
        if reasons != OPEN {
            self.add_reasons(band, reasons, n);
        }
    }

    /// `shown` displays at `at`, `dismissed` of them closed unanswered.
    fn add_displays(&mut self, at: &Place, shown: u64, dismissed: u64) {
        if shown == 0 && dismissed == 0 {
            return;
        }
        for group in self.groups_of(at) {
            group.displays += shown;
            group.dismissed += dismissed;
        }
    }

    /// `n` answers in `band` offered the call to action, `clicked` or not.
    fn add_ctas(&mut self, band: &str, clicked: bool, n: u64) {
        if n == 0 {
            return;
        }
        let (offered, clicks) = self.ctas.entry(band.to_owned()).or_default();
        *offered += n;
        if clicked {
            *clicks += n;
        }
    }

    /// `n` closed follow-ups in `band` that chose `reason_ids` (`;`-joined).
    fn add_reasons(&mut self, band: &str, reason_ids: &str, n: u64) {
        if n == 0 {
            return;
        }
        let (answers, reasons) = self.reasons.entry(band.to_owned()).or_default();
        *answers += n;
        for id in reason_ids.split(';').filter(|s| !s.is_empty()) {
            *reasons.entry(id.to_owned()).or_default() += n;
        }
    }

    /// The report, given each band's latest "Other" texts (newest first)
    /// and the team's follow-up.
    fn finish(
        self,
        site: &Site,
        mut other: BTreeMap<String, Vec<OtherText>>,
        response_times: crate::inbox::times::ResponseTimes,
    ) -> Report {
        let reasons = self
            .reasons
            .into_iter()
            .map(|(band, (closed_answers, reasons))| {
                let mut top: Vec<ReasonCount> = reasons
                    .into_iter()
                    .map(|(id, count)| ReasonCount {
                        text: reason_text(site, &band, &id),
                        id,
                        count,
                    })
                    .collect();
                top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
                let latest_other = other.remove(&band).unwrap_or_default();
                (
                    band,
                    BandReasons {
                        closed_answers,
                        top,
                        latest_other,
                    },
                )
            })
            .collect();
        let stats = |groups: BTreeMap<String, Group>| {
            groups
                .into_iter()
                .map(|(k, g)| (k, g.stats()))
                .collect::<BTreeMap<_, _>>()
        };
        // Each week against the week before it (its Monday 7 days earlier).
        let weekly = self
            .weekly
            .iter()
            .map(|(week, g)| {
                let before = week
                    .parse::<jiff::civil::Date>()
                    .ok()
                    .and_then(|d| d.checked_sub(jiff::Span::new().days(7)).ok())
                    .and_then(|d| self.weekly.get(&d.to_string()));
                (week.clone(), g.stats_against(before))
            })
            .collect();
        let calls_to_action = self
            .ctas
            .into_iter()
            .map(|(band, (offered, clicked))| {
                let rate = rate(clicked, offered);
                (
                    band,
                    CtaStats {
                        offered,
                        clicked,
                        click_rate: rate,
                    },
                )
            })
            .collect();
        Report {
            response_times,
            calls_to_action,
            site: site.key.clone(),
            overall: self.overall.stats(),
            by_step: stats(self.by_step),
            by_survey: stats(self.by_survey),
            weekly,
            waves: BTreeMap::new(),
            segments: None,
            reasons,
        }
    }
}

/// `part / whole` to 4 places; `None` when `whole` is 0.
fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round(part as f64 / whole as f64, 4))
}

fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub site: String,
    pub overall: Stats,
    pub by_step: BTreeMap<String, Stats>,
    pub by_survey: BTreeMap<String, Stats>,
    /// Keyed by the Monday (in the report's time zone) that starts the week.
    pub weekly: BTreeMap<String, Stats>,
    /// Per survey asked in waves: its latest waves (up to 12) that the
    /// report's period reaches, oldest first, each against the one before.
    pub waves: BTreeMap<String, Vec<WaveStats>>,
    /// The breakdown asked for with `by=prop:KEY|trait:KEY`; `null` without.
    pub segments: Option<Segments>,
    /// Per band: how often each reason was chosen, most first.
    pub reasons: BTreeMap<String, BandReasons>,
    /// Per band whose thank-you offers a call to action: how many answers
    /// were offered it and how many clicked it.
    pub calls_to_action: BTreeMap<String, CtaStats>,
    /// The team's follow-up of the answers of the period (the inbox): time
    /// to the first action and to resolve, per class and per owner.
    pub response_times: crate::inbox::times::ResponseTimes,
}

/// The answers of one wave of a survey: from its opening to the next one's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WaveStats {
    /// 1 for the first wave.
    pub number: i64,
    pub opens: String,
    pub closes: String,
    /// `stats.change` is against the wave before.
    pub stats: Stats,
}

/// A band's call to action: answers whose thank-you offered it, and those
/// that clicked it.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CtaStats {
    pub offered: u64,
    pub clicked: u64,
    /// `clicked` per `offered`; `null` when none was offered.
    pub click_rate: Option<f64>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct BandReasons {
    /// Closed answers in the band.
    pub closed_answers: u64,
    pub top: Vec<ReasonCount>,
    /// The latest "Other" texts, newest first.
    pub latest_other: Vec<OtherText>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReasonCount {
    pub id: String,
    pub text: String,
    pub count: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OtherText {
    pub at: String,
    pub survey: String,
    pub text: String,
}

/// The report of a site over the answers `filter` lets through; weeks start on
/// Mondays in `tz`. Counted from the rollups (see [`rollups`]): its cost
/// follows the number of days covered, not of answers.
pub async fn report(
    store: &Store,
    site: &Site,
    filter: &Filter,
    tz: &jiff::tz::TimeZone,
) -> Result<Report, StoreError> {
    // Props and traits are in no rollup: a filter on them reads the rows.
    if !filter.segments.is_empty() {
        return report_by_rows(store, site, filter, tz).await;
    }
    let totals = rollups::totals(store, &site.key, filter, tz).await?;
    let mut other = BTreeMap::new();
    for band in totals.reasons.keys() {
        let latest = store
            .latest_other(&site.key, band, filter, LATEST_OTHER as i64)
            .await?;
        let texts: Vec<OtherText> = latest
            .into_iter()
            .map(|o| OtherText {
                at: rfc3339(o.created_at),
                survey: o.survey,
                text: o.text,
            })
            .collect();
        if !texts.is_empty() {
            other.insert(band.clone(), texts);
        }
    }
    let handled = store.handled(&site.key, filter.from, filter.to).await?;
    let mut report = totals.finish(
        site,
        other,
        crate::inbox::times::ResponseTimes::of(&handled),
    );
    for (survey, windows) in wave_filters(site, filter, now()) {
        let mut groups = Vec::new();
        for (wave, only) in windows {
            groups.push((
                wave,
                rollups::totals(store, &site.key, &only, tz).await?.overall,
            ));
        }
        report.waves.insert(survey, wave_stats(groups));
    }
    Ok(report)
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `survey`'s answers in `wave` (from its opening to the next one's, as the
/// report's `waves` counts them), by class, from the rollups.
pub async fn wave_tally(
    store: &Store,
    site: &Site,
    survey: &str,
    wave: &crate::programme::Wave,
) -> Result<Tally, StoreError> {
    let filter = Filter {
        survey: Some(survey.to_owned()),
        from: Some(wave.opens),
        to: Some(wave.next),
        ..Filter::default()
    };
    Ok(rollups::totals(store, &site.key, &filter, &site.time_zone)
        .await?
        .overall
        .tally)
}

/// Waves kept per survey in a report.
const WAVES: usize = 12;

/// Per survey asked in waves, its latest waves opened by `now`, each with
/// `filter` narrowed to the survey and the wave (from its opening to the
/// next one's); waves outside the filter's period left out.
fn wave_filters(
    site: &Site,
    filter: &Filter,
    now: i64,
) -> Vec<(String, Vec<(crate::programme::Wave, Filter)>)> {
    site.waves
        .iter()
        .filter(|(survey, _)| filter.survey.as_ref().is_none_or(|s| s == *survey))
        .map(|(survey, schedule)| {
            let windows = schedule
                .opened(now, &site.time_zone, WAVES)
                .into_iter()
                .filter_map(|wave| {
                    let from = filter.from.map_or(wave.opens, |f| f.max(wave.opens));
                    let to = filter.to.map_or(wave.next, |t| t.min(wave.next));
                    let only = Filter {
                        survey: Some(survey.clone()),
                        from: Some(from),
                        to: Some(to),
                        ..filter.clone()
                    };
                    (from < to).then_some((wave, only))
                })
                .collect();
            (survey.clone(), windows)
        })
        .collect()
}

/// Each wave's stats against the wave before it (when that one is listed).
fn wave_stats(groups: Vec<(crate::programme::Wave, Group)>) -> Vec<WaveStats> {
    let mut out = Vec::with_capacity(groups.len());
    let mut before: Option<(i64, Group)> = None;
    for (wave, group) in groups {
        let previous = before
            .as_ref()
            .filter(|(n, _)| *n + 1 == wave.number)
            .map(|(_, g)| g);
        out.push(WaveStats {
            number: wave.number,
            opens: rfc3339(wave.opens),
            closes: rfc3339(wave.closes),
            stats: group.stats_against(previous),
        });
        before = Some((wave.number, group));
    }
    out
}

/// The same report counted answer by answer, in one pass over the rows an
/// export streams: the reference the rollups are held to.
pub async fn report_by_rows(
    store: &Store,
    site: &Site,
    filter: &Filter,
    tz: &jiff::tz::TimeZone,
) -> Result<Report, StoreError> {
    let mut totals = Totals::default();
    let mut other: BTreeMap<String, Vec<OtherText>> = BTreeMap::new();
    let mut rows = std::pin::pin!(store.answers(&site.key, filter));
    while let Some(row) = rows.next().await {
        let row = row?;
        totals.add_row(&row, &week_of(row.created_at, tz));
        if row.follow_up.as_deref() == Some("closed")
            && let Some(text) = row.other_text.clone()
        {
            let list = other.entry(row.band.clone()).or_default();
            list.push(OtherText {
                at: rfc3339(row.created_at),
                survey: row.survey.clone(),
                text,
            });
            if list.len() > LATEST_OTHER {
                list.remove(0);
            }
        }
    }
    for list in other.values_mut() {
        list.reverse();
    }
    if counts_displays(filter) {
        let displays = store
            .displays_between(
                &site.key,
                filter.survey.as_deref(),
                filter.step.as_deref(),
                filter.from.unwrap_or(i64::MIN),
                filter.to.unwrap_or(i64::MAX),
            )
            .await?;
        for (at, survey, step, dismissed) in displays {
            let week = week_of(at, tz);
            let place = Place {
                week: &week,
                survey: &survey,
                step: &step,
            };
            totals.add_displays(&place, 1, u64::from(dismissed));
        }
    }
    let handled = store.handled(&site.key, filter.from, filter.to).await?;
    let mut report = totals.finish(
        site,
        other,
        crate::inbox::times::ResponseTimes::of(&handled),
    );
    for (survey, windows) in wave_filters(site, filter, now()) {
        let mut groups = Vec::new();
        for (wave, only) in windows {
            let mut group = Group::default();
            let mut rows = std::pin::pin!(store.answers(&site.key, &only));
            while let Some(row) = rows.next().await {
                let row = row?;
                group.add(&row.class, &row.band, row.score, 1);
            }
            groups.push((wave, group));
        }
        report.waves.insert(survey, wave_stats(groups));
    }
    Ok(report)
}

impl Totals {
    /// One stored answer, in `week`.
    fn add_row(&mut self, row: &AnswerRow, week: &str) {
        self.add(
            &Answers {
                week,
                survey: &row.survey,
                step: row.step.as_deref().unwrap_or_default(),
                band: &row.band,
                class: &row.class,
                score: row.score,
            },
            1,
        );
        if let Some(reasons) = follow_up_key(row) {
            let at = Place {
                week,
                survey: &row.survey,
                step: row.step.as_deref().unwrap_or_default(),
            };
            self.add_follow_ups(&at, &row.band, &reasons, 1);
        }
        if let Some(clicked) = row.cta {
            self.add_ctas(&row.band, clicked, 1);
        }
    }
}

/// The Monday starting the week of `millis`, as a date in `tz`.
fn week_of(millis: i64, tz: &jiff::tz::TimeZone) -> String {
    monday(millis, tz)
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// The Monday (in `tz`) of the week of `millis`.
fn monday(millis: i64, tz: &jiff::tz::TimeZone) -> Option<jiff::civil::Date> {
    let timestamp = jiff::Timestamp::from_millisecond(millis).ok()?;
    let date = tz.to_datetime(timestamp).date();
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back)).ok()
}

/// A reason's text in its survey's default locale, from the configuration.
fn reason_text(site: &Site, band: &str, id: &str) -> String {
    if id == OTHER {
        return "Other".to_owned();
    }
    site.surveys
        .iter()
        .find_map(|s| {
            let reason = s
                .bands
                .iter()
                .find(|b| b.id == band)?
                .reasons
                .iter()
                .find(|r| r.id == id)?;
            reason.text.get(&s.default_locale).cloned()
        })
        .unwrap_or_else(|| id.to_owned())
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
    fn no_answers_no_score() {
        let t = tally(0, 0, 0);
        assert_eq!((t.nps(), t.margin_of_error()), (None, None));
    }

    #[test]
    fn one_answer_and_all_promoters() {
        assert_eq!(tally(0, 0, 1).nps(), Some(100.0));
        assert_eq!(tally(1, 0, 0).nps(), Some(-100.0));
        assert_eq!(tally(0, 1, 0).nps(), Some(0.0));
        // Everyone agrees: no spread, no margin (the small-sample flag warns).
        assert_eq!(tally(0, 0, 40).margin_of_error(), Some(0.0));
    }

    #[test]
    fn a_known_margin_of_error() {
        // 5 promoters, 3 passives, 2 detractors: NPS 30;
        // variance 0.5 + 0.2 − 0.3² = 0.61; 1.96 · √(0.61 / 10) = 0.4841 → 48.4 points.
        let t = tally(2, 3, 5);
        assert!((t.nps().unwrap() - 30.0).abs() < 1e-9);
        assert!((t.margin_of_error().unwrap() - 48.408).abs() < 1e-3);
        // 400 answers split 25/25/50: NPS 25, margin 1.96 · √((0.75 − 0.0625) / 400) = 8.13.
        let t = tally(100, 100, 200);
        assert!((t.nps().unwrap() - 25.0).abs() < 1e-9);
        assert!((t.margin_of_error().unwrap() - 8.126).abs() < 1e-3);
    }

    #[test]
    fn weeks_start_on_monday_in_the_time_zone() {
        let madrid = jiff::tz::TimeZone::get("Europe/Madrid").unwrap();
        let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        // Sunday 29 Nov 2026, 23:30 UTC is already Monday 30 Nov in Madrid.
        assert_eq!(
            week_of(ms("2026-11-29T23:30:00Z"), &jiff::tz::TimeZone::UTC),
            "2026-11-23"
        );
        assert_eq!(week_of(ms("2026-11-29T23:30:00Z"), &madrid), "2026-11-30");
        assert_eq!(week_of(ms("2026-11-24T12:00:00Z"), &madrid), "2026-11-23");
    }
}
