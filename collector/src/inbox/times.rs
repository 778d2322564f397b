//! How fast the team follows up: time to the first action on an answer (a
//! status change, an owner, a note or a reply) and time to resolve it, as
//! the median and the 90th percentile, per class and per owner. Percentiles
//! are nearest-rank (the smallest duration at least p% of answers are
//! within), over the answers that had the action; dismissed ones are left
//! out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::Handled;

/// Durations of one kind of step, in seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Durations {
    /// Answers that had this step.
    pub n: u64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// Both steps of one group (a class, an owner).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Times {
    pub first_action: Durations,
    pub resolve: Durations,
}

/// What the report says of the team's speed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResponseTimes {
    /// Keyed by class: detractor, passive, promoter.
    pub by_class: BTreeMap<String, Times>,
    /// Keyed by the owner's email; answers without an owner under "".
    pub by_owner: BTreeMap<String, Times>,
}

/// The nearest-rank `p`-th percentile of `sorted` (ascending, not empty).
fn percentile(sorted: &[i64], p: u32) -> i64 {
    let n = sorted.len();
    let rank = (n * p as usize).div_ceil(100).max(1);
    sorted[rank.min(n) - 1]
}

impl Durations {
    fn of(mut millis: Vec<i64>) -> Durations {
        if millis.is_empty() {
            return Durations::default();
        }
        millis.sort_unstable();
        let seconds = |ms: i64| ms.max(0) / 1000;
        Durations {
            n: millis.len() as u64,
            median_seconds: Some(seconds(percentile(&millis, 50))),
            p90_seconds: Some(seconds(percentile(&millis, 90))),
        }
    }
}

#[derive(Default)]
struct Collect {
    first: Vec<i64>,
    resolve: Vec<i64>,
}

impl Collect {
    fn add(&mut self, h: &Handled) {
        if let Some(at) = h.first_action_at {
            self.first.push(at - h.created_at);
        }
        if let Some(at) = h.resolved_at {
            self.resolve.push(at - h.created_at);
        }
    }

    fn times(self) -> Times {
        Times {
            first_action: Durations::of(self.first),
            resolve: Durations::of(self.resolve),
        }
    }
}

impl ResponseTimes {
    /// The figures over `handled` (answers with a first action or resolved).
    pub fn of(handled: &[Handled]) -> ResponseTimes {
        let mut by_class: BTreeMap<String, Collect> = BTreeMap::new();
        let mut by_owner: BTreeMap<String, Collect> = BTreeMap::new();
        for h in handled {
            by_class.entry(h.class.clone()).or_default().add(h);
            by_owner
                .entry(h.owner.clone().unwrap_or_default())
                .or_default()
                .add(h);
        }
        let done =
            |m: BTreeMap<String, Collect>| m.into_iter().map(|(k, c)| (k, c.times())).collect();
        ResponseTimes {
            by_class: done(by_class),
            by_owner: done(by_owner),
        }
    }
}

/// A duration as people read it: minutes, hours or days.
pub fn human(seconds: i64) -> String {
    match seconds {
        s if s < 60 * 60 => format!("{} min", (s / 60).max(1)),
        s if s < 48 * 60 * 60 => format!("{:.1} h", s as f64 / 3600.0),
        s => format!("{:.1} d", s as f64 / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn handled(
        class: &str,
        owner: Option<&str>,
        first: Option<i64>,
        resolved: Option<i64>,
    ) -> Handled {
        Handled {
            class: class.into(),
            owner: owner.map(str::to_owned),
            created_at: 1_000 * HOUR,
            first_action_at: first.map(|h| 1_000 * HOUR + h * HOUR),
            resolved_at: resolved.map(|h| 1_000 * HOUR + h * HOUR),
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), 5);
        assert_eq!(percentile(&ten, 90), 9);
        assert_eq!(percentile(&[7], 50), 7);
        assert_eq!(percentile(&[7], 90), 7);
        let three = [1, 2, 3];
        assert_eq!(percentile(&three, 50), 2);
        assert_eq!(percentile(&three, 90), 3);
    }

    #[test]
    fn per_class_and_per_owner() {
        let rows = vec![
            handled("detractor", Some("ana@shop.test"), Some(1), Some(10)),
            handled("detractor", Some("ana@shop.test"), Some(3), None),
            handled("detractor", None, Some(20), None),
            handled("promoter", Some("bo@shop.test"), Some(48), Some(50)),
        ];
        let t = ResponseTimes::of(&rows);
        let d = &t.by_class["detractor"];
        assert_eq!(d.first_action.n, 3);
        assert_eq!(d.first_action.median_seconds, Some(3 * 3600));
        assert_eq!(d.first_action.p90_seconds, Some(20 * 3600));
        assert_eq!(d.resolve.n, 1);
        assert_eq!(d.resolve.median_seconds, Some(10 * 3600));
        assert_eq!(t.by_owner["ana@shop.test"].first_action.n, 2);
        assert_eq!(t.by_owner[""].first_action.median_seconds, Some(20 * 3600));
        assert_eq!(
            t.by_owner["bo@shop.test"].resolve.p90_seconds,
            Some(50 * 3600)
        );
        assert!(!t.by_class.contains_key("passive"));
        assert_eq!(ResponseTimes::of(&[]), ResponseTimes::default());
    }

    #[test]
    fn durations_read_as_people_read_them() {
        assert_eq!(human(30), "1 min");
        assert_eq!(human(45 * 60), "45 min");
        assert_eq!(human(90 * 60), "1.5 h");
        assert_eq!(human(3 * 86400), "3.0 d");
    }
}
