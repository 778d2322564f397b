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
use crate::store::{AnswerRow, Filter, Store, StoreError};

mod rollups;

pub use rollups::keep_folding;

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
}

#[derive(Default)]
struct Group {
    tally: Tally,
    bands: BTreeMap<String, u64>,
    scores: [u64; 11],
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
        Report {
            response_times,
            site: site.key.clone(),
            overall: self.overall.stats(),
            by_step: stats(self.by_step),
            by_survey: stats(self.by_survey),
            weekly: stats(self.weekly),
            reasons,
        }
    }
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
    /// Per band: how often each reason was chosen, most first.
    pub reasons: BTreeMap<String, BandReasons>,
    /// The team's follow-up of the answers of the period (the inbox): time
    /// to the first action and to resolve, per class and per owner.
    pub response_times: crate::inbox::times::ResponseTimes,
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
    Ok(totals.finish(
        site,
        other,
        crate::inbox::times::ResponseTimes::of(&handled),
    ))
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
    let handled = store.handled(&site.key, filter.from, filter.to).await?;
    Ok(totals.finish(
        site,
        other,
        crate::inbox::times::ResponseTimes::of(&handled),
    ))
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
        if row.follow_up.as_deref() == Some("closed") {
            self.add_reasons(&row.band, row.reason_ids.as_deref().unwrap_or(""), 1);
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
