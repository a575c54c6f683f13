#!/usr/bin/env bash
# What tidemark-lazyfs costs: the same tidelog run with and without the data dirs mounted on it
# (no fault fires: --nemesis lose-unfsynced with an interval longer than the run only mounts),
# alternating plain / mounted for --pairs pairs so that machine load hits both alike. Prints
# one markdown row per run and the ratio of the medians (mounted / plain).
#
# Usage: bench/lazyfs_cost.sh [--build DIR] [--time-limit S] [--concurrency N] [--pairs N]
#                             [--workload log|register] [--store DIR] [--seed N]
# Needs: root and /dev/fuse, a built tidemark, tidelog and tidemark-lazyfs in DIR (default
# build/), python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build
TIME_LIMIT=20
CONCURRENCY=16
PAIRS=3
WORKLOAD=log
STORE=""
SEED=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --time-limit) TIME_LIMIT=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --workload) WORKLOAD=$2; shift 2 ;;
    --store) STORE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "lazyfs_cost.sh: unknown argument '$1' (see --help)" >&2; exit 254 ;;
  esac
done
TIDEMARK="$BUILD/tidemark"
[ -x "$TIDEMARK" ] || { echo "lazyfs_cost.sh: no $TIDEMARK (build it: scripts/setup.sh)" >&2; exit 255; }
[ -n "$STORE" ] || STORE=$(mktemp -d /tmp/tidemark-lazyfs-cost.XXXXXX)
mkdir -p "$STORE"

# ok ops/s of the main phase of one run, from its history.jsonl.
rate() {
  python3 - "$1" <<'PY'
import json, sys
ok, first, last = 0, None, None
with open(sys.argv[1] + "/history.jsonl") as f:
    for line in f:
        e = json.loads(line)
        v = e.get("value")
        if e["process"] == "nemesis" or (isinstance(v, dict) and v.get("final")):
            continue
        t = e["time"]
        first = t if first is None else min(first, t)
        if e["type"] == "ok":
            ok += 1
            last = t if last is None else max(last, t)
print(f"{ok / ((last - first) / 1e9):.0f}" if ok else "0")
PY
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $WORKLOAD c$CONCURRENCY, ${TIME_LIMIT} s per run; store $STORE"
echo
echo "| pair | data dirs | ok ops/s | verdict |"
echo "|---:|---|---:|---|"
plain=() mounted=()
for i in $(seq 1 "$PAIRS"); do
  for mode in plain lazyfs; do
    nemesis=(--nemesis none)
    [ "$mode" = lazyfs ] && nemesis=(--nemesis lose-unfsynced --nemesis-interval 1000000)
    name="$mode-$i"
    rc=0
    "$TIDEMARK" run --workload "$WORKLOAD" --concurrency "$CONCURRENCY" --rate 0 \
      --time-limit "$TIME_LIMIT" "${nemesis[@]}" --seed "$SEED" --store "$STORE" \
      --name "$name" >"$STORE/$name.out" 2>&1 || rc=$?
    case $rc in 0) verdict=valid ;; 1) verdict=INVALID ;; 2) verdict=unknown ;; *) verdict="error $rc (see $STORE/$name.out)" ;; esac
    r=0
    [ -f "$STORE/$name/latest/history.jsonl" ] && r=$(rate "$STORE/$name/latest")
    [ "$mode" = plain ] && plain+=("$r") || mounted+=("$r")
    echo "| $i | $mode | $r | $verdict |"
  done
done
python3 - "${plain[*]}" "${mounted[*]}" <<'PY'
import statistics, sys
p = [float(x) for x in sys.argv[1].split()]
m = [float(x) for x in sys.argv[2].split()]
mp, mm = statistics.median(p), statistics.median(m)
print(f"\nmedian ok ops/s: plain {mp:.0f}, tidemark-lazyfs {mm:.0f}; ratio {mm / mp:.2f}" if mp else "\nno plain throughput")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
