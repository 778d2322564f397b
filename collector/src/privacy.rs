//! What a respondent is owed, as the collector acts on it: erasure on request
//! (`POST /v1/sites/{site}/erase`, and `pulso erase` on the command line) and
//! the daily retention run of every site with `retention_days`. Both go
//! through the store in one transaction (a chunk at a time for retention)
//! and are recorded in the audit log.

use std::time::Duration;

use axum::Router;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::http::tokens::Client;
use crate::http::{ApiError, AppState};
use crate::store::{AuditEntry, Erased, Store, StoreError, Subject};

/// The erasure endpoint.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{site}/erase", post(erase))
}

/// Whom to erase: exactly one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// Every answer of this user id on the site.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    user_id: Option<String>,
    /// Every answer of this browser's respondent id on the site.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,100}$")]
    respondent: Option<String>,
}

impl EraseRequest {
    /// The subject, or the error naming the field at fault.
    pub fn subject(self) -> Result<Subject, (&'static str, &'static str)> {
        match (self.user_id, self.respondent) {
            (Some(u), None) if !u.is_empty() && u.chars().count() <= 100 => Ok(Subject::UserId(u)),
            (None, Some(r)) if survey::is_id(&r) => Ok(Subject::Respondent(r)),
            (Some(_), None) => Err(("user_id", "a user id of 1-100 characters")),
            (None, Some(_)) => Err(("respondent", "1-100 letters, digits, '-' or '_'")),
            _ => Err(("user_id", "give exactly one of user_id and respondent")),
        }
    }
}

/// Erases a person's answers on the site, and their webhook events. For the
/// site's admins (an API token, or a signed-in browser from the collector's
/// own pages); recorded in the audit log.
#[utoipa::path(post, path = "/v1/sites/{site}/erase",
    params(("site" = String, Path, description = "Site key", example = "shop")),
    request_body = EraseRequest,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = Erased),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody, description = "Not an admin of the site"),
        (status = 404, body = crate::http::openapi::ErrorBody, description = "No such site, or not a member of it"),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn erase(
    State(state): State<AppState>,
    mut caller: crate::people::Caller,
    Path(site_key): Path<String>,
    Client(client): Client,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let site = match caller.access(&state, &site_key, crate::people::Need::Admin) {
        Ok(site) => site,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    crate::http::check_json(&headers)?;
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "body_unreadable", rejection.body_text()).field("body")
    })?;
    let request: EraseRequest = crate::http::decode(&body)?;
    let subject = request
        .subject()
        .map_err(|(field, message)| ApiError::unprocessable(field, "invalid_subject", message))?;
    let audit = audit_of(
        &caller.actor(),
        &site.key,
        &subject,
        Some(client.to_string()),
    );
    let erased = state
        .store()
        .erase(&site.key, &subject, audit)
        .await
        .map_err(ApiError::unavailable)?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(erased),
    )
        .into_response())
}

/// The audit line of an erasure: the subject's kind and a SHA-256 of its
/// value (a later "was this person erased?" can be answered by hashing,
/// without the log keeping who they were).
pub fn audit_of(actor: &str, site: &str, subject: &Subject, client: Option<String>) -> AuditEntry {
    let digest: String = Sha256::digest(subject_value(subject).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    AuditEntry {
        at: jiff::Timestamp::now().as_millisecond(),
        site: Some(site.to_owned()),
        actor: actor.to_owned(),
        action: "erase".into(),
        detail: serde_json::json!({ "subject": subject.kind(), "sha256": digest }).to_string(),
        client,
    }
}

fn subject_value(subject: &Subject) -> &str {
    match subject {
        Subject::UserId(v) | Subject::Respondent(v) => v,
    }
}

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Deletes, for every site with `retention_days`, the answers older than
/// that (from `now`, Unix milliseconds); returns what each site lost.
pub async fn retain(
    store: &Store,
    sites: &[(String, u32)],
    now: i64,
) -> Result<Vec<(String, Erased)>, StoreError> {
    let mut done = Vec::new();
    for (site, days) in sites {
        let before = now - i64::try_from(survey::days_ms(*days)).unwrap_or(i64::MAX);
        let audit = AuditEntry {
            at: now,
            site: Some(site.clone()),
            actor: "retention".into(),
            action: "retention".into(),
            detail: serde_json::json!({ "retention_days": days, "before": before }).to_string(),
            client: None,
        };
        done.push((site.clone(), store.delete_older(site, before, audit).await?));
    }
    Ok(done)
}

/// The daily retention run `serve` keeps going: at start, then every 24 h.
/// (With several collectors on one database each runs it; the deletes are
/// the same, so the later ones find nothing.)
pub async fn run_retention(state: AppState) {
    let sites: Vec<(String, u32)> = state
        .settings()
        .sites
        .values()
        .filter_map(|s| Some((s.key.clone(), s.retention_days?)))
        .collect();
    if sites.is_empty() {
        return;
    }
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    loop {
        tick.tick().await;
        let now = jiff::Timestamp::now().as_millisecond();
        match retain(state.store(), &sites, now).await {
            Ok(done) => {
                for (site, erased) in done.iter().filter(|(_, e)| e.answers > 0) {
                    tracing::info!(
                        site,
                        answers = erased.answers,
                        "retention deleted old answers"
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "retention run failed; tried again tomorrow"),
        }
    }
}
