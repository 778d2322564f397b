//! The digest: per site, at a configured day and hour in its time zone, a
//! summary of the week (or, for members who ask for it, the day) a team
//! meets over — the NPS next to the period before and the last 8, each with
//! its margin, n and response rate, a sentence on whether the change is
//! real, the top reasons per band and how they moved, a few recent comments
//! per class, the open and overdue detractors, a link to the dashboard.
//!
//! [`build`] makes it (plain data, from the reports of the periods);
//! `render.rs` writes it as text, HTML, Slack and JSON; `send.rs` claims a
//! period (once across collectors), puts its webhook events in the outbox,
//! emails the members who want it, and keeps doing so (`keep_sending`);
//! `page.rs` serves it as a printable page.

mod page;
pub mod render;
pub mod send;

use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::config::Site;
use crate::report::{Change, Report, change};
use crate::store::{Comment, Filter, InboxFilter, Store, StoreError};

pub use page::router;
pub use send::{keep_sending, send_now};

/// The webhook events of the programme, as `programme_events` names them.
pub const EVENTS: [&str; 2] = ["digest.weekly", "nps.dropped"];

/// Periods a digest shows: this one and the 7 before it.
const SERIES: usize = 8;
/// Comments quoted per class.
const COMMENTS: i64 = 3;
/// Reasons listed per band.
const REASONS: usize = 3;

/// When a site's weekly digest goes out, in its time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub day: Weekday,
    pub hour: i8,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            day: Weekday::Monday,
            hour: 9,
        }
    }
}

/// A week's digest, or a day's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Weekly,
    Daily,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Weekly => "weekly",
            Kind::Daily => "daily",
        }
    }
}

/// An ISO week (from its Monday) or a day, in a site's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub kind: Kind,
    /// The Monday of the week, or the day.
    pub start: Date,
}

impl Period {
    /// The ISO week holding `date`.
    pub fn week_of(date: Date) -> Period {
        let back = i64::from(date.weekday().to_monday_zero_offset());
        Period {
            kind: Kind::Weekly,
            start: date
                .checked_sub(jiff::Span::new().days(back))
                .unwrap_or(date),
        }
    }

    /// `2026-W48`.
    pub fn parse_week(text: &str) -> Option<Period> {
        let (year, week) = text.split_once("-W")?;
        let (year, week) = (year.parse().ok()?, week.parse().ok()?);
        let date = ISOWeekDate::new(year, week, Weekday::Monday).ok()?.date();
        Some(Period::week_of(date))
    }

    /// `2026-W48`, or `2026-11-30` for a day.
    pub fn label(&self) -> String {
        match self.kind {
            Kind::Weekly => {
                let iso = self.start.iso_week_date();
                format!("{}-W{:02}", iso.year(), iso.week())
            }
            Kind::Daily => self.start.to_string(),
        }
    }

    fn days(&self) -> i64 {
        match self.kind {
            Kind::Weekly => 7,
            Kind::Daily => 1,
        }
    }

    /// The one before.
    pub fn previous(&self) -> Period {
        Period {
            kind: self.kind,
            start: self
                .start
                .checked_sub(jiff::Span::new().days(self.days()))
                .unwrap_or(self.start),
        }
    }

    /// [start, end) in milliseconds, midnights in `tz`.
    pub fn range(&self, tz: &TimeZone) -> (i64, i64) {
        let at = |d: Date| {
            d.to_zoned_datetime(tz.clone())
                .map_or(0, |z| z.timestamp().as_millisecond())
        };
        let end = self
            .start
            .checked_add(jiff::Span::new().days(self.days()))
            .unwrap_or(self.start);
        (at(self.start), at(end))
    }

    /// The last day of the period.
    pub fn last_day(&self) -> Date {
        self.start
            .checked_add(jiff::Span::new().days(self.days() - 1))
            .unwrap_or(self.start)
    }
}

/// The period whose digest of `kind` is due at `now` on a site sending at
/// `schedule` in `tz`: the week (or day) that ended before the latest
/// sending time at or before `now`; with that time.
pub fn due(kind: Kind, schedule: Schedule, tz: &TimeZone, now: i64) -> Option<(Period, i64)> {
    let today = tz
        .to_datetime(jiff::Timestamp::from_millisecond(now).ok()?)
        .date();
    (0..8)
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .filter(|d| kind == Kind::Daily || d.weekday() == schedule.day)
        .find_map(|d| {
            let at = d
                .at(schedule.hour, 0, 0, 0)
                .to_zoned_datetime(tz.clone())
                .ok()?
                .timestamp()
                .as_millisecond();
            let yesterday = d.checked_sub(jiff::Span::new().days(1)).ok()?;
            let period = match kind {
                // The last whole week before the sending day's.
                Kind::Weekly => Period::week_of(d).previous(),
                Kind::Daily => Period {
                    kind,
                    start: yesterday,
                },
            };
            (at <= now).then_some((period, at))
        })
}

/// One period's headline figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    pub period: String,
    pub answers: u64,
    pub nps: Option<f64>,
    pub margin_of_error: Option<f64>,
    pub displays: u64,
    pub response_rate: Option<f64>,
}

/// A reason of a band, this period and the one before.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReasonMove {
    pub text: String,
    pub now: u64,
    pub before: u64,
}

/// The top reasons of a band.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BandMoves {
    pub band: String,
    pub reasons: Vec<ReasonMove>,
}

/// A few recent comments of a class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comments {
    pub class: &'static str,
    pub comments: Vec<Quote>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quote {
    pub at: String,
    pub score: i64,
    pub text: String,
}

/// The detractors the team still owes a follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Detractors {
    /// New, open or waiting.
    pub open: i64,
    /// New past their follow-up deadline.
    pub overdue: i64,
}

/// A site's digest of one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Digest {
    pub site: String,
    pub kind: Kind,
    pub period: String,
    pub first_day: String,
    pub last_day: String,
    /// Oldest first; the last is this period, the one before it the period
    /// it is compared with.
    pub series: Vec<Figures>,
    /// This period against the one before.
    pub change: Option<Change>,
    pub reasons: Vec<BandMoves>,
    pub comments: Vec<Comments>,
    pub detractors: Detractors,
    pub dashboard_url: String,
}

impl Digest {
    pub fn now(&self) -> &Figures {
        &self.series[self.series.len() - 1]
    }

    pub fn before(&self) -> Option<&Figures> {
        self.series.iter().rev().nth(1)
    }

    /// Nothing to say: a quiet period, no answer and no card shown.
    pub fn is_empty(&self) -> bool {
        let now = self.now();
        now.answers == 0 && now.displays == 0
    }
}

/// The digest of `period` for `site`, its dashboard under `link_base`.
pub async fn build(
    store: &Store,
    site: &Site,
    period: Period,
    link_base: &str,
    now: i64,
) -> Result<Digest, StoreError> {
    let tz = &site.time_zone;
    let mut periods = vec![period];
    for _ in 1..SERIES {
        let before = periods[periods.len() - 1].previous();
        periods.push(before);
    }
    periods.reverse();
    let mut reports: Vec<Report> = Vec::with_capacity(SERIES);
    for p in &periods {
        let (from, to) = p.range(tz);
        let filter = Filter {
            from: Some(from),
            to: Some(to),
            ..Filter::default()
        };
        reports.push(crate::report::report(store, site, &filter, tz).await?);
    }
    let series: Vec<Figures> = periods
        .iter()
        .zip(&reports)
        .map(|(p, r)| Figures {
            period: p.label(),
            answers: r.overall.answers,
            nps: r.overall.nps,
            margin_of_error: r.overall.margin_of_error,
            displays: r.overall.displays,
            response_rate: r.overall.response_rate,
        })
        .collect();
    let (this, before) = (&reports[SERIES - 1], &reports[SERIES - 2]);
    let tally = |r: &Report| {
        let count = |c: &str| r.overall.classes.get(c).map_or(0, |s| s.count);
        crate::report::Tally {
            detractors: count("detractor"),
            passives: count("passive"),
            promoters: count("promoter"),
        }
    };
    let reasons = this
        .reasons
        .iter()
        .map(|(band, r)| BandMoves {
            band: band.clone(),
            reasons: r
                .top
                .iter()
                .take(REASONS)
                .map(|reason| ReasonMove {
                    text: reason.text.clone(),
                    now: reason.count,
                    before: before
                        .reasons
                        .get(band)
                        .and_then(|b| b.top.iter().find(|x| x.id == reason.id))
                        .map_or(0, |x| x.count),
                })
                .collect(),
        })
        .collect();
    let (from, to) = period.range(tz);
    let mut comments = Vec::new();
    for class in ["detractor", "passive", "promoter"] {
        let found: Vec<Comment> = store
            .recent_comments(&site.key, class, from, to, COMMENTS)
            .await?;
        if !found.is_empty() {
            comments.push(Comments {
                class,
                comments: found
                    .into_iter()
                    .map(|c| Quote {
                        at: crate::export::rfc3339(c.at),
                        score: c.score,
                        text: c.text,
                    })
                    .collect(),
            });
        }
    }
    let cutoffs = crate::inbox::query::overdue_cutoffs(site, now);
    let waiting = InboxFilter {
        statuses: vec!["new".into(), "open".into(), "waiting".into()],
        class: Some("detractor".into()),
        ..InboxFilter::default()
    };
    let (counts, overdue) = store.inbox_counts(&site.key, &waiting, &cutoffs).await?;
    let open = counts
        .iter()
        .filter(|(s, _)| matches!(s.as_str(), "new" | "open" | "waiting"))
        .map(|(_, n)| n)
        .sum();
    Ok(Digest {
        site: site.key.clone(),
        kind: period.kind,
        period: period.label(),
        first_day: period.start.to_string(),
        last_day: period.last_day().to_string(),
        change: change(&tally(this), &tally(before)),
        series,
        reasons,
        comments,
        detractors: Detractors { open, overdue },
        dashboard_url: format!("{link_base}/dashboard/{}", site.key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn weeks_by_their_iso_names() {
        let w = Period::parse_week("2026-W48").unwrap();
        assert_eq!(w.start.to_string(), "2026-11-23");
        assert_eq!(w.label(), "2026-W48");
        assert_eq!(w.last_day().to_string(), "2026-11-29");
        assert_eq!(w.previous().label(), "2026-W47");
        // The first week of 2027 starts on 4 January; 2026-W53 exists.
        assert_eq!(
            Period::parse_week("2026-W53").unwrap().start.to_string(),
            "2026-12-28"
        );
        assert_eq!(Period::parse_week("2026-W54"), None);
        assert_eq!(Period::parse_week("48"), None);
        let madrid = TimeZone::get("Europe/Madrid").unwrap();
        assert_eq!(
            w.range(&madrid),
            (ms("2026-11-22T23:00:00Z"), ms("2026-11-29T23:00:00Z"))
        );
    }

    #[test]
    fn the_digest_due_is_of_the_week_before_the_latest_sending_time() {
        let madrid = TimeZone::get("Europe/Madrid").unwrap();
        let monday_nine = Schedule::default();
        // Monday 30 Nov 2026, 08:59 in Madrid: last Monday's digest (W47).
        let (p, at) = due(
            Kind::Weekly,
            monday_nine,
            &madrid,
            ms("2026-11-30T07:59:00Z"),
        )
        .unwrap();
        assert_eq!(
            (p.label(), at),
            ("2026-W47".into(), ms("2026-11-23T08:00:00Z"))
        );
        // At 09:00 the week that just ended (W48).
        let (p, at) = due(
            Kind::Weekly,
            monday_nine,
            &madrid,
            ms("2026-11-30T08:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            (p.label(), at),
            ("2026-W48".into(), ms("2026-11-30T08:00:00Z"))
        );
        // Friday 17:00 in New York sends the last full week too.
        let ny = TimeZone::get("America/New_York").unwrap();
        let friday = Schedule {
            day: Weekday::Friday,
            hour: 17,
        };
        let (p, _) = due(Kind::Weekly, friday, &ny, ms("2026-12-04T23:00:00Z")).unwrap();
        assert_eq!(p.label(), "2026-W48");
        // Daily: yesterday, from the hour on.
        let (p, _) = due(
            Kind::Daily,
            monday_nine,
            &madrid,
            ms("2026-12-02T08:30:00Z"),
        )
        .unwrap();
        assert_eq!(p.label(), "2026-12-01");
        let (p, _) = due(
            Kind::Daily,
            monday_nine,
            &madrid,
            ms("2026-12-02T07:30:00Z"),
        )
        .unwrap();
        assert_eq!(p.label(), "2026-11-30");
    }
}
