#!/usr/bin/env bash
# Installs missing dependencies, then configures and builds netpool.
#   scripts/build.sh              Release build in build/release
#   scripts/build.sh --sanitize   ASan+UBSan build (unoptimised, quick to compile) in build/asan,
#                                 without what the sanitized test pass leaves out
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build/release
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build/asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DNETPOOL_SANITIZE=ON -DNETPOOL_BUILD_EXAMPLES=OFF)
fi

scripts/install-deps.sh
# Let ccache hit across checkouts in different folders (CI clones anew).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
fi
ninja -C "$build_dir"
