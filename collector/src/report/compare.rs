//! Whether two NPS values differ by more than their samples explain: a
//! two-sample z-test on the NPS at 95%, as the README states it.
//!
//! The NPS of n answers is the mean of a score of +1 (promoter), 0 (passive)
//! and −1 (detractor); its standard error, as a share, is
//! √((p + d − (p − d)²) / n). Two independent samples' difference has the
//! standard error √(se₁² + se₂²); the change is significant when its 95%
//! interval, change ± 1.96 · that, leaves out 0, and both samples have at
//! least [`SMALL_SAMPLE`] answers (below that the normal approximation is
//! too rough to call anything).

use serde::Serialize;

use super::{SMALL_SAMPLE, Tally};

/// z of a two-sided 95% interval.
const Z95: f64 = 1.96;

/// One NPS against another (a week against the one before, a segment
/// against the rest of the site).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Change {
    /// This NPS less the other, in points.
    pub change: f64,
    /// Half the width of the change's 95% interval, in points.
    pub margin_of_error: f64,
    /// The interval leaves out 0, with at least 30 answers on each side.
    pub significant: bool,
}

impl Tally {
    /// The standard error of the NPS, as a share; `None` without answers.
    pub fn standard_error(&self) -> Option<f64> {
        let n = self.answers() as f64;
        (n > 0.0).then(|| {
            let (p, d) = (self.promoters as f64 / n, self.detractors as f64 / n);
            ((p + d - (p - d).powi(2)).max(0.0) / n).sqrt()
        })
    }

    /// The counts of `self` less `other`'s (the rest of a site once a
    /// segment is taken out of it).
    pub fn without(&self, other: &Tally) -> Tally {
        Tally {
            detractors: self.detractors.saturating_sub(other.detractors),
            passives: self.passives.saturating_sub(other.passives),
            promoters: self.promoters.saturating_sub(other.promoters),
        }
    }
}

/// `now` against `before`; `None` when either has no answers.
pub fn change(now: &Tally, before: &Tally) -> Option<Change> {
    let (a, b) = (now.nps()?, before.nps()?);
    let (sa, sb) = (now.standard_error()?, before.standard_error()?);
    let change = a - b;
    let margin_of_error = 100.0 * Z95 * (sa * sa + sb * sb).sqrt();
    let enough = now.answers() >= SMALL_SAMPLE && before.answers() >= SMALL_SAMPLE;
    Some(Change {
        change: round1(change),
        margin_of_error: round1(margin_of_error),
        significant: enough && change.abs() > margin_of_error,
    })
}

fn round1(value: f64) -> f64 {
    super::round(value, 1)
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

    /// The README's formula, written out again from the counts.
    fn by_hand(a: (f64, f64, f64), b: (f64, f64, f64)) -> (f64, f64) {
        let side = |(d, pa, p): (f64, f64, f64)| {
            let n = d + pa + p;
            let nps = (p - d) / n;
            let variance = p / n + d / n - nps * nps;
            (nps, variance / n)
        };
        let ((x, vx), (y, vy)) = (side(a), side(b));
        (100.0 * (x - y), 100.0 * 1.96 * (vx + vy).sqrt())
    }

    #[test]
    fn a_change_against_the_formula() {
        // 200 answers at NPS 30 against 150 at NPS 10.
        let (now, before) = (tally(40, 60, 100), tally(45, 45, 60));
        let c = change(&now, &before).unwrap();
        let (delta, margin) = by_hand((40.0, 60.0, 100.0), (45.0, 45.0, 60.0));
        assert!((delta - 20.0).abs() < 1e-9);
        assert_eq!(c.change, round1(delta));
        assert_eq!(c.margin_of_error, round1(margin));
        // 1.96 · √(0.61 / 200 + 0.69 / 150) = 17.1 points: 20 is more.
        assert_eq!(c.margin_of_error, 17.1);
        assert!(c.significant);
        // The other way round: the same margin, the change negative.
        let back = change(&before, &now).unwrap();
        assert_eq!((back.change, back.margin_of_error), (-20.0, 17.1));
        assert!(back.significant);
    }

    #[test]
    fn a_change_inside_the_noise_is_not_significant() {
        let (now, before) = (tally(30, 30, 40), tally(33, 30, 37));
        let c = change(&now, &before).unwrap();
        let (delta, margin) = by_hand((30.0, 30.0, 40.0), (33.0, 30.0, 37.0));
        assert_eq!(
            (c.change, c.margin_of_error),
            (round1(delta), round1(margin))
        );
        assert_eq!(c.change, 6.0);
        assert!(!c.significant);
    }

    #[test]
    fn small_samples_are_never_significant() {
        // Everyone a promoter against everyone a detractor, 10 each: a
        // change of 200 points and no spread, but too few to call it.
        let c = change(&tally(0, 0, 10), &tally(10, 0, 0)).unwrap();
        assert_eq!((c.change, c.margin_of_error), (200.0, 0.0));
        assert!(!c.significant);
        // 30 on each side: now it is.
        assert!(
            change(&tally(0, 0, 30), &tally(30, 0, 0))
                .unwrap()
                .significant
        );
        // A change of 118 points with a margin of 36, but one side of 29.
        let c = change(&tally(10, 0, 90), &tally(20, 0, 9)).unwrap();
        assert_eq!((c.change, c.margin_of_error), (117.9, 35.7));
        assert!(!c.significant);
    }

    #[test]
    fn all_in_one_class_on_both_sides() {
        // The same class everywhere: no change, no margin, nothing to say.
        let c = change(&tally(0, 40, 0), &tally(0, 35, 0)).unwrap();
        assert_eq!(
            (c.change, c.margin_of_error, c.significant),
            (0.0, 0.0, false)
        );
        // All promoters against a mixed sample.
        let c = change(&tally(0, 0, 50), &tally(20, 10, 20)).unwrap();
        let (delta, margin) = by_hand((0.0, 0.0, 50.0), (20.0, 10.0, 20.0));
        assert_eq!(
            (c.change, c.margin_of_error),
            (round1(delta), round1(margin))
        );
        assert!(c.significant);
    }

    #[test]
    fn no_answers_no_change() {
        assert_eq!(change(&tally(0, 0, 0), &tally(1, 2, 3)), None);
        assert_eq!(change(&tally(1, 2, 3), &tally(0, 0, 0)), None);
    }

    #[test]
    fn the_rest_of_a_site() {
        assert_eq!(tally(10, 20, 30).without(&tally(4, 5, 6)), tally(6, 15, 24));
    }
}
