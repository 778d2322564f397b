//! The account page: one's password, API tokens and signed-in browsers; and
//! the list of one's sites (`GET /dashboard`).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::auth::{Caller, now_millis};
use super::pages::{self, AccountView};
use super::signin::{new_password_error, start_session};
use super::text::{self, Text};
use super::web::{self, FormData, page, see_other};
use super::{Person, Role, Via, audit_entry, password, secret, token_audit};
use crate::http::AppState;
use crate::http::tokens::Client;

/// Longest token name kept.
const NAME_CHARS: usize = 100;

/// The sites `person` has a role on that this collector serves, by key.
pub fn sites_of(state: &AppState, person: &Person) -> Vec<(String, Role)> {
    state
        .settings()
        .sites
        .keys()
        .filter_map(|key| Some((key.clone(), person.role_on(key)?)))
        .collect()
}

/// `GET /dashboard`: the sites one may open (the only one, opened directly).
pub async fn sites(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let t = text::for_request(&headers);
    let Some(person) = caller.person() else {
        return web::sign_in_first(&uri);
    };
    let sites = sites_of(&state, person);
    page(StatusCode::OK, pages::sites(t, person, &sites))
}

#[derive(Deserialize)]
pub struct AccountQuery {
    /// What just happened: `password`, `revoked`, `ended`.
    #[serde(default)]
    done: String,
}

/// What the account page says above its sections.
#[derive(Default)]
struct Said<'a> {
    new_token: Option<&'a str>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn account_page(
    state: &AppState,
    t: &Text,
    person: &Person,
    status: StatusCode,
    said: Said<'_>,
) -> Response {
    let store = state.store();
    let (tokens, sessions, digest) = match (
        store.tokens_of(person.user.id).await,
        store.sessions_of(person.user.id, now_millis()).await,
        store.digest_cadence(person.user.id).await,
    ) {
        (Ok(tokens), Ok(sessions), Ok(digest)) => (tokens, sessions, digest),
        _ => return web::unavailable(t, Some(person)),
    };
    let sites: Vec<String> = sites_of(state, person)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let view = AccountView {
        tokens: &tokens,
        sessions: &sessions,
        sites: &sites,
        new_token: said.new_token,
        notice: said.notice,
        error: said.error,
        digest,
    };
    page(status, pages::account(t, person, &view))
}

/// `GET /account`.
pub async fn account(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<AccountQuery>,
) -> Response {
    let t = text::for_request(&headers);
    let Some(person) = caller.person() else {
        return web::sign_in_first(&uri);
    };
    let notice = match q.done.as_str() {
        "password" => Some(t.password_changed),
        "revoked" => Some(t.token_revoked),
        "ended" => Some(t.sessions_ended),
        "digest" => Some(t.digest_saved),
        _ => None,
    };
    let said = Said {
        notice,
        ..Said::default()
    };
    account_page(&state, t, person, StatusCode::OK, said).await
}

/// A browser's session, or the page's answer for a request that is not
/// one (a token does not change a password or make tokens).
fn in_browser<'a>(
    caller: &'a Caller,
    t: &Text,
    uri: &Uri,
) -> Result<(&'a Person, &'a str), Box<Response>> {
    match caller.person() {
        Some(person) => match &person.via {
            Via::Session { id_hash } => Ok((person, id_hash)),
            Via::Token { .. } => Err(Box::new(page(
                StatusCode::FORBIDDEN,
                pages::message(t, t.forbidden_title, Some(person), t.browser_only),
            ))),
        },
        None => Err(Box::new(web::sign_in_first(uri))),
    }
}

/// `POST /account/password`: the current password, then the new one twice.
/// Every other session of the person ends; this browser gets a new one.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let (person, _) = match in_browser(&caller, t, &uri) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let form = FormData::parse(&body);
    let error = |error| {
        let said = Said {
            error: Some(error),
            ..Said::default()
        };
        account_page(&state, t, person, StatusCode::UNPROCESSABLE_ENTITY, said)
    };
    if let Err(wait) = state.sign_ins().check(&person.user.email, client) {
        return web::retry_after(
            account_page(
                &state,
                t,
                person,
                StatusCode::TOO_MANY_REQUESTS,
                Said {
                    error: Some(t.locked),
                    ..Said::default()
                },
            )
            .await,
            wait,
        );
    }
    let current = form.get("current").to_owned();
    let stored = person.user.password_hash.clone();
    let right = tokio::task::spawn_blocking(move || password::verify(&current, stored.as_deref()))
        .await
        .unwrap_or(false);
    if !right {
        state.sign_ins().failed(&person.user.email, client);
        return error(t.current_wrong).await;
    }
    let new = form.get("password");
    if let Some(message) = new_password_error(t, new, form.get("repeat"), &person.user) {
        return error(message).await;
    }
    let new = new.to_owned();
    let Ok(phc) = tokio::task::spawn_blocking(move || password::hash(&new)).await else {
        return web::unavailable(t, Some(person));
    };
    let entry = audit_entry(
        None,
        &person.actor(),
        "password_changed",
        serde_json::json!({}),
        Some(client.to_string()),
    );
    // Every session ends, this one too (a stolen cookie dies with the old
    // password); this browser is signed in again at once.
    let store = state.store();
    if store
        .set_password(person.user.id, &phc, None, now_millis(), &[entry])
        .await
        .is_err()
    {
        return web::unavailable(t, Some(person));
    }
    let secure = if state.session_cookie() == super::SESSION_COOKIE {
        "; Secure"
    } else {
        ""
    };
    match start_session(&state, &person.user, client, secure, &[]).await {
        Ok(cookie) => {
            let mut response = see_other("/account?done=password");
            if let Ok(value) = cookie.parse() {
                response
                    .headers_mut()
                    .append(axum::http::header::SET_COOKIE, value);
            }
            response
        }
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `POST /account/tokens`: a name and one or more of one's sites. The token
/// is shown on the page this once; only its hash is kept.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let (person, _) = match in_browser(&caller, t, &uri) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let form = FormData::parse(&body);
    let name = form.get("name").trim();
    let mine = sites_of(&state, person);
    let mut sites = form.all("sites");
    sites.sort();
    sites.dedup();
    let valid = !name.is_empty()
        && name.chars().count() <= NAME_CHARS
        && !name.chars().any(char::is_control)
        && !sites.is_empty()
        && sites.iter().all(|s| mine.iter().any(|(m, _)| m == s));
    if !valid {
        let said = Said {
            error: Some(t.token_needs),
            ..Said::default()
        };
        return account_page(&state, t, person, StatusCode::UNPROCESSABLE_ENTITY, said).await;
    }
    let token = secret::api_token();
    let audit = token_audit(
        &person.actor(),
        "token_created",
        name,
        &sites,
        Some(client.to_string()),
    );
    if state
        .store()
        .create_token(
            &secret::digest(&token),
            person.user.id,
            name,
            &sites,
            now_millis(),
            &audit,
        )
        .await
        .is_err()
    {
        return web::unavailable(t, Some(person));
    }
    let said = Said {
        new_token: Some(&token),
        ..Said::default()
    };
    account_page(&state, t, person, StatusCode::CREATED, said).await
}

/// `POST /account/tokens/{id}/revoke`: one's own token opens nothing more.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let t = text::for_request(&headers);
    let (person, _) = match in_browser(&caller, t, &uri) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let Ok(id) = id.parse::<i64>() else {
        return web::not_found(t, Some(person));
    };
    let audit = |token: &crate::store::TokenRow| {
        token_audit(
            &person.actor(),
            "token_revoked",
            &token.name,
            &token.sites,
            Some(client.to_string()),
        )
    };
    match state
        .store()
        .revoke_token(person.user.id, id, now_millis(), audit)
        .await
    {
        Ok(Some(_)) => see_other("/account?done=revoked"),
        Ok(None) => web::not_found(t, Some(person)),
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `POST /account/sessions/end`: every other browser of one's is signed out.
pub async fn end_other_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let t = text::for_request(&headers);
    let (person, id_hash) = match in_browser(&caller, t, &uri) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let entry = audit_entry(
        None,
        &person.actor(),
        "sessions_ended",
        serde_json::json!({ "whose": person.user.email, "kept": "this browser" }),
        Some(client.to_string()),
    );
    match state
        .store()
        .end_sessions(person.user.id, Some(id_hash), &[entry])
        .await
    {
        Ok(_) => see_other("/account?done=ended"),
        Err(_) => web::unavailable(t, Some(person)),
    }
}

/// `POST /account/digest`: how often the digest comes by email.
pub async fn set_digest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let (person, _) = match in_browser(&caller, t, &uri) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let form = FormData::parse(&body);
    let Some(cadence) = crate::store::Cadence::parse(form.get("digest")) else {
        let said = Said {
            error: Some(t.digest_legend),
            ..Said::default()
        };
        return account_page(&state, t, person, StatusCode::UNPROCESSABLE_ENTITY, said).await;
    };
    match state
        .store()
        .set_digest_cadence(person.user.id, cadence)
        .await
    {
        Ok(()) => see_other("/account?done=digest"),
        Err(_) => web::unavailable(t, Some(person)),
    }
}
