#!/usr/bin/env bash
# The netpool demo on one machine: installs what is missing, builds, starts a
# scheduler and a worker node with 2 processes on loopback, runs the source
# notebook's three workloads through the CLI and through the C++ examples,
# prints results and makespans, and stops everything.
#   IMAGING_TASK_SECONDS=2 scripts/demo.sh   # the notebook's own task time
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
bin=$PWD/build/release
export IMAGING_TASK_SECONDS=${IMAGING_TASK_SECONDS:-0.2}
task=$IMAGING_TASK_SECONDS
run_dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run_dir"
}
trap cleanup EXIT

now() { date +%s.%N; }
makespan() {  # START STAGES: prints the makespan next to the ideal for 20 tasks on 2 slots
  awk -v s="$1" -v e="$(now)" -v stages="$2" -v t="$task" \
    'BEGIN { printf "makespan %.2f s (ideal %.2f s: %d stage(s) x 10 waves of %.2f s on 2 slots)\n", e - s, stages * 10 * t, stages, t }'
}
wait_for_slots() {  # SLOTS
  for _ in $(seq 100); do
    if "$bin/client/netpool" stats 2>/dev/null | grep -qx "slots $1"; then return 0; fi
    sleep 0.1
  done
  echo "demo: the worker node did not connect" >&2
  return 1
}

"$bin/server/netpoold" --listen 127.0.0.1:0 --data "$run_dir/data" >"$run_dir/netpoold.out" &
pids+=($!)
for _ in $(seq 100); do
  grep -q '^listening on ' "$run_dir/netpoold.out" 2>/dev/null && break
  sleep 0.1
done
address=$(sed -n 's/^listening on //p' "$run_dir/netpoold.out")
[ -n "$address" ] || { echo "demo: netpoold did not start" >&2; exit 1; }
export NETPOOL_SCHEDULER=$address
netpool() { "$bin/client/netpool" "$@"; }
echo "netpoold listening on $address"

"$bin/worker/netpool-worker" --processes 2 --name demo-node --allow-exec &
worker_pid=$!
pids+=("$worker_pid")
wait_for_slots 2
netpool workers

subjects=$(printf 'sub-%02d ' $(seq 1 20))

echo
echo "== CLI 1/3: crunch_image over 20 files (netpool map -- CMD {} ::: ITEMS)"
start=$(now)
# shellcheck disable=SC2086
netpool map -- sh -c "sleep $task; echo \"\$0_T1w.nii.gz -> \$0_t1_crunched.nii.gz\"" {} ::: $subjects
makespan "$start" 1

echo
echo "== CLI 2/3: crunch_image(file, modality) for T1 and T2 of 10 subjects (netpool starmap exec)"
start=$(now)
for s in $(printf 'sub-%02d ' $(seq 1 10)); do
  for m in t1 t2; do
    printf '[["sh","-c","sleep %s; echo $0 $1","%s","%s"]]\n' "$task" "$s" "$m"
  done
done | netpool starmap exec | sed -n 's/.*"stdout":"\([^"]*\)\\n".*/\1 crunched/p'
makespan "$start" 1

echo
echo "== CLI 3/3: linear then non-linear registration of 20 subjects (two netpool exec per subject)"
start=$(now)
for s in $subjects; do
  (
    linear=$(netpool exec -- sh -c "sleep $task; echo \$0_lin.nii.gz" "$s")
    netpool exec -- sh -c "sleep $task; echo \${0%.nii.gz}_nonlin.nii.gz" "$linear"
  ) &
done | sort
makespan "$start" 2

# The C++ examples call functions that a WorkerApp binary registers.
kill -TERM "$worker_pid"
wait "$worker_pid" 2>/dev/null || true
"$bin/examples/imaging-worker" --processes 2 --name imaging-node --allow-exec &
pids+=($!)
wait_for_slots 2

for example in crunch_image crunch_image_modality registration; do
  echo
  echo "== C++ example: $example"
  "$bin/examples/$example" "$address"
done
echo
echo "demo finished"
