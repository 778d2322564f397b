//! Reading the audit log: a site's for its admins
//! (`/dashboard/{site}/audit`, `GET /v1/sites/{site}/audit`), the whole
//! instance's (sign-ins and their failures too) for owners (`/audit`,
//! `GET /v1/audit`). Newest first, a page at a time: the cursor is the id of
//! the last entry seen, so pages hold still while entries are added.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::text;
use super::web::{self, page};
use super::{Need, pages};
use crate::http::{ApiError, AppState};

/// Entries on a page of the dashboard's log.
const PAGE_ENTRIES: i64 = 50;

/// Which entries (`GET /v1/sites/{site}/audit`, `GET /v1/audit`).
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this one: the `next_cursor` of the page before.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    cursor: Option<String>,
    /// Entries per page (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// One line of the log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditLine {
    pub id: i64,
    /// When, RFC 3339 in UTC.
    pub at: String,
    /// The site, or null for what concerns the instance (sign-ins).
    pub site: Option<String>,
    /// Who: an email (`… (token NAME)` through an API token), `cli`,
    /// `retention`, `token:export`.
    pub actor: String,
    /// `sign_in`, `sign_in_failed`, `sign_out`, `password_set`,
    /// `password_changed`, `member_added`, `role_changed`, `member_removed`,
    /// `sessions_ended`, `link_created`, `token_created`, `token_revoked`,
    /// `export`, `erase`, `retention`, ...
    pub action: String,
    /// What it was done to, and how.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The client address, when it came over HTTP.
    pub client: Option<String>,
}

/// A page of the log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditLine>,
    /// The `cursor` of the next (older) page; null on the last.
    pub next_cursor: Option<String>,
}

/// `(entries, next cursor)` of a page of `site`'s log (`None`: every site's).
async fn read(
    state: &AppState,
    site: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<AuditLine>, Option<i64>), crate::store::StoreError> {
    // One more than asked says whether an older page exists.
    let mut rows = state.store().audit_page(site, before, limit + 1).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| rows.last().map(|(id, _)| *id)).flatten();
    let lines = rows
        .into_iter()
        .map(|(id, e)| AuditLine {
            id,
            at: crate::export::rfc3339(e.at),
            site: e.site,
            actor: e.actor,
            action: e.action,
            detail: serde_json::from_str(&e.detail).unwrap_or_else(|_| serde_json::json!({})),
            client: e.client,
        })
        .collect();
    Ok((lines, next))
}

fn parse(query: Result<Query<AuditQuery>, QueryRejection>) -> Result<(Option<i64>, i64), ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()).field("query")
    })?;
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<i64>().ok().filter(|c| *c > 0).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "a cursor from next_cursor",
            )
            .field("cursor")
        })?),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "between 1 and 500",
        )
        .field("limit"));
    }
    Ok((before, limit))
}

fn json_page(lines: Vec<AuditLine>, next: Option<i64>) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(AuditPage {
            entries: lines,
            next_cursor: next.map(|n| n.to_string()),
        }),
    )
        .into_response()
}

/// A site's audit log, newest first: sign-ins aside, everything done to the
/// site, its members, tokens and answers. Admins only.
#[utoipa::path(get, path = "/v1/sites/{site}/audit",
    params(("site" = String, Path, description = "Site key"), AuditQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody, description = "Not an admin of the site"),
        (status = 404, body = crate::http::openapi::ErrorBody, description = "No such site, or not a member of it"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn site_api(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site): Path<String>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    if let Err(refusal) = caller.access(&state, &site, Need::Admin) {
        return refusal.into_response();
    }
    let (before, limit) = match parse(query) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    match read(&state, Some(&site), before, limit).await {
        Ok((lines, next)) => json_page(lines, next),
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

/// The whole instance's audit log, sign-ins and their failures included.
/// Owners only.
#[utoipa::path(get, path = "/v1/audit",
    params(AuditQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody, description = "Not an owner"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn instance_api(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    if let Err(refusal) = caller.owner() {
        return refusal.into_response();
    }
    let (before, limit) = match parse(query) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    match read(&state, None, before, limit).await {
        Ok((lines, next)) => json_page(lines, next),
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    before: String,
}

/// `GET /dashboard/{site}/audit`.
pub async fn site_page(
    State(state): State<AppState>,
    mut caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let t = text::for_request(&headers);
    if let Err(refusal) = caller.access(&state, &site, Need::Admin) {
        return web::refused(t, caller.person(), refusal, &uri);
    }
    let Some(person) = caller.person() else {
        return web::sign_in_first(&uri);
    };
    let before = q.before.parse::<i64>().ok();
    match read(&state, Some(&site), before, PAGE_ENTRIES).await {
        Ok((lines, next)) => page(
            StatusCode::OK,
            pages::audit(t, person, Some(&site), &lines, next),
        ),
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `GET /audit`: the instance's log, for owners.
pub async fn instance_page(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Response {
    let t = text::for_request(&headers);
    if let Err(refusal) = caller.owner() {
        return web::refused(t, caller.person(), refusal, &uri);
    }
    let Some(person) = caller.person() else {
        return web::sign_in_first(&uri);
    };
    let before = q.before.parse::<i64>().ok();
    match read(&state, None, before, PAGE_ENTRIES).await {
        Ok((lines, next)) => page(StatusCode::OK, pages::audit(t, person, None, &lines, next)),
        Err(_) => web::unavailable(t, Some(person)),
    }
}
