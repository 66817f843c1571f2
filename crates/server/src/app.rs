//! Serving: the state of a server, the accept loop (header-read timeout, `Connection:
//! close` on early answers), serving until a signal and stopping cleanly.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_service::Service;

use minqing_service::Core;
use minqing_service::config::Config;
pub use minqing_service::startup::{Database, load_index, open_database};
use minqing_store::Store;

use crate::{AppState, app};

/// The shared state of a server over `store`, with an empty, not-yet-ready index.
#[must_use]
pub fn state(store: Store, config: Arc<Config>) -> AppState {
    AppState {
        core: Core::new(store, config),
        web: Arc::default(),
    }
}

/// Loads the index, then keeps it current (see [`Core::load_and_follow`]).
pub async fn load_and_follow(state: &AppState) -> anyhow::Result<()> {
    state.core.load_and_follow().await
}

/// How long a client may take to send the head of a request (its request line and
/// headers); a connection that has sent nothing or only part of a head by then is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// After a shutdown signal, how long requests in flight may still take; connections still
/// open then are dropped, so that the process ends within 5 s.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(3500);

/// After the connections are closed, how long the background tasks may take to stop.
pub const BACKGROUND_GRACE: Duration = Duration::from_secs(1);

/// Serves the API on `listener` until ctrl-c or SIGTERM; the index loads in the background
/// (`/readyz` answers 503 until it is done).
///
/// On a signal, every open event stream ends and the background tasks are told to stop
/// (`Core::shut_down`), the listener closes, and requests in flight finish (a report is
/// acknowledged only after its commit) within [`SHUTDOWN_GRACE`]; connections still open
/// after that are dropped, and the background tasks are awaited briefly.
pub async fn serve(
    listener: TcpListener,
    db: &Database,
    config: Arc<Config>,
) -> anyhow::Result<()> {
    let state = state(db.store.clone(), config);
    let loading = state.clone();
    let (failed_tx, mut failed_rx) = tokio::sync::watch::channel(None::<String>);
    tokio::spawn(async move {
        if let Err(e) = load_and_follow(&loading).await {
            tracing::error!(error = format!("{e:#}"), "index loading failed");
            let _ = failed_tx.send(Some(format!("{e:#}")));
        }
    });
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let mut failed = failed_rx.clone();
    let live = state.live.clone();
    let shutdown = async move {
        // Ok once loading failed; Err when the loader finished fine and dropped its sender.
        let load_failed = async move { failed.wait_for(Option::is_some).await.is_ok() };
        tokio::select! {
            () = shutdown_signal() => {},
            failed = load_failed => if !failed { shutdown_signal().await },
        }
        live.shut_down();
    };
    let core = state.core.clone();
    serve_router(listener, app(state), shutdown).await;
    if !core.shut_down(BACKGROUND_GRACE).await {
        tracing::warn!("background tasks still busy at exit");
    }
    if let Some(e) = failed_rx.borrow_and_update().clone() {
        anyhow::bail!("index loading failed: {e}");
    }
    Ok(())
}

/// Serves `router` over HTTP/1.1 on `listener` until `shutdown` resolves, then stops
/// accepting, lets requests in flight finish and closes idle connections, for at most
/// [`SHUTDOWN_GRACE`]; connections still open then are dropped.
///
/// Each connection must send a request head within [`HEADER_READ_TIMEOUT`]. Handlers see
/// the client address as `ConnectInfo<SocketAddr>`. An answer given before the request's
/// body was read to its end says `Connection: close` (the connection cannot carry another
/// request then).
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // pause rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |req| handle(router.clone(), remote, req));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(connections = open, "closing connections");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = SHUTDOWN_GRACE.as_secs_f64(),
            "connections still open after the grace period; dropping them"
        );
    }
    connections.shutdown().await;
}

/// One request: the client address for `ConnectInfo`, the body watched to its end, and
/// `Connection: close` on an answer given before the body was read.
async fn handle(
    mut router: Router,
    remote: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response, Infallible> {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let read = Arc::new(AtomicBool::new(!has_body));
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(ConnectInfo(remote));
    let body = Body::new(Watched {
        inner: body,
        read: read.clone(),
    });
    let mut response = router.call(Request::from_parts(parts, body)).await?;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// A request body that records when it was read to its end.
struct Watched {
    inner: Incoming,
    read: Arc<AtomicBool>,
}

impl hyper::body::Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if ended {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
