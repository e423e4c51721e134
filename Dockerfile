# syntax=docker/dockerfile:1
#
# falco-rs container image: one static-ish Rust binary on a distroless base.
#   docker build -t falco-rs:0.1.0 .
#   docker run --rm -p 9765:9765 -p 8765:8765 falco-rs:0.1.0
#
# Base images are pinned by explicit version tags. They are not pinned by digest because
# this repository is built and tested on machines without access to the image registries,
# where the digests cannot be looked up; pin them with `@sha256:...` in your own build
# pipeline (e.g. `docker buildx imagetools inspect rust:1.95.0-slim-bookworm`).
#
# Both stages are Debian 12 (bookworm), so the binary's glibc matches the runtime's.

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
# No shell in distroless. program_output runs `sh -c <program>` (as Falco does): if you
# need it, build with --build-arg RUNTIME_IMAGE=debian:bookworm-slim (pin it by digest).
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# ---------------------------------------------------------------- builder
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
# Registry and target dirs are BuildKit cache mounts (rebuilds reuse compiled deps).
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY benches ./benches
COPY rules ./rules
COPY testdata ./testdata
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p falco-rs \
 && install -D -m 0755 target/release/falco-rs /out/usr/bin/falco-rs \
 && strip --strip-debug /out/usr/bin/falco-rs \
 && install -D -m 0644 rules/k8s_audit_rules.yaml /out/usr/share/falco-rs/k8s_audit_rules.yaml \
 && mkdir -p /out/etc/falco-rs/rules.d /out/var/lib/falco-rs

# ---------------------------------------------------------------- runtime
# distroless/cc: glibc, libgcc, CA certificates, /etc/passwd with nonroot (65532); no
# shell, no package manager.
FROM ${RUNTIME_IMAGE}
COPY --from=builder /out/usr/bin/falco-rs /usr/bin/falco-rs
COPY --from=builder /out/usr/share/falco-rs/ /usr/share/falco-rs/
COPY deploy/docker/falco.yaml /etc/falco-rs/falco.yaml
# The only directory falco-rs writes to (the EKS checkpoint_file); mount a volume there
# when the root filesystem is read-only. Nothing else is written: alerts and logs go to
# stdout/stderr.
COPY --from=builder --chown=65532:65532 /out/var/lib/falco-rs /var/lib/falco-rs
USER 65532:65532
# 9765: k8saudit webhook listener; 8765: webserver (/healthz, /metrics)
EXPOSE 9765 8765
VOLUME ["/var/lib/falco-rs"]
# SIGTERM drains the event queue, flushes outputs and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/falco-rs"]
CMD ["-c", "/etc/falco-rs/falco.yaml"]
