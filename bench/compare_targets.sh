#!/usr/bin/env bash
# Throughput and latency of tidelog vs etcd through the same harness: the same workload, the same
# concurrency, no faults, no rate limit (--rate 0), three nodes on loopback. Prints one markdown
# table row per (workload, concurrency, target).
#
# Usage: bench/compare_targets.sh [--build DIR] [--time-limit S] [--concurrency "1 8 32"]
#                                 [--workloads "register log"] [--targets "tidelog etcd"]
#                                 [--store DIR] [--seed N]
# Needs: a built tidemark and tidelog in DIR (default build/, see scripts/setup.sh), etcd
# (etcd-server), python3 (standard library only).
#
# Columns: ok ops/s = ok completions of the main phase / (last main-phase completion - first
# invoke); p50/p99 = latency (invoke -> ok) of ok ops, in ms, nearest rank; fail/info counts;
# verdict of the run's checkers. Final reads (log workload) are not counted. Every run is kept
# under --store (default: a fresh directory under /tmp) so the numbers can be re-derived.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build
TIME_LIMIT=10
CONCURRENCY="1 8 32"
WORKLOADS="register log"
TARGETS="tidelog etcd"
STORE=""
SEED=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --time-limit) TIME_LIMIT=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --store) STORE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare_targets.sh: unknown argument '$1' (see --help)" >&2; exit 254 ;;
  esac
done
TIDEMARK="$BUILD/tidemark"
[ -x "$TIDEMARK" ] || { echo "compare_targets.sh: no $TIDEMARK (build it: scripts/setup.sh)" >&2; exit 255; }
[ -n "$STORE" ] || STORE=$(mktemp -d /tmp/tidemark-compare.XXXXXX)
mkdir -p "$STORE"

# Stats of one run directory, from history.jsonl (results.json has no latency percentiles).
stats() {
  python3 - "$1" <<'EOF'
import json, sys
invoked, lat, fail, info = {}, [], 0, 0
first, last = None, None
with open(sys.argv[1] + "/history.jsonl") as f:
    for line in f:
        e = json.loads(line)
        if e["process"] == "nemesis":
            continue
        v = e.get("value")
        if isinstance(v, dict) and v.get("final"):
            continue  # final reads after the main phase
        p, t = e["process"], e["time"]
        if e["type"] == "invoke":
            invoked[p] = t
            first = t if first is None else min(first, t)
            continue
        start = invoked.pop(p, None)
        if start is None:
            continue
        last = t if last is None else max(last, t)
        if e["type"] == "ok":
            lat.append((t - start) / 1e6)
        elif e["type"] == "fail":
            fail += 1
        else:
            info += 1
lat.sort()
def pct(q):
    if not lat:
        return float("nan")
    k = max(0, min(len(lat) - 1, -(-len(lat) * q // 100) - 1))  # nearest rank
    return lat[int(k)]
span = (last - first) / 1e9 if lat else float("nan")
rate = len(lat) / span if lat else 0.0
print(f"{rate:.0f} | {pct(50):.2f} | {pct(99):.2f} | {len(lat)} | {fail} | {info}")
EOF
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; time limit ${TIME_LIMIT} s per run; store $STORE"
echo
echo "| workload | concurrency | target | ok ops/s | p50 ms | p99 ms | ok | fail | info | verdict |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"
for w in $WORKLOADS; do
  for c in $CONCURRENCY; do
    for t in $TARGETS; do
      name="$t-$w-c$c"
      rc=0
      "$TIDEMARK" run --target "$t" --workload "$w" --concurrency "$c" --rate 0 \
        --time-limit "$TIME_LIMIT" --nemesis none --seed "$SEED" --store "$STORE" \
        --name "$name" >"$STORE/$name.out" 2>&1 || rc=$?
      run="$STORE/$name/latest"
      case $rc in 0) verdict=valid ;; 1) verdict=INVALID ;; 2) verdict=unknown ;; *) verdict="error $rc" ;; esac
      if [ -f "$run/history.jsonl" ]; then
        echo "| $w | $c | $t | $(stats "$run") | $verdict |"
      else
        echo "| $w | $c | $t | - | - | - | - | - | - | $verdict (see $STORE/$name.out) |"
      fi
    done
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
