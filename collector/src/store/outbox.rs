//! The webhook outbox, as the delivery worker and the status endpoint use it:
//! claims with a lease (so a dead worker's events come due again), attempts,
//! and each webhook's delivery state.

use std::sync::Arc;

use sqlx::Row;
use tokio::sync::Notify;

use super::{Store, StoreError};

/// An outbox event a worker has claimed for sending.
#[derive(Clone, Debug)]
pub struct DueEvent {
    pub id: i64,
    pub key: String,
    pub site: String,
    pub webhook: String,
    pub kind: String,
    pub body: String,
    /// Including the one being made.
    pub attempts: i64,
    pub created_at: i64,
}

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// Try again at `next_at` (Unix milliseconds).
    Retry {
        status: Option<u16>,
        error: String,
        next_at: i64,
    },
    /// No more attempts: the event is failed.
    GiveUp {
        status: Option<u16>,
        error: String,
    },
}

/// One webhook's deliveries, as the status endpoint and the dashboard show them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HookState {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Unix milliseconds of the last delivery.
    pub last_delivered_at: Option<i64>,
    /// The last failed attempt: when, its HTTP status if any, and why.
    pub last_error_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// One event in the outbox.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct EventRow {
    pub key: String,
    pub answer_id: String,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub created_at: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
}

/// The webhook outbox, as the delivery worker and the status endpoint use it.
impl Store {
    /// Woken when new events are waiting.
    pub fn events_ready(&self) -> Arc<Notify> {
        self.events_ready.clone()
    }

    /// Claims up to `limit` due events for `lease_millis`: no other worker (in
    /// this process or another) takes them meanwhile; a worker that dies lets
    /// them come due again when the lease ends.
    pub async fn claim_events(
        &self,
        now: i64,
        lease_millis: i64,
        limit: i64,
    ) -> Result<Vec<DueEvent>, StoreError> {
        let rows = sqlx::query(
            // The outer conditions repeat the inner ones: PostgreSQL checks them
            // again on a row another collector claimed meanwhile, and skips it.
            "UPDATE webhook_events SET claimed_until = $2, attempts = attempts + 1
             WHERE id IN (
                SELECT id FROM webhook_events
                WHERE state = 'pending' AND next_at <= $1
                  AND (claimed_until IS NULL OR claimed_until <= $1)
                ORDER BY next_at, id LIMIT $3)
               AND state = 'pending' AND (claimed_until IS NULL OR claimed_until <= $1)
             RETURNING id, key, site, webhook, kind, body, attempts, created_at",
        )
        .bind(now)
        .bind(now + lease_millis)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut due: Vec<DueEvent> = rows
            .iter()
            .map(|r| DueEvent {
                id: r.get(0),
                key: r.get(1),
                site: r.get(2),
                webhook: r.get(3),
                kind: r.get(4),
                body: r.get(5),
                attempts: r.get(6),
                created_at: r.get(7),
            })
            .collect();
        due.sort_by_key(|e| e.id);
        Ok(due)
    }

    /// Records how an attempt ended and releases the claim.
    pub async fn record_attempt(
        &self,
        id: i64,
        now: i64,
        attempt: &Attempt,
    ) -> Result<(), StoreError> {
        let (state, next_at, status, error) = match attempt {
            Attempt::Delivered { status } => ("delivered", None, Some(*status), None),
            Attempt::Retry {
                status,
                error,
                next_at,
            } => ("pending", Some(*next_at), *status, Some(error.as_str())),
            Attempt::GiveUp { status, error } => ("failed", None, *status, Some(error.as_str())),
        };
        sqlx::query(
            "UPDATE webhook_events SET state = $2, next_at = COALESCE($3, next_at),
                claimed_until = NULL, last_attempt_at = $4, last_status = $5,
                last_error = $6,
                done_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $4 END
             WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(next_at)
        .bind(now)
        .bind(status.map(i64::from))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes a webhook's waiting events due now (it has just answered again),
    /// leaving claimed ones alone; returns how many.
    pub async fn hurry_events(
        &self,
        site: &str,
        webhook: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_events SET next_at = $3
             WHERE site = $1 AND webhook = $2 AND state = 'pending' AND next_at > $3
               AND (claimed_until IS NULL OR claimed_until <= $3)",
        )
        .bind(site)
        .bind(webhook)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// When the next pending event comes due (or its claim ends).
    pub async fn next_event_at(&self) -> Result<Option<i64>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN claimed_until > next_at THEN claimed_until ELSE next_at END)
             FROM webhook_events WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next)
    }

    /// Delivery counts and the last error of one webhook.
    pub async fn hook_state(&self, site: &str, webhook: &str) -> Result<HookState, StoreError> {
        let mut state = HookState::default();
        let counts = sqlx::query(
            "SELECT state, COUNT(*), MAX(done_at) FROM webhook_events
             WHERE site = $1 AND webhook = $2 GROUP BY state",
        )
        .bind(site)
        .bind(webhook)
        .fetch_all(&self.pool)
        .await?;
        for row in counts {
            let n: i64 = row.get(1);
            match row.get::<String, _>(0).as_str() {
                "pending" => state.pending = n,
                "delivered" => {
                    state.delivered = n;
                    state.last_delivered_at = row.get(2);
                }
                _ => state.failed = n,
            }
        }
        if let Some(row) = sqlx::query(
            "SELECT last_attempt_at, last_status, last_error FROM webhook_events
             WHERE site = $1 AND webhook = $2 AND last_error IS NOT NULL
             ORDER BY last_attempt_at DESC LIMIT 1",
        )
        .bind(site)
        .bind(webhook)
        .fetch_optional(&self.pool)
        .await?
        {
            state.last_error_at = row.get(0);
            state.last_status = row.get(1);
            state.last_error = row.get(2);
        }
        Ok(state)
    }

    /// A webhook's latest events, newest first; `state` narrows them.
    pub async fn recent_events(
        &self,
        site: &str,
        webhook: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, answer_id, kind, state, attempts, created_at, last_attempt_at,
                last_status, last_error, done_at
             FROM webhook_events
             WHERE site = $1 AND webhook = $2 AND ($3 IS NULL OR state = $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(site)
        .bind(webhook)
        .bind(state)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                key: r.get(0),
                answer_id: r.get(1),
                kind: r.get(2),
                state: r.get(3),
                attempts: r.get(4),
                created_at: r.get(5),
                last_attempt_at: r.get(6),
                last_status: r.get(7),
                last_error: r.get(8),
                done_at: r.get(9),
            })
            .collect())
    }
}
