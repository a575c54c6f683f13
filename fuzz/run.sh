#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ and runs each for SECONDS (default 30).
# Fails (exit 1) if a build fails or any fuzzer finds a crash, leak, timeout or broken round trip;
# the reproducer is left in fuzz/artifacts/<name>/.
# Usage: fuzz/run.sh [SECONDS]   (env: BUILD_DIR, default <repo>/build-fuzz; JOBS, default 2)
set -euo pipefail

seconds="${1:-30}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-fuzz}"
jobs="${JOBS:-2}"
fuzzers=(jsonl jepsen_log jepsen_edn edn_lines log_read_scan)

CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DTIDEMARK_FUZZ=ON \
  -DTIDEMARK_BENCH=OFF -DTIDEMARK_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs" --target "${fuzzers[@]/#/fuzz_}"

status=0
for name in "${fuzzers[@]}"; do
  # Work on a copy of the seeds so new inputs do not pile up in the repository.
  work="$build/fuzz-corpus/$name"
  artifacts="$repo/fuzz/artifacts/$name"
  mkdir -p "$work" "$artifacts"
  cp -n "$repo/fuzz/corpus/$name"/* "$work/" 2>/dev/null || true
  echo "== fuzz_$name for ${seconds}s"
  if ! "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" \
      >"$build/fuzz_$name.log" 2>&1; then
    echo "FAILED: fuzz_$name (log: $build/fuzz_$name.log, reproducer in $artifacts/)"
    tail -n 40 "$build/fuzz_$name.log"
    status=1
  else
    grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz_$name.log" || true
  fi
done
exit "$status"
