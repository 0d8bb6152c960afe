#!/bin/sh
# Fuzzes what netpool parses from outside: request validation, Value decoding
# and the CLI's JSON parsing (tests/fuzz/request_fuzzer.cc), on the seed corpus
# in tests/fuzz/corpus/.
#
#   scripts/fuzz.sh [SECONDS]          default: $NETPOOL_FUZZ_SECONDS, else 60
#
# With clang and its libFuzzer runtime it builds the target with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer in build/fuzz-clang, the
# code under test instrumented for coverage, and runs it. On Debian 12 the
# runtime (libclang_rt.fuzzer-x86_64.a) comes in libclang-rt-14-dev:
#   apt-get install clang libclang-rt-14-dev
# Without it, the script says so and runs the GCC build's driver (build/,
# configured and built if needed), which mutates the corpus without coverage
# feedback: it finds less, but it runs anywhere.
#
# Long mode, for a soak run after touching a parser or before a release:
#   scripts/fuzz.sh 3600               one hour
#   NETPOOL_FUZZ_SECONDS=3600 ctest -R request_fuzzer   the same through ctest
# The ctest suite runs the target for 20 s by default.
#
# Inputs libFuzzer finds are kept in <build dir>/fuzz-work/new (reused by the
# next run); a crashing input is saved as <build dir>/fuzz-work/crash-*. Add
# each crashing input to tests/fuzz/corpus/ and pin its fix with a unit test.
#
# Environment: FUZZ_CLANG_BUILD_DIR (default build/fuzz-clang) and
# FUZZ_GCC_BUILD_DIR (default build) choose the build directories.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-${NETPOOL_FUZZ_SECONDS:-60}}
clang_dir=${FUZZ_CLANG_BUILD_DIR:-$root/build/fuzz-clang}
gcc_dir=${FUZZ_GCC_BUILD_DIR:-$root/build}
corpus=$root/tests/fuzz/corpus
runner=$root/tests/fuzz/run_fuzzer.sh

have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  probe=$(mktemp -d)
  printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
    >"$probe/probe.cc"
  if clang++ -fsanitize=fuzzer "$probe/probe.cc" -o "$probe/probe" >/dev/null 2>&1; then
    rm -rf "$probe"
    return 0
  fi
  rm -rf "$probe"
  return 1
}

if have_libfuzzer; then
  echo "fuzz.sh: clang with libFuzzer: building $clang_dir"
  if [ ! -f "$clang_dir/build.ninja" ]; then
    cmake -S "$root" -B "$clang_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++ \
      -DNETPOOL_SANITIZE=ON -DNETPOOL_BUILD_EXAMPLES=OFF \
      -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link"
  fi
  cmake --build "$clang_dir" --target request_fuzzer
  exec sh "$runner" libfuzzer "$clang_dir/tests/fuzz/request_fuzzer" "$corpus" \
    "$clang_dir/fuzz-work" "$seconds"
fi

cat >&2 <<'EOF'
fuzz.sh: clang with libFuzzer is not available, so this run uses the GCC
driver, which has no coverage feedback. For coverage-guided fuzzing install
clang and its runtime (Debian 12: apt-get install clang libclang-rt-14-dev,
which holds libclang_rt.fuzzer-x86_64.a) and run this script again.
EOF
if [ ! -f "$gcc_dir/build.ninja" ] && [ ! -f "$gcc_dir/Makefile" ]; then
  cmake -S "$root" -B "$gcc_dir" -G Ninja
fi
cmake --build "$gcc_dir" --target request_fuzzer
exec sh "$runner" driver "$gcc_dir/tests/fuzz/request_fuzzer" "$corpus" "$gcc_dir/fuzz-work" \
  "$seconds"
