//! The inbox's page handlers: the list (and its bulk form), one answer (and
//! its work, note and reply forms), the tags. Thin: they read the forms,
//! call what `work.rs` and `api.rs` do for the API too, and render `html.rs`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::api::{inbox_page, owner_filter};
use super::html;
use super::query::{ChangeBody, ListQuery};
use super::tags::{TagAction, tag_action};
use super::text::{self as words, fill};
use super::work::{self, Outcome};
use crate::config::Site;
use crate::http::AppState;
use crate::http::tokens::Client;
use crate::people::web::{self, FormData, page, see_other};
use crate::people::{Caller, Need, Person, Role, Text, now_millis, text_for};
use crate::store::StoreError;

/// The site and person of a page the caller may see with `need`, or the
/// page's refusal.
fn allowed<'a>(
    caller: &'a mut Caller,
    state: &'a AppState,
    t: &Text,
    site: &str,
    need: Need,
    uri: &Uri,
) -> Result<(&'a Site, &'a Person), Box<Response>> {
    if let Err(refusal) = caller.access(state, site, need) {
        return Err(Box::new(web::refused(t, caller.person(), refusal, uri)));
    }
    let site = state
        .site(site)
        .ok_or_else(|| Box::new(web::not_found(t, caller.person())))?;
    let person = caller
        .person()
        .ok_or_else(|| Box::new(web::sign_in_first(uri)))?;
    Ok((site, person))
}

fn may_work(person: &Person, site: &str) -> bool {
    person.role_on(site).is_some_and(|r| r >= Role::Agent)
}

/// Who may own the site's answers: its agents and admins, and the owners.
async fn owners(state: &AppState, site: &str) -> Result<Vec<String>, StoreError> {
    let store = state.store();
    let mut emails: Vec<String> = store
        .members(site)
        .await?
        .into_iter()
        .filter(|(u, r)| u.active && Role::parse(r).is_some_and(|r| r >= Role::Agent))
        .map(|(u, _)| u.email)
        .collect();
    emails.extend(
        store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.owner && u.active)
            .map(|u| u.email),
    );
    emails.sort();
    emails.dedup();
    Ok(emails)
}

async fn list_page(
    state: &AppState,
    t: &Text,
    site: &Site,
    person: &Person,
    q: ListQuery,
    notice: Option<String>,
) -> Response {
    let w = words::for_lang(t.lang);
    let now = now_millis();
    let mut asked = match q.parse(site, now) {
        Ok(a) => a,
        Err((field, message)) => {
            let html = crate::people::pages::message(t, field, Some(person), &message);
            return page(StatusCode::BAD_REQUEST, html);
        }
    };
    let found = async {
        asked.filter.owner = owner_filter(state, &asked.owner, Some(person)).await?;
        let data = inbox_page(state, site, &asked, Some(person), now).await?;
        Ok::<_, StoreError>((
            data,
            state.store().site_tags(&site.key).await?,
            owners(state, &site.key).await?,
        ))
    };
    let (data, tags, owners) = match found.await {
        Ok(found) => found,
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let view = html::ListView {
        site,
        query: &q,
        rows: data.rows,
        next: data.next,
        counts: &data.counts,
        overdue: data.overdue,
        tags: &tags,
        owners: &owners,
        work: may_work(person, &site.key),
        notice,
        now,
    };
    page(StatusCode::OK, html::list(t, w, person, &view))
}

/// `GET /dashboard/{site}/answers`.
pub async fn inbox(
    State(state): State<AppState>,
    mut caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let t = text_for(&headers);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Read, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let Ok(Query(q)) = query else {
        let html = crate::people::pages::message(t, t.bad_form, Some(person), t.bad_form);
        return page(StatusCode::BAD_REQUEST, html);
    };
    list_page(&state, t, site, person, q, None).await
}

/// `POST /dashboard/{site}/answers/bulk`: one action on the selected
/// answers, each at its current version; the list again, saying how it went.
pub async fn bulk(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
    body: Bytes,
) -> Response {
    let t = text_for(&headers);
    let w = words::for_lang(t.lang);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Work, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let form = FormData::parse(&body);
    let back: ListQuery = format!("/?{}", form.get("back"))
        .parse::<Uri>()
        .ok()
        .and_then(|u| Query::<ListQuery>::try_from_uri(&u).ok())
        .map(|Query(q)| q)
        .unwrap_or_default();
    let ids = form.all("ids");
    if ids.is_empty() {
        return list_page(&state, t, site, person, back, Some(w.bulk_none.to_owned())).await;
    }
    let action = form.get("action");
    let mut body = ChangeBody::default();
    match action {
        "me" => body.owner = Some(Some(person.user.email.clone())),
        "unassign" => body.owner = Some(None),
        "tag" => {}
        a if a.starts_with("owner:") => body.owner = Some(Some(a["owner:".len()..].to_owned())),
        a if a.starts_with("status:") => body.status = super::Status::parse(&a["status:".len()..]),
        _ => {}
    }
    let tag = form.get("tag").trim().to_owned();
    let (mut done, mut conflicts) = (0, 0);
    for id in ids.iter().take(super::query::PAGE_ROWS as usize * 4) {
        let current = match state.store().inbox_answer(&site.key, id).await {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(_) => return web::unavailable(t, Some(person)),
        };
        let mut asked = body.clone();
        if action == "tag" {
            let mut tags = current.tags.clone();
            tags.push(tag.clone());
            asked.tags = Some(tags);
        }
        let change = match asked.check(site) {
            Ok(c) => c,
            Err((_, message)) => {
                return list_page(&state, t, site, person, back, Some(message)).await;
            }
        };
        match work::change(&state, site, person, id, current.version, change, client).await {
            Outcome::Done(_) => done += 1,
            Outcome::Conflict(_) => conflicts += 1,
            Outcome::NotFound => {}
            Outcome::Invalid((_, message)) => {
                return list_page(&state, t, site, person, back, Some(message)).await;
            }
            Outcome::Unavailable(_) => return web::unavailable(t, Some(person)),
        }
    }
    let mut notice = fill(w.bulk_done, &done.to_string(), "");
    if conflicts > 0 {
        notice.push(' ');
        notice.push_str(&fill(w.bulk_conflicts, &conflicts.to_string(), ""));
    }
    list_page(&state, t, site, person, back, Some(notice)).await
}

#[derive(Deserialize, Default)]
pub struct AnswerQuery {
    /// A saved reply to start the reply from.
    #[serde(default)]
    template: String,
    /// What was just done: saved, note, reply.
    #[serde(default)]
    done: String,
}

/// The answer page, with a notice or an error.
/// How the answer page is shown: its status, the reply's text to start
/// from, a notice or an error.
#[derive(Default)]
struct Shown<'a> {
    status: Option<StatusCode>,
    reply_text: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

impl<'a> Shown<'a> {
    fn error(status: StatusCode, error: &'a str) -> Shown<'a> {
        Shown {
            status: Some(status),
            error: Some(error),
            ..Shown::default()
        }
    }
}

async fn answer_page(
    state: &AppState,
    t: &Text,
    site: &Site,
    person: &Person,
    id: &str,
    shown: Shown<'_>,
) -> Response {
    let Shown {
        status,
        reply_text,
        notice,
        error,
    } = shown;
    let status = status.unwrap_or(StatusCode::OK);
    let w = words::for_lang(t.lang);
    let store = state.store();
    let a = match store.inbox_answer(&site.key, id).await {
        Ok(Some(a)) => a,
        Ok(None) => return web::not_found(t, Some(person)),
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let parts = async {
        let (timeline, activity) = super::api::answer_parts(state, site, &a).await?;
        Ok::<_, StoreError>((timeline, activity, owners(state, &site.key).await?))
    };
    let (timeline, activity, owners) = match parts.await {
        Ok(p) => p,
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let view = html::AnswerPage {
        site,
        a: &a,
        timeline: &timeline,
        activity: &activity,
        owners: &owners,
        work: may_work(person, &site.key),
        reply_text,
        notice,
        error,
        now: now_millis(),
    };
    page(status, html::answer(t, w, person, &view))
}

/// `GET /dashboard/{site}/answers/{id}`: opening it marks it read.
pub async fn answer(
    State(state): State<AppState>,
    mut caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path((site, id)): Path<(String, String)>,
    Query(q): Query<AnswerQuery>,
) -> Response {
    let t = text_for(&headers);
    let w = words::for_lang(t.lang);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Read, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let _ = state
        .store()
        .mark_read(person.user.id, &id, now_millis())
        .await;
    let template = site
        .inbox
        .replies
        .iter()
        .find(|r| r.id == q.template)
        .map_or("", |r| r.text.as_str());
    let notice = match q.done.as_str() {
        "saved" => Some(w.saved),
        "reply" => Some(w.reply_sent),
        "note" => Some(w.saved),
        _ => None,
    };
    answer_page(
        &state,
        t,
        site,
        person,
        &id,
        Shown {
            reply_text: template,
            notice,
            ..Shown::default()
        },
    )
    .await
}

/// `POST /dashboard/{site}/answers/{id}`: status (and resolution), owner,
/// tags, held to the version the form was made at.
pub async fn change(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path((site, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let t = text_for(&headers);
    let w = words::for_lang(t.lang);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Work, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let form = FormData::parse(&body);
    let status = super::Status::parse(form.get("status"));
    let resolution = Some(form.get("resolution").to_owned())
        .filter(|r| !r.is_empty() && status == Some(super::Status::Resolved));
    let owner = form.get("owner").trim();
    let asked = ChangeBody {
        status,
        resolution,
        owner: Some((!owner.is_empty()).then(|| owner.to_owned())),
        tags: Some(
            form.get("tags")
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    };
    // What is refused is shown on the answer page again, with its reason.
    let (status, message): (StatusCode, String) = match form.get("version").parse::<i64>() {
        Err(_) => (StatusCode::UNPROCESSABLE_ENTITY, t.bad_form.to_owned()),
        Ok(version) => match asked.check(site) {
            Err((_, message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
            Ok(change) => match work::change(&state, site, person, &id, version, change, client)
                .await
            {
                Outcome::Done(_) => {
                    return see_other(&format!("/dashboard/{}/answers/{id}?done=saved", site.key));
                }
                Outcome::Conflict(_) => (StatusCode::CONFLICT, w.conflict.to_owned()),
                Outcome::Invalid((_, message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
                Outcome::NotFound => return web::not_found(t, Some(person)),
                Outcome::Unavailable(_) => return web::unavailable(t, Some(person)),
            },
        },
    };
    answer_page(&state, t, site, person, &id, Shown::error(status, &message)).await
}

/// `POST /dashboard/{site}/answers/{id}/notes`.
pub async fn note(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path((site, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let t = text_for(&headers);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Work, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let form = FormData::parse(&body);
    match work::note(&state, site, person, &id, form.get("text"), client).await {
        Ok(Some(_)) => see_other(&format!("/dashboard/{}/answers/{id}?done=note", site.key)),
        Ok(None) => web::not_found(t, Some(person)),
        Err(Outcome::Invalid((_, message))) => {
            answer_page(
                &state,
                t,
                site,
                person,
                &id,
                Shown::error(StatusCode::UNPROCESSABLE_ENTITY, &message),
            )
            .await
        }
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `POST /dashboard/{site}/answers/{id}/replies`.
pub async fn reply(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path((site, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let t = text_for(&headers);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Work, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let form = FormData::parse(&body);
    let text = form.get("text");
    match work::reply(&state, site, person, &id, text, client).await {
        Ok(Some(_)) => see_other(&format!("/dashboard/{}/answers/{id}?done=reply", site.key)),
        Ok(None) => web::not_found(t, Some(person)),
        Err(Outcome::Invalid((_, message))) => {
            answer_page(
                &state,
                t,
                site,
                person,
                &id,
                Shown {
                    reply_text: text,
                    ..Shown::error(StatusCode::UNPROCESSABLE_ENTITY, &message)
                },
            )
            .await
        }
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `POST /dashboard/{site}/answers/{id}/unread`: back to the list, the
/// answer unread for the caller.
pub async fn unread(
    State(state): State<AppState>,
    mut caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path((site, id)): Path<(String, String)>,
) -> Response {
    let t = text_for(&headers);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Read, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    match state.store().mark_unread(person.user.id, &id).await {
        Ok(()) => see_other(&format!("/dashboard/{}/answers", site.key)),
        Err(_) => web::unavailable(t, Some(person)),
    }
}

async fn tags_page(
    state: &AppState,
    t: &Text,
    site: &Site,
    person: &Person,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let w = words::for_lang(t.lang);
    match state.store().site_tags(&site.key).await {
        Ok(tags) => page(
            status,
            html::tags(
                t,
                w,
                person,
                &html::TagsView {
                    site: &site.key,
                    tags: &tags,
                    work: may_work(person, &site.key),
                    notice,
                    error,
                },
            ),
        ),
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `GET /dashboard/{site}/tags`.
pub async fn tags(
    State(state): State<AppState>,
    mut caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
) -> Response {
    let t = text_for(&headers);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Read, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    tags_page(&state, t, site, person, StatusCode::OK, None, None).await
}

/// `POST /dashboard/{site}/tags`: rename, merge or delete a tag.
pub async fn tag_action_form(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
    body: Bytes,
) -> Response {
    let t = text_for(&headers);
    let (site, person) = match allowed(&mut caller, &state, t, &site, Need::Work, &uri) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let form = FormData::parse(&body);
    let Ok(tag) = form.get("tag").parse::<i64>() else {
        return tags_page(
            &state,
            t,
            site,
            person,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(t.bad_form),
        )
        .await;
    };
    let action = match form.get("action") {
        "rename" => TagAction::Rename(form.get("name").to_owned()),
        "merge" => match form.get("into").parse() {
            Ok(into) => TagAction::Merge(into),
            Err(_) => {
                return tags_page(
                    &state,
                    t,
                    site,
                    person,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(t.bad_form),
                )
                .await;
            }
        },
        "delete" => TagAction::Delete,
        _ => {
            return tags_page(
                &state,
                t,
                site,
                person,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(t.bad_form),
            )
            .await;
        }
    };
    match tag_action(&state, site, person, tag, action, client).await {
        Ok(_) => tags_page(&state, t, site, person, StatusCode::OK, Some(t.done), None).await,
        Err((status, _, message)) => {
            tags_page(&state, t, site, person, status, None, Some(&message)).await
        }
    }
}
