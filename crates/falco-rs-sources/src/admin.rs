//! Falco's embedded `webserver` block: `/healthz`, a readiness endpoint, `/versions`
//! and Prometheus `/metrics`, on their own listener (default `0.0.0.0:8765`).

use crate::webhook::{load_tls, TlsConfig};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// What the admin server serves.
pub struct AdminConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Health path (`webserver.k8s_healthz_endpoint`, default `/healthz`).
    pub healthz_path: String,
    /// HTTPS (`webserver.ssl_enabled` with `webserver.ssl_certificate`).
    pub tls: Option<TlsConfig>,
    /// `/versions` body (JSON).
    pub versions: String,
    /// Prometheus text for `/metrics` (`None`: metrics disabled, 404).
    pub metrics: Option<Arc<dyn Fn() -> String + Send + Sync>>,
    /// Readiness for `/readyz`: true once the event source runs.
    pub ready: Arc<dyn Fn() -> bool + Send + Sync>,
}

/// A running admin server.
pub struct AdminServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AdminServer {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server.
    pub fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn reply(status: StatusCode, ctype: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r
}

async fn handle(
    req: Request<Incoming>,
    cfg: Arc<AdminConfig>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != Method::GET {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "method not allowed\n".into(),
        ));
    }
    let path = req.uri().path();
    Ok(if path == cfg.healthz_path {
        reply(
            StatusCode::OK,
            "application/json",
            r#"{"status": "ok"}"#.into(),
        )
    } else if path == "/readyz" {
        if (cfg.ready)() {
            reply(
                StatusCode::OK,
                "application/json",
                r#"{"status": "ready"}"#.into(),
            )
        } else {
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                r#"{"status": "starting"}"#.into(),
            )
        }
    } else if path == "/versions" {
        reply(StatusCode::OK, "application/json", cfg.versions.clone())
    } else if path == "/metrics" {
        match &cfg.metrics {
            Some(m) => reply(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                m(),
            ),
            None => reply(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "metrics are disabled (webserver.prometheus_metrics_enabled)\n".into(),
            ),
        }
    } else {
        reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        )
    })
}

/// Binds and serves on a background thread.
pub fn start(cfg: AdminConfig) -> Result<AdminServer, String> {
    let tls = cfg.tls.as_ref().map(load_tls).transpose()?;
    let std_listener = std::net::TcpListener::bind(cfg.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let cfg = Arc::new(cfg);
    let thread = std::thread::Builder::new()
        .name("falco-rs-webserver".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                    return;
                };
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((stream, _peer)) = accepted else {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                continue;
                            };
                            let cfg = cfg.clone();
                            let tls = tls.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |req| handle(req, cfg.clone()));
                                let builder = auto::Builder::new(TokioExecutor::new());
                                match tls {
                                    None => {
                                        let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                                    }
                                    Some(acceptor) => {
                                        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                                            let _ = builder.serve_connection(TokioIo::new(s), service).await;
                                        }
                                    }
                                }
                            });
                        }
                        _ = &mut stop_rx => break,
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(AdminServer {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
