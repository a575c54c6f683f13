#!/usr/bin/env bash
# tidemark's main job: installs dependencies, builds, then runs a default test against tidelog —
# three real tidelog processes, concurrent clients appending to and reading the replicated log
# for 30 s under the default fault mix (`--nemesis all`: leader-aware partitions, kills, pauses
# and crashes of a majority, composed into short sequences; docs/nemesis.md; partitions use
# network namespaces when run as root, else userspace proxies), then heals, waits for a leader, reads the
# final log from every node, and runs the log-prefix checkers and the replica cross-check.
# Ends with the verdict and the report's path (store/latest/report.html).
# Extra arguments go to `tidemark run` (see build/tidemark run --help), e.g.
#   scripts/run.sh --workload register --time-limit 60
#   scripts/run.sh --bug ack-before-quorum
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
exec ./build/tidemark run --store store --nemesis all "$@"
