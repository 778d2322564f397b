//! The loader (`/pulso.js`) and the widget bundle (`/widget/...`), served
//! precompressed (brotli, gzip) from the folder `cargo xtask widget` writes.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;

pub fn router(dir: &Path) -> Router<AppState> {
    if !dir.join("pulso.js").is_file() {
        tracing::warn!(
            dir = %dir.display(),
            "no widget build here: /pulso.js will answer 404 (build it with `cargo xtask widget`)"
        );
    }
    // The loader keeps one URL forever, so it is cached briefly; bundle files are
    // named by their content hash, so they are cached for good.
    // Precompressed files differ by Accept-Encoding: caches in between must know.
    let vary = || {
        SetResponseHeaderLayer::overriding(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        )
    };
    let loader = ServiceBuilder::new()
        .layer(vary())
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .service(
            ServeFile::new(dir.join("pulso.js"))
                .precompressed_br()
                .precompressed_gzip(),
        );
    // The bundle is an ES module and a .wasm fetched from the host page's origin:
    // both are CORS requests, and both are public.
    let bundle = ServiceBuilder::new()
        .layer(vary())
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .service(
            ServeDir::new(dir.join("widget"))
                .precompressed_br()
                .precompressed_gzip(),
        );
    Router::new()
        .route_service("/pulso.js", loader)
        .nest_service("/widget", bundle)
}
