//! The delivery worker: claims due events from the outbox, posts them signed,
//! and records each attempt; failures come back with exponential backoff until
//! the webhook's `give_up_after` has passed since the answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, USER_AGENT};

use super::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, Webhook, sign};
use crate::config::Settings;
use crate::metrics::{HookLabels, Metrics};
use crate::store::{Attempt, DueEvent, Store};

/// Events one round claims (and sends concurrently).
const BATCH: i64 = 16;
/// How long a claimed event is ours; longer than a request may take.
const LEASE: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(600);
/// Longest sleep without looking at the outbox (another collector may have
/// queued events this one was not told of).
const IDLE: Duration = Duration::from_secs(5);

pub struct Worker {
    store: Store,
    hooks: HashMap<(String, String), Arc<Webhook>>,
    client: reqwest::Client,
    metrics: Arc<Metrics>,
}

impl Worker {
    pub fn new(settings: &Settings, store: Store, metrics: Arc<Metrics>) -> Worker {
        let hooks = settings
            .sites
            .values()
            .flat_map(|s| s.webhooks.iter())
            .map(|h| ((h.site.clone(), h.id.clone()), h.clone()))
            .collect();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A redirect is an answer of the receiver's, not a place to post to.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Worker {
            store,
            hooks,
            client,
            metrics,
        }
    }

    /// Delivers events as they come due, for ever.
    pub async fn run(self) {
        let ready = self.store.events_ready();
        loop {
            let now = now_millis();
            match self
                .store
                .claim_events(now, LEASE.as_millis() as i64, BATCH)
                .await
            {
                Ok(due) if !due.is_empty() => {
                    futures_util::future::join_all(due.into_iter().map(|e| self.deliver(e))).await;
                    continue;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "cannot read the webhook outbox");
                    tokio::time::sleep(FIRST_RETRY).await;
                    continue;
                }
            }
            let wait = match self.store.next_event_at().await {
                Ok(Some(at)) => {
                    Duration::from_millis((at - now).clamp(50, IDLE.as_millis() as i64) as u64)
                }
                Ok(None) => IDLE,
                Err(_) => FIRST_RETRY,
            };
            tokio::select! {
                _ = ready.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn deliver(&self, event: DueEvent) {
        let labels = HookLabels::new(&event.site, &event.webhook);
        let hook = self.hooks.get(&(event.site.clone(), event.webhook.clone()));
        let (status, error) = match hook {
            None => (None, "the webhook is no longer configured".to_owned()),
            Some(hook) => match self.send(hook, &event).await {
                Ok(status) => {
                    self.metrics.deliveries.get_or_create(&labels).inc();
                    self.record(&event, Attempt::Delivered { status }).await;
                    // The receiver is up: what waited for it need not wait longer.
                    let _ = self
                        .store
                        .hurry_events(&event.site, &event.webhook, now_millis())
                        .await;
                    return;
                }
                Err(failure) => failure,
            },
        };
        self.metrics.delivery_failures.get_or_create(&labels).inc();
        let now = now_millis();
        let deadline = event.created_at + hook.map_or(0, |h| h.give_up_after.as_millis() as i64);
        // The last attempt is made at the deadline itself.
        let next_at = (now + backoff(&event).as_millis() as i64).min(deadline);
        let attempt = if now >= deadline {
            self.metrics.given_up.get_or_create(&labels).inc();
            tracing::warn!(event = %event.key, attempts = event.attempts, %error, "webhook event failed; giving up");
            Attempt::GiveUp { status, error }
        } else {
            tracing::info!(event = %event.key, attempts = event.attempts, %error, "webhook delivery failed; will retry");
            Attempt::Retry {
                status,
                error,
                next_at,
            }
        };
        self.record(&event, attempt).await;
    }

    /// One POST; `Ok` with the status when it is 2xx.
    async fn send(&self, hook: &Webhook, event: &DueEvent) -> Result<u16, (Option<u16>, String)> {
        let secret = hook
            .secret
            .as_ref()
            .ok_or((None, "the webhook has no secret".to_owned()))?;
        let signature = sign(secret.expose(), now_millis() / 1000, event.body.as_bytes());
        let response = self
            .client
            .post(hook.url.get().clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("Pulso-Webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header(SIGNATURE_HEADER, signature)
            .header(IDEMPOTENCY_HEADER, &event.key)
            .header("Pulso-Event", &event.kind)
            .body(event.body.clone())
            .send()
            .await
            // The URL may hold a token (Slack's do): never put it in an error.
            .map_err(|e| (None, describe(&e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        let text = response.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(200).collect();
        Err((
            Some(status.as_u16()),
            format!("HTTP {status}: {excerpt}").trim().to_owned(),
        ))
    }

    async fn record(&self, event: &DueEvent, attempt: Attempt) {
        if let Err(error) = self
            .store
            .record_attempt(event.id, now_millis(), &attempt)
            .await
        {
            // The claim runs out and the event is sent again: at least once.
            tracing::warn!(%error, event = %event.key, "cannot record a webhook attempt");
        }
    }
}

/// An error with its causes ("error sending request: client error (Connect):
/// tcp connect error: Connection refused"): the first line alone says little.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// 1 s, 2 s, 4 s, ... up to 10 minutes, each spread by up to a quarter so that
/// the events of one outage do not all come back in the same second.
fn backoff(event: &DueEvent) -> Duration {
    let exponent = (event.attempts.max(1) - 1).min(20) as u32;
    let base = FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_RETRY);
    let spread = (event.id.wrapping_mul(7919) + event.attempts.wrapping_mul(104_729))
        .rem_euclid(1000) as u32;
    base + base / 4 * spread / 1000
}

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
