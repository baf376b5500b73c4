#!/usr/bin/env bash
# Installs everything cask needs to build, test and benchmark, from Debian's archive.
# Safe to run twice: apt only runs when a package is missing.
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  ccache                # compiler cache: a second build of the same sources is quick
  libcaf-dev            # CAF 0.17.6: the actor framework
  nlohmann-json3-dev    # values on the wire (cluster mode)
  doctest-dev           # the test suite
  libcpp-httplib-dev    # the examples' local HTTP services
  libcli11-dev          # command lines of cask-scheduler and cask-worker
  libspdlog-dev         # log lines of cluster nodes
  python3-distributed   # Dask, for the side-by-side benchmarks (/usr/bin/python3)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install_deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
