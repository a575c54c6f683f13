#!/usr/bin/env bash
# tidemark's main job. Installs dependencies, builds, then runs the default job.
# Until `tidemark run` exists this checks the example histories in docs/examples/ and prints
# each verdict; it then becomes a default fault-injection run against tidelog.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
status=0
for f in docs/examples/*.jsonl; do
  ./build/tidemark check "$f" --results "build/$(basename "$f" .jsonl).results.json" || status=$?
  echo
done
echo "Checked the example histories (two are invalid on purpose: see docs/examples/README.md)."
