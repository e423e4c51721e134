#!/usr/bin/env bash
# Whole-binary webhook load test on loopback: starts falco-rs (release) with the
# official ruleset, drives it with webhook-load, prints events/s, latency and RSS.
# Usage: benches/webhook-load.sh [events=200000] [batch=400] [connections=4] [seconds=20]
# SERVER_CPUS=0 CLIENT_CPUS=1 pin the server and the load generator to separate cores.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}; BATCH=${2:-400}; CONNS=${3:-4}; SECS=${4:-20}
cargo build --release -q -p falco-rs -p falco-rs-benches --bins
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/gen-audit realistic "$N" "$work/events.jsonl"
${SERVER_CPUS:+taskset -c $SERVER_CPUS} target/release/falco-rs -r ../shared/corpus/rules/k8s_audit_rules.v0.18.0.yaml \
  -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' \
  -o json_output=true -o stdout_output.enabled=false -o "plugins[0].init_config={\"dedupWindow\": 0}" \
  -o file_output.enabled=true -o file_output.keep_alive=true -o "file_output.filename=$work/alerts.json" \
  2> "$work/stderr" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/stderr" && break; sleep 0.1; done
addr=$(grep -o "127.0.0.1:[0-9]*" "$work/stderr" | head -1)
${CLIENT_CPUS:+taskset -c $CLIENT_CPUS} target/release/webhook-load "$addr" /k8s-audit "$work/events.jsonl" "$BATCH" "$CONNS" "$SECS" "$pid"
kill -TERM $pid; wait $pid > /dev/null || true
tail -n 1 "$work/stderr"
echo "alerts written: $(wc -l < "$work/alerts.json")"
