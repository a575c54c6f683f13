#!/usr/bin/env bash
# Generated families of single-register histories (bench/gen_register: a simulated linearizable
# cas-register with crashed ops, or one stale read with --bad), checked by `tidemark check` as a
# user runs it (whole process, default explanation) and, when Go and a Porcupine checkout are
# present, by Porcupine on the same files (bench/porcupine_driver, built here against
# PORCUPINE_DIR; nothing of Porcupine is in this repository). Prints per-file times (min of
# REPS runs), verdicts and ratios, and flags any file where tidemark answers unknown and
# Porcupine decides, or where the verdicts differ.
#
#   bench/lin_families.sh [BUILD_DIR]           (default: build)
#   env: PORCUPINE_DIR=path/to/porcupine/checkout  REPS=3  CORPUS_DIR=dir/of/etcd_*.log
#        EXPLAIN=fast|minimal|none (tidemark)    PORCUPINE_EXPLAIN=1 (verbose + visualization)
#        TIMEOUT=60 (seconds, both checkers)     FAMILIES="name ..." (a subset; none: only
#        the CORPUS_DIR files)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${1:-"$root/build"}
reps=${REPS:-3}
timeout_s=${TIMEOUT:-60}
explain=${EXPLAIN:-fast}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

tidemark="$build/tidemark"
gen="$build/bench/gen_register"
for b in "$tidemark" "$gen"; do
  [ -x "$b" ] || { echo "missing $b: build the tidemark and gen_register targets" >&2; exit 2; }
done

driver=""
if [ -z "${PORCUPINE_DIR:-}" ]; then
  echo "# Porcupine: skipped (PORCUPINE_DIR is not set); tidemark's figures only"
elif ! command -v go >/dev/null; then
  echo "# Porcupine: skipped (no Go toolchain: apt-get install golang-go)"
else
  mkdir -p "$work/driver"
  cp "$root/bench/porcupine_driver/main.go" "$work/driver/"
  cat >"$work/driver/go.mod" <<MOD
module porcupinedriver

go 1.16

require github.com/anishathalye/porcupine v0.0.0

replace github.com/anishathalye/porcupine => $(cd "$PORCUPINE_DIR" && pwd)
MOD
  if (cd "$work/driver" && GOFLAGS=-mod=mod GOPROXY=off go build -o "$work/porcupine_driver" . \
        >"$work/go-build.log" 2>&1); then
    driver="$work/porcupine_driver"
    echo "# Porcupine: $(cd "$PORCUPINE_DIR" && git log -1 --format='%h %s' 2>/dev/null || echo "$PORCUPINE_DIR")"
  else
    echo "# Porcupine: skipped (the driver did not build against $PORCUPINE_DIR):"
    sed 's/^/#   /' "$work/go-build.log"
  fi
fi

# Runs "$@" REPS times; prints "<verdict> <min wall ms> <min cpu ms>" (verdict from the exit
# code 0/1/2; CPU = task-clock of the process and its threads, from perf stat when available:
# on a loaded machine it is the steadier figure).
time_min() {
  local best="" cpu_best="" verdict="" t0 t1 rc us cpu
  for _ in $(seq "$reps"); do
    t0=$(date +%s%N)
    if [ -n "$perf" ]; then
      # perf stat exits 0 when its child is killed by a signal (an OOM kill read as "valid"),
      # so the child's own status is taken through a shell: 128+N when signal N ended it.
      rm -f "$work/rc"
      perf stat -x, -e task-clock -o "$work/perf.txt" -- \
        sh -c '"$@"; echo $? >"$0"' "$work/rc" "$@" >/dev/null 2>&1
      rc=$(cat "$work/rc" 2>/dev/null || echo 255)
    else
      "$@" >/dev/null 2>&1
      rc=$?
    fi
    t1=$(date +%s%N)
    us=$(( (t1 - t0) / 1000 ))
    if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
    cpu=-
    [ -n "$perf" ] && cpu=$(awk -F, '/task-clock/ { printf "%.3f", $1 }' "$work/perf.txt")
    if [ "$cpu" != - ] && { [ -z "$cpu_best" ] || awk -v a="$cpu" -v b="$cpu_best" 'BEGIN { exit !(a < b) }'; }; then
      cpu_best=$cpu
    fi
    local v
    case $rc in 0) v=valid ;; 1) v=invalid ;; 2) v=unknown ;; *) v="error($rc)" ;; esac
    # The verdict of every run must agree; the time is the fastest run's.
    if [ -z "$verdict" ] || [ "$verdict" = "$v" ]; then verdict=$v; else verdict="mixed($verdict,$v)"; fi
  done
  printf '%s %d.%03d %s' "$verdict" $((best / 1000)) $((best % 1000)) "${cpu_best:--}"
}
perf=""
if command -v perf >/dev/null && perf stat -x, -e task-clock -o /dev/null true 2>/dev/null; then perf=1; fi

declare -A FAMILY=(
  [cliff-20k]="--ops 20000 --procs 10 --crash 0.01"
  [cliff-50k]="--ops 50000 --procs 10 --crash 0.01"
  [cliff-20k-bad]="--ops 20000 --procs 10 --crash 0.01 --bad"
  [p20-5k-crash5]="--ops 5000 --procs 20 --crash 0.05"
  [p20-5k-crash5-bad]="--ops 5000 --procs 20 --crash 0.05 --bad"
  [p5-1k-crash10]="--ops 1000 --procs 5 --crash 0.10"
  [small-20k]="--ops 20000 --procs 10 --crash 0.01 --values small"
  [small-20k-bad]="--ops 20000 --procs 10 --crash 0.01 --values small --bad"
)
families=${FAMILIES:-"cliff-20k cliff-50k cliff-20k-bad p20-5k-crash5 p20-5k-crash5-bad p5-1k-crash10 small-20k small-20k-bad"}

files=()
for fam in $families; do
  [ "$fam" = none ] && continue
  [ -n "${FAMILY[$fam]+x}" ] || { echo "unknown family $fam (known: ${!FAMILY[*]})" >&2; exit 2; }
  for seed in 1 2 3; do
    f="$work/$fam-s$seed.log"
    # shellcheck disable=SC2086
    "$gen" ${FAMILY[$fam]} --seed "$seed" >"$f"
    files+=("$f")
  done
done
if [ -n "${CORPUS_DIR:-}" ]; then
  for f in "$CORPUS_DIR"/etcd_*.log; do
    [ -s "$f" ] && files+=("$f")
  done
fi

printf '%-28s %-8s %10s %10s %-8s %10s %10s %8s\n' file tidemark wall_ms cpu_ms porcupine wall_ms \
  cpu_ms ratio
sum_t=0 sum_p=0 sum_tc=0 sum_pc=0 flagged=0 slower=0 n=0
for f in "${files[@]}"; do
  read -r tv tms tcpu < <(time_min "$tidemark" check "$f" --format jepsen-log --model cas-register \
    --check-timeout "$timeout_s" --explain "$explain")
  pv="-" pms="-" pcpu="-" ratio="-"
  if [ -n "$driver" ]; then
    pargs=(-timeout "$timeout_s")
    [ -n "${PORCUPINE_EXPLAIN:-}" ] && pargs+=(-explain "$work/vis.html")
    read -r pv pms pcpu < <(time_min "$driver" "${pargs[@]}" "$f")
    ratio=$(awk -v t="$tms" -v p="$pms" 'BEGIN { printf "%.1fx", (t > 0 ? p / t : 0) }')
    sum_p=$(awk -v a="$sum_p" -v b="$pms" 'BEGIN { print a + b }')
    sum_pc=$(awk -v a="$sum_pc" -v b="$pcpu" 'BEGIN { print a + b }')
    if awk -v t="$tms" -v p="$pms" 'BEGIN { exit !(t > p) }'; then slower=$((slower + 1)); fi
    if [ "$tv" = unknown ] && [ "$pv" != unknown ]; then flagged=$((flagged + 1)); ratio="$ratio UNKNOWN"; fi
    if [ "$tv" != unknown ] && [ "$pv" != unknown ] && [ "$tv" != "$pv" ]; then
      flagged=$((flagged + 1)); ratio="$ratio DIFFER"
    fi
  fi
  sum_t=$(awk -v a="$sum_t" -v b="$tms" 'BEGIN { print a + b }')
  sum_tc=$(awk -v a="$sum_tc" -v b="$tcpu" 'BEGIN { print a + b }')
  n=$((n + 1))
  printf '%-28s %-8s %10s %10s %-8s %10s %10s %8s\n' "$(basename "$f")" "$tv" "$tms" "$tcpu" "$pv" \
    "$pms" "$pcpu" "$ratio"
done
echo "# $n files, min of $reps runs each; tidemark total ${sum_t} ms wall, ${sum_tc} ms CPU" \
  "(explain=$explain); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$driver" ]; then
  echo "# porcupine total ${sum_p} ms$([ -n "${PORCUPINE_EXPLAIN:-}" ] && echo ' (verbose + visualization)');" \
    "ratio $(awk -v t="$sum_t" -v p="$sum_p" 'BEGIN { printf "%.1fx", (t > 0 ? p / t : 0) }');" \
    "files where tidemark is unknown and Porcupine decides, or verdicts differ: $flagged;" \
    "files where tidemark is slower (wall): $slower"
  echo "# porcupine total CPU ${sum_pc} ms"
fi
