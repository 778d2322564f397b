//! The analysts' endpoints: `GET /v1/sites/{site}/export` (streamed; admins
//! and the site's machine token, each export in the audit log),
//! `GET /v1/sites/{site}/report` (every member, and the machine token) and
//! `GET /v1/sites/{site}/webhooks` (every member).

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::tokens::Client;
use super::{ApiError, AppState};
use crate::export::{Asked, Format, Params, export_stream_then};
use crate::people::{Caller, Need, audit_entry};

/// Every answer that passes the filters, one row each, streamed.
#[utoipa::path(get, path = "/v1/sites/{site}/export",
    params(("site" = String, Path, description = "Site key"), Params),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The rows", content(
            (Vec<crate::export::JsonRow> = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )),
        (status = 400, body = super::openapi::ErrorBody),
        (status = 401, body = super::openapi::ErrorBody),
        (status = 403, body = super::openapi::ErrorBody, description = "The caller's role on the site does not allow this"),
        (status = 404, body = super::openapi::ErrorBody, description = "No such site, or the caller is no member of it"),
        (status = 429, body = super::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = super::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn export(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site_key): Path<String>,
    query: Result<Query<Params>, QueryRejection>,
    Client(client): Client,
) -> Result<Response, ApiError> {
    let site = match caller.access(&state, &site_key, Need::Export) {
        Ok(site) => site,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let params = query_of(query)?;
    let Asked {
        format, filter, by, ..
    } = params.parse().map_err(bad_parameter)?;
    if by.is_some() {
        return Err(bad_parameter((
            "by",
            "a breakdown is the report's; exports list every answer".into(),
        )));
    }
    let filename = format!(
        "attachment; filename=\"pulso-{site_key}.{}\"",
        format.extension()
    );
    // Who exported what, and how many rows, once the stream has ended.
    let (ended, done) = tokio::sync::oneshot::channel();
    let store = state.store().clone();
    let (actor, key) = (caller.actor(), site.key.clone());
    let asked = serde_json::json!({
        "format": format.extension(),
        "from": params.from, "to": params.to, "tz": params.tz,
        "survey": params.survey, "step": params.step,
        "class": params.class, "band": params.band,
    });
    tokio::spawn(async move {
        let Ok(ended) = done.await else { return };
        let crate::export::Ended { rows, complete } = ended;
        let mut detail = asked;
        detail["rows"] = rows.into();
        detail["complete"] = complete.into();
        let entry = audit_entry(
            Some(&key),
            &actor,
            "export",
            detail,
            Some(client.to_string()),
        );
        if let Err(e) = store.audit(&entry).await {
            tracing::error!(error = %e, site = %key, "the audit line of an export was not written");
        }
    });
    let body = Body::from_stream(export_stream_then(
        state.store().clone(),
        site.key.clone(),
        filter,
        format,
        Some(ended),
    ));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&filename).map_err(ApiError::internal)?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// NPS with its margin of error, classes, bands, per step, survey and week, reasons.
#[utoipa::path(get, path = "/v1/sites/{site}/report",
    params(("site" = String, Path, description = "Site key"), Params),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = crate::report::Report),
        (status = 400, body = super::openapi::ErrorBody),
        (status = 401, body = super::openapi::ErrorBody),
        (status = 403, body = super::openapi::ErrorBody, description = "The caller's role on the site does not allow this"),
        (status = 404, body = super::openapi::ErrorBody, description = "No such site, or the caller is no member of it"),
        (status = 429, body = super::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = super::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn report(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site_key): Path<String>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let site = match caller.access(&state, &site_key, Need::Report) {
        Ok(site) => site,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let Asked {
        format,
        filter,
        tz,
        by,
    } = asked(query)?;
    if format != Format::Csv {
        return Err(bad_parameter((
            "format",
            "the report is JSON; format is for exports".into(),
        )));
    }
    let mut report = crate::report::report(state.store(), site, &filter, &tz)
        .await
        .map_err(ApiError::unavailable)?;
    if let Some((of, key)) = by {
        let segments = crate::report::segments(state.store(), &site.key, &filter, of, &key)
            .await
            .map_err(ApiError::unavailable)?;
        report.segments = Some(segments);
    }
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(report),
    )
        .into_response())
}

/// Which events the webhook status lists.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events in this state: `pending`, `delivered` or `failed`.
    state: Option<String>,
    /// How many of the latest events per webhook (default 20, at most 500).
    limit: Option<i64>,
}

/// Each webhook of the site: where it posts, its pending, delivered and failed
/// events, the last error, and the latest events.
#[utoipa::path(get, path = "/v1/sites/{site}/webhooks",
    params(("site" = String, Path, description = "Site key"), EventsQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = super::openapi::Webhooks),
        (status = 400, body = super::openapi::ErrorBody),
        (status = 401, body = super::openapi::ErrorBody),
        (status = 403, body = super::openapi::ErrorBody, description = "The caller's role on the site does not allow this"),
        (status = 404, body = super::openapi::ErrorBody, description = "No such site, or the caller is no member of it"),
        (status = 429, body = super::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = super::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn webhooks(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site_key): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let site = match caller.access(&state, &site_key, Need::Read) {
        Ok(site) => site,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let q = query_of(query)?;
    if let Some(s) = q.state.as_deref()
        && !matches!(s, "pending" | "delivered" | "failed")
    {
        return Err(bad_parameter((
            "state",
            "one of pending, delivered, failed".into(),
        )));
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=500).contains(&limit) {
        return Err(bad_parameter(("limit", "between 1 and 500".into())));
    }
    let list = crate::webhooks::statuses(state.store(), &site.webhooks, q.state.as_deref(), limit)
        .await
        .map_err(ApiError::unavailable)?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(super::openapi::Webhooks { webhooks: list }),
    )
        .into_response())
}

/// The query string, parsed and checked; errors name the parameter.
fn asked(query: Result<Query<Params>, QueryRejection>) -> Result<Asked, ApiError> {
    query_of(query)?.parse().map_err(bad_parameter)
}

/// A query string that does not fit its type at all (an unknown parameter, a
/// number that is not one): 400 naming the query.
fn query_of<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()).field("query")
    })
}

fn bad_parameter((field, message): crate::export::ParamError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).field(field)
}
