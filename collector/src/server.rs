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
