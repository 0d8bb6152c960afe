#!/usr/bin/env bash
# Installs what netpool needs to build and test on Debian 12, if missing.
# Idempotent; uses sudo only when not root.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache iproute2 procps python3
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libspdlog-dev libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev prometheus-cpp-dev
  libssl-dev openssl systemd faketime help2man zsh python3-yaml parallel chromium chromium-driver
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # A fresh machine has empty package lists.
  "${sudo[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq
  "${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests check netpoold's /metrics with promtool, from Debian's prometheus
# package. Installing that package would also set up a Prometheus server, so
# only promtool is taken out of it, into build/tools.
tools="$(cd "$(dirname "$0")/.." && pwd)/build/tools"
if ! command -v promtool >/dev/null && [ ! -x "$tools/promtool" ]; then
  echo "fetching promtool from Debian's prometheus package into $tools"
  unpack=$(mktemp -d)
  trap 'rm -rf "$unpack"' EXIT
  if ! (cd "$unpack" && apt-get download -qq prometheus 2>/dev/null); then
    "${sudo[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq
    (cd "$unpack" && apt-get download -qq prometheus)
  fi
  dpkg-deb -x "$unpack"/prometheus_*.deb "$unpack/root"
  mkdir -p "$tools"
  install -m 755 "$unpack/root/usr/bin/promtool" "$tools/promtool"
fi
