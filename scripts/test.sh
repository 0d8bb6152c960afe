#!/usr/bin/env bash
# Builds netpool and runs the whole test suite (unit, integration, CLI).
#   scripts/test.sh              Release build
#   scripts/test.sh --sanitize   the same suite, less the fault, load, benchmark and examples
#                                tests, under ASan+UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build/release
selection=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build/asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The fault and load suites test timing and scale with the real programs;
  # the release pass runs them, and under the sanitizers they would take CI
  # past its half hour. The sanitized build does not build them (nor the
  # benchmark and the examples); the selection is for a build dir configured
  # by hand.
  selection=(-LE 'fault|load')
fi
scripts/build.sh "$@"
ctest --test-dir "$build_dir" --output-on-failure --parallel 2 --timeout 600 "${selection[@]}"
