#!/usr/bin/env bash
# A detection (or false-positive) rate: the same `tidemark run` over --runs seeds, one markdown
# row per run (verdict, anomaly kinds, fault windows, what the disk faults did) and a tally.
# Everything after `--` is passed to `tidemark run` unchanged; --seed and --store are added.
#
# Usage: bench/verdict_rate.sh [--runs N] [--seed S] [--build DIR] [--store DIR] [--label TEXT]
#                              -- RUN-ARGS...
# e.g.   bench/verdict_rate.sh --runs 10 --seed 4100 -- --bug skip-fsync \
#          --nemesis lose-unfsynced:all --nemesis-interval 5 --time-limit 60
# Run i uses seed S + i. Every run is kept under --store (default: a fresh directory under /tmp).
# Needs: a built tidemark (and whatever the run arguments need), python3 (standard library).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build
RUNS=5
SEED=1
STORE=""
LABEL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --store) STORE=$2; shift 2 ;;
    --label) LABEL=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "verdict_rate.sh: unknown argument '$1' (run arguments go after --; see --help)" >&2
       exit 254 ;;
  esac
done
[ $# -gt 0 ] || { echo "verdict_rate.sh: no run arguments after -- (see --help)" >&2; exit 254; }
TIDEMARK="$BUILD/tidemark"
[ -x "$TIDEMARK" ] || { echo "verdict_rate.sh: no $TIDEMARK (build it: scripts/setup.sh)" >&2; exit 255; }
[ -n "$STORE" ] || STORE=$(mktemp -d /tmp/tidemark-verdict-rate.XXXXXX)
mkdir -p "$STORE"

# One row's columns from a run directory: anomaly kinds, fault windows, disk-fault effects.
describe() {
  python3 - "$1" <<'PY'
import json, sys
run = sys.argv[1]
r = json.load(open(run + "/results.json"))
kinds = {}
for c in r.get("checkers", []):
    for kind, a in ((c.get("details") or {}).get("anomalies") or {}).items():
        kinds[kind] = kinds.get(kind, 0) + a.get("count", 0)
anomalies = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "-"
windows = len((r.get("faults") or {}).get("windows") or [])
lost = corrupt = dropped = 0
with open(run + "/history.jsonl") as f:
    for line in f:
        e = json.loads(line)
        if e.get("process") != "nemesis" or e.get("type") != "info":
            continue
        if e.get("f") == "lose-unfsynced" and isinstance(e.get("value"), dict):
            lost += 1
            for d in (e["value"].get("dropped") or {}).values():
                dropped += d.get("bytes", 0)
        elif e.get("f") == "corrupt" and (e.get("value") or {}).get("file"):
            corrupt += 1
disk = []
if lost: disk.append(f"{lost} crashes dropping {dropped} B")
if corrupt: disk.append(f"{corrupt} corruptions")
print(f"{anomalies} | {windows} | {'; '.join(disk) or '-'}")
PY
}

echo "tidemark run ${*} (seeds $SEED+1..$SEED+$RUNS; store $STORE)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
echo
echo "| seed | verdict | anomalies (kind count) | fault windows | disk faults |"
echo "|---:|---|---|---:|---|"
valid=0 invalid=0 unknown=0 errors=0
for i in $(seq 1 "$RUNS"); do
  seed=$((SEED + i))
  name="${LABEL:-run}-$seed"
  rc=0
  "$TIDEMARK" run "$@" --seed "$seed" --store "$STORE" --name "$name" >"$STORE/$name.out" 2>&1 \
    || rc=$?
  case $rc in
    0) verdict=valid; valid=$((valid + 1)) ;;
    1) verdict=INVALID; invalid=$((invalid + 1)) ;;
    2) verdict=unknown; unknown=$((unknown + 1)) ;;
    *) verdict="error $rc"; errors=$((errors + 1)) ;;
  esac
  cols="- | - | - (see $STORE/$name.out)"
  run_dir="$STORE/$name/latest"
  [ -f "$run_dir/results.json" ] && cols=$(describe "$run_dir")
  echo "| $seed | $verdict | $cols |"
done
echo
echo "${LABEL:-runs}: invalid $invalid/$RUNS, valid $valid/$RUNS, unknown $unknown/$RUNS, errors $errors/$RUNS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
