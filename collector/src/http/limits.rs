//! Rate limits: per client IP on the browser-facing API (a tower layer over
//! governor) and per site on answers (governor, keyed by site), both answering
//! 429 with `Retry-After` and the usual JSON error body.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::{PeerIpKeyExtractor, SmartIpKeyExtractor};

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

/// Adds the per-IP limit to `router`. Behind a reverse proxy the client is named
/// by `X-Forwarded-For` / `Forwarded`, which only a trusted proxy may set.
pub fn per_ip(router: Router<AppState>, limits: &Limits) -> Router<AppState> {
    let period = Duration::from_secs(1) / limits.per_ip_per_second.max(1);
    let on_error = |e: tower_governor::GovernorError| match e {
        tower_governor::GovernorError::TooManyRequests { wait_time, .. } => {
            too_many(Duration::from_secs(wait_time))
        }
        other => ApiError::internal(other).into_response(),
    };
    macro_rules! layer {
        ($extractor:expr) => {{
            let config = Arc::new(
                GovernorConfigBuilder::default()
                    .period(period)
                    .burst_size(limits.per_ip_burst.max(1))
                    .key_extractor($extractor)
                    .finish()
                    .expect("a rate and a burst above zero"),
            );
            let limiter = config.limiter().clone();
            forget_idle(move || limiter.retain_recent());
            router.layer(GovernorLayer::new(config).error_handler(on_error))
        }};
    }
    if limits.trust_proxy_headers {
        layer!(SmartIpKeyExtractor)
    } else {
        layer!(PeerIpKeyExtractor)
    }
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
