//! The site's machine token (`export_token`) on the analysts' endpoints:
//! `Authorization: Bearer TOKEN` (the scheme in any case, as RFC 9110 has it),
//! or the dashboard's cookie, compared in constant time. Failed attempts are
//! throttled per client address and per site (429 + `Retry-After`), so that
//! guessing is slow from one address and from many.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::{Secret, Site};
use crate::throttle::{Policy, Throttle};

/// The throttles of failed token attempts.
#[derive(Debug)]
pub struct Tokens {
    per_client: Throttle,
    per_site: Throttle,
}

impl Tokens {
    /// With `limits`' free failures per client and per site.
    pub fn new(limits: &crate::config::Limits) -> Tokens {
        Tokens {
            per_client: Throttle::new(Policy {
                free: limits.token_failures_per_client,
                ..Policy::CLIENT
            }),
            per_site: Throttle::new(Policy {
                free: limits.token_failures_per_site,
                ..Policy::SITE
            }),
        }
    }
}

/// The address a request comes from, as the rate limits count it (the peer,
/// or the client a trusted proxy names).
#[derive(Clone, Copy, Debug)]
pub struct Client(pub IpAddr);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Client, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(a)| a.ip());
        let trusted = &state.settings().limits.trusted_proxies;
        Ok(Client(super::limits::client_address(
            peer,
            &parts.headers,
            trusted,
        )))
    }
}

/// The token of `Authorization: Bearer TOKEN`, whatever the scheme's case.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether `given` is `expected`, in constant time.
pub fn same(given: &str, expected: &Secret) -> bool {
    constant_time_eq::constant_time_eq(given.as_bytes(), expected.expose().as_bytes())
}

/// A refusal for too many failed attempts.
pub fn locked_out(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed attempts; retry in {seconds} s"),
    )
    .field("authorization")
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// How an attempt at a token went.
pub enum Attempt<T> {
    /// The right token: what it opens.
    Allowed(T),
    /// No token given (not counted).
    Missing,
    /// A wrong token (counted), or the site is unknown.
    Refused,
    /// Locked out for this long.
    Locked(std::time::Duration),
}

impl Tokens {
    /// An attempt from `client` at the token of `key` (a site's key, or a
    /// name no site has): `open` (`None`: no token was given) says what the
    /// given token opens, if anything. Unknown sites and wrong tokens answer
    /// alike.
    pub fn attempt<T>(
        &self,
        key: &str,
        client: IpAddr,
        open: Option<impl FnOnce() -> Option<T>>,
    ) -> Attempt<T> {
        // No token is no guess: 401, whatever the locks.
        let Some(open) = open else {
            return Attempt::Missing;
        };
        let now = Instant::now();
        let client_key = format!("ip:{}", super::limits::client_key(client));
        let site_key = format!("site:{key}");
        let locked = self
            .per_client
            .check(&client_key, now)
            .and(self.per_site.check(&site_key, now));
        if let Err(wait) = locked {
            return Attempt::Locked(wait);
        }
        match open() {
            Some(opened) => {
                self.per_client.succeed(&client_key);
                Attempt::Allowed(opened)
            }
            None => {
                self.per_client.fail(&client_key, now);
                self.per_site.fail(&site_key, now);
                Attempt::Refused
            }
        }
    }
}

/// Why a request may not read a site's answers.
#[derive(Debug)]
pub enum Refused {
    /// No token, a wrong one, or no such site: 401.
    Unauthorized,
    /// Too many failures from this client or at this site: 429.
    Locked(std::time::Duration),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Unauthorized => ApiError::unauthorized().into_response(),
            Refused::Locked(wait) => locked_out(wait),
        }
    }
}

impl AppState {
    /// The site, if the request may read its answers: its token as a bearer
    /// token, or its dashboard cookie. 401 (the same for unknown sites),
    /// or 429 while this client or this site is locked out.
    pub fn site_by_token(
        &self,
        key: &str,
        headers: &HeaderMap,
        client: IpAddr,
    ) -> Result<&Site, Refused> {
        let bearer = bearer(headers);
        let cookie = super::dashboard::cookie(key, headers);
        let check = |site: &Site| {
            site.export_token.as_ref().is_some_and(|token| {
                bearer.is_some_and(|b| same(b, token))
                    || cookie.is_some_and(|c| super::dashboard::cookie_matches(site, c))
            })
        };
        let open = (bearer.is_some() || cookie.is_some())
            .then_some(|| self.site(key).filter(|s| check(s)));
        match self.inner.tokens.attempt(key, client, open) {
            Attempt::Allowed(site) => Ok(site),
            Attempt::Locked(wait) => Err(Refused::Locked(wait)),
            Attempt::Missing | Attempt::Refused => Err(Refused::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert_eq!(bearer(&with("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&with("bearer abc")), Some("abc"));
        assert_eq!(bearer(&with("BEARER  abc ")), Some("abc"));
        assert_eq!(bearer(&with("Basic abc")), None);
        assert_eq!(bearer(&with("Bearer")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
