#!/usr/bin/env bash
# Harness overhead (issue #4): controller CPU per recorded op and the ops/s the harness sustains,
# against 3 real tidelog nodes, with `tidemark run --rate 0` at each concurrency.
#
# Usage: bench/harness_overhead.sh [BUILD_DIR] (default build/; env CONCURRENCY="1 8 32",
#        TIME_LIMIT=10, REPEAT=1, WORKLOAD=log, BASELINE=1 to also run the raw client loop,
#        TIDEMARK=BUILD_DIR/other-tidemark to measure another controller binary, RUN_ARGS="..."
#        for extra run flags)
#
# us/op is `harness.cpu_us_per_op` from results.json: getrusage(RUSAGE_SELF) of the
# controller (all its threads, never the node processes) up to the end of the run, before
# checking, divided by the completed client ops. It includes cluster start-up and the final
# reads, so a short run overstates it slightly. "main" is `harness.main_cpu_us_per_op`: the
# same over the main phase only (CPU and ops between its start and its end). "nodes" is
# `harness.nodes_cpu_us_per_op`: the three tidelog nodes' CPU (getrusage RUSAGE_CHILDREN after
# they stopped) per op over the same span as us/op — the system under test's cost per op, the
# baseline the controller's is compared with. ops/s counts the main phase only (completions
# of non-final ops over the span from the first invoke to the last such completion).
#
# The baseline (BASELINE=1, needs BUILD_DIR/bench/http_loop) sends the same append requests
# from C threads with no generator, recorder or workers around them, against a 3-node cluster
# this script starts itself, once with the adapter's HTTP client and once with libcurl on a
# fresh connection per request, and prints the CPU per request of that process alone.
#
# Not a test: it asserts nothing; the machine is shared, so repeat and compare ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CONCURRENCY=${CONCURRENCY:-"1 8 32"}
TIME_LIMIT=${TIME_LIMIT:-10}
REPEAT=${REPEAT:-1}
WORKLOAD=${WORKLOAD:-log}
BASELINE=${BASELINE:-0}
RUN_ARGS=${RUN_ARGS:-}  # extra `tidemark run` flags, e.g. "--client-routing leader"
TM=${TIDEMARK:-$BUILD/tidemark}  # TIDEMARK=path: another build of the controller, same BUILD_DIR
[ -x "$TM" ] || { echo "no $TM (build it: ninja -C $BUILD tidemark tidelog)" >&2; exit 2; }

STORE=$(mktemp -d /tmp/tm-overhead.XXXXXX)
NODE_PIDS=()
cleanup() {
  for p in "${NODE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${NODE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$STORE"
}
trap cleanup EXIT

# Prints "ops/s cpu_us_per_op ok fail info" for one run directory.
summarize() {
  python3 - "$1" <<'EOF'
import json, sys
run = sys.argv[1]
res = json.load(open(run + "/results.json"))
first = None; last = None; n = 0; final = set()
for line in open(run + "/history.jsonl"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("process") == "nemesis":
        continue
    v = e.get("value")
    if e["type"] == "invoke":
        if isinstance(v, dict) and v.get("final"):
            final.add(e["process"])
        elif first is None:
            first = e["time"]
        continue
    if e["process"] in final:
        continue
    n += 1; last = e["time"]
rate = n / ((last - first) / 1e9) if n and last > first else 0.0
c = res["counts"]
h = res["harness"]
print(f'{rate:8.0f} {h["cpu_us_per_op"]:8.1f} {h.get("main_cpu_us_per_op", 0):8.1f} {h.get("nodes_cpu_us_per_op", 0):8.1f} {c["ok"]:7d} {c["fail"]:6d} {c["info"]:6d}')
EOF
}

echo "tidemark run --rate 0 --workload $WORKLOAD --time-limit $TIME_LIMIT ($BUILD, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%5s %4s %8s %8s %8s %8s %7s %6s %6s\n' conc rep ops/s us/op main nodes ok fail info
for c in $CONCURRENCY; do
  for r in $(seq 1 "$REPEAT"); do
    log="$STORE/run-c$c-r$r.log"
    set +e
    "$TM" run --rate 0 --concurrency "$c" --time-limit "$TIME_LIMIT" --workload "$WORKLOAD" \
      --nemesis none --store "$STORE/store" --name "overhead-c$c-r$r" $RUN_ARGS >"$log" 2>&1
    rc=$?
    set -e
    dir=$(sed -n 's/^run directory: //p' "$log")
    if [ -z "$dir" ] || [ ! -f "$dir/results.json" ]; then
      echo "run failed (exit $rc):" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    printf '%5s %4s %s\n' "$c" "$r" "$(summarize "$dir")"
    rm -rf "$dir"/nodes/*/data
  done
done

[ "$BASELINE" = 1 ] || exit 0
LOOP="$BUILD/bench/http_loop"
[ -x "$LOOP" ] || { echo "no $LOOP (ninja -C $BUILD http_loop)" >&2; exit 2; }
base=$((20000 + RANDOM % 20000))
for i in 1 2 3; do
  peers=()
  for j in 1 2 3; do [ "$j" = "$i" ] || peers+=(--peer "n$j=127.0.0.1:$((base + j))"); done
  mkdir -p "$STORE/base/n$i"
  "$BUILD/targets/tidelog/tidelog" --id "n$i" --listen "127.0.0.1:$((base + i))" \
    --data-dir "$STORE/base/n$i" "${peers[@]}" >"$STORE/base/n$i.log" 2>&1 &
  NODE_PIDS+=($!)
done
leader=""
for _ in $(seq 1 100); do
  for i in 1 2 3; do
    role=$(curl -s -m 1 -X POST -d '{}' "http://127.0.0.1:$((base + i))/v1/status" |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("role",""))' 2>/dev/null || true)
    [ "$role" = leader ] && leader="http://127.0.0.1:$((base + i))"
  done
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "baseline cluster elected no leader" >&2; exit 1; }
echo
echo "baseline: the same appends from a bare loop (no harness), $TIME_LIMIT s each, leader $leader"
printf '%5s %-8s %8s %8s\n' conc client req/s us/req
for c in $CONCURRENCY; do
  for client in raw curl; do
    printf '%5s %-8s %s\n' "$c" "$client" \
      "$("$LOOP" --url "$leader" --client "$client" --concurrency "$c" --seconds "$TIME_LIMIT")"
  done
done
