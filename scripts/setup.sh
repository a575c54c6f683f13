#!/usr/bin/env bash
# Installs tidemark's Debian dependencies (if missing) and builds it into build/.
# Usage: scripts/setup.sh [extra cmake -D options]
# Safe to run again: apt-get runs only when a package is missing; the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ ninja-build pkg-config libboost-dev libboost-filesystem-dev
  libcurl4-openssl-dev nlohmann-json3-dev librange-v3-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcli11-dev libspdlog-dev libfmt-dev iproute2 nftables
  clang libclang-rt-14-dev clang-format chromium
  etcd-server etcd-client fuse3 libfuse3-dev python3 perl
  redis-server redis-sentinel libhiredis-dev)

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
  # etcd-server's postinst starts a system etcd (systemd unit, or /etc/init.d/etcd where no
  # policy-rc.d forbids it) on 127.0.0.1:2379/2380. tidemark starts its own members on free
  # ports in 20000-32767, so it would not clash, but it is not ours to leave running: stop and
  # disable the one this install started (an etcd that was installed before is left alone).
  if [[ " ${missing[*]} " == *" etcd-server "* ]]; then
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now etcd.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/etcd ]; then
      $SUDO /etc/init.d/etcd stop >/dev/null 2>&1 || true
      $SUDO update-rc.d etcd disable >/dev/null 2>&1 || true
    fi
  fi
  # redis-server and redis-sentinel start system services the same way (127.0.0.1:6379 and
  # :26379). tidemark starts its own on free ports; stop and disable the ones this install
  # started.
  for svc in redis-server redis-sentinel; do
    [[ " ${missing[*]} " == *" $svc "* ]] || continue
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
      $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
      $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  done
fi

JOBS=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$JOBS"
