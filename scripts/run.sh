#!/usr/bin/env bash
# tidemark's main job: installs dependencies, builds, then runs a default test against tidelog —
# three real tidelog processes, concurrent clients appending to and reading the replicated log
# for 30 s while the nemesis partitions the network (network namespaces when run as root, else
# userspace proxies) and SIGKILLs/restarts nodes, then heals, waits for a leader, reads the
# final log from every node, and runs the log-prefix checkers and the replica cross-check.
# Ends with the verdict and the report's path (store/latest/report.html).
# Extra arguments go to `tidemark run` (see build/tidemark run --help), e.g.
#   scripts/run.sh --workload register --time-limit 60
#   scripts/run.sh --bug ack-before-quorum
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
exec ./build/tidemark run --store store --nemesis partition,kill --nemesis-interval 5 "$@"
