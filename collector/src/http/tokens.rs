//! Secrets given as `Authorization: Bearer TOKEN` (the scheme in any case,
//! as RFC 9110 has it): a site's machine token (`export_token`), compared in
//! constant time, a person's API token, the metrics token. Failed attempts
//! are throttled per client address and per site (429 + `Retry-After`), so
//! that guessing is slow from one address and from many.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::Secret;
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

fn client_key(client: IpAddr) -> String {
    format!("ip:{}", super::limits::client_key(client))
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
        if let Err(wait) = self.check(key, client) {
            return Attempt::Locked(wait);
        }
        match open() {
            Some(opened) => {
                self.succeeded(client);
                Attempt::Allowed(opened)
            }
            None => {
                self.failed(key, client);
                Attempt::Refused
            }
        }
    }

    /// `Err(wait)` while `client`, or `key` (a site, an account, or a name
    /// for a kind of secret), is locked out.
    pub fn check(&self, key: &str, client: IpAddr) -> Result<(), std::time::Duration> {
        let now = Instant::now();
        self.per_client
            .check(&client_key(client), now)
            .and(self.per_site.check(&format!("site:{key}"), now))
    }

    /// A wrong secret from `client` at `key`.
    pub fn failed(&self, key: &str, client: IpAddr) {
        let now = Instant::now();
        self.per_client.fail(&client_key(client), now);
        self.per_site.fail(&format!("site:{key}"), now);
    }

    /// `Err(wait)` while `client` is locked out (for secrets too long to
    /// guess, where a lock on everyone's key would only let strangers lock
    /// everyone out: people's API tokens).
    pub fn check_client(&self, client: IpAddr) -> Result<(), std::time::Duration> {
        self.per_client.check(&client_key(client), Instant::now())
    }

    /// A wrong secret from `client`, counted against the client alone.
    pub fn failed_client(&self, client: IpAddr) {
        self.per_client.fail(&client_key(client), Instant::now());
    }

    /// A right one: the client's failures are forgotten.
    pub fn succeeded(&self, client: IpAddr) {
        self.per_client.succeed(&client_key(client));
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
