//! `GET /dashboard/{site}`: the report as a page, behind the site's export token,
//! given once in a login form that sets an HttpOnly, SameSite=Strict cookie.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::tokens::{Attempt, Client, Refused};
use crate::config::Site;
use crate::dashboard::{self, Shown};
use crate::export::Params;

/// Pages may load their own stylesheet and submit their own forms; nothing else.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                           frame-ancestors 'none'; base-uri 'none'";

fn cookie_name(site: &str) -> String {
    format!("pulso_{site}")
}

/// What the cookie holds: a digest of the token, so the token itself never sits
/// in the browser's cookie store.
fn cookie_value(site: &Site) -> Option<String> {
    let token = site.export_token.as_ref()?;
    let digest = Sha256::new()
        .chain_update(b"pulso-dashboard\0")
        .chain_update(site.key.as_bytes())
        .chain_update(b"\0")
        .chain_update(token.expose().as_bytes())
        .finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The value of the dashboard cookie of site `key`, if the request has one.
pub fn cookie<'a>(key: &str, headers: &'a HeaderMap) -> Option<&'a str> {
    let name = cookie_name(key);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether `value` is `site`'s dashboard cookie (compared in constant time).
pub fn cookie_matches(site: &Site, value: &str) -> bool {
    cookie_value(site).is_some_and(|expected| {
        constant_time_eq::constant_time_eq(value.as_bytes(), expected.as_bytes())
    })
}

fn page(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Html(html),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    tz: String,
    #[serde(default)]
    survey: String,
    #[serde(default)]
    step: String,
}

pub async fn show(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
    Query(q): Query<PageQuery>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    let site = match state.site_by_token(&site_key, &headers, client) {
        Ok(site) => site,
        Err(Refused::Locked(wait)) => return locked_page(&site_key, wait),
        Err(Refused::Unauthorized) => {
            return page(StatusCode::OK, dashboard::login(&site_key, None));
        }
    };
    let params = Params {
        from: Some(q.from.clone()),
        to: Some(q.to.clone()),
        tz: Some(q.tz.clone()),
        survey: Some(q.survey.clone()),
        step: Some(q.step.clone()),
        ..Params::default()
    };
    let (filter, tz) = match params.parse() {
        Ok(asked) => (asked.filter, asked.tz),
        Err((field, message)) => {
            let html = format!(
                "<!doctype html><title>Pulso</title><p>{}: {}</p>",
                dashboard::esc(field),
                dashboard::esc(&message)
            );
            return page(StatusCode::BAD_REQUEST, html);
        }
    };
    let report = match crate::report::report(state.store(), site, &filter, &tz).await {
        Ok(report) => report,
        Err(e) => return super::ApiError::unavailable(e).into_response(),
    };
    let surveys: Vec<String> = site.surveys.iter().map(|s| s.id.clone()).collect();
    let mut steps: Vec<String> = site
        .surveys
        .iter()
        .flat_map(|s| s.steps.iter().cloned())
        .chain(report.by_step.keys().filter(|k| !k.is_empty()).cloned())
        .collect();
    steps.sort();
    steps.dedup();
    let shown = Shown {
        from: q.from,
        to: q.to,
        tz: q.tz,
        survey: q.survey,
        step: q.step,
    };
    let hooks = match crate::webhooks::statuses(state.store(), &site.webhooks, None, 0).await {
        Ok(hooks) => hooks,
        Err(e) => return super::ApiError::unavailable(e).into_response(),
    };
    page(
        StatusCode::OK,
        dashboard::render(&report, &shown, &surveys, &steps, &hooks),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// The sign-in page again, answering 429 with `Retry-After`.
fn locked_page(site_key: &str, wait: std::time::Duration) -> Response {
    let mut response = page(
        StatusCode::TOO_MANY_REQUESTS,
        dashboard::login(
            site_key,
            Some("Too many wrong tokens: wait a while before the next try."),
        ),
    );
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

pub async fn login(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
    Client(client): Client,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let token = form.token.trim();
    let check = |site: &Site| {
        site.export_token
            .as_ref()
            .is_some_and(|t| super::tokens::same(token, t))
    };
    let open = || state.site(&site_key).filter(|s| check(s));
    let site = match state.tokens().attempt(&site_key, client, Some(open)) {
        Attempt::Allowed(site) => site,
        Attempt::Locked(wait) => return locked_page(&site_key, wait),
        Attempt::Missing | Attempt::Refused => {
            return page(
                StatusCode::UNAUTHORIZED,
                dashboard::login(
                    &site_key,
                    Some("That token is not the site's export token."),
                ),
            );
        }
    };
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200{}",
        cookie_name(&site.key),
        cookie_value(site).unwrap_or_default(),
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&format!("/dashboard/{}", site.key)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub async fn logout(Path(site_key): Path<String>) -> Response {
    let mut response = Redirect::to(&format!("/dashboard/{site_key}")).into_response();
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        cookie_name(&site_key)
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        dashboard::stylesheet(),
    )
        .into_response()
}
