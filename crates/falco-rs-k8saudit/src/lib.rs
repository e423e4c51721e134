//! Kubernetes audit events as the k8saudit and json Falco plugins see them.
//!
//! * [`parse_payload`] accepts one payload (a JSON line or an HTTP body): an `Event`,
//!   an `EventList`, or JSON arrays of those, exactly as the k8saudit plugin's
//!   `source.go` does.
//! * [`AuditEvent`] is one parsed event; it implements the engine's
//!   [`falco_rs_engine::EventView`].
//! * [`K8sAuditCatalog`] resolves the 100 `ka.*` fields of k8saudit 0.18.0, the
//!   `json.*`/`jevt.*` fields of the json plugin and the generic `evt.*` fields.
