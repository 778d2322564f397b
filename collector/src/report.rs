//! NPS reports: the score with its 95% margin of error, counts and shares per
//! class and band, the same per funnel step and survey, a weekly series, and the
//! reasons per band with the latest "Other" texts. Small samples are flagged,
//! never hidden. Computed in one pass over the same rows an export streams.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;
use survey::OTHER;

use crate::config::Site;
use crate::export::rfc3339;
use crate::store::{AnswerRow, Filter, Store, StoreError};

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
    pub fn add(&mut self, class: &str) {
        match class {
            "detractor" => self.detractors += 1,
            "passive" => self.passives += 1,
            _ => self.promoters += 1,
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
    fn add(&mut self, row: &AnswerRow) {
        self.tally.add(&row.class);
        *self.bands.entry(row.band.clone()).or_default() += 1;
        if let Some(slot) = usize::try_from(row.score)
            .ok()
            .and_then(|s| self.scores.get_mut(s))
        {
            *slot += 1;
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
/// Mondays in `tz`.
pub async fn report(
    store: &Store,
    site: &Site,
    filter: &Filter,
    tz: &jiff::tz::TimeZone,
) -> Result<Report, StoreError> {
    let mut overall = Group::default();
    let mut by_step: BTreeMap<String, Group> = BTreeMap::new();
    let mut by_survey: BTreeMap<String, Group> = BTreeMap::new();
    let mut weekly: BTreeMap<String, Group> = BTreeMap::new();
    let mut counts: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut other: BTreeMap<String, Vec<OtherText>> = BTreeMap::new();

    let mut rows = std::pin::pin!(store.answers(&site.key, filter));
    while let Some(row) = rows.next().await {
        let row = row?;
        overall.add(&row);
        by_step
            .entry(row.step.clone().unwrap_or_default())
            .or_default()
            .add(&row);
        by_survey.entry(row.survey.clone()).or_default().add(&row);
        weekly
            .entry(week_of(row.created_at, tz))
            .or_default()
            .add(&row);
        if row.follow_up.as_deref() == Some("closed") {
            let (answers, reasons) = counts.entry(row.band.clone()).or_default();
            *answers += 1;
            for id in row
                .reason_ids
                .as_deref()
                .unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
            {
                *reasons.entry(id.to_owned()).or_default() += 1;
            }
            if let Some(text) = row.other_text.clone() {
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
    }

    let reasons = counts
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
            let mut latest_other = other.remove(&band).unwrap_or_default();
            latest_other.reverse();
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
    let handled = store.handled(&site.key, filter.from, filter.to).await?;
    Ok(Report {
        response_times: crate::inbox::times::ResponseTimes::of(&handled),
        site: site.key.clone(),
        overall: overall.stats(),
        by_step: stats(by_step),
        by_survey: stats(by_survey),
        weekly: stats(weekly),
        reasons,
    })
}

/// The Monday starting the week of `millis`, as a date in `tz`.
fn week_of(millis: i64, tz: &jiff::tz::TimeZone) -> String {
    let Ok(timestamp) = jiff::Timestamp::from_millisecond(millis) else {
        return String::new();
    };
    let date = tz.to_datetime(timestamp).date();
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back))
        .map(|d| d.to_string())
        .unwrap_or_default()
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
