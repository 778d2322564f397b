//! The respondent's side of a reply. While a reply waits, the site's
//! configuration (which the loader fetches on every page view anyway, with
//! its ETag) lists its key: 8 hex digits of the respondent id, or of a
//! verified user's hash. A loader whose key is listed imports the card,
//! which asks for the reply's text (`POST /v1/sites/{site}/replies`, a
//! body, never the id in a URL), shows it, and says it was seen
//! (`POST …/replies/{id}/seen`): then it is listed no more. Pages where
//! nothing waits pay nothing more than before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

use crate::http::history::Lookup;
use crate::http::{ApiError, AppState, check_json, decode};
use crate::people::now_millis;

/// How long a site's list of waiting keys is kept before it is read again.
const KEEP: Duration = Duration::from_secs(5);

/// The keys of waiting replies per site, kept a few seconds.
#[derive(Debug, Default)]
pub struct ReplyKeys {
    sites: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

impl ReplyKeys {
    pub(super) fn cached(&self, site: &str) -> Option<Vec<String>> {
        let sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        sites
            .get(site)
            .filter(|(at, _)| at.elapsed() < KEEP)
            .map(|(_, keys)| keys.clone())
    }

    pub(super) fn keep(&self, site: &str, keys: Vec<String>) {
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        sites.insert(site.to_owned(), (Instant::now(), keys));
    }

    /// Reads the site's keys afresh next time (a reply was written or seen
    /// through this collector).
    pub fn forget(&self, site: &str) {
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        sites.remove(site);
    }
}

/// A reply for the respondent.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Reply {
    pub id: i64,
    pub text: String,
    /// The locale of the answer it replies to.
    pub locale: String,
}

/// What `POST /v1/sites/{site}/replies` answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Replies {
    pub replies: Vec<Reply>,
}

fn body_of(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Lookup, ApiError> {
    check_json(headers)?;
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "body_unreadable", rejection.body_text()).field("body")
    })?;
    decode(&body)
}

/// The replies that wait for this browser's respondent (or, on a site with
/// an identity secret, for this verified user on any device). A site that
/// does not exist answers as one with none.
#[utoipa::path(post, path = "/v1/sites/{site}/replies",
    params(("site" = String, Path, description = "Site key", example = "shop")),
    request_body(content = Lookup, content_type = "text/plain",
        description = "JSON, sent as text/plain (no CORS preflight) or application/json"),
    responses(
        (status = 200, body = Replies),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Rate limited; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn waiting(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let lookup = body_of(&headers, body)?;
    let site = state.site(&site);
    let (respondent, user, verified) = lookup.whom(site)?;
    let replies = match site {
        None => Vec::new(),
        Some(site) => state
            .store()
            .waiting_replies(
                &site.key,
                &respondent,
                user.as_deref().filter(|_| verified),
                now_millis(),
            )
            .await
            .map_err(ApiError::unavailable)?
            .into_iter()
            .map(|r| Reply {
                id: r.id,
                text: r.body,
                locale: r.locale,
            })
            .collect(),
    };
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(Replies { replies }),
    )
        .into_response())
}

/// The respondent saw reply `id`: it waits no more, and its answer's feed
/// says so. 204 whether or not it was theirs to see (nothing to learn).
#[utoipa::path(post, path = "/v1/sites/{site}/replies/{id}/seen",
    params(
        ("site" = String, Path, description = "Site key", example = "shop"),
        ("id" = i64, Path, description = "The reply's id"),
    ),
    request_body(content = Lookup, content_type = "text/plain",
        description = "JSON, sent as text/plain (no CORS preflight) or application/json"),
    responses(
        (status = 204, description = "Noted"),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 404, body = crate::http::openapi::ErrorBody, description = "Not a reply id"),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Rate limited; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn seen(
    State(state): State<AppState>,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(ApiError::not_found("reply").field("id"));
    };
    let lookup = body_of(&headers, body)?;
    let site = state.site(&site);
    let (respondent, user, verified) = lookup.whom(site)?;
    if let Some(site) = site {
        let seen = state
            .store()
            .reply_seen(
                &site.key,
                id,
                &respondent,
                user.as_deref().filter(|_| verified),
                now_millis(),
            )
            .await
            .map_err(ApiError::unavailable)?;
        if seen {
            state.reply_keys().forget(&site.key);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
