//! `POST /v1/displays`: the card says it was shown, and again when it is
//! closed before any score. No personal data: a display id the card makes,
//! the site, survey and step. Idempotent by display id (the card sends it
//! through the same outbox as answers, so repeats are harmless); a
//! dismissal never turns back into a plain display.

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::http::{ApiError, AppState, check_json, clean_text, decode};
use crate::store::{NewDisplay, Recorded};

/// A display as the card posts it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisplayPost {
    /// A UUID the card made when it showed.
    pub id: String,
    /// 1 with `shown`, 2 with `dismissed` (the outbox keeps the highest).
    pub rev: u32,
    pub site: String,
    pub survey: String,
    #[serde(default)]
    pub step: Option<String>,
    pub display: Event,
}

/// What happened to the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Shown,
    /// Closed before any score.
    Dismissed,
}

/// What `POST /v1/displays` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisplayStored {
    pub id: String,
    pub stored: bool,
}

/// The display to store, checked against the site's configuration; no I/O.
pub fn prepare(
    post: DisplayPost,
    site: &crate::config::Site,
    at: i64,
) -> Result<NewDisplay, ApiError> {
    if !survey::is_uuid(&post.id) {
        return Err(ApiError::unprocessable(
            "id",
            "invalid_field",
            "a display id is a UUID",
        ));
    }
    let rev = match post.display {
        Event::Shown => 1,
        Event::Dismissed => 2,
    };
    if post.rev != rev {
        return Err(ApiError::unprocessable(
            "rev",
            "invalid_field",
            format!(
                "a display `{}` has revision {rev}",
                event_name(post.display)
            ),
        ));
    }
    let Some(survey) = site.survey(&post.survey) else {
        return Err(ApiError::unprocessable(
            "survey",
            "unknown_survey",
            "no such survey",
        ));
    };
    // As an answer's: kept only if the survey lists it (a page's odd step
    // is dropped, never a reason to lose the display).
    let step = post
        .step
        .map(|s| clean_text(&s))
        .filter(|s| survey.steps.iter().any(|listed| listed == s));
    Ok(NewDisplay {
        id: post.id,
        site: post.site,
        survey: post.survey,
        step,
        dismissed: post.display == Event::Dismissed,
        at,
    })
}

fn event_name(event: Event) -> &'static str {
    match event {
        Event::Shown => "shown",
        Event::Dismissed => "dismissed",
    }
}

/// Records that a card was shown, or closed unanswered.
#[utoipa::path(post, path = "/v1/displays", request_body = DisplayPost,
    responses(
        (status = 200, body = DisplayStored),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 403, body = crate::http::openapi::ErrorBody, description = "Origin not allowed for the site"),
        (status = 409, body = crate::http::openapi::ErrorBody, description = "The id is another survey's display"),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Rate limited; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn post_display(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_json(&headers)?;
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "body_unreadable", rejection.body_text()).field("body")
    })?;
    let post: DisplayPost = decode(&body)?;
    let site = crate::http::posting_site(&state, &post.site, &headers)?;
    let display = prepare(post, site, jiff::Timestamp::now().as_millisecond())?;
    let id = display.id.clone();
    match state.store().record_display(display).await {
        Ok(Recorded::Stored) => Ok(axum::Json(DisplayStored { id, stored: true }).into_response()),
        Ok(Recorded::IdTaken) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "id_taken",
            "this display id belongs to another site or survey",
        )
        .field("id")),
        Err(e) => Err(ApiError::unavailable(e)),
    }
}
