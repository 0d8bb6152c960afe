#!/bin/sh
# Runs a fuzz target on its seed corpus for a bounded time: ctest's
# request_fuzzer test, and scripts/fuzz.sh.
#
#   run_fuzzer.sh libfuzzer|driver TARGET CORPUS_DIR WORK_DIR [SECONDS]
#
# SECONDS defaults to $NETPOOL_FUZZ_SECONDS, else 20. New inputs libFuzzer
# finds and any crashing input go to WORK_DIR, never into the committed corpus.
set -eu
mode=$1 target=$2 corpus=$3 work=$4
seconds=${5:-${NETPOOL_FUZZ_SECONDS:-20}}
mkdir -p "$work/new"
case $mode in
  libfuzzer)
    exec "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/new" "$corpus" ;;
  driver)
    exec "$target" --seconds "$seconds" --timeout 20 --artifact-prefix "$work/" "$corpus" ;;
  *)
    echo "run_fuzzer.sh: unknown mode $mode (libfuzzer or driver)" >&2
    exit 64 ;;
esac
