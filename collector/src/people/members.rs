//! A site's members, for its admins (`/dashboard/{site}/members`): invite
//! (a set-password link to pass on), change a role, remove, sign out
//! everywhere, a new link. Each change is written with its audit line.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::auth::{Caller, now_millis};
use super::pages::{self, MembersView};
use super::text::{self, Text};
use super::web::{self, FormData, page, see_other};
use super::{Need, Person, Role, audit_entry, new_link};
use crate::http::AppState;
use crate::http::tokens::Client;
use crate::store::{NewUser, StoreError, User};

/// Longest name kept.
const NAME_CHARS: usize = 100;

#[derive(Deserialize)]
pub struct MembersQuery {
    /// What just happened: `role`, `removed`, `ended`.
    #[serde(default)]
    done: String,
}

/// What the members page says above the list.
#[derive(Default)]
struct Said<'a> {
    link: Option<(&'a str, &'a str)>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

/// The site's admin asking, or the page's refusal.
fn admin<'a>(
    caller: &'a mut Caller,
    state: &AppState,
    t: &Text,
    site: &str,
    uri: &Uri,
) -> Result<&'a Person, Box<Response>> {
    if let Err(refusal) = caller.access(state, site, Need::Admin) {
        return Err(Box::new(web::refused(t, caller.person(), refusal, uri)));
    }
    caller
        .person()
        .ok_or_else(|| Box::new(web::sign_in_first(uri)))
}

async fn members_page(
    state: &AppState,
    t: &Text,
    person: &Person,
    site: &str,
    status: StatusCode,
    said: Said<'_>,
) -> Response {
    let members = match state.store().members(site).await {
        Ok(members) => members,
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let members: Vec<(User, Role)> = members
        .into_iter()
        .filter_map(|(user, role)| Some((user, Role::parse(&role)?)))
        .collect();
    let view = MembersView {
        site,
        members: &members,
        link: said.link,
        notice: said.notice,
        error: said.error,
    };
    page(status, pages::members(t, person, &view))
}

/// `GET /dashboard/{site}/members`.
pub async fn list(
    State(state): State<AppState>,
    mut caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
    Query(q): Query<MembersQuery>,
) -> Response {
    let t = text::for_request(&headers);
    let person = match admin(&mut caller, &state, t, &site, &uri) {
        Ok(person) => person,
        Err(response) => return *response,
    };
    let notice = match q.done.as_str() {
        "role" => Some(t.role_changed),
        "removed" => Some(t.member_removed),
        "ended" => Some(t.sessions_ended),
        _ => None,
    };
    let said = Said {
        notice,
        ..Said::default()
    };
    members_page(&state, t, person, &site, StatusCode::OK, said).await
}

/// Where set-password links point: the collector's `public_url`, else the
/// address this request came to.
fn link_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.settings().public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// `POST /dashboard/{site}/members`: email, name and role. A new person gets
/// a set-password link, shown to the admin to pass on; someone with an
/// account already gets the role on this site.
pub async fn invite(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path(site): Path<String>,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let person = match admin(&mut caller, &state, t, &site, &uri) {
        Ok(person) => person,
        Err(response) => return *response,
    };
    let form = FormData::parse(&body);
    let email = web::normal_email(form.get("email"));
    let name = form.get("name").trim();
    let role = Role::parse(form.get("role"));
    let refuse = |error| {
        members_page(
            &state,
            t,
            person,
            &site,
            StatusCode::UNPROCESSABLE_ENTITY,
            Said {
                error: Some(error),
                ..Said::default()
            },
        )
    };
    let Some(role) = role else {
        return refuse(t.bad_form).await;
    };
    if !web::is_email(&email) {
        return refuse(t.bad_email).await;
    }
    if name.is_empty() || name.chars().count() > NAME_CHARS || name.chars().any(char::is_control) {
        return refuse(t.bad_name).await;
    }
    let store = state.store();
    let actor = person.actor();
    let now = now_millis();
    let from = Some(client.to_string());
    let added = || {
        audit_entry(
            Some(&site),
            &actor,
            "member_added",
            serde_json::json!({ "email": email, "role": role.as_str() }),
            from.clone(),
        )
    };
    match store.user_by_email(&email).await {
        Err(_) => return web::unavailable(t, Some(person)),
        Ok(Some(existing)) if existing.owner => return refuse(t.already_owner).await,
        Ok(Some(existing)) => {
            let before = store
                .members(&site)
                .await
                .map(|m| m.into_iter().any(|(u, _)| u.id == existing.id));
            match before {
                Ok(true) => return refuse(t.already_member).await,
                Ok(false) => {}
                Err(_) => return web::unavailable(t, Some(person)),
            }
            if store
                .set_role(existing.id, &site, role.as_str(), &[added()])
                .await
                .is_err()
            {
                return web::unavailable(t, Some(person));
            }
            return members_page(
                &state,
                t,
                person,
                &site,
                StatusCode::OK,
                Said {
                    notice: Some(t.member_added),
                    ..Said::default()
                },
            )
            .await;
        }
        Ok(None) => {}
    }
    let (token, hash, expires) = new_link(now);
    let new = NewUser {
        email: &email,
        name,
        owner: false,
        role: Some((&site, role.as_str())),
        invite: Some((&hash, expires)),
        password_hash: None,
        now,
    };
    match store.create_user(&new, &[added()]).await {
        Ok(_) => {}
        Err(StoreError::Taken) => return refuse(t.already_member).await,
        Err(_) => return web::unavailable(t, Some(person)),
    }
    let link = format!("{}/set-password/{token}", link_base(&state, &headers));
    members_page(
        &state,
        t,
        person,
        &site,
        StatusCode::CREATED,
        Said {
            link: Some((&email, &link)),
            ..Said::default()
        },
    )
    .await
}

/// The member `id` of `site`, if they are one, with their role.
async fn member(
    state: &AppState,
    site: &str,
    id: &str,
) -> Result<Option<(User, Role)>, StoreError> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    Ok(state
        .store()
        .members(site)
        .await?
        .into_iter()
        .find(|(u, _)| u.id == id)
        .and_then(|(u, r)| Some((u, Role::parse(&r)?))))
}

/// What a member action changes.
enum Change {
    Role,
    Remove,
    EndSessions,
    NewLink,
}

/// `POST /dashboard/{site}/members/{id}/{action}`.
pub async fn act(
    State(state): State<AppState>,
    mut caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path((site, id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let change = match action.as_str() {
        "role" => Change::Role,
        "remove" => Change::Remove,
        "sessions" => Change::EndSessions,
        "link" => Change::NewLink,
        _ => return web::not_found(t, caller.person()),
    };
    let person = match admin(&mut caller, &state, t, &site, &uri) {
        Ok(person) => person,
        Err(response) => return *response,
    };
    let (user, role) = match member(&state, &site, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return web::not_found(t, Some(person)),
        Err(_) => return web::unavailable(t, Some(person)),
    };
    let store = state.store();
    let entry = |action: &str, detail: serde_json::Value| {
        audit_entry(
            Some(&site),
            &person.actor(),
            action,
            detail,
            Some(client.to_string()),
        )
    };
    let done = match change {
        Change::Role => {
            let Some(new) = Role::parse(FormData::parse(&body).get("role")) else {
                return members_page(
                    &state,
                    t,
                    person,
                    &site,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Said {
                        error: Some(t.bad_form),
                        ..Said::default()
                    },
                )
                .await;
            };
            let detail = serde_json::json!({ "email": user.email, "from": role.as_str(), "to": new.as_str() });
            store
                .set_role(
                    user.id,
                    &site,
                    new.as_str(),
                    &[entry("role_changed", detail)],
                )
                .await
                .map(|_| "role")
        }
        Change::Remove => {
            let detail = serde_json::json!({ "email": user.email, "role": role.as_str() });
            store
                .remove_member(user.id, &site, &[entry("member_removed", detail)])
                .await
                .map(|_| "removed")
        }
        Change::EndSessions => {
            if !may_manage(&state, person, &user).await {
                return web::refused(
                    t,
                    Some(person),
                    super::auth::Refusal::Denied(super::Denied::Forbidden),
                    &uri,
                );
            }
            let detail = serde_json::json!({ "whose": user.email });
            store
                .end_sessions(user.id, None, &[entry("sessions_ended", detail)])
                .await
                .map(|_| "ended")
        }
        Change::NewLink => {
            if !may_manage(&state, person, &user).await {
                return web::refused(
                    t,
                    Some(person),
                    super::auth::Refusal::Denied(super::Denied::Forbidden),
                    &uri,
                );
            }
            let (token, hash, expires) = new_link(now_millis());
            let detail = serde_json::json!({ "email": user.email });
            if store
                .create_invite(
                    user.id,
                    &hash,
                    now_millis(),
                    expires,
                    &[entry("link_created", detail)],
                )
                .await
                .is_err()
            {
                return web::unavailable(t, Some(person));
            }
            let link = format!("{}/set-password/{token}", link_base(&state, &headers));
            return members_page(
                &state,
                t,
                person,
                &site,
                StatusCode::CREATED,
                Said {
                    link: Some((&user.email, &link)),
                    ..Said::default()
                },
            )
            .await;
        }
    };
    match done {
        Ok(done) => see_other(&format!("/dashboard/{site}/members?done={done}")),
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// Whether `person` may sign `user` out everywhere or give them a new
/// set-password link: never an owner (unless an owner asks), and only a
/// member of no site but those `person` administers; else the admin of one
/// site could take over an account with rights elsewhere.
async fn may_manage(state: &AppState, person: &Person, user: &User) -> bool {
    if person.user.owner {
        return true;
    }
    if user.owner {
        return false;
    }
    match state.store().memberships(user.id).await {
        Ok(sites) => sites
            .iter()
            .all(|(site, _)| person.role_on(site) == Some(Role::Admin)),
        Err(_) => false,
    }
}
