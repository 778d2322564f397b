//! Pulso's collector: serves the loader, the widget bundle and survey configuration,
//! ingests answers, stores them and exports them. The binary (`pulso`) is a thin
//! command line over [`serve`], [`config`] and [`export`].

pub mod config;
pub mod dashboard;
pub mod export;
pub mod http;
pub mod report;
pub mod store;

use std::future::Future;

use tokio::net::TcpListener;

pub use http::{AppState, app};

/// Serves the collector on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Peer addresses feed the per-IP rate limit.
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
