//! Surveys asked in waves: `waves = { every = "3 months", open_days = 14,
//! first = "2026-01-05" }`. Wave k (from 0) opens at midnight of
//! `first + k · every` in the site's time zone and closes `open_days` days
//! later; the survey is due only while a wave is open. For reports, a wave
//! holds the answers from its opening to the next one's (late answers, sent
//! again from a browser's outbox after the close, stay in their wave).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Unit};

use survey::Waves;

/// Most waves a survey may have started: 100 years of monthly waves.
const MAX_WAVES: i64 = 1200;

/// A checked `waves` table.
#[derive(Clone, Debug)]
pub struct Schedule {
    every: Span,
    open_days: i64,
    first: Date,
}

/// One wave of a survey, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wave {
    /// 1 for the first wave.
    pub number: i64,
    pub opens: i64,
    pub closes: i64,
    /// When the next wave opens: the end of this one's answers.
    pub next: i64,
}

impl Schedule {
    /// Checks `waves`; an error names the field and says what is wrong.
    pub fn parse(waves: &Waves) -> Result<Schedule, (&'static str, String)> {
        let every: Span = waves.every.parse().map_err(|_| {
            (
                "every",
                format!(
                    "`{}` is not a period: write days, weeks, months or years (\"3 months\")",
                    waves.every
                ),
            )
        })?;
        let calendar = every.get_hours() == 0
            && every.get_minutes() == 0
            && every.get_seconds() == 0
            && every.get_milliseconds() == 0
            && every.get_microseconds() == 0
            && every.get_nanoseconds() == 0;
        if !calendar || every.is_negative() || every.is_zero() {
            return Err((
                "every",
                format!(
                    "`{}`: waves come every so many days, weeks, months or years",
                    waves.every
                ),
            ));
        }
        let first: Date = waves.first.parse().map_err(|_| {
            (
                "first",
                format!("`{}` is not a date (YYYY-MM-DD)", waves.first),
            )
        })?;
        let schedule = Schedule {
            every,
            open_days: i64::from(waves.open_days),
            first,
        };
        // The shortest gap between two openings (a month may be 28 days).
        let gap = (0..12)
            .filter_map(|k| {
                let a = schedule.opening_day(k)?;
                let b = schedule.opening_day(k + 1)?;
                a.until((Unit::Day, b))
                    .ok()
                    .map(|s| i64::from(s.get_days()))
            })
            .min()
            .unwrap_or(0);
        if schedule.open_days < 1 || schedule.open_days > gap {
            return Err((
                "open_days",
                format!(
                    "a wave stays open 1 to {gap} days (the time to the next one), not {}",
                    waves.open_days
                ),
            ));
        }
        Ok(schedule)
    }

    fn opening_day(&self, k: i64) -> Option<Date> {
        let span = self.every.checked_mul(k).ok()?;
        self.first.checked_add(span).ok()
    }

    /// Wave `k` (from 0) in `tz`.
    pub fn wave(&self, k: i64, tz: &TimeZone) -> Option<Wave> {
        let at = |date: Date| -> Option<i64> {
            Some(
                date.to_zoned_datetime(tz.clone())
                    .ok()?
                    .timestamp()
                    .as_millisecond(),
            )
        };
        let opens = self.opening_day(k)?;
        let closes = opens.checked_add(Span::new().days(self.open_days)).ok()?;
        Some(Wave {
            number: k + 1,
            opens: at(opens)?,
            closes: at(closes)?,
            next: at(self.opening_day(k + 1)?)?,
        })
    }

    /// The wave that holds `now`'s answers (the last one opened by then), if
    /// one has opened.
    pub fn current(&self, now: i64, tz: &TimeZone) -> Option<Wave> {
        let first = self.wave(0, tz)?;
        if now < first.opens {
            return None;
        }
        // A guess from the first gap, then a step or two to the right wave.
        let gap = (first.next - first.opens).max(1);
        let mut k = ((now - first.opens) / gap).clamp(0, MAX_WAVES);
        while k > 0 && self.wave(k, tz).is_none_or(|w| w.opens > now) {
            k -= 1;
        }
        while let Some(next) = self.wave(k + 1, tz)
            && next.opens <= now
            && k < MAX_WAVES
        {
            k += 1;
        }
        self.wave(k, tz)
    }

    /// Whether a wave is open at `now`: the survey is due.
    pub fn is_open(&self, now: i64, tz: &TimeZone) -> bool {
        self.current(now, tz).is_some_and(|w| now < w.closes)
    }

    /// The waves opened by `now`, the latest `limit` of them, oldest first.
    pub fn opened(&self, now: i64, tz: &TimeZone, limit: usize) -> Vec<Wave> {
        let Some(last) = self.current(now, tz) else {
            return Vec::new();
        };
        let from = (last.number - limit as i64).max(0);
        (from..last.number)
            .filter_map(|k| self.wave(k, tz))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waves(every: &str, open_days: u32, first: &str) -> Waves {
        Waves {
            every: every.into(),
            open_days,
            first: first.into(),
        }
    }

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn quarterly_waves_of_two_weeks_in_madrid() {
        let s = Schedule::parse(&waves("3 months", 14, "2026-01-05")).unwrap();
        let madrid = TimeZone::get("Europe/Madrid").unwrap();
        let w = s.wave(0, &madrid).unwrap();
        // Midnight in Madrid is 23:00 UTC the day before (winter).
        assert_eq!(w.opens, ms("2026-01-04T23:00:00Z"));
        assert_eq!(w.closes, ms("2026-01-18T23:00:00Z"));
        assert_eq!(w.next, ms("2026-04-04T22:00:00Z"));
        assert!(!s.is_open(ms("2026-01-04T22:59:59Z"), &madrid));
        assert!(s.is_open(ms("2026-01-04T23:00:00Z"), &madrid));
        assert!(s.is_open(ms("2026-01-18T22:59:59Z"), &madrid));
        assert!(!s.is_open(ms("2026-01-18T23:00:00Z"), &madrid));
        // The fourth wave: 5 Oct 2026.
        let now = ms("2026-10-10T12:00:00Z");
        assert!(s.is_open(now, &madrid));
        let w = s.current(now, &madrid).unwrap();
        assert_eq!((w.number, w.opens), (4, ms("2026-10-04T22:00:00Z")));
        // Between waves the last one still holds late answers.
        let later = ms("2026-12-01T00:00:00Z");
        assert!(!s.is_open(later, &madrid));
        assert_eq!(s.current(later, &madrid).unwrap().number, 4);
        assert_eq!(
            s.opened(later, &madrid, 2)
                .iter()
                .map(|w| w.number)
                .collect::<Vec<_>>(),
            [3, 4]
        );
        // Years later, the guess finds the wave.
        let far = ms("2036-01-06T12:00:00Z");
        assert_eq!(s.current(far, &madrid).unwrap().number, 41);
        assert!(s.is_open(far, &madrid));
    }

    #[test]
    fn months_of_different_lengths() {
        // From 31 January, monthly: 28 February (jiff clamps), 31 March.
        let s = Schedule::parse(&waves("1 month", 7, "2027-01-31")).unwrap();
        let utc = TimeZone::UTC;
        assert_eq!(s.wave(1, &utc).unwrap().opens, ms("2027-02-28T00:00:00Z"));
        assert_eq!(s.wave(2, &utc).unwrap().opens, ms("2027-03-31T00:00:00Z"));
    }

    #[test]
    fn bad_tables_name_their_field() {
        let e = |w: Waves| Schedule::parse(&w).unwrap_err();
        assert_eq!(e(waves("often", 14, "2026-01-05")).0, "every");
        assert_eq!(e(waves("3 hours", 1, "2026-01-05")).0, "every");
        assert_eq!(e(waves("0 days", 1, "2026-01-05")).0, "every");
        assert_eq!(e(waves("3 months", 14, "5 Jan")).0, "first");
        assert_eq!(e(waves("3 months", 0, "2026-01-05")).0, "open_days");
        let (field, message) = e(waves("1 month", 29, "2026-01-05"));
        assert_eq!(field, "open_days");
        assert!(message.contains("1 to 28 days"), "{message}");
        assert!(Schedule::parse(&waves("2 weeks", 14, "2026-01-05")).is_ok());
    }
}
