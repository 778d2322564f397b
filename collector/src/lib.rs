//! Pulso's collector: serves the loader, the widget bundle and survey configuration,
//! ingests answers, stores them and exports them. The binary (`pulso`) is a thin
//! command line over [`serve`], [`config`] and [`export`].

pub mod config;
pub mod dashboard;
pub mod digest;
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
    let (_keep, reloads) = tokio::sync::mpsc::channel(1);
    serve_reloading(listener, state, shutdown, reloads).await
}

/// [`serve`], taking each configuration sent on `reloads` (checked
/// already) in place of the running one: its sites, surveys, texts,
/// targeting, waves and webhooks; the store, throttles and counters stay.
pub async fn serve_reloading(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut reloads: tokio::sync::mpsc::Receiver<config::Settings>,
) -> std::io::Result<()> {
    let apps = std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(app(state.clone())));
    let http = state.settings().http.clone();
    let served = server::run_swappable(listener, apps.clone(), &http, shutdown);
    let mut served = std::pin::pin!(served);
    let mut tasks = Tasks::start(&state);
    let mut current = state;
    loop {
        tokio::select! {
            result = &mut served => {
                tasks.stop();
                return result;
            }
            Some(settings) = reloads.recv() => {
                let next = current.reloaded(settings);
                apps.store(std::sync::Arc::new(app(next.clone())));
                tasks.stop();
                tasks = Tasks::start(&next);
                current = next;
                tracing::info!("configuration reloaded");
            }
        }
    }
}

/// What `serve` keeps running beside the requests, for one configuration.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Tasks {
    fn start(state: &AppState) -> Tasks {
        Tasks(vec![
            tokio::spawn(
                webhooks::deliver::Worker::new(
                    state.settings(),
                    state.store().clone(),
                    state.metrics().clone(),
                )
                .run(),
            ),
            tokio::spawn(privacy::run_retention(state.clone())),
            tokio::spawn(inbox::work::watch_deadlines(state.clone())),
            tokio::spawn(report::keep_folding(state.store().clone())),
            tokio::spawn(digest::keep_sending(
                state.settings().clone(),
                state.store().clone(),
            )),
            tokio::spawn(programme::alerts::keep_watching(
                state.settings().clone(),
                state.store().clone(),
            )),
        ])
    }

    /// Stops them. A webhook delivery cut short is sent again when its
    /// claim runs out; a digest's claim likewise.
    fn stop(&mut self) {
        for task in self.0.drain(..) {
            task.abort();
        }
    }
}
