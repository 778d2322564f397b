//! Who is asking: a browser's session cookie, a person's API token
//! (`Authorization: Bearer pulso_...`), or a site's machine token, found
//! once per request ([`Caller`]) and held to the site and the need of each
//! action ([`Caller::access`]). And the guard of every state-changing request
//! a browser could be made to send from elsewhere ([`csrf_layer`]).

use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::secret::{TOKEN_PREFIX, digest};
use super::{Denied, Need, Person, Principal, Role, Via};
use crate::config::Site;
use crate::http::tokens::{Client, bearer, locked_out, same};
use crate::http::{ApiError, AppState};

/// The session cookie when the collector is reached over https: `__Host-`
/// makes the browser refuse it unless it is `Secure`, for the whole host
/// and no other.
pub const SESSION_COOKIE: &str = "__Host-pulso_session";
/// The session cookie of a collector on plain http (the loopback demo).
pub const SESSION_COOKIE_PLAIN: &str = "pulso_session";

/// A session's last use is written at most this often (every request would
/// be a write).
const TOUCH_EVERY_MILLIS: i64 = 60_000;

pub fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Who is asking, found from the request's credentials.
pub struct Caller {
    pub principal: Option<Principal>,
    /// A bearer token that is no person's: perhaps a site's machine token,
    /// held to the site an action asks for.
    machine: Option<String>,
    pub client: IpAddr,
}

impl AppState {
    /// The session cookie's name for this collector.
    pub fn session_cookie(&self) -> &'static str {
        if self
            .settings()
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
        {
            SESSION_COOKIE
        } else {
            SESSION_COOKIE_PLAIN
        }
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Response> {
        let Ok(Client(client)) = Client::from_request_parts(parts, state).await;
        let store = state.store();
        let now = now_millis();
        let mut caller = Caller {
            principal: None,
            machine: None,
            client,
        };
        if let Some(token) = bearer(&parts.headers) {
            if !token.starts_with(TOKEN_PREFIX) {
                caller.machine = Some(token.to_owned());
                return Ok(caller);
            }
            // Person tokens are 256 random bits: a wrong one is a guess (or
            // a revoked token still in a script), throttled per client only:
            // nobody guesses 256 bits, and a lock on every token would let
            // strangers stop everyone's scripts.
            state.tokens().check_client(client).map_err(locked_out)?;
            let found = store
                .live_token(&digest(token))
                .await
                .map_err(|e| ApiError::unavailable(e).into_response())?;
            let Some((row, user)) = found else {
                state.tokens().failed_client(client);
                return Ok(caller);
            };
            state.tokens().succeeded(client);
            if row
                .last_used_at
                .is_none_or(|t| now - t > TOUCH_EVERY_MILLIS)
            {
                let _ = store.touch_token(row.id, now).await;
            }
            let roles = roles_of(state, user.id).await?;
            caller.principal = Some(Principal::Person(Person {
                user,
                roles,
                via: Via::Token {
                    id: row.id,
                    name: row.name,
                    sites: row.sites,
                },
            }));
            return Ok(caller);
        }
        let Some(value) = cookie(&parts.headers, state.session_cookie()) else {
            return Ok(caller);
        };
        let id_hash = digest(value);
        let idle =
            i64::try_from(state.settings().http.session_idle.as_millis()).unwrap_or(i64::MAX);
        let found = store
            .live_session(&id_hash, now, idle)
            .await
            .map_err(|e| ApiError::unavailable(e).into_response())?;
        if let Some((session, user)) = found {
            if now - session.last_used_at > TOUCH_EVERY_MILLIS {
                let _ = store.touch_session(&id_hash, now).await;
            }
            let roles = roles_of(state, user.id).await?;
            caller.principal = Some(Principal::Person(Person {
                user,
                roles,
                via: Via::Session { id_hash },
            }));
        }
        Ok(caller)
    }
}

async fn roles_of(state: &AppState, user: i64) -> Result<Vec<(String, Role)>, Response> {
    let rows = state
        .store()
        .memberships(user)
        .await
        .map_err(|e| ApiError::unavailable(e).into_response())?;
    Ok(rows
        .into_iter()
        .filter_map(|(site, role)| Some((site, Role::parse(&role)?)))
        .collect())
}

/// Why a request was refused, as the JSON API answers it.
pub enum Refusal {
    Denied(Denied),
    Locked(std::time::Duration),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Locked(wait) => locked_out(wait),
            Refusal::Denied(Denied::Anonymous) => ApiError::unauthorized().into_response(),
            Refusal::Denied(Denied::NotFound) => {
                ApiError::not_found("site").field("site").into_response()
            }
            Refusal::Denied(Denied::Forbidden) => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "your role on this site does not allow this",
            )
            .field("authorization")
            .into_response(),
        }
    }
}

impl Caller {
    /// The site `key`, if the caller may do `need` there: a person by their
    /// role (the site must exist too), a site's machine token for what it
    /// opens. 401 without credentials (or with a dead person's token), 404
    /// when the caller is no member of it, 403 when their role is too low,
    /// 429 while a guesser is locked out.
    pub fn access<'a>(
        &mut self,
        state: &'a AppState,
        key: &str,
        need: Need,
    ) -> Result<&'a Site, Refusal> {
        if self.principal.is_none()
            && let Some(given) = self.machine.take()
        {
            let open = || {
                state
                    .site(key)
                    .filter(|s| s.export_token.as_ref().is_some_and(|t| same(&given, t)))
            };
            match state.tokens().attempt(key, self.client, Some(open)) {
                crate::http::tokens::Attempt::Allowed(site) => {
                    self.principal = Some(Principal::Machine {
                        site: site.key.clone(),
                    });
                }
                crate::http::tokens::Attempt::Locked(wait) => return Err(Refusal::Locked(wait)),
                _ => return Err(Refusal::Denied(Denied::Anonymous)),
            }
        }
        let Some(principal) = &self.principal else {
            return Err(Refusal::Denied(Denied::Anonymous));
        };
        let site = state.site(key).ok_or(Refusal::Denied(Denied::NotFound))?;
        principal.allows(key, need).map_err(Refusal::Denied)?;
        Ok(site)
    }

    /// `Ok` if an owner of the instance asks, signed in (a token acts on
    /// its sites only): 401 without credentials, 403 for anyone else.
    pub fn owner(&self) -> Result<(), Refusal> {
        match self.person() {
            None => Err(Refusal::Denied(Denied::Anonymous)),
            Some(p) if p.user.owner && matches!(p.via, Via::Session { .. }) => Ok(()),
            Some(_) => Err(Refusal::Denied(Denied::Forbidden)),
        }
    }

    /// The person asking, if one is.
    pub fn person(&self) -> Option<&Person> {
        self.principal.as_ref().and_then(Principal::person)
    }

    /// How the audit log names the caller.
    pub fn actor(&self) -> String {
        self.principal
            .as_ref()
            .map_or_else(|| "anonymous".into(), Principal::actor)
    }
}

/// Whether a request comes from a page of the collector itself: the
/// browser's `Sec-Fetch-Site: same-origin`, or its `Origin` equal to the
/// collector's (its `public_url`, else the `Host` it was asked for), when a
/// browser too old for `Sec-Fetch-Site` sent only that. A request with
/// neither is not taken for one (every browser of today sends one of them
/// with a POST).
pub fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    // Set by the browser, never by a page: it decides when present.
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match public_url {
        Some(url) => {
            let own: String = url.split('/').take(3).collect::<Vec<_>>().join("/");
            origin.eq_ignore_ascii_case(&own)
        }
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| {
                origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                    .is_some_and(|o| o.eq_ignore_ascii_case(host))
            }),
    }
}

/// Pages whose forms change something: their POSTs must come from the
/// collector's own pages, signed in or not (a forged sign-in is a forgery
/// too).
fn is_page(path: &str) -> bool {
    [
        "/signin",
        "/signout",
        "/set-password",
        "/account",
        "/dashboard",
    ]
    .iter()
    .any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// What the sites' pages post to, from their own origins: no credentials
/// are read there, so a session cookie the browser adds (a beacon sends
/// cookies) opens nothing, and must not cost a respondent's answer.
fn is_browser_api(path: &str) -> bool {
    path == "/v1/responses"
        || path
            .strip_prefix("/v1/sites/")
            .is_some_and(|rest| rest.ends_with("/history") && rest.matches('/').count() == 1)
}

/// Refuses (403) a state-changing request that a page elsewhere could have
/// made a browser send: a POST (or PATCH, DELETE ...) to one of the pages,
/// or with a session cookie, that does not come from the collector's own
/// origin. Requests with a bearer token are not a browser's doing and pass;
/// so do the sites' own posts of answers. (The session cookie is also
/// `SameSite=Lax`: browsers keep it off cross-site POSTs.)
pub async fn csrf_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe {
        return next.run(request).await;
    }
    let headers = request.headers();
    let bearer_only = bearer(headers).is_some();
    let with_cookie = cookie(headers, state.session_cookie()).is_some();
    let path = request.uri().path();
    let guarded = is_page(path) || (with_cookie && !bearer_only && !is_browser_api(path));
    if guarded && !same_origin(headers, state.settings().public_url.as_deref()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "this request did not come from the collector's own pages",
        )
        .field("origin")
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_sites_posts_are_not_held_to_the_collectors_origin() {
        assert!(is_browser_api("/v1/responses"));
        assert!(is_browser_api("/v1/sites/shop/history"));
        assert!(!is_browser_api("/v1/sites/shop/erase"));
        assert!(!is_browser_api("/v1/sites/shop/answers/x/history"));
        assert!(is_page("/signin") && is_page("/dashboard/shop/members") && !is_page("/signing"));
    }

    #[test]
    fn only_the_collectors_own_pages_are_same_origin() {
        let own = Some("https://pulso.example.com");
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            own
        ));
        assert!(same_origin(
            &headers(&[("origin", "https://pulso.example.com")]),
            own
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            own
        ));
        assert!(!same_origin(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example")
            ]),
            own
        ));
        assert!(
            !same_origin(&HeaderMap::new(), own),
            "a POST without either is refused"
        );
        let host = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(same_origin(&host, None));
        let other = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8000"),
        ]);
        assert!(!same_origin(&other, None));
    }
}
