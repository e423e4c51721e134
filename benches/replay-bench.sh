#!/usr/bin/env bash
# Whole-binary replay benchmark: generates a realistic audit log, measures the parse-only
# rates on it (one thread), then replays it with the falco-rs binary and the Falco 0.31.1
# ruleset to a JSON alert file with -j 1 and -j 2, and prints events/s, peak RSS and the
# ratios the performance issue targets. Alerts of -j 1 and -j 2 must be identical.
# Usage: benches/replay-bench.sh [events=200000] [mix=realistic|alert-heavy]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}; MIX=${2:-realistic}
RULES=(-r ../shared/corpus/rules/syscall/falco_rules.falco-0.31.1.yaml
       -r ../shared/corpus/rules/k8s_audit_rules.falco-0.31.1.yaml)
cargo build --release -q -p falco-rs -p falco-rs-benches --bins
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/gen-audit "$MIX" "$N" "$work/events.jsonl"
echo "file: $N $MIX events, $(stat -c %s "$work/events.jsonl") bytes"
target/release/parse-only "$work/events.jsonl" | tee "$work/parse"
serde=$(awk '/^serde_json_value/ {print $6}' "$work/parse")
sonic=$(awk '/^sonic_rs_value/ {print $6}' "$work/parse")
ours=$(awk '/^parse_payload/ {print $6}' "$work/parse")
declare -A rate
for j in 1 2; do
  best=""
  for _ in 1 2 3; do
    t0=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$work/time" target/release/falco-rs "${RULES[@]}" \
      -o "plugins[0].open_params=$work/events.jsonl" -o json_output=true \
      -o stdout_output.enabled=false -o file_output.enabled=true \
      -o "file_output.filename=$work/alerts-$j.json" -j "$j" > /dev/null 2> "$work/stderr"
    t1=$EPOCHREALTIME
    secs=$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")
    read -r rss < "$work/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; bestrss=$rss; fi
    rm -f "$work/alerts-$j.json.prev"; mv "$work/alerts-$j.json" "$work/alerts-$j.json.prev"
  done
  mv "$work/alerts-$j.json.prev" "$work/alerts-$j.json"
  rate[$j]=$(awk "BEGIN{printf \"%.0f\", $N / $best}")
  echo "falco-rs -j $j: $best s, ${rate[$j]} ev/s, peak RSS $((bestrss / 1024)) MB, $(wc -l < "$work/alerts-$j.json") alerts"
done
cmp -s "$work/alerts-1.json" "$work/alerts-2.json" && echo "alerts -j 1 = -j 2: identical" || echo "alerts -j 1 and -j 2 DIFFER"
awk -v r1="${rate[1]}" -v r2="${rate[2]}" -v s="$serde" -v k="$sonic" -v o="$ours" 'BEGIN {
  printf "ratio whole binary -j 1 / sonic-rs DOM parse-only:     %.2f (target >= 0.50)\n", r1 / k
  printf "ratio whole binary -j 1 / serde_json::Value parse-only: %.2f\n", r1 / s
  printf "ratio whole binary -j 1 / parse_payload parse-only:   %.2f\n", r1 / o
  printf "ratio -j 2 / -j 1: %.2f (target >= 1.80; needs 2 idle cores)\n", r2 / r1
}'
