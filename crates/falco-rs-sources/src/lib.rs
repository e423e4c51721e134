//! Event sources of falco-rs.
//!
//! * [`queue`]: the bounded queue between sources and the engine. A full queue is
//!   reported to the producer (the webhook answers 503 so the apiserver retries); events
//!   are never dropped silently.
//! * [`webhook`]: the kube-apiserver audit webhook backend over HTTP or HTTPS, with
//!   optional bearer-token and client-certificate authentication.
//! * [`dedup`]: a bounded window that drops re-delivered events (apiserver retries).

pub mod admin;
pub mod cloudwatch;
pub mod dedup;
pub mod queue;
pub mod webhook;
