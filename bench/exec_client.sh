#!/usr/bin/env bash
# The exec adapter's harness cost next to the built-in tidelog-http adapter, in the same script:
# the log workload, no faults, no rate limit (--rate 0), three tidelog nodes on loopback, for
#   tidelog        the built-in adapter (ops go to tidelog over HTTP)
#   exec-trivial   an exec client that answers every op at once (bench/exec_trivial_client.py)
#   exec-python    the Python example client (examples/clients/python/tidelog_client.py)
# and then, the register workload on three etcd members (when etcd and perl are installed), for
#   etcd           the built-in etcd-v3 adapter (etcd's v3 JSON gateway over libcurl)
#   etcd-exec-perl the Perl example client (examples/clients/perl/etcd_client.pl)
# Prints one markdown row per target: main-phase ops/s and the controller's CPU per op (µs,
# results.json harness.main_cpu_us_per_op: the harness's own cost, without the nodes or the
# client program).
#
# Usage: bench/exec_client.sh [--build DIR] [--time-limit S] [--concurrency N] [--store DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
TIME_LIMIT=10
CONCURRENCY=10
STORE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --time-limit) TIME_LIMIT=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --store) STORE=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "exec_client.sh: unknown argument '$1' (see --help)" >&2; exit 254 ;;
  esac
done
TIDEMARK="$BUILD/tidemark"
[ -x "$TIDEMARK" ] || { echo "exec_client.sh: no $TIDEMARK" >&2; exit 255; }
[ -n "$STORE" ] || STORE=$(mktemp -d /tmp/tidemark-exec-bench.XXXXXX)
mkdir -p "$STORE"
# The trivial client's descriptor: the shipped Python one with another argv.
python3 - "$STORE/exec-trivial.json" "$PWD" <<'PY'
import json, sys
d = json.load(open(sys.argv[2] + "/targets/tidelog-exec-python.json"))
d["name"] = "exec-trivial"
d["client"]["argv"] = ["python3", sys.argv[2] + "/bench/exec_trivial_client.py"]
json.dump(d, open(sys.argv[1], "w"))
PY

# One markdown row: bench TARGET WORKLOAD
bench() {
  "$TIDEMARK" run --target "$1" --workload "$2" --rate 0 --concurrency "$CONCURRENCY" \
    --time-limit "$TIME_LIMIT" --seed 1 --store "$STORE" > "$STORE/last.out" 2>&1 || true
  run=$(sed -n 's/^run directory: //p' "$STORE/last.out")
  python3 - "$run/results.json" "$(basename "$1" .json)" "$TIME_LIMIT" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["harness"]
print("| %s | %s | %.0f | %.1f | %s |" % (sys.argv[2], sys.argv[4], h["main_ops"] / float(sys.argv[3]),
                                          h["main_cpu_us_per_op"], r["verdict"]))
PY
}

echo "| target | workload | ok+fail+info ops/s (main) | harness µs/op (main) | verdict |"
echo "|---|---|---|---|---|"
for target in tidelog "$STORE/exec-trivial.json" targets/tidelog-exec-python.json; do
  bench "$target" log
done
if command -v etcd > /dev/null && command -v perl > /dev/null; then
  for target in etcd targets/etcd-exec-perl.json; do bench "$target" register; done
else
  echo "(no etcd rows: etcd or perl is missing; scripts/setup.sh installs both)"
fi
echo "(runs kept under $STORE)"
