#!/usr/bin/env bash
# The layer check: fails when a folder includes a header from a folder it may not use.
#
# tidemark is built in floors (docs/architecture.md). Each top-level folder may include headers
# from the folders listed after it below, and from itself; nothing else. base/ is the ground
# floor and uses nothing; harness/ is the top floor and may use everything. bench/ and fuzz/ are
# tools outside the floors and are not checked.
#
# Usage: scripts/check_layers.sh [ROOT]     (ROOT defaults to the repository)
# Exit: 0 when every include points down or sideways-within; 1 with one line per violation
#       ("file:line: FOLDER may not include HEADER (FOLDER may use: ...)").
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}

# folder: the folders it may use (lowest first).
declare -A MAY_USE=(
  [base]=""
  [checkers]="base"
  [workloads]="base"
  [runstore]="base"
  [targets]="base"
  [nemesis]="base targets"
  [reports]="base checkers runstore"
  [harness]="base checkers workloads runstore targets nemesis reports"
)

violations=0
checked=0
for folder in "${!MAY_USE[@]}"; do
  [ -d "$root/$folder" ] || continue
  allowed=" $folder ${MAY_USE[$folder]} "
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    header=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$rest")
    top=${header%%/*}
    # Only project headers (a path whose first part is one of our folders) are layered; a bare
    # "foo.h" is a header beside the file (tidelog's own sources) and always allowed.
    [[ "$header" == */* ]] || continue
    [ -n "${MAY_USE[$top]+x}" ] || continue
    checked=$((checked + 1))
    if [[ "$allowed" != *" $top "* ]]; then
      echo "${file#"$root"/}:$line: $folder/ may not include $header ($folder/ may use:${MAY_USE[$folder]:- nothing else})"
      violations=$((violations + 1))
    fi
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$root/$folder" \
             --include='*.h' --include='*.cc' --include='*.hpp' --include='*.cpp' || true)
done

if [ "$checked" -eq 0 ]; then
  echo "check_layers: no project includes found under $root (wrong ROOT?)" >&2
  exit 1
fi
if [ "$violations" -gt 0 ]; then
  echo "check_layers: $violations upward include(s); see docs/architecture.md for the floors" >&2
  exit 1
fi
echo "check_layers: $checked project includes, all pointing down"
