//! Failed attempts at a secret (an export token, a password) cost the one who
//! fails: a few are free, then each further failure locks the key out for
//! twice as long as the one before, up to a cap. Keys are a client's address
//! and a site (or an account), so that guessing is slow from one address and
//! from many. A success clears the key; a key that fails no more is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How hard a throttle is.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures before the first lock-out.
    pub free: u32,
    /// The first lock-out; each later one doubles, up to `max`.
    pub first: Duration,
    pub max: Duration,
    /// A key with no failure for this long starts afresh.
    pub forget: Duration,
}

impl Policy {
    /// Per client address: five free failures, then 1 s, 2 s, 4 s … up to 15 min.
    pub const CLIENT: Policy = Policy {
        free: 5,
        first: Duration::from_secs(1),
        max: Duration::from_secs(15 * 60),
        forget: Duration::from_secs(60 * 60),
    };
    /// Per site (or account), whatever the addresses: fifty free failures,
    /// then the same doubling up to 5 min. Wider than a client's, so that
    /// strangers failing do not lock the site's own scripts out for long.
    pub const SITE: Policy = Policy {
        free: 50,
        first: Duration::from_secs(1),
        max: Duration::from_secs(5 * 60),
        forget: Duration::from_secs(60 * 60),
    };
    /// Per account at sign-in, whatever the addresses: ten free failures,
    /// then 1 s, 2 s … up to 15 min. A person who mistypes is not held up;
    /// a guesser with many addresses gets a few dozen tries an hour.
    pub const ACCOUNT: Policy = Policy {
        free: 10,
        first: Duration::from_secs(1),
        max: Duration::from_secs(15 * 60),
        forget: Duration::from_secs(60 * 60),
    };
}

#[derive(Debug)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// Keys to their failures.
#[derive(Debug)]
pub struct Throttle {
    policy: Policy,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Keys kept before the forgotten ones are swept out (bounded memory).
const SWEEP_AT: usize = 100_000;

impl Throttle {
    pub fn new(policy: Policy) -> Throttle {
        Throttle {
            policy,
            entries: Mutex::default(),
        }
    }

    /// `Err(wait)` while `key` is locked out.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure of `key`; returns the lock-out it now starts, if any.
    pub fn fail(&self, key: &str, now: Instant) -> Option<Duration> {
        let policy = self.policy;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, e| now.duration_since(e.last) < policy.forget);
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last: now,
        });
        if now.duration_since(entry.last) >= policy.forget {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last = now;
        let over = entry.failures.checked_sub(policy.free + 1)?;
        let lock = policy
            .first
            .saturating_mul(2u32.saturating_pow(over.min(31)))
            .min(policy.max);
        entry.locked_until = Some(now + lock);
        Some(lock)
    }

    /// `key` got it right: its failures are forgotten.
    pub fn succeed(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_lock_out_for_doubling_times() {
        let t = Throttle::new(Policy::CLIENT);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(t.fail("a", start), None);
            assert_eq!(t.check("a", start), Ok(()));
        }
        let waits: Vec<Duration> = (0..4).filter_map(|_| t.fail("a", start)).collect();
        assert_eq!(
            waits,
            [1, 2, 4, 8].map(Duration::from_secs),
            "each failure doubles the lock-out"
        );
        assert_eq!(t.check("a", start), Err(Duration::from_secs(8)));
        assert_eq!(t.check("a", start + Duration::from_secs(9)), Ok(()));
        assert_eq!(t.check("b", start), Ok(()), "keys are apart");
        for _ in 0..40 {
            t.fail("a", start);
        }
        assert_eq!(
            t.check("a", start),
            Err(Duration::from_secs(15 * 60)),
            "capped"
        );
        t.succeed("a");
        assert_eq!(t.check("a", start), Ok(()));
    }

    #[test]
    fn a_key_that_stops_failing_is_forgotten() {
        let t = Throttle::new(Policy::CLIENT);
        let start = Instant::now();
        for _ in 0..5 {
            t.fail("a", start);
        }
        let later = start + Policy::CLIENT.forget;
        assert_eq!(t.fail("a", later), None, "counted afresh");
    }
}
