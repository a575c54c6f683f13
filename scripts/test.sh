#!/usr/bin/env bash
# The test suite: everything CI runs. Installs dependencies, builds with warnings as errors,
# runs every test (unit and end-to-end), an ASan+UBSan build of the unit tests, the format check
# and a short fuzzing pass over the parsers.
# Usage: scripts/test.sh            (all stages)
#        TIDEMARK_STAGES="build unit" scripts/test.sh   (a subset: build unit e2e asan format fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES=${TIDEMARK_STAGES:-"format build unit e2e asan fuzz"}
has() { [[ " $STAGES " == *" $1 "* ]]; }
JOBS=$(nproc)
t0=$(date +%s)
stage() { echo; echo "=== [$(( $(date +%s) - t0 ))s] $*"; }

stage "setup and build (warnings are errors)"
scripts/setup.sh -DTIDEMARK_WERROR=ON

if has format; then
  stage "format check (.clang-format)"
  files=$(git ls-files '*.h' '*.cc' 2>/dev/null || true)
  if [ -n "$files" ]; then
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $files
  fi
fi

if has unit; then
  stage "unit tests"
  ctest --test-dir build --output-on-failure -j"$JOBS" -LE 'e2e|netns' --timeout 600
fi

if has e2e; then
  stage "end-to-end tests (real processes)"
  ctest --test-dir build --output-on-failure -L 'e2e|netns' --timeout 900
fi

if has asan; then
  stage "ASan+UBSan build of the unit tests"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTIDEMARK_SANITIZE=ON \
    -DTIDEMARK_WERROR=ON -DTIDEMARK_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS" -LE 'e2e|netns|slow' --timeout 900
fi

if has fuzz; then
  if [ -x fuzz/run.sh ]; then
    stage "fuzzing the parsers briefly"
    fuzz/run.sh "${TIDEMARK_FUZZ_SECONDS:-20}"
  fi
fi

stage "all stages passed: $STAGES"
