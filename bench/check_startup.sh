#!/usr/bin/env bash
# Start-up cost of `tidemark check`, against the cost of starting any process on this machine.
#
# `tidemark check` runs in loops over thousands of small histories, so the time before the first
# byte is read matters as much as the search. This prints, as the minimum over REPS runs of each:
#   - the baseline: /bin/true (what any process costs here: fork, exec, the loader, exit)
#   - tidemark --version, and tidemark check on a 90-line history (docs/examples)
#   - the shared libraries `tidemark check` loads (libcurl must not be among them)
# and the ratios to the baseline. With CORPUS_DIR (a directory of Jepsen-log cas-register
# histories, e.g. Porcupine's etcd_*.log), it also times the whole corpus two ways: one process
# per file, and every file in one `tidemark check` process.
#
#   bench/check_startup.sh [BUILD_DIR]        (default: build)
#   env: REPS=20  CORPUS_DIR=dir/with/etcd_*.log
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${1:-"$root/build"}
reps=${REPS:-20}
tidemark="$build/tidemark"
[ -x "$tidemark" ] || { echo "missing $tidemark: build it first" >&2; exit 2; }
small="$root/docs/examples/register-stale-read.jsonl"
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }

# "<cpu ms> <wall ms>" of "$@", means over REPS runs (perf stat -r), output discarded.
measure() {
  perf stat -r "$reps" -x, -e task-clock -o /dev/stderr -- "$@" 2>&1 >/dev/null |
    awk -F, '/task-clock/ { cpu = $1 } END { printf "%.2f", cpu }'
  local t0 t1 best="" us
  for _ in $(seq "$reps"); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    us=$(( (t1 - t0) / 1000 ))
    if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
  done
  awk -v us="$best" 'BEGIN { printf " %.2f\n", us / 1000 }'
}

read -r base_cpu base_wall < <(measure /bin/true)
read -r ver_cpu ver_wall < <(measure "$tidemark" --version)
read -r chk_cpu chk_wall < <(measure "$tidemark" check -q "$small")
libs=$(LD_DEBUG=files "$tidemark" check -q "$small" 2>&1 >/dev/null |
  awk '/file=/ && /generating link map/ { sub(/.*file=/, ""); sub(/ .*/, ""); print }' | sort -u)
nlibs=$(printf '%s\n' "$libs" | grep -c .)

printf '%-34s %10s %10s %12s\n' "process (mean CPU, min wall)" "CPU ms" "wall ms" "CPU / true"
row() { awk -v n="$1" -v c="$2" -v w="$3" -v b="$base_cpu" \
  'BEGIN { printf "%-34s %10.2f %10.2f %11.1fx\n", n, c, w, c / b }'; }
row "/bin/true (baseline)" "$base_cpu" "$base_wall"
row "tidemark --version" "$ver_cpu" "$ver_wall"
row "tidemark check (90-line history)" "$chk_cpu" "$chk_wall"
echo "shared libraries loaded by tidemark check: $nlibs"
printf '%s\n' "$libs" | sed 's/^/  /'
if printf '%s\n' "$libs" | grep -q libcurl; then
  echo "FAIL: tidemark check loads libcurl (it must be opened on first use only)"
  exit 1
fi

if [ -n "${CORPUS_DIR:-}" ]; then
  mapfile -t files < <(ls "$CORPUS_DIR"/*.log)
  echo
  echo "corpus: ${#files[@]} files in $CORPUS_DIR (cas-register, default explanation)"
  t0=$(date +%s%N)
  for f in "${files[@]}"; do
    "$tidemark" check -q --format jepsen-log --model cas-register "$f" >/dev/null 2>&1
  done
  t1=$(date +%s%N)
  echo "  one process per file:  $(( (t1 - t0) / 1000000 )) ms total"
  t0=$(date +%s%N)
  "$tidemark" check -q --format jepsen-log --model cas-register "${files[@]}" | tail -1
  t1=$(date +%s%N)
  echo "  all in one process:    $(( (t1 - t0) / 1000000 )) ms total"
fi
