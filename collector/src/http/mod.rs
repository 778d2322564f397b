//! The HTTP API: [`app`] builds the router that the binary serves and the tests drive.

mod assets;
mod dashboard;
mod error;
mod export;
pub mod history;
mod ingest;
mod limits;
pub mod openapi;
mod schema;
pub mod tokens;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use ingest::{
    check_content_type as check_json, clean_text, decode, decode_answer, posting_site, prepare,
};
pub use limits::client_key;

use crate::config::{Settings, Site};
use crate::metrics::Metrics;
use crate::store::{EventMaker, Store};

/// Largest request body we read; an answer with a full follow-up is far below it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    store: Store,
    /// Per site: the client configuration as served, and its ETag.
    client_configs: BTreeMap<String, (String, HeaderValue)>,
    /// Per site: the events its webhooks make of an answer's change.
    events: BTreeMap<String, EventMaker>,
    // What outlives a reload of the configuration: the throttles, the
    // replies' keys, the counters.
    per_site: Arc<limits::PerSite>,
    tokens: Arc<tokens::Tokens>,
    sign_ins: Arc<crate::people::SignIns>,
    reply_keys: Arc<crate::inbox::ReplyKeys>,
    metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(settings: Settings, store: Store) -> AppState {
        let shared = (
            Arc::new(limits::PerSite::new(&settings.limits)),
            Arc::new(tokens::Tokens::new(&settings.limits)),
            Arc::new(crate::people::SignIns::new(&settings.limits)),
            Arc::default(),
            Arc::default(),
        );
        AppState::with(settings, store, shared)
    }

    /// The state of a reloaded configuration: the same store, throttles,
    /// replies' keys and counters; the sites, surveys and webhooks of
    /// `settings`.
    pub fn reloaded(&self, settings: Settings) -> AppState {
        let i = &self.inner;
        let shared = (
            i.per_site.clone(),
            i.tokens.clone(),
            i.sign_ins.clone(),
            i.reply_keys.clone(),
            i.metrics.clone(),
        );
        AppState::with(settings, i.store.clone(), shared)
    }

    #[allow(clippy::type_complexity)]
    fn with(
        settings: Settings,
        store: Store,
        (per_site, tokens, sign_ins, reply_keys, metrics): (
            Arc<limits::PerSite>,
            Arc<tokens::Tokens>,
            Arc<crate::people::SignIns>,
            Arc<crate::inbox::ReplyKeys>,
            Arc<Metrics>,
        ),
    ) -> AppState {
        let client_configs = settings
            .sites
            .iter()
            .map(|(key, site)| {
                let body = serde_json::to_string(&site.client_config())
                    .expect("survey definitions serialise");
                let etag = format!("\"{:016x}\"", fnv1a(body.as_bytes()));
                let etag = HeaderValue::from_str(&etag).expect("hex is a valid header");
                (key.clone(), (body, etag))
            })
            .collect();
        let events = settings
            .sites
            .iter()
            .filter_map(|(key, site)| {
                Some((key.clone(), crate::webhooks::event_maker(&site.webhooks)?))
            })
            .collect();
        AppState {
            inner: Arc::new(Inner {
                per_site,
                tokens,
                sign_ins,
                reply_keys,
                events,
                settings,
                store,
                client_configs,
                metrics,
            }),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn site(&self, key: &str) -> Option<&Site> {
        self.inner.settings.sites.get(key)
    }

    /// The throttles of failed token attempts.
    pub fn tokens(&self) -> &tokens::Tokens {
        &self.inner.tokens
    }

    /// The keys of replies waiting per site, as the configuration lists them.
    pub fn reply_keys(&self) -> &crate::inbox::ReplyKeys {
        &self.inner.reply_keys
    }

    /// The throttles of failed sign-ins.
    pub fn sign_ins(&self) -> &crate::people::SignIns {
        &self.inner.sign_ins
    }

    /// What the site's webhooks make of an answer's change, if it has any.
    fn events_of(&self, site: &str) -> Option<EventMaker> {
        self.inner.events.get(site).cloned()
    }
}

/// The whole collector as a router.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The collector with `extra` routes beside the browser API, behind the same
/// layers (rate limits, CORS, body limit, timeout, tracing, headers): how the
/// benchmark puts a no-op endpoint on the same path through the server.
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let cors_state = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(
            move |origin: &HeaderValue, parts: &Parts| {
                origin
                    .to_str()
                    .is_ok_and(|o| cors_allows(&cors_state, o, parts.uri.path()))
            },
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(7200));

    let browser_api = Router::new()
        .route("/v1/responses", post(ingest::post_response))
        .route("/v1/sites/{site}/config", get(site_config))
        .route("/v1/sites/{site}/history", post(history::history))
        .merge(crate::inbox::browser_router())
        .merge(crate::programme::browser_router())
        .merge(extra);
    // CORS outside the limit: a preflight is never counted, and a 429 still
    // carries the headers the page needs to read it.
    let api = limits::per_ip(browser_api, &state.settings().limits)
        .layer(cors)
        .route("/v1/sites/{site}/export", get(export::export))
        .route("/v1/sites/{site}/report", get(export::report))
        .route("/v1/sites/{site}/webhooks", get(export::webhooks))
        .merge(crate::privacy::router())
        .route("/metrics", get(metrics))
        .route("/dashboard.css", get(dashboard::stylesheet))
        .route("/dashboard/{site}", get(dashboard::show))
        .merge(crate::people::router())
        .merge(crate::inbox::router())
        .merge(crate::digest::router())
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/readyz", get(readyz));

    Router::new()
        .merge(api)
        .merge(assets::router(&state.settings().assets_dir))
        .fallback(|| async { ApiError::not_found("resource") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::people::csrf_layer,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Every response: the API answers JSON and CSV only, so nothing of it may
        // be framed or run, and no referrer leaks; a handler serving a page sets
        // its own policy first.
        .layer(secure(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(secure(header::X_FRAME_OPTIONS, "DENY"))
        .layer(secure(header::REFERRER_POLICY, "no-referrer"))
        .layer(secure(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
}

fn secure(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Which pages may call the API from a browser: answers from any configured
/// origin (the handler then checks the origin against the answer's own site),
/// a site's configuration and history lookups only from that site's origins.
fn cors_allows(state: &AppState, origin: &str, path: &str) -> bool {
    if path == "/v1/responses" || path == "/v1/displays" {
        return state
            .settings()
            .sites
            .values()
            .any(|s| s.allows_origin(origin));
    }
    let Some((key, rest)) = path
        .strip_prefix("/v1/sites/")
        .and_then(|p| p.split_once('/'))
    else {
        return false;
    };
    let replies = rest == "replies"
        || rest
            .strip_prefix("replies/")
            .and_then(|r| r.strip_suffix("/seen"))
            .is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit()));
    (rest == "config" || rest == "history" || replies)
        && state
            .site(key)
            .is_some_and(|site| site.allows_origin(origin))
}

/// Counters in the OpenMetrics text format, for Prometheus: every site, its
/// volume and its webhooks, so not for everyone. On the main address only
/// with `Authorization: Bearer` the configured `metrics_token` (failures
/// throttled as for site tokens), and not at all without one; `metrics_listen`
/// serves it on an address of its own for the internal network.
#[utoipa::path(get, path = "/metrics",
    security(("bearer" = [])),
    responses(
        (status = 200, body = String, content_type = "application/openmetrics-text"),
        (status = 401, body = openapi::ErrorBody),
        (status = 404, body = openapi::ErrorBody, description = "No metrics token is configured"),
        (status = 429, body = openapi::ErrorBody, description = "Too many failed attempts; see Retry-After"),
    ))]
async fn metrics(
    State(state): State<AppState>,
    tokens::Client(client): tokens::Client,
    headers: HeaderMap,
) -> Response {
    let Some(token) = &state.settings().metrics_token else {
        return ApiError::not_found("resource").into_response();
    };
    let given = tokens::bearer(&headers);
    let open = given.map(|g| move || tokens::same(g, token).then_some(()));
    // The metrics count as a site of their own for the throttle (a key no
    // site can have: site keys have no ':').
    match state.tokens().attempt("metrics:", client, open) {
        tokens::Attempt::Locked(wait) => tokens::locked_out(wait),
        tokens::Attempt::Allowed(_) => metrics_text(&state),
        _ => ApiError::unauthorized().into_response(),
    }
}

fn metrics_text(state: &AppState) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().encode(),
    )
        .into_response()
}

/// `/metrics` and nothing else, without a token: what `metrics_listen` serves.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { metrics_text(&state) }),
        )
        .fallback(|| async { ApiError::not_found("resource") })
        .with_state(state)
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = openapi::Status)))]
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the database answers within a second (load balancers poll this).
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, body = openapi::Status),
    (status = 503, body = openapi::ErrorBody, description = "The database does not answer"),
))]
async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    match tokio::time::timeout(Duration::from_secs(1), state.store().ping()).await {
        Ok(Ok(())) => Ok(axum::Json(serde_json::json!({ "status": "ready" })).into_response()),
        Ok(Err(e)) => Err(ApiError::unavailable(e)),
        Err(_) => Err(ApiError::unavailable(
            "the database did not answer within 1 s",
        )),
    }
}

/// What the loader and the card need: the site's surveys. Cached with ETag.
#[utoipa::path(get, path = "/v1/sites/{site}/config",
    params(("site" = String, Path, description = "Site key")),
    responses(
        (status = 200, body = survey::ClientConfig),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, body = openapi::ErrorBody),
        (status = 429, body = openapi::ErrorBody, description = "Rate limited; see Retry-After"),
    ))]
async fn site_config(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (body, etag) = state
        .inner
        .client_configs
        .get(&site)
        .ok_or_else(|| ApiError::not_found("site").field("site"))?;
    // Surveys asked in waves are in it only while a wave is open: made
    // afresh, and a wave that opens or closes changes the ETag.
    let in_waves;
    let (body, etag) = match state.settings().sites.get(&site) {
        Some(s) if s.has_waves() => {
            let now = jiff::Timestamp::now().as_millisecond();
            let text =
                serde_json::to_string(&s.client_config_at(now)).map_err(ApiError::internal)?;
            let tag = HeaderValue::from_str(&format!("\"{:016x}\"", fnv1a(text.as_bytes())))
                .map_err(ApiError::internal)?;
            in_waves = (text, tag);
            (&in_waves.0, &in_waves.1)
        }
        _ => (body, etag),
    };
    // While replies wait, their keys ride along (`w`): the loader fetches
    // this on every page view anyway, and a changed list changes the ETag.
    let keys = state.reply_keys().of(state.store(), &site).await;
    let with_keys;
    let (body, etag) = if keys.is_empty() {
        (body, etag)
    } else {
        // The configuration ends with its empty list of keys (`"w":[]}`).
        let listed = serde_json::to_string(&keys).map_err(ApiError::internal)?;
        let text = format!("{}{listed}}}", body.strip_suffix("[]}").unwrap_or(body));
        let tag = HeaderValue::from_str(&format!("\"{:016x}\"", fnv1a(text.as_bytes())))
            .map_err(ApiError::internal)?;
        with_keys = (text, tag);
        (&with_keys.0, &with_keys.1)
    };
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if headers.get(header::IF_NONE_MATCH) == Some(etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag.clone()), cache],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag.clone()),
            cache,
        ],
        body.clone(),
    )
        .into_response())
}

/// FNV-1a: a stable, dependency-free hash, enough for an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
