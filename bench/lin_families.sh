#!/usr/bin/env bash
# Generated families of single-register histories (bench/gen_register: a simulated linearizable
# cas-register with crashed ops, or one stale read with --bad), and optionally Porcupine's own
# corpora, checked by `tidemark check` as a user runs it and, when Go and a Porcupine checkout
# are present, by Porcupine on the same files (bench/porcupine_driver, built here against
# PORCUPINE_DIR; nothing of Porcupine is in this repository). Prints per-file times (min of
# REPS runs), verdicts and ratios, and flags any file where tidemark answers unknown and
# Porcupine decides, or where the verdicts differ.
#
# Two ways to run the checkers, both honest figures (MODE):
#   per-process   one process per file and checker (the default): what a shell loop over files
#                 costs, process start-up included; wall and CPU (perf stat) of each process.
#   one-process   every file of a kind in one process per checker (`tidemark check -q f1 f2 ...`;
#                 the driver takes many files too), as a Go test suite checks Porcupine's corpus:
#                 per-file times are each checker's own (from its monotonic clock, around
#                 read + parse + check + explanation of that file; tidemark's -q line carries
#                 them), plus the whole process's wall and CPU.
#   both          the one, then the other.
#
#   bench/lin_families.sh [BUILD_DIR]           (default: build)
#   env: PORCUPINE_DIR=path/to/porcupine/checkout  REPS=3  MODE=per-process|one-process|both
#        CORPUS_DIR=dir/of/etcd_*.log (cas-register, Jepsen console log)
#        KV_DIR=dir/of/*.txt (Porcupine's kv files: --format edn-lines --model kv)
#        EXPLAIN=fast|minimal|none (tidemark)    PORCUPINE_EXPLAIN=1 (verbose + visualization)
#        TIMEOUT=60 (seconds, both checkers)     FAMILIES="name ..." (a subset; none: only
#        the CORPUS_DIR and KV_DIR files)
#        MEMORY_MB=4096 (ulimit -v for everything the script runs, both checkers: Porcupine's
#        verbose check of kv c50-bad grows past 12 GB otherwise; Go then dies with exit code 2,
#        read as unknown, and in one-process mode the files after it are reported missing)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${1:-"$root/build"}
reps=${REPS:-3}
timeout_s=${TIMEOUT:-60}
explain=${EXPLAIN:-fast}
mode=${MODE:-per-process}
ulimit -v $((${MEMORY_MB:-4096} * 1024))
case $mode in per-process | one-process | both) ;; *) echo "unknown MODE $mode" >&2; exit 2 ;; esac
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

# Microseconds since the epoch, without starting a process (bash 5's EPOCHREALTIME).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# Runs "$@" REPS times; prints "<verdict> <min wall ms> <min cpu ms>" (verdict from the exit
# code 0/1/2; 128+N when signal N ended it). Wall is of the process run directly (nothing
# between the shell and it); CPU is its task-clock (threads included) from a second run under
# perf stat when perf is available: on a loaded machine it is the steadier figure.
time_min() {
  local best="" cpu_best="" verdict="" t0 t1 rc us cpu
  for _ in $(seq "$reps"); do
    t0=$(now_us)
    "$@" >/dev/null 2>&1
    rc=$?
    t1=$(now_us)
    us=$((t1 - t0))
    if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
    cpu=-
    if [ -n "$perf" ]; then
      perf stat -x, -e task-clock -o "$work/perf.txt" -- "$@" >/dev/null 2>&1
      cpu=$(awk -F, '/task-clock/ { printf "%.3f", $1 }' "$work/perf.txt")
    fi
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

# Files and their kinds: cas (Jepsen console log, cas-register) or kv (EDN lines, kv).
files=()
declare -A KIND=()
for fam in $families; do
  [ "$fam" = none ] && continue
  [ -n "${FAMILY[$fam]+x}" ] || { echo "unknown family $fam (known: ${!FAMILY[*]})" >&2; exit 2; }
  for seed in 1 2 3; do
    f="$work/$fam-s$seed.log"
    # shellcheck disable=SC2086
    "$gen" ${FAMILY[$fam]} --seed "$seed" >"$f"
    files+=("$f")
    KIND[$f]=cas
  done
done
if [ -n "${CORPUS_DIR:-}" ]; then
  for f in "$CORPUS_DIR"/etcd_*.log; do
    [ -s "$f" ] && { files+=("$f"); KIND[$f]=cas; }
  done
fi
if [ -n "${KV_DIR:-}" ]; then
  for f in "$KV_DIR"/*.txt; do
    [ -s "$f" ] && { files+=("$f"); KIND[$f]=kv; }
  done
fi
[ "${#files[@]}" -gt 0 ] || { echo "no files to check" >&2; exit 2; }

# The arguments each checker takes for a kind of file.
tidemark_args() {
  case $1 in
    kv) echo "--format edn-lines --model kv" ;;
    *) echo "--format jepsen-log --model cas-register" ;;
  esac
}
driver_args() {
  local a="-timeout $timeout_s -model"
  case $1 in kv) a="$a kv" ;; *) a="$a cas-register" ;; esac
  [ -n "${PORCUPINE_EXPLAIN:-}" ] && a="$a -explain $work/vis.html"
  echo "$a"
}

add() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
ratio() { awk -v t="$1" -v p="$2" 'BEGIN { printf "%.1fx", (t > 0 ? p / t : 0) }'; }

# Per-file comparison bookkeeping, shared by both modes: compare FILE TV TMS PV PMS prints the
# ratio column and updates the counters (slower files, flagged files, worst ratio).
reset_counts() {
  sum_t=0 sum_p=0 sum_tc=0 sum_pc=0 flagged=0 slower=0 n=0 worst="" worst_file=""
  declare -gA K_N=() K_T=() K_P=() K_SLOWER=() K_WORST=() K_WORSTF=()
}
compare() {
  local f=$1 tv=$2 tms=$3 pv=$4 pms=$5 x k=${KIND[$1]}
  if [ "$tms" = - ] || [ "$pms" = - ]; then cmp="n/a" && return; fi  # a side has no time
  cmp=$(ratio "$tms" "$pms")
  K_N[$k]=$((${K_N[$k]:-0} + 1))
  K_T[$k]=$(add "${K_T[$k]:-0}" "$tms")
  K_P[$k]=$(add "${K_P[$k]:-0}" "$pms")
  if less "$pms" "$tms"; then slower=$((slower + 1)) K_SLOWER[$k]=$((${K_SLOWER[$k]:-0} + 1)); fi
  x=$(awk -v t="$tms" -v p="$pms" 'BEGIN { printf "%.2f", (t > 0 ? p / t : 1e9) }')
  if [ -z "$worst" ] || less "$x" "$worst"; then worst=$x worst_file=$(basename "$f"); fi
  if [ -z "${K_WORST[$k]:-}" ] || less "$x" "${K_WORST[$k]}"; then
    K_WORST[$k]=$x K_WORSTF[$k]=$(basename "$f")
  fi
  if [ "$tv" = unknown ] && [ "$pv" != unknown ]; then flagged=$((flagged + 1)); cmp="$cmp UNKNOWN"; fi
  if [ "$tv" != unknown ] && [ "$pv" != unknown ] && [ "$tv" != "$pv" ]; then
    flagged=$((flagged + 1)); cmp="$cmp DIFFER"
  fi
}
summary() {  # $1: what the per-file times are
  echo "# $n files, min of $reps runs each; $1: tidemark total ${sum_t} ms (explain=$explain)"
  if [ -n "$driver" ]; then
    echo "#   porcupine total ${sum_p} ms$([ -n "${PORCUPINE_EXPLAIN:-}" ] && echo ' (verbose + visualization)');" \
      "ratio $(ratio "$sum_t" "$sum_p"); files where tidemark is slower: $slower of $n;" \
      "worst ratio ${worst}x ($worst_file);" \
      "files where tidemark is unknown and Porcupine decides, or verdicts differ: $flagged"
    local k
    for k in cas kv; do
      [ -n "${K_N[$k]:-}" ] || continue
      echo "#   $k files only: ${K_N[$k]}; tidemark ${K_T[$k]} ms, porcupine ${K_P[$k]} ms, ratio" \
        "$(ratio "${K_T[$k]}" "${K_P[$k]}"); tidemark slower on ${K_SLOWER[$k]:-0};" \
        "worst ratio ${K_WORST[$k]}x (${K_WORSTF[$k]})"
    done
  fi
}

# ---- one process per file ----
per_process() {
  echo "# MODE=per-process: one process per file and checker; load average at start:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-28s %-8s %10s %10s %-8s %10s %10s %8s\n' file tidemark wall_ms cpu_ms porcupine \
    wall_ms cpu_ms ratio
  reset_counts
  local f tv tms tcpu pv pms pcpu r cmp
  for f in "${files[@]}"; do
    # shellcheck disable=SC2046
    read -r tv tms tcpu < <(time_min "$tidemark" check "$f" $(tidemark_args "${KIND[$f]}") \
      --check-timeout "$timeout_s" --explain "$explain")
    pv="-" pms="-" pcpu="-" r="-"
    if [ -n "$driver" ]; then
      # shellcheck disable=SC2046
      read -r pv pms pcpu < <(time_min "$driver" $(driver_args "${KIND[$f]}") "$f")
      compare "$f" "$tv" "$tms" "$pv" "$pms"
      r=$cmp
      sum_p=$(add "$sum_p" "$pms")
      sum_pc=$(add "$sum_pc" "$pcpu")
    fi
    sum_t=$(add "$sum_t" "$tms")
    sum_tc=$(add "$sum_tc" "$tcpu")
    n=$((n + 1))
    printf '%-28s %-8s %10s %10s %-8s %10s %10s %8s\n' "$(basename "$f")" "$tv" "$tms" "$tcpu" \
      "$pv" "$pms" "$pcpu" "$r"
  done
  summary "wall of whole processes"
  echo "#   CPU: tidemark ${sum_tc} ms$([ -n "$driver" ] && echo ", porcupine ${sum_pc} ms")" \
    "(perf stat task-clock); load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---- every file of a kind in one process ----

# Runs "$@" once directly, stdout to $work/out, and (with perf) once more under perf stat, stdout
# to $work/out2; prints "<wall ms of the direct run> <cpu ms of the perf run>".
run_once() {
  local t0 t1 cpu=-
  t0=$(now_us)
  "$@" >"$work/out" 2>/dev/null
  echo $? >"$work/rc"
  t1=$(now_us)
  : >"$work/out2"
  if [ -n "$perf" ]; then
    perf stat -x, -e task-clock -o "$work/perf.txt" -- "$@" >"$work/out2" 2>/dev/null
    cpu=$(awk -F, '/task-clock/ { printf "%.3f", $1 }' "$work/perf.txt")
  fi
  awk -v us="$((t1 - t0))" -v c="$cpu" 'BEGIN { printf "%.3f %s\n", us / 1000, c }'
}

# Folds one run's "<verdict> <ms> <file>" lines into the per-file minimum (TMS/PMS) and verdict
# (TV/PV; runs that disagree give mixed(...)).
fold() {  # $1: t or p
  local v ms f
  while read -r v ms f; do
    if [ "$1" = t ]; then
      if [ -z "${TMS[$f]:-}" ] || less "$ms" "${TMS[$f]}"; then TMS[$f]=$ms; fi
      [ -z "${TV[$f]:-}" ] || [ "${TV[$f]}" = "$v" ] || v="mixed(${TV[$f]},$v)"
      TV[$f]=$v
    else
      if [ -z "${PMS[$f]:-}" ] || less "$ms" "${PMS[$f]}"; then PMS[$f]=$ms; fi
      [ -z "${PV[$f]:-}" ] || [ "${PV[$f]}" = "$v" ] || v="mixed(${PV[$f]},$v)"
      PV[$f]=$v
    fi
  done
}

one_process() {
  echo "# MODE=one-process: every file of a kind in one process per checker; load average at" \
    "start: $(cut -d' ' -f1-3 /proc/loadavg)"
  declare -gA TMS=() TV=() PMS=() PV=()
  local kind group wall cpu tw="" tc="" pw="" pc="" tw_sum=0 tc_sum=0 pw_sum=0 pc_sum=0
  for kind in cas kv; do
    group=()
    for f in "${files[@]}"; do [ "${KIND[$f]}" = "$kind" ] && group+=("$f"); done
    [ "${#group[@]}" -gt 0 ] || continue
    tw="" tc="" pw="" pc=""
    for _ in $(seq "$reps"); do
      # tidemark's -q line: "<verdict>: <file> (<n> ops, model <m>, <ms> ms)".
      # shellcheck disable=SC2046
      read -r wall cpu < <(run_once "$tidemark" check -q $(tidemark_args "$kind") \
        --check-timeout "$timeout_s" --explain "$explain" "${group[@]}")
      if [ -z "$tw" ] || less "$wall" "$tw"; then tw=$wall; fi
      if [ "$cpu" != - ] && { [ -z "$tc" ] || less "$cpu" "$tc"; }; then tc=$cpu; fi
      cat "$work/out" "$work/out2" |
        sed -nE 's/^([a-z]+): (.*) \([0-9]+ ops, model [^,]+, ([0-9.]+) ms\)$/\1 \3 \2/p' \
          >"$work/lines"
      fold t <"$work/lines"
      if [ -n "$driver" ]; then
        # shellcheck disable=SC2046
        read -r wall cpu < <(run_once "$driver" $(driver_args "$kind") "${group[@]}")
        if [ -z "$pw" ] || less "$wall" "$pw"; then pw=$wall; fi
        if [ "$cpu" != - ] && { [ -z "$pc" ] || less "$cpu" "$pc"; }; then pc=$cpu; fi
        if [ "$(wc -l <"$work/out")" -lt "${#group[@]}" ]; then
          echo "#   porcupine's $kind process ended after $(wc -l <"$work/out") of" \
            "${#group[@]} files (exit code $(cat "$work/rc"))"
        fi
        cat "$work/out" "$work/out2" >"$work/lines"
        fold p <"$work/lines"
      fi
    done
    echo "#   $kind: ${#group[@]} files; whole process (min of $reps): tidemark ${tw} ms wall," \
      "${tc:--} ms CPU$([ -n "$driver" ] && echo "; porcupine ${pw} ms wall, ${pc:--} ms CPU;" \
      "ratio $(ratio "$tw" "$pw") wall, $(ratio "${tc:-0}" "${pc:-0}") CPU")"
    tw_sum=$(add "$tw_sum" "$tw") tc_sum=$(add "$tc_sum" "${tc:-0}")
    [ -n "$driver" ] && pw_sum=$(add "$pw_sum" "$pw") pc_sum=$(add "$pc_sum" "${pc:-0}")
  done
  printf '%-28s %-8s %10s %-8s %10s %8s\n' file tidemark ms porcupine ms ratio
  reset_counts
  local f tv tms pv pms r cmp
  for f in "${files[@]}"; do
    tv=${TV[$f]:-missing} tms=${TMS[$f]:--}
    pv="-" pms="-" r="-"
    if [ -n "$driver" ]; then
      pv=${PV[$f]:-missing} pms=${PMS[$f]:--}
      compare "$f" "$tv" "$tms" "$pv" "$pms"
      r=$cmp
      sum_p=$(add "$sum_p" "$pms")
    fi
    sum_t=$(add "$sum_t" "$tms")
    n=$((n + 1))
    printf '%-28s %-8s %10s %-8s %10s %8s\n' "$(basename "$f")" "$tv" "$tms" "$pv" "$pms" "$r"
  done
  summary "sum of per-file times inside the process"
  echo "#   whole processes (every kind): tidemark ${tw_sum} ms wall, ${tc_sum} ms CPU$(
    [ -n "$driver" ] && echo "; porcupine ${pw_sum} ms wall, ${pc_sum} ms CPU; ratio" \
      "$(ratio "$tw_sum" "$pw_sum") wall, $(ratio "$tc_sum" "$pc_sum") CPU")"
  echo "#   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

case $mode in
  per-process) per_process ;;
  one-process) one_process ;;
  both)
    one_process
    echo
    per_process
    ;;
esac
