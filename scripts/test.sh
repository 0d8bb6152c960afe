#!/usr/bin/env bash
# Builds netpool and runs the whole test suite (unit, integration, CLI).
#   scripts/test.sh              Release build
#   scripts/test.sh --sanitize   the same suite under ASan+UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build/release
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build/asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
scripts/build.sh "$@"
ctest --test-dir "$build_dir" --output-on-failure --parallel 2 --timeout 600
