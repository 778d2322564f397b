//! Rate limits: per client IP on the browser-facing API (a tower layer over
//! governor) and per site on answers (governor, keyed by site), both answering
//! 429 with `Retry-After` and the usual JSON error body.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use super::{ApiError, AppState};
use crate::config::Limits;

/// The 429 answer, with the seconds to wait.
pub fn too_many(wait: Duration) -> Response<Body> {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; retry in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

/// The address a request comes from, as rate limits count it. A request from
/// one of the `trusted` proxies is named by `X-Forwarded-For`: its rightmost
/// address that is not a trusted proxy (each proxy appends the address it got
/// the request from, so only that end can be believed; anything to its left
/// the client wrote itself). Every other request is its peer's.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
    for hop in hops {
        let Some(ip) = parse_hop(hop.trim()) else {
            // Something a proxy would not write: the hop before it is the client.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, IPv6 possibly in brackets, a port
/// possibly after it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// What one client's requests are counted under: its IPv4 address, or the
/// /64 network of its IPv6 address (one host usually holds a whole /64, so
/// counting single IPv6 addresses would let it pick a fresh one per request).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(net))
        }
        v4 => v4,
    }
}

/// The per-IP limit's key: [`client_key`] of [`client_address`].
#[derive(Clone)]
struct ClientKey {
    trusted: Arc<Vec<IpNet>>,
}

impl KeyExtractor for ClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or(GovernorError::UnableToExtractKey)?;
        Ok(client_key(client_address(
            peer,
            request.headers(),
            &self.trusted,
        )))
    }
}

/// Adds the per-IP limit to `router`.
pub fn per_ip(router: Router<AppState>, limits: &Limits) -> Router<AppState> {
    let period = Duration::from_secs(1) / limits.per_ip_per_second.max(1);
    let on_error = |e: GovernorError| match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            too_many(Duration::from_secs(wait_time))
        }
        other => ApiError::internal(other).into_response(),
    };
    let config = Arc::new(
        GovernorConfigBuilder::default()
            .period(period)
            .burst_size(limits.per_ip_burst.max(1))
            .key_extractor(ClientKey {
                trusted: Arc::new(limits.trusted_proxies.clone()),
            })
            .finish()
            .expect("a rate and a burst above zero"),
    );
    let limiter = config.limiter().clone();
    forget_idle(move || limiter.retain_recent());
    router.layer(GovernorLayer::new(config).error_handler(on_error))
}

/// Runs `forget` (dropping the state of clients not seen for a while) every
/// minute, so the limiter's memory stays bounded.
fn forget_idle(forget: impl Fn() + Send + 'static) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            forget();
        }
    });
}

/// Answers per site, whatever their client: one noisy site cannot starve the others.
pub struct PerSite {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl PerSite {
    pub fn new(limits: &Limits) -> PerSite {
        PerSite {
            limiter: RateLimiter::keyed(quota(limits.per_site_per_second, limits.per_site_burst)),
        }
    }

    /// `Err` holds how long the site must wait.
    pub fn check(&self, site: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&site.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_names_the_client_and_only_from_the_right() {
        let trusted: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        // A client writing its own header straight to the collector: ignored.
        assert_eq!(
            client_address(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy, which appended the real peer: the forged part is left of it.
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                &headers(&["1.2.3.4, 203.0.113.9"]),
                &trusted
            ),
            ip("203.0.113.9")
        );
        // Two proxies of ours: skip both.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &headers(&["1.2.3.4", "203.0.113.9, 10.0.0.1"]),
                &trusted
            ),
            ip("203.0.113.9")
        );
        // Garbage where a proxy writes an address: the last hop we trust is the client.
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&["evil, 10.0.0.1"]), &trusted),
            ip("10.0.0.1")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.2"),
                &headers(&["[2001:db8::1]:4711"]),
                &trusted
            ),
            ip("2001:db8::1")
        );
        // Nobody trusted: always the peer.
        assert_eq!(
            client_address(ip("127.0.0.1"), &headers(&["1.2.3.4"]), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }
}
