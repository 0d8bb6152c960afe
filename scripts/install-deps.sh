#!/usr/bin/env bash
# Installs what netpool needs to build and test on Debian 12, if missing.
# Idempotent; uses sudo only when not root.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache iproute2 procps python3
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libspdlog-dev libsqlite3-dev nlohmann-json3-dev
  libssl-dev openssl systemd faketime
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists.
"${sudo[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq
"${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
