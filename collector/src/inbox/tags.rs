//! The site's tags over JSON: listed by every member; renamed, merged and
//! deleted by agents and admins (the tags page does the same).

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::api::{Result, allowed, body, forbidden, unavailable};
use super::view::{Tag, Tags};
use crate::config::Site;
use crate::http::tokens::Client;
use crate::http::{ApiError, AppState};
use crate::people::{Caller, Need, Person, audit_entry};
use crate::store::StoreError;

/// The site's tags, by name, with their answers' counts.
#[utoipa::path(get, path = "/v1/sites/{site}/tags",
    params(("site" = String, Path, description = "Site key")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = Tags),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn tags(
    State(state): State<AppState>,
    mut caller: Caller,
    Path(site): Path<String>,
) -> Response {
    let (site, _) = match allowed(&mut caller, &state, &site, Need::Read) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    match state.store().site_tags(&site.key).await {
        Ok(tags) => axum::Json(Tags {
            tags: tags.into_iter().map(Tag::from).collect(),
        })
        .into_response(),
        Err(e) => unavailable(e),
    }
}

/// A tag's new name.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    pub name: String,
}

/// Where a tag's answers go.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The id of the tag that remains.
    #[serde(deserialize_with = "survey::integral")]
    pub into: i64,
}

/// What a tag operation does, for the API and the page.
pub enum TagAction {
    Rename(String),
    Merge(i64),
    Delete,
}

/// Renames, merges or deletes tag `tag` of `site`; the status to answer and,
/// on failure, the field and why.
pub async fn tag_action(
    state: &AppState,
    site: &Site,
    person: &Person,
    tag: i64,
    action: TagAction,
    client: std::net::IpAddr,
) -> std::result::Result<StatusCode, (StatusCode, &'static str, String)> {
    let store = state.store();
    let audit = |what: &str, detail: serde_json::Value| {
        vec![audit_entry(
            Some(&site.key),
            &person.actor(),
            what,
            detail,
            Some(client.to_string()),
        )]
    };
    let gone = |e: StoreError| (StatusCode::SERVICE_UNAVAILABLE, "tag", e.to_string());
    let done = match action {
        TagAction::Rename(name) => {
            let name = super::query::tag_name(&name)
                .map_err(|m| (StatusCode::UNPROCESSABLE_ENTITY, "name", m))?;
            match store
                .rename_tag(
                    &site.key,
                    tag,
                    &name,
                    &audit("tag_renamed", json!({ "tag": tag, "name": name })),
                )
                .await
            {
                Err(StoreError::Taken) => {
                    return Err((
                        StatusCode::CONFLICT,
                        "name",
                        format!("a tag `{name}` exists: merge them"),
                    ));
                }
                other => other.map_err(gone)?,
            }
        }
        TagAction::Merge(into) => store
            .merge_tags(
                &site.key,
                tag,
                into,
                &audit("tags_merged", json!({ "from": tag, "into": into })),
            )
            .await
            .map_err(gone)?,
        TagAction::Delete => store
            .delete_tag(&site.key, tag, &audit("tag_deleted", json!({ "tag": tag })))
            .await
            .map_err(gone)?,
    };
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err((
            StatusCode::NOT_FOUND,
            "tag",
            "no such tag on this site".into(),
        ))
    }
}

async fn tag_endpoint(
    state: AppState,
    mut caller: Caller,
    client: std::net::IpAddr,
    site: String,
    tag: String,
    action: impl FnOnce() -> Result<TagAction>,
) -> Response {
    let (site, person) = match allowed(&mut caller, &state, &site, Need::Work) {
        Ok((site, Some(p))) => (site, p),
        Ok(_) => {
            return forbidden();
        }
        Err(r) => return *r,
    };
    let Ok(tag) = tag.parse::<i64>() else {
        return ApiError::not_found("tag").field("tag").into_response();
    };
    let action = match action() {
        Ok(a) => a,
        Err(r) => return *r,
    };
    match tag_action(&state, site, person, tag, action, client).await {
        Ok(status) => status.into_response(),
        Err((status, field, message)) => {
            let code = match status {
                StatusCode::NOT_FOUND => "not_found",
                StatusCode::CONFLICT => "taken",
                StatusCode::SERVICE_UNAVAILABLE => "unavailable",
                _ => "invalid_field",
            };
            ApiError::new(status, code, message)
                .field(field)
                .into_response()
        }
    }
}

/// Renames a tag (everywhere it is used).
#[utoipa::path(patch, path = "/v1/sites/{site}/tags/{tag}",
    params(("site" = String, Path, description = "Site key"), ("tag" = i64, Path, description = "The tag's id")),
    request_body = RenameBody,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Renamed"),
        (status = 400, body = crate::http::openapi::ErrorBody, description = "Not JSON"),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, body = crate::http::openapi::ErrorBody, description = "Another tag has that name"),
        (status = 413, body = crate::http::openapi::ErrorBody),
        (status = 415, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody, description = "A field is invalid (named)"),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn rename_tag(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((site, tag)): Path<(String, String)>,
    headers: HeaderMap,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    tag_endpoint(state, caller, client, site, tag, || {
        let b: RenameBody = body(&headers, raw)?;
        Ok(TagAction::Rename(b.name))
    })
    .await
}

/// Moves a tag's answers to another tag and deletes it.
#[utoipa::path(post, path = "/v1/sites/{site}/tags/{tag}/merge",
    params(("site" = String, Path, description = "Site key"), ("tag" = i64, Path, description = "The tag's id")),
    request_body = MergeBody,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Merged"),
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
pub async fn merge_tag(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((site, tag)): Path<(String, String)>,
    headers: HeaderMap,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    tag_endpoint(state, caller, client, site, tag, || {
        let b: MergeBody = body(&headers, raw)?;
        Ok(TagAction::Merge(b.into))
    })
    .await
}

/// Deletes a tag from every answer.
#[utoipa::path(delete, path = "/v1/sites/{site}/tags/{tag}",
    params(("site" = String, Path, description = "Site key"), ("tag" = i64, Path, description = "The tag's id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = crate::http::openapi::ErrorBody),
        (status = 403, body = crate::http::openapi::ErrorBody),
        (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 429, body = crate::http::openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
        (status = 503, body = crate::http::openapi::ErrorBody, description = "Storage unavailable; retry"),
    ))]
pub async fn delete_tag(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((site, tag)): Path<(String, String)>,
) -> Response {
    tag_endpoint(state, caller, client, site, tag, || Ok(TagAction::Delete)).await
}
