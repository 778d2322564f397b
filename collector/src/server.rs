//! The accept loop: HTTP/1.1 connections served with a header timeout, a cap
//! on open connections, and a bounded drain on shutdown, so that slow or
//! hostile clients cannot hold the collector (`axum::serve` runs hyper
//! without a timer, so its header timeout never fires).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::Http;
use crate::store::Backend;

/// The runtime the collector serves on, for the database at `database_url`:
/// [`worker_threads`] of the machine's cores, or as many as
/// `TOKIO_WORKER_THREADS` says (tokio's own variable), for an operator who
/// knows better.
pub fn runtime(database_url: &str) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        builder.worker_threads(worker_threads(Backend::of(database_url), cores));
    }
    builder.build()
}

/// How many of `cores` serve HTTP. On SQLite one is left to the writer: a
/// thread of its own, busy whenever answers arrive (see `store::write`);
/// a worker for every core made three busy threads share two cores. On two
/// cores, in interleaved rounds of `pulso-bench load`, one worker stored
/// 3–23 % more answers per second than two at 64 and 256 clients, with less
/// CPU per answer; on a day the shared machine gave a quarter of that rate,
/// the two were within its noise (−7 % at 64, +9 % at 256). On PostgreSQL
/// the writer is a task among the others: every core serves.
pub fn worker_threads(backend: Option<Backend>, cores: usize) -> usize {
    match backend {
        Some(Backend::Sqlite) => cores.saturating_sub(1).max(1),
        _ => cores.max(1),
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops
/// accepting, lets the requests in flight finish for at most
/// `http.drain_timeout`, and returns.
///
/// - A client has `http.header_timeout` to send a request's headers, counted
///   from when its connection starts waiting for them, so a connection that
///   trickles header bytes, or idles between keep-alive requests, is closed
///   by then.
/// - At most `http.max_connections` connections are open at once; the next
///   waits in the listen queue (it is not accepted and dropped).
/// - HTTP/1.1 only: browsers and proxies speak it to the collector, and it is
///   the protocol whose slow-client defences are above (HTTP/2 in clear text
///   has no header timeout of its own in hyper).
pub async fn run(
    listener: TcpListener,
    app: Router,
    http: &Http,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_swappable(
        listener,
        Arc::new(arc_swap::ArcSwap::from_pointee(app)),
        http,
        shutdown,
    )
    .await
}

/// [`run`] with the router in `apps`, read afresh for every request: a
/// configuration reloaded (another router stored there) serves the next
/// request, on open connections too, while requests in flight finish on
/// the one they started with.
pub async fn run_swappable(
    listener: TcpListener,
    apps: Arc<arc_swap::ArcSwap<Router>>,
    http: &Http,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(http.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let apps = apps.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // Peer addresses feed the per-IP rate limit.
            request.extensions_mut().insert(ConnectInfo(peer));
            Router::clone(&apps.load()).oneshot(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    // New connections are refused from here on.
    drop(listener);
    if tokio::time::timeout(http.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = http.drain_timeout.as_secs_f64(),
            "connections still open after the drain timeout: closing them"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_writer_keeps_a_core() {
        assert_eq!(worker_threads(Some(Backend::Sqlite), 1), 1);
        assert_eq!(worker_threads(Some(Backend::Sqlite), 2), 1);
        assert_eq!(worker_threads(Some(Backend::Sqlite), 8), 7);
        assert_eq!(worker_threads(Some(Backend::Postgres), 2), 2);
        assert_eq!(worker_threads(None, 0), 1);
    }

    #[test]
    fn the_runtime_is_sized_for_its_database() {
        let runtime = runtime("sqlite://pulso.db").unwrap();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let expected = match std::env::var("TOKIO_WORKER_THREADS") {
            Ok(n) => n.parse().unwrap(),
            Err(_) => worker_threads(Some(Backend::Sqlite), cores),
        };
        assert_eq!(runtime.metrics().num_workers(), expected);
    }
}
