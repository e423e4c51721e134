//! The kube-apiserver audit webhook backend (the k8saudit plugin's `http://` and
//! `https://` open_params), served with hyper on a tokio runtime.
//!
//! Differences from the plugin, all on the side of not losing data: the body is parsed
//! before answering; 200 means the batch is in the engine's queue; a full queue
//! answers 503 with `Retry-After` so the apiserver retries; malformed bodies get 400,
//! oversized ones 413, wrong content types 415; optional bearer-token and
//! client-certificate authentication.

use crate::queue::EventQueue;
use bytes::Bytes;
use falco_rs_k8saudit::{parse_payload, ParseOptions};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// TLS settings.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// PEM file holding the certificate chain and the private key (`sslCertificate`).
    pub cert_key_pem: PathBuf,
    /// PEM bundle of CAs; when set, clients must present a certificate signed by one.
    pub client_ca: Option<PathBuf>,
}

/// Webhook settings (from the k8saudit plugin entry of falco.yaml).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// The audit endpoint path (exact match).
    pub path: String,
    /// Health endpoint served on the same listener (`None` disables it).
    pub healthz_path: Option<String>,
    /// HTTPS settings; plain HTTP when `None`.
    pub tls: Option<TlsConfig>,
    /// `maxEventSize`.
    pub max_event_size: usize,
    /// `webhookMaxBatchSize`: largest accepted body, in bytes.
    pub max_batch_size: usize,
    /// Required bearer token, if any.
    pub auth_token: Option<String>,
    /// Stop on SIGTERM/SIGINT (graceful: finish in-flight requests, then close).
    pub handle_signals: bool,
}

/// Parsed `open_params` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `true` for `https://`.
    pub https: bool,
    /// Address to bind (empty host means all interfaces).
    pub listen: SocketAddr,
    /// Path (`/` when absent).
    pub path: String,
}

/// Parses `http://[host]:port/path` or `https://...` (query ignored).
pub fn parse_endpoint(open_params: &str) -> Result<Endpoint, String> {
    let (https, rest) = if let Some(r) = open_params.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = open_params.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(format!("not an http(s) URL: {open_params}"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let end = r
            .find(']')
            .ok_or_else(|| format!("invalid IPv6 address in {open_params}"))?;
        (&r[..end], r[end + 1..].strip_prefix(':').unwrap_or(""))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (authority, ""),
        }
    };
    let port: u16 = if port.is_empty() {
        if https {
            443
        } else {
            80
        }
    } else {
        port.parse()
            .map_err(|_| format!("invalid port '{port}' in {open_params}"))?
    };
    let host = match host {
        "" => "0.0.0.0",
        "localhost" => "127.0.0.1",
        h => h,
    };
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| format!("cannot listen on '{host}': use an IP address or an empty host"))?;
    Ok(Endpoint {
        https,
        listen: SocketAddr::new(ip, port),
        path: path.to_string(),
    })
}

/// Counters of the webhook, shared with the rest of the process.
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Requests received on the audit path.
    pub requests: AtomicU64,
    /// Events accepted into the queue.
    pub accepted_events: AtomicU64,
    /// Items of accepted bodies that were rejected (not events, bad timestamps, too large).
    pub rejected_items: AtomicU64,
    /// Requests answered 4xx.
    pub client_errors: AtomicU64,
    /// Requests answered 503 because the queue was full.
    pub overloaded: AtomicU64,
    /// Latency of requests on the audit path, from headers received to response.
    pub latency: LatencyHistogram,
}

/// Upper bounds (seconds) of the request latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A Prometheus-style cumulative histogram of request latencies.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Counts per bucket of [`LATENCY_BUCKETS`] (non-cumulative; the last slot is +Inf).
    pub buckets: [AtomicU64; 12],
    /// Sum of observed latencies in microseconds.
    pub sum_micros: AtomicU64,
    /// Observations.
    pub count: AtomicU64,
}

impl LatencyHistogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

struct State {
    queue: EventQueue,
    path: String,
    healthz: Option<String>,
    parse: ParseOptions,
    max_batch: usize,
    token: Option<String>,
    stats: Arc<WebhookStats>,
}

/// A running webhook server.
pub struct WebhookServer {
    addr: SocketAddr,
    stats: Arc<WebhookStats>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebhookServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters.
    pub fn stats(&self) -> Arc<WebhookStats> {
        self.stats.clone()
    }

    /// Stops accepting, waits for in-flight requests, and releases the queue.
    pub fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Waits until the server stops by itself (on a signal).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Builds a TLS acceptor from a cert+key PEM and an optional client CA bundle.
pub(crate) fn load_tls(cfg: &TlsConfig) -> Result<TlsAcceptor, String> {
    let pem = std::fs::read(&cfg.cert_key_pem).map_err(|e| {
        format!(
            "cannot read sslCertificate {}: {e}",
            cfg.cert_key_pem.display()
        )
    })?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("invalid certificate in {}: {e}", cfg.cert_key_pem.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "no certificate found in {}",
            cfg.cert_key_pem.display()
        ));
    }
    let key = rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| format!("invalid private key in {}: {e}", cfg.cert_key_pem.display()))?
        .ok_or_else(|| {
            format!(
                "no private key found in {} (it must hold the certificate and the key)",
                cfg.cert_key_pem.display()
            )
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &cfg.client_ca {
        Some(ca_path) => {
            let ca = std::fs::read(ca_path)
                .map_err(|e| format!("cannot read client CA bundle {}: {e}", ca_path.display()))?;
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pemfile::certs(&mut &ca[..]) {
                let c =
                    c.map_err(|e| format!("invalid CA certificate in {}: {e}", ca_path.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("invalid CA certificate in {}: {e}", ca_path.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| format!("client CA bundle {}: {e}", ca_path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate/key in {}: {e}", cfg.cert_key_pem.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Binds and starts the server on its own runtime thread.
pub fn start(cfg: WebhookConfig, queue: EventQueue) -> Result<WebhookServer, String> {
    let tls = cfg.tls.as_ref().map(load_tls).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("falco-rs-webhook")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the webhook runtime: {e}"))?;
    let std_listener = std::net::TcpListener::bind(cfg.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    let stats = Arc::new(WebhookStats::default());
    let state = Arc::new(State {
        queue,
        path: cfg.path.clone(),
        healthz: cfg.healthz_path.clone(),
        parse: ParseOptions {
            max_event_size: cfg.max_event_size,
            keep_valid_siblings: true,
        },
        max_batch: cfg.max_batch_size,
        token: cfg.auth_token.clone(),
        stats: stats.clone(),
    });
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let handle_signals = cfg.handle_signals;
    let thread = std::thread::Builder::new()
        .name("falco-rs-webhook".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(std_listener) {
                    Ok(l) => l,
                    Err(e) => {
                        log::error!("webhook: cannot use listener: {e}");
                        return;
                    }
                };
                serve(listener, tls, state, stop_rx, handle_signals).await;
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(WebhookServer {
        addr,
        stats,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

async fn shutdown_signal(stop: oneshot::Receiver<()>, handle_signals: bool) {
    if !handle_signals {
        let _ = stop.await;
        return;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = stop.await;
                return;
            }
        };
        tokio::select! {
            _ = stop => {}
            _ = term.recv() => log::info!("SIGTERM received, draining"),
            _ = tokio::signal::ctrl_c() => log::info!("SIGINT received, draining"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::select! {
            _ = stop => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}

async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<State>,
    stop: oneshot::Receiver<()>,
    handle_signals: bool,
) {
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal(stop, handle_signals);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        log::warn!("webhook: accept error: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move {
                        let started = std::time::Instant::now();
                        let audit_path = req.uri().path() == state.path;
                        let resp = handle(req, state.clone(), peer).await;
                        if audit_path {
                            state.stats.latency.observe(started.elapsed());
                        }
                        resp
                    }
                });
                let builder = auto::Builder::new(TokioExecutor::new());
                match &tls {
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                        let fut = graceful.watch(conn);
                        tokio::spawn(async move {
                            let _ = fut.await;
                        });
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        let watcher = graceful.watcher();
                        tokio::spawn(async move {
                            let tls_stream = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    log::warn!("webhook: TLS handshake with {peer} failed: {e}");
                                    return;
                                }
                                Err(_) => {
                                    log::warn!("webhook: TLS handshake with {peer} timed out");
                                    return;
                                }
                            };
                            let conn = builder.serve_connection(TokioIo::new(tls_stream), service).into_owned();
                            let _ = watcher.watch(conn).await;
                        });
                    }
                }
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!("webhook: in-flight requests did not finish within 30 s");
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.into())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Constant-time comparison for the bearer token.
fn token_matches(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    if state.healthz.as_deref() == Some(path.as_str()) && req.method() == Method::GET {
        return Ok(json(StatusCode::OK, serde_json::json!({"status": "ok"})));
    }
    if path != state.path {
        return Ok(text(StatusCode::NOT_FOUND, "404 page not found\n"));
    }
    let stats = &state.stats;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let reject = |status: StatusCode, msg: String| {
        stats.client_errors.fetch_add(1, Ordering::Relaxed);
        log::warn!("webhook: {peer}: {} {msg}", status.as_u16());
        text(status, format!("{msg}\n"))
    };
    if req.method() != Method::POST {
        let mut r = reject(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} method not allowed", req.method()),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(r);
    }
    if let Some(expected) = &state.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        match given {
            None => {
                let mut r = reject(StatusCode::UNAUTHORIZED, "missing bearer token".into());
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return Ok(r);
            }
            Some(t) if !token_matches(t.trim().as_bytes(), expected.as_bytes()) => {
                return Ok(reject(StatusCode::FORBIDDEN, "invalid bearer token".into()));
            }
            Some(_) => {}
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.contains("application/json") {
        return Ok(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("wrong Content Type '{content_type}', expected application/json"),
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.max_batch) {
        return Ok(reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "body larger than webhookMaxBatchSize ({} bytes)",
                state.max_batch
            ),
        ));
    }
    let body = match Limited::new(req.into_body(), state.max_batch)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Ok(reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "body larger than webhookMaxBatchSize ({} bytes)",
                        state.max_batch
                    ),
                ));
            }
            return Ok(reject(StatusCode::BAD_REQUEST, format!("bad request: {e}")));
        }
    };
    let outcome = parse_payload(&body, &state.parse);
    let rejected = outcome.errors.len();
    if outcome.events.is_empty() && rejected > 0 {
        let reasons: Vec<String> = outcome.errors.iter().map(|e| e.to_string()).collect();
        return Ok(reject(
            StatusCode::BAD_REQUEST,
            format!("bad request: {}", reasons.join("; ")),
        ));
    }
    for e in &outcome.errors {
        log::warn!("webhook: {peer}: item skipped: {e}");
    }
    stats
        .rejected_items
        .fetch_add(rejected as u64, Ordering::Relaxed);
    let accepted = outcome.events.len();
    if state.queue.try_push(outcome.events).is_err() {
        stats.overloaded.fetch_add(1, Ordering::Relaxed);
        let mut r = text(
            StatusCode::SERVICE_UNAVAILABLE,
            "event queue full, retry later\n",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(r);
    }
    stats
        .accepted_events
        .fetch_add(accepted as u64, Ordering::Relaxed);
    Ok(json(
        StatusCode::OK,
        serde_json::json!({"accepted": accepted, "rejected": rejected}),
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_endpoint;

    #[test]
    fn endpoints() {
        let e = parse_endpoint("http://:9765/k8s-audit").expect("ok");
        assert_eq!(e.listen.to_string(), "0.0.0.0:9765");
        assert_eq!(e.path, "/k8s-audit");
        assert!(!e.https);
        let e = parse_endpoint("https://127.0.0.1:0/a?x=1").expect("ok");
        assert!(e.https);
        assert_eq!(e.path, "/a");
        let e = parse_endpoint("http://[::1]:8080").expect("ok");
        assert_eq!(e.listen.to_string(), "[::1]:8080");
        assert_eq!(e.path, "/");
        assert!(parse_endpoint("http://example.com:80/x").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
        assert!(parse_endpoint("http://:notaport/x").is_err());
    }
}
