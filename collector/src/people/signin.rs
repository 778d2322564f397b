//! Signing in and out, and setting a password from a one-time link.
//!
//! `POST /signin` verifies the password with Argon2id off the async threads
//! (an unknown email is verified against a dummy hash, in the same time),
//! throttles failures per account and per client address (429 with
//! `Retry-After`), records sign-ins and failures in the audit log, and starts
//! a session kept on the server: the browser holds 256 random bits in an
//! HttpOnly, `SameSite=Lax` cookie, `__Host-` and `Secure` over https; the
//! database holds their SHA-256.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::auth::{Caller, now_millis};
use super::password::{self, Weak};
use super::text::{self, Text};
use super::web::{self, FormData, page, see_other};
use super::{audit_entry, pages, secret};
use crate::http::AppState;
use crate::http::tokens::Client;
use crate::store::{SessionRow, User};
use crate::throttle::{Policy, Throttle};

/// The throttles of failed sign-ins: per account and per client address.
#[derive(Debug)]
pub struct SignIns {
    per_account: Throttle,
    per_client: Throttle,
}

impl SignIns {
    pub fn new(limits: &crate::config::Limits) -> SignIns {
        SignIns {
            per_account: Throttle::new(Policy {
                free: limits.sign_in_failures_per_account,
                ..Policy::ACCOUNT
            }),
            per_client: Throttle::new(Policy {
                free: limits.token_failures_per_client,
                ..Policy::CLIENT
            }),
        }
    }

    fn keys(email: &str, client: IpAddr) -> (String, String) {
        (
            format!("account:{email}"),
            format!("ip:{}", crate::http::client_key(client)),
        )
    }

    /// `Err(wait)` while the account or the client is locked out.
    pub fn check(&self, email: &str, client: IpAddr) -> Result<(), std::time::Duration> {
        let (account, client) = SignIns::keys(email, client);
        let now = std::time::Instant::now();
        self.per_account
            .check(&account, now)
            .and(self.per_client.check(&client, now))
    }

    pub fn failed(&self, email: &str, client: IpAddr) {
        let (account, client) = SignIns::keys(email, client);
        let now = std::time::Instant::now();
        self.per_account.fail(&account, now);
        self.per_client.fail(&client, now);
    }

    pub fn succeeded(&self, email: &str, client: IpAddr) {
        let (account, client) = SignIns::keys(email, client);
        self.per_account.succeed(&account);
        self.per_client.succeed(&client);
    }
}

/// How the session cookie goes to this browser: `Secure` with the `__Host-`
/// prefix when the collector's `public_url` is https; without, only to a
/// browser on this machine (the loopback demo). `None`: neither, so no
/// session may start (a password over plain http to another machine).
fn cookie_attributes(state: &AppState, headers: &HeaderMap) -> Option<&'static str> {
    if state.session_cookie() == super::SESSION_COOKIE {
        Some("; Secure")
    } else if web::loopback_host(headers) {
        Some("")
    } else {
        None
    }
}

/// The `Set-Cookie` of a new session `value`.
fn session_cookie(state: &AppState, value: &str, secure: &str) -> String {
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        state.session_cookie(),
        state.settings().http.session_max.as_secs()
    )
}

/// The `Set-Cookie` that removes the session cookie.
pub fn cleared_cookie(state: &AppState) -> String {
    let secure = if state.session_cookie() == super::SESSION_COOKIE {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        state.session_cookie()
    )
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Starts a session of `user` for this browser: the `Set-Cookie` to send.
/// `audit` is written with it.
pub async fn start_session(
    state: &AppState,
    user: &User,
    client: IpAddr,
    secure: &str,
    audit: &[crate::store::AuditEntry],
) -> Result<String, crate::store::StoreError> {
    let value = secret::random();
    let now = now_millis();
    let max = i64::try_from(state.settings().http.session_max.as_millis()).unwrap_or(i64::MAX);
    state
        .store()
        .create_session(
            &SessionRow {
                id_hash: secret::digest(&value),
                user_id: user.id,
                created_at: now,
                last_used_at: now,
                expires_at: now.saturating_add(max),
                client: Some(client.to_string()),
            },
            audit,
        )
        .await?;
    Ok(session_cookie(state, &value, secure))
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    /// What just happened: `out` (signed out), `set` (a password was set).
    #[serde(default)]
    done: String,
}

/// `GET /signin`: the form (or, signed in already, where `next` goes).
pub async fn form(caller: Caller, headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let t = text::for_request(&headers);
    let next = web::safe_next(&q.next);
    if caller.person().is_some() {
        return see_other(next);
    }
    let notice = match q.done.as_str() {
        "out" => Some(t.signed_out),
        "set" => Some(t.password_set_sign_in),
        _ => None,
    };
    page(StatusCode::OK, pages::sign_in(t, next, "", notice, None))
}

/// `POST /signin`.
pub async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let form = FormData::parse(&body);
    let email = web::normal_email(form.get("email"));
    let next = web::safe_next(form.get("next"));
    let again = |status: StatusCode, error: &str| {
        page(status, pages::sign_in(t, next, &email, None, Some(error)))
    };
    let Some(secure) = cookie_attributes(&state, &headers) else {
        return again(StatusCode::BAD_REQUEST, t.needs_https);
    };
    if email.is_empty() || form.get("password").is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, t.wrong);
    }
    if let Err(wait) = state.sign_ins().check(&email, client) {
        return web::retry_after(again(StatusCode::TOO_MANY_REQUESTS, t.locked), wait);
    }
    let user = match state.store().user_by_email(&email).await {
        Ok(user) => user.filter(|u| u.active),
        Err(_) => return web::unavailable(t, None),
    };
    let given = form.get("password").to_owned();
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || password::verify(&given, stored.as_deref()))
        .await
        .unwrap_or(false);
    let client_text = Some(client.to_string());
    let Some(user) = user.filter(|_| matches) else {
        state.sign_ins().failed(&email, client);
        // What was typed is kept only if it could be an email: a password
        // typed into the wrong field stays out of the log.
        let tried = if web::is_email(&email) {
            email.as_str()
        } else {
            "(not an email)"
        };
        let entry = audit_entry(
            None,
            tried,
            "sign_in_failed",
            serde_json::json!({}),
            client_text,
        );
        if state.store().audit(&entry).await.is_err() {
            return web::unavailable(t, None);
        }
        return again(StatusCode::UNAUTHORIZED, t.wrong);
    };
    state.sign_ins().succeeded(&email, client);
    let entry = audit_entry(
        None,
        &user.email,
        "sign_in",
        serde_json::json!({}),
        client_text,
    );
    match start_session(&state, &user, client, secure, &[entry]).await {
        Ok(cookie) => with_cookie(see_other(next), &cookie),
        Err(_) => web::unavailable(t, None),
    }
}

/// `POST /signout`: ends this browser's session on the server too (its
/// cookie, replayed, opens nothing).
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    if let Some(person) = caller.person()
        && let super::Via::Session { id_hash } = &person.via
    {
        let entry = audit_entry(
            None,
            &person.actor(),
            "sign_out",
            serde_json::json!({}),
            Some(client.to_string()),
        );
        if state.store().end_session(id_hash, &[entry]).await.is_err() {
            return web::unavailable(text::for_request(&headers), Some(person));
        }
    }
    with_cookie(see_other("/signin?done=out"), &cleared_cookie(&state))
}

/// `GET /set-password/{token}`: the form, if the link still opens.
pub async fn set_password_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let t = text::for_request(&headers);
    match state
        .store()
        .invite_user(&secret::digest(&token), now_millis())
        .await
    {
        Ok(Some(user)) => page(StatusCode::OK, pages::set_password(t, &token, &user, None)),
        Ok(None) => dead_link(t),
        Err(_) => web::unavailable(t, None),
    }
}

fn dead_link(t: &Text) -> Response {
    page(
        StatusCode::GONE,
        pages::message(t, t.link_dead_title, None, t.link_dead),
    )
}

/// What is wrong with a new password and its repetition, as the page says.
pub fn new_password_error(
    t: &Text,
    password: &str,
    repeat: &str,
    user: &User,
) -> Option<&'static str> {
    if password != repeat {
        return Some(t.mismatch);
    }
    match password::check(password, &user.email, &user.name) {
        Err(Weak::TooShort) => Some(t.too_short),
        Err(Weak::Guessable) => Some(t.guessable),
        Ok(()) => None,
    }
}

/// `POST /set-password/{token}`: sets the password (the link opens no more,
/// every session of the person ends), then the sign-in form.
pub async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = text::for_request(&headers);
    let form = FormData::parse(&body);
    let hash = secret::digest(&token);
    let user = match state.store().invite_user(&hash, now_millis()).await {
        Ok(Some(user)) => user,
        Ok(None) => return dead_link(t),
        Err(_) => return web::unavailable(t, None),
    };
    let (password, repeat) = (form.get("password"), form.get("repeat"));
    if let Some(error) = new_password_error(t, password, repeat, &user) {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::set_password(t, &token, &user, Some(error)),
        );
    }
    let password = password.to_owned();
    let Ok(phc) = tokio::task::spawn_blocking(move || password::hash(&password)).await else {
        return web::unavailable(t, None);
    };
    let audit = |user: &User| {
        audit_entry(
            None,
            &user.email,
            "password_set",
            serde_json::json!({ "via": "link" }),
            Some(client.to_string()),
        )
    };
    match state
        .store()
        .use_invite(&hash, &phc, now_millis(), audit)
        .await
    {
        Ok(Some(_)) => see_other("/signin?done=set"),
        Ok(None) => dead_link(t),
        Err(_) => web::unavailable(t, None),
    }
}
