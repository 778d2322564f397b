//! `GET /v1/sites/{site}/export`: the token-protected, streamed export.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::config::Site;
use crate::export::csv_stream;

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

pub async fn export(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Authenticate before saying whether the site exists.
    let site = state.site(&site_key);
    if !site.is_some_and(|s| authorised(s, &headers)) {
        return Err(ApiError::unauthorized());
    }
    match query.format.as_deref().unwrap_or("csv") {
        "csv" => {}
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_format",
                "format must be csv",
            )
            .field("format"));
        }
    }
    let filename = format!("attachment; filename=\"pulso-{site_key}.csv\"");
    let body = Body::from_stream(csv_stream(state.store().clone(), site_key));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
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

/// Bearer token check in constant time, so its timing says nothing of the token.
fn authorised(site: &Site, headers: &HeaderMap) -> bool {
    let Some(expected) = &site.export_token else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| {
            constant_time_eq::constant_time_eq(
                given.trim().as_bytes(),
                expected.expose().as_bytes(),
            )
        })
}
