#!/usr/bin/env bash
# tidemark's main job: installs dependencies, builds, then runs a default test against tidelog —
# three real tidelog processes on loopback, concurrent clients appending to and reading the
# replicated log for 30 s, final reads from every node, then the log-prefix checkers and the
# replica cross-check. Ends with the verdict and where the results are (store/latest/).
# Extra arguments go to `tidemark run` (see build/tidemark run --help), e.g.
#   scripts/run.sh --workload register --time-limit 60
#   scripts/run.sh --bug ack-before-quorum
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
exec ./build/tidemark run --store store "$@"
