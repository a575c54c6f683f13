#!/usr/bin/env bash
# Installs tidemark's Debian dependencies (if missing) and builds it into build/.
# Usage: scripts/setup.sh [extra cmake -D options]
# Safe to run again: apt-get runs only when a package is missing; the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ ninja-build pkg-config libboost-dev libboost-filesystem-dev
  libcurl4-openssl-dev nlohmann-json3-dev librange-v3-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcli11-dev libspdlog-dev libfmt-dev iproute2 nftables
  clang libclang-rt-14-dev clang-format chromium)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tidemark setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

JOBS=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$JOBS"
