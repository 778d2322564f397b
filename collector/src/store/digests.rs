//! The digest's rows: who gets it by email and how often, the claim of a
//! site's period (so N collectors send it once), the few recent comments it
//! quotes, and its webhook events.

use futures_util::TryStreamExt;
use sqlx::Row;

use super::{Event, Store, StoreError};

/// How often a member wants the digest by email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    Weekly,
    Daily,
    Never,
}

impl Cadence {
    pub fn name(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Daily => "daily",
            Cadence::Never => "never",
        }
    }

    pub fn parse(name: &str) -> Option<Cadence> {
        match name {
            "weekly" => Some(Cadence::Weekly),
            "daily" => Some(Cadence::Daily),
            "never" => Some(Cadence::Never),
            _ => None,
        }
    }
}

/// A comment an answer made: when, its score and class, what it said (the
/// open text, or the "Other" text of a closed list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub at: i64,
    pub score: i64,
    pub text: String,
}

impl Store {
    /// Takes the sending of `site`'s digest of `kind` for `period`, unless
    /// it was sent or another collector holds it (until its claim runs out,
    /// `lease` ms after it was taken). `true`: it is ours to send.
    pub async fn claim_digest(
        &self,
        site: &str,
        kind: &str,
        period: &str,
        now: i64,
        lease: i64,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO digests (site, kind, period, claimed_until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (site, kind, period) DO UPDATE SET claimed_until = excluded.claimed_until
             WHERE digests.sent_at IS NULL AND digests.claimed_until < $5
             RETURNING period",
        )
        .bind(site)
        .bind(kind)
        .bind(period)
        .bind(now + lease)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(claimed.is_some())
    }

    /// Marks the claimed digest sent (or skipped: nothing to say).
    pub async fn digest_done(
        &self,
        site: &str,
        kind: &str,
        period: &str,
        now: i64,
        skipped: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE digests SET sent_at = $4, skipped = $5
             WHERE site = $1 AND kind = $2 AND period = $3",
        )
        .bind(site)
        .bind(kind)
        .bind(period)
        .bind(now)
        .bind(i64::from(skipped))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether `site`'s digest of `kind` for `period` went (or was skipped).
    pub async fn digest_sent(
        &self,
        site: &str,
        kind: &str,
        period: &str,
    ) -> Result<Option<bool>, StoreError> {
        let row = sqlx::query(
            "SELECT skipped FROM digests
             WHERE site = $1 AND kind = $2 AND period = $3 AND sent_at IS NOT NULL",
        )
        .bind(site)
        .bind(kind)
        .bind(period)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) != 0))
    }

    /// Whom `site`'s digest of `kind` for `period` was emailed to already,
    /// or refused for good by the mail server: settled for the period.
    pub async fn digest_emailed(
        &self,
        site: &str,
        kind: &str,
        period: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT email FROM digest_emails WHERE site = $1 AND kind = $2 AND period = $3",
        )
        .bind(site)
        .bind(kind)
        .bind(period)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from)
    }

    /// Notes that `site`'s digest of `kind` for `period` reached `email`, or
    /// was `refused` for good (the mail server's reply).
    pub async fn digest_emailed_to(
        &self,
        site: &str,
        kind: &str,
        period: &str,
        email: &str,
        now: i64,
        refused: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO digest_emails (site, kind, period, email, sent_at, refused)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(site)
        .bind(kind)
        .bind(period)
        .bind(email)
        .bind(now)
        .bind(refused)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The emails and names of the active members of `site` (owners
    /// included) who set a password and want the digest `cadence`.
    pub async fn digest_recipients(
        &self,
        site: &str,
        cadence: Cadence,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query(
            "SELECT email, name FROM users u
             WHERE u.active = 1 AND u.password_hash IS NOT NULL AND u.digest = $2
               AND (u.owner = 1 OR EXISTS (SELECT 1 FROM memberships m
                                           WHERE m.user_id = u.id AND m.site = $1))
             ORDER BY email",
        )
        .bind(site)
        .bind(cadence.name())
        .fetch(&self.pool)
        .map_ok(|r| (r.get(0), r.get(1)))
        .try_collect()
        .await
        .map_err(StoreError::from)
    }

    /// How often user `id` wants the digest.
    pub async fn digest_cadence(&self, user: i64) -> Result<Cadence, StoreError> {
        let name: String = sqlx::query_scalar("SELECT digest FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&self.pool)
            .await?;
        Ok(Cadence::parse(&name).unwrap_or(Cadence::Weekly))
    }

    pub async fn set_digest_cadence(&self, user: i64, cadence: Cadence) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET digest = $2 WHERE id = $1")
            .bind(user)
            .bind(cadence.name())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest `limit` comments of `class` on `site` in [from, to),
    /// dismissed answers left out.
    pub async fn recent_comments(
        &self,
        site: &str,
        class: &str,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<Comment>, StoreError> {
        sqlx::query(
            "SELECT created_at, score, COALESCE(open_text, other_text) FROM answers
             WHERE site = $1 AND created_at >= $2 AND created_at < $3 AND class = $4
               AND status <> 'dismissed' AND (open_text IS NOT NULL OR other_text IS NOT NULL)
             ORDER BY created_at DESC, id DESC LIMIT $5",
        )
        .bind(site)
        .bind(from)
        .bind(to)
        .bind(class)
        .bind(limit)
        .fetch(&self.pool)
        .map_ok(|r| Comment {
            at: r.get(0),
            score: r.get(1),
            text: r.get(2),
        })
        .try_collect()
        .await
        .map_err(StoreError::from)
    }

    /// Puts `events` in the webhook outbox (a key already there is left
    /// alone: a digest sent again after a crash is not delivered twice),
    /// and wakes the worker.
    pub async fn queue_events(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        super::inbox_write::insert_events(&mut tx, events).await?;
        tx.commit().await?;
        if !events.is_empty() {
            self.events_ready.notify_one();
        }
        Ok(())
    }
}
