//! `POST /v1/sites/{site}/history`: whether this browser's respondent (or,
//! for a verified user, that user on any device) has answered on the site
//! before; the card asks when its own storage says "first survey". A POST,
//! so that no id sits in a URL (proxies and access logs keep URLs).

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use super::ingest::{check_content_type, decode};
use super::{ApiError, AppState};

/// Whom to look up.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    /// The browser's respondent id.
    #[schema(
        pattern = r"^[A-Za-z0-9_-]{1,100}$",
        example = "0b9c8a7e-1f2d-4c3b-9a8e-7d6c5b4a3f21"
    )]
    respondent: String,
    /// The identified user, if any; looked up only when the site has no
    /// identity secret, or with its hash.
    #[serde(default)]
    #[schema(max_length = 100)]
    user_id: Option<String>,
    /// HMAC-SHA256 of `user_id` with the site's identity secret, in hex.
    #[serde(default)]
    #[schema(max_length = 64)]
    user_hash: Option<String>,
}

impl Lookup {
    /// The respondent id, the user id to trust (with the site's secret, only
    /// a verified one), and whether only verified answers count for it; or
    /// the field at fault.
    pub fn whom(
        self,
        site: Option<&crate::config::Site>,
    ) -> Result<(String, Option<String>, bool), ApiError> {
        if !survey::is_id(&self.respondent) {
            return Err(ApiError::unprocessable(
                "respondent",
                "invalid_respondent",
                "respondent must be 1-100 letters, digits, '-' or '_'",
            ));
        }
        let user = self.user_id.filter(|u| !u.is_empty());
        if user.as_ref().is_some_and(|u| u.chars().count() > 100) {
            return Err(ApiError::unprocessable(
                "user_id",
                "invalid_user_id",
                "user ids are at most 100 characters",
            ));
        }
        // With the site's secret, only a verified user is looked up, and
        // only among answers whose user was verified too.
        Ok(match site.and_then(|s| s.identity_secret.as_ref()) {
            Some(secret) => (
                self.respondent,
                user.filter(|u| crate::identity::verified(secret, u, self.user_hash.as_deref())),
                true,
            ),
            None => (self.respondent, user, false),
        })
    }
}

/// Whether the respondent, or the user, answered on the site before. A site
/// that does not exist answers as one where nobody answered: the answer says
/// nothing of which sites there are.
#[utoipa::path(post, path = "/v1/sites/{site}/history",
    params(("site" = String, Path, description = "Site key", example = "shop")),
    request_body(content = Lookup, content_type = "text/plain",
        description = "JSON, sent as text/plain (no CORS preflight) or application/json"),
    responses(
        (status = 200, body = super::openapi::History),
        (status = 400, body = super::openapi::ErrorBody, description = "Not JSON"),
        (status = 413, body = super::openapi::ErrorBody),
        (status = 415, body = super::openapi::ErrorBody),
        (status = 422, body = super::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = super::openapi::ErrorBody, description = "Rate limited; see Retry-After"),
        (status = 503, body = super::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_content_type(&headers)?;
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "body_unreadable", rejection.body_text()).field("body")
    })?;
    let lookup: Lookup = decode(&body)?;
    let answered = match state.site(&site) {
        None => {
            lookup.whom(None)?;
            false
        }
        Some(site) => {
            let (respondent, user, verified_only) = lookup.whom(Some(site))?;
            state
                .store()
                .has_answered(&site.key, &respondent, user.as_deref(), verified_only)
                .await
                .map_err(ApiError::unavailable)?
        }
    };
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(super::openapi::History { answered }),
    )
        .into_response())
}
