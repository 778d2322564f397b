//! The inbox over JSON, for sessions and API tokens by role: members read
//! (`GET …/answers`, `GET …/answers/{id}`, `GET …/tags`), agents and admins
//! work (`PATCH …/answers/{id}` with `If-Match`, notes, replies, tags).

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::query::{ChangeBody, ListQuery, OwnerAsked, encode_cursor, overdue_cutoffs};
use super::view::{Activity, AnswerView, InboxItem, InboxList};
use super::work::{self, Outcome};
use crate::config::Site;
use crate::http::tokens::Client;
use crate::http::{ApiError, AppState, check_json, decode};
use crate::people::{Caller, Need, Person, now_millis};
use crate::store::{InboxAnswer, OwnerFilter, StoreError};

/// A handler's refusal so far, boxed (a response is large).
pub(super) type Result<T = Response> = std::result::Result<T, Box<Response>>;

fn refuse(e: impl IntoResponse) -> Box<Response> {
    Box::new(e.into_response())
}

/// Only people work on answers (a site's machine token reads exports).
pub(super) fn forbidden() -> Response {
    crate::people::Refusal::Denied(crate::people::Denied::Forbidden).into_response()
}

pub(super) fn unavailable(e: StoreError) -> Response {
    ApiError::unavailable(e).into_response()
}

fn invalid((field, message): crate::export::ParamError, status: StatusCode) -> Response {
    let code = if status == StatusCode::BAD_REQUEST {
        "invalid_parameter"
    } else {
        "invalid_field"
    };
    ApiError::new(status, code, message)
        .field(field)
        .into_response()
}

/// The site and the person, if the caller may do `need` there.
pub(super) fn allowed<'a>(
    caller: &'a mut Caller,
    state: &'a AppState,
    site: &str,
    need: Need,
) -> Result<(&'a Site, Option<&'a Person>)> {
    let site = caller.access(state, site, need).map_err(refuse)?;
    Ok((site, caller.person()))
}

/// The site and the person, if the caller is a person who may work on
/// answers there (a machine token works on nothing: 403).
fn worker<'a>(
    caller: &'a mut Caller,
    state: &'a AppState,
    site: &str,
) -> Result<(&'a Site, &'a Person)> {
    match allowed(caller, state, site, Need::Work)? {
        (site, Some(person)) => Ok((site, person)),
        (_, None) => Err(Box::new(forbidden())),
    }
}

pub(super) fn body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<T> {
    check_json(headers).map_err(refuse)?;
    let body = body.map_err(|rejection| {
        refuse(
            ApiError::new(rejection.status(), "body_unreadable", rejection.body_text())
                .field("body"),
        )
    })?;
    decode(&body).map_err(refuse)
}

/// The answers of a site's inbox, newest first, through the filters, with
/// counts per status; a page at a time.
#[utoipa::path(get, path = "/v1/sites/{site}/answers",
    params(("site" = String, Path, description = "Site key"), ListQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = InboxList),
        (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody, description = "No such site, or not a member of it"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site): Path<String>,
    query: std::result::Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    match list_inner(&state, &mut caller, &site, query).await {
        Ok(r) => r,
        Err(r) => *r,
    }
}

async fn list_inner(
    state: &AppState,
    caller: &mut Caller,
    site: &str,
    query: std::result::Result<Query<ListQuery>, QueryRejection>,
) -> Result {
    let (site, person) = allowed(caller, state, site, Need::Read)?;
    let Query(q) = query.map_err(|e| {
        refuse(
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()).field("query"),
        )
    })?;
    let now = now_millis();
    let mut asked = q
        .parse(site, now)
        .map_err(|e| Box::new(invalid(e, StatusCode::BAD_REQUEST)))?;
    asked.filter.owner = owner_filter(state, &asked.owner, person)
        .await
        .map_err(|e| Box::new(unavailable(e)))?;
    let data = inbox_page(state, site, &asked, person, now)
        .await
        .map_err(unavailable)?;
    let list = InboxList {
        answers: data
            .rows
            .into_iter()
            .map(|r| InboxItem::of(site, r, now))
            .collect(),
        counts: data.counts,
        overdue: data.overdue,
        next_cursor: data.next.as_ref().map(encode_cursor),
    };
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(list),
    )
        .into_response())
}

/// The owner filter asked for, its email looked up (an unknown one lists
/// nothing).
pub async fn owner_filter(
    state: &AppState,
    asked: &OwnerAsked,
    person: Option<&Person>,
) -> std::result::Result<OwnerFilter, StoreError> {
    Ok(match asked {
        OwnerAsked::Any => OwnerFilter::Any,
        OwnerAsked::Unassigned => OwnerFilter::Unassigned,
        OwnerAsked::Me => OwnerFilter::User(person.map_or(-1, |p| p.user.id)),
        OwnerAsked::Email(email) => OwnerFilter::User(
            state
                .store()
                .user_by_email(email)
                .await?
                .map_or(-1, |u| u.id),
        ),
    })
}

/// A page of the inbox with its counts, as the API and the page show it.
pub struct PageData {
    pub rows: Vec<crate::store::InboxRow>,
    pub next: Option<crate::store::Cursor>,
    /// Every status, with the answers of it that pass the other filters.
    pub counts: std::collections::BTreeMap<String, i64>,
    pub overdue: i64,
}

pub async fn inbox_page(
    state: &AppState,
    site: &Site,
    asked: &super::query::Asked,
    person: Option<&Person>,
    now: i64,
) -> std::result::Result<PageData, StoreError> {
    let store = state.store();
    let (rows, next) = store
        .inbox_page(
            &site.key,
            &asked.filter,
            asked.cursor.as_ref(),
            asked.limit,
            person.map(|p| p.user.id),
        )
        .await?;
    let (counts, overdue) = store
        .inbox_counts(&site.key, &asked.filter, &overdue_cutoffs(site, now))
        .await?;
    let mut all: std::collections::BTreeMap<String, i64> = super::Status::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    all.extend(counts);
    Ok(PageData {
        rows,
        next,
        counts: all,
        overdue,
    })
}

/// Answer `id` with its timeline and activity, as the API and the page
/// read it.
pub async fn answer_parts(
    state: &AppState,
    site: &Site,
    a: &InboxAnswer,
) -> std::result::Result<
    (
        Vec<crate::store::TimelinePoint>,
        Vec<crate::store::ActivityLine>,
    ),
    StoreError,
> {
    let store = state.store();
    let r = &a.answer;
    let timeline = store
        .timeline(
            &site.key,
            &r.respondent,
            r.user_id.as_deref(),
            site.identity_secret.is_some(),
        )
        .await?;
    let activity = store.activity(&site.key, &r.id).await?;
    Ok((timeline, activity))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

async fn answer_json(
    state: &AppState,
    site: &Site,
    a: &InboxAnswer,
    status: StatusCode,
) -> Response {
    let (timeline, activity) = match answer_parts(state, site, a).await {
        Ok(parts) => parts,
        Err(e) => return unavailable(e),
    };
    let view = AnswerView::of(site, a, timeline, activity, now_millis());
    (
        status,
        [
            (header::ETAG, etag(a.version)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        axum::Json(view),
    )
        .into_response()
}

/// One answer: all that is stored with it, its inbox state (its version as
/// the `ETag`), the respondent's timeline, its activity. Opening it marks it
/// read for the caller.
#[utoipa::path(get, path = "/v1/sites/{site}/answers/{id}",
    params(("site" = String, Path, description = "Site key"), ("id" = String, Path, description = "The answer's id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = AnswerView, headers(("ETag" = String, description = "The answer's version"))),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn answer(
    State(state): State<AppState>,
    mut caller: Caller,
    Path((site, id)): Path<(String, String)>,
) -> Response {
    let (site, person) = match allowed(&mut caller, &state, &site, Need::Read) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let a = match state.store().inbox_answer(&site.key, &id).await {
        Ok(Some(a)) => a,
        Ok(None) => return ApiError::not_found("answer").field("id").into_response(),
        Err(e) => return unavailable(e),
    };
    if let Some(p) = person {
        let _ = state.store().mark_read(p.user.id, &id, now_millis()).await;
    }
    answer_json(&state, site, &a, StatusCode::OK).await
}

/// The version of `If-Match: "N"` (also weak, `W/"N"`).
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::IF_MATCH)?.to_str().ok()?.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    value.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// Changes an answer's status (and resolution), owner or tags. `If-Match`
/// must carry the version it was read at: 409 with the answer as it is now
/// when someone changed it meanwhile, 428 without it.
#[utoipa::path(patch, path = "/v1/sites/{site}/answers/{id}",
    params(
        ("site" = String, Path, description = "Site key"),
        ("id" = String, Path, description = "The answer's id"),
        ("If-Match" = String, Header, description = "The ETag the answer was read with"),
    ),
    request_body = ChangeBody,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = AnswerView, headers(("ETag" = String, description = "The answer's new version"))),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, body = crate::http::openapi::Conflict, description = "Changed meanwhile: the current state"),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 428, body = crate::http::openapi::ErrorBody, description = "No If-Match"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn change(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let (site, person) = match worker(&mut caller, &state, &site) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let asked: ChangeBody = match body(&headers, raw) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(version) = if_match(&headers) else {
        return ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "send the answer's ETag as If-Match",
        )
        .field("if-match")
        .into_response();
    };
    let asked = match asked.check(site) {
        Ok(c) => c,
        Err(e) => return invalid(e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    outcome(
        &state,
        site,
        work::change(&state, site, person, &id, version, asked, client).await,
    )
    .await
}

async fn outcome(state: &AppState, site: &Site, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Done(a) => answer_json(state, site, &a, StatusCode::OK).await,
        Outcome::Conflict(a) => {
            let (timeline, activity) = match answer_parts(state, site, &a).await {
                Ok(parts) => parts,
                Err(e) => return unavailable(e),
            };
            let view = AnswerView::of(site, &a, timeline, activity, now_millis());
            (
                StatusCode::CONFLICT,
                [(header::ETAG, etag(a.version))],
                axum::Json(json!({
                    "error": {
                        "code": "version_conflict",
                        "message": "the answer was changed meanwhile: here it is as it is now",
                        "field": "if-match",
                    },
                    "current": view,
                })),
            )
                .into_response()
        }
        Outcome::NotFound => ApiError::not_found("answer").field("id").into_response(),
        Outcome::Invalid(e) => invalid(e, StatusCode::UNPROCESSABLE_ENTITY),
        Outcome::Unavailable(e) => unavailable(e),
    }
}

/// A note's or a reply's text.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    /// At most 2000 characters.
    pub text: String,
}

/// An internal note on an answer (plain text, never shown to the respondent).
#[utoipa::path(post, path = "/v1/sites/{site}/answers/{id}/notes",
    params(("site" = String, Path, description = "Site key"), ("id" = String, Path, description = "The answer's id")),
    request_body = TextBody,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, body = Activity),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn note(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let (site, person) = match worker(&mut caller, &state, &site) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let asked: TextBody = match body(&headers, raw) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match work::note(&state, site, person, &id, &asked.text, client).await {
        Ok(Some(line)) => (StatusCode::CREATED, axum::Json(Activity::from(line))).into_response(),
        Ok(None) => ApiError::not_found("answer").field("id").into_response(),
        Err(o) => outcome(&state, site, o).await,
    }
}

/// What `POST …/replies` answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReplyMade {
    pub id: i64,
    /// The respondent sees it the next time they open a page of the site.
    pub waiting: bool,
}

/// A reply to the respondent: shown once, in the card, the next time they
/// open a page of the site (the same browser, or the same verified user on
/// any device); also a `reply.created` webhook event.
#[utoipa::path(post, path = "/v1/sites/{site}/answers/{id}/replies",
    params(("site" = String, Path, description = "Site key"), ("id" = String, Path, description = "The answer's id")),
    request_body = TextBody,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, body = ReplyMade),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let (site, person) = match worker(&mut caller, &state, &site) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let asked: TextBody = match body(&headers, raw) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match work::reply(&state, site, person, &id, &asked.text, client).await {
        Ok(Some((id, _))) => (
            StatusCode::CREATED,
            axum::Json(ReplyMade { id, waiting: true }),
        )
            .into_response(),
        Ok(None) => ApiError::not_found("answer").field("id").into_response(),
        Err(o) => outcome(&state, site, o).await,
    }
}
