#!/usr/bin/env bash
# Test of scripts/check_layers.sh: the real tree passes, and a deliberate upward include (base/
# including harness/) and a sideways one (checkers/ including workloads/) each fail, naming the
# file, the line and the header.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
check="$here/check_layers.sh"

"$check" "$here/.." >/dev/null || { echo "FAIL: the repository itself has an upward include"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/base" "$tmp/harness/run" "$tmp/checkers" "$tmp/workloads"
printf '#include "base/result.h"\n' >"$tmp/harness/run/ok.cc"
printf '#pragma once\n#include <string>\n#include "base/result.h"\n' >"$tmp/base/fine.h"
"$check" "$tmp" >/dev/null || { echo "FAIL: a downward include was refused"; exit 1; }

printf '#pragma once\n\n#include "harness/run/runner.h"\n' >"$tmp/base/upward.h"
if out=$("$check" "$tmp" 2>&1); then
  echo "FAIL: base/ including harness/ passed the layer check"; exit 1
fi
grep -q 'base/upward.h:3: base/ may not include harness/run/runner.h' <<<"$out" ||
  { echo "FAIL: the message does not name file:line and header:"; echo "$out"; exit 1; }
rm "$tmp/base/upward.h"

printf '#include "workloads/generator.h"\n' >"$tmp/checkers/sideways.cc"
if out=$("$check" "$tmp" 2>&1); then
  echo "FAIL: checkers/ including workloads/ passed the layer check"; exit 1
fi
grep -q 'checkers/sideways.cc:1: checkers/ may not include workloads/generator.h' <<<"$out" ||
  { echo "FAIL: unexpected message:"; echo "$out"; exit 1; }
echo "check_layers_test: passed (1 clean tree, 2 violations caught)"
