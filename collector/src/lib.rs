//! Pulso's collector: serves the loader, the widget bundle and survey configuration,
//! ingests answers, stores them and exports them. The binary (`pulso`) is a thin
//! command line over [`serve`], [`config`] and [`export`].

pub mod config;
pub mod dashboard;
pub mod export;
pub mod http;
pub mod identity;
pub mod inbox;
pub mod metrics;
pub mod people;
pub mod privacy;
pub mod programme;
pub mod report;
pub mod server;
pub mod store;
pub mod throttle;
pub mod webhooks;

use std::future::Future;

use tokio::net::TcpListener;

pub use http::{AppState, app, app_with};

/// Serves `/metrics` alone, without a token, on `listener` (`metrics_listen`:
/// an address of the internal network), until the task is dropped.
pub async fn serve_metrics(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let http = state.settings().http.clone();
    server::run(
        listener,
        http::metrics_app(state),
        &http,
        std::future::pending(),
    )
    .await
}

/// Serves the collector on `listener` until `shutdown` completes, then lets
/// in-flight requests finish (for at most the configured drain timeout);
/// delivers webhook events meanwhile.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(
        webhooks::deliver::Worker::new(
            state.settings(),
            state.store().clone(),
            state.metrics().clone(),
        )
        .run(),
    );
    let retention = tokio::spawn(privacy::run_retention(state.clone()));
    let deadlines = tokio::spawn(inbox::work::watch_deadlines(state.clone()));
    let folding = tokio::spawn(report::keep_folding(state.store().clone()));
    let http = state.settings().http.clone();
    let served = server::run(listener, app(state), &http, shutdown).await;
    retention.abort();
    deadlines.abort();
    folding.abort();
    // A delivery cut short is sent again when its claim runs out.
    worker.abort();
    served
}
