#!/usr/bin/env bash
# Multi-host integration test: netpoold, two worker nodes and a client on four "hosts"
# (network namespaces of their own), with TLS and bearer tokens on a non-loopback address.
#
#   multi_host_test.sh NETPOOLD NETPOOL_WORKER NETPOOL_CLI SOURCE_DIR
#
# Needs root (ip netns, veth) and openssl; without namespaces it prints "SKIPPED: why" and
# exits 77. Exit 0 when every check passed, 1 otherwise (the logs are printed then).
#
# Topology: namespace "sched" holds 10.200.0.1/32 on its loopback interface; every other
# namespace (nodeA, nodeB, client) has one veth pair to sched on a /30 of its own
# (10.200.N.1 in sched, 10.200.N.2 in the peer) and a route to 10.200.0.1 through it. Only
# veth pairs made directly inside the test's namespaces: nothing in the root namespace.
# Schedulers: 10.200.0.1:7340 with TLS + --token-file, 10.200.0.1:7341 with --tls-client-ca
# as well (mutual TLS for worker nodes).
set -uo pipefail
export LC_ALL=C

if [ $# -ne 4 ]; then
  echo "usage: $0 NETPOOLD NETPOOL_WORKER NETPOOL_CLI SOURCE_DIR" >&2
  exit 64
fi
netpoold=$1
worker_bin=$2
cli_bin=$3
source_dir=$4
for b in "$netpoold" "$worker_bin" "$cli_bin"; do
  [ -x "$b" ] || { echo "FAIL: $b is not an executable" >&2; exit 1; }
done
make_certs=$source_dir/deploy/make-certs.sh
make_token=$source_dir/deploy/make-token.sh

skip() { echo "SKIPPED: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to make network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"
command -v openssl >/dev/null 2>&1 || { echo "FAIL: openssl not found" >&2; exit 1; }
command -v timeout >/dev/null 2>&1 || { echo "FAIL: timeout (coreutils) not found" >&2; exit 1; }

start_time=$SECONDS
scratch=$(mktemp -d "${TMPDIR:-/tmp}/netpool-multi-host.XXXXXX")
chmod 700 "$scratch"
# Everything the programs might write for their user (tokens under $XDG_CONFIG_HOME) stays
# in the scratch directory; no NETPOOL_* setting of the caller leaks in.
export HOME=$scratch/home XDG_CONFIG_HOME=$scratch/home/.config
mkdir -p "$XDG_CONFIG_HOME"
unset NETPOOL_TOKEN NETPOOL_TLS_CA NETPOOL_SCHEDULER NETPOOL_LOG
cd "$scratch" || exit 1

ns_prefix=netpool-mh-$$
ns_sched=$ns_prefix-sched
ns_a=$ns_prefix-nodeA
ns_b=$ns_prefix-nodeB
ns_client=$ns_prefix-client
made_ns=()
pids=()
failures=0
passes=0
show_logs=no

# shellcheck disable=SC2317 # called from the EXIT trap
print_logs() {
  local f
  for f in "$scratch"/logs/*; do
    [ -s "$f" ] || continue
    echo "----- ${f##*/} -----"
    tail -n 60 "$f"
  done
}

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  local status=$? pid ns _
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] || [ "$show_logs" = yes ]; then
    echo "===== logs (scheduler and nodes, stdout/stderr) ====="
    print_logs
  fi
  # The processes this script started, politely first.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=no
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=yes; done
    [ "$alive" = no ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  # Anything still in the test's own namespaces (worker processes of a killed node).
  for ns in "${made_ns[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  wait 2>/dev/null
  for ns in "${made_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
  cd / && rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "FAIL: setup: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds or time is up.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# --- network namespaces -------------------------------------------------------------------
ip netns add "$ns_sched" 2>"$scratch/ip.err" ||
  skip "cannot make a network namespace: $(head -n1 "$scratch/ip.err")"
made_ns+=("$ns_sched")
ip -n "$ns_sched" link set lo up || die "lo up in $ns_sched"
ip -n "$ns_sched" addr add 10.200.0.1/32 dev lo || die "10.200.0.1 in $ns_sched"
n=0
for ns in "$ns_a" "$ns_b" "$ns_client"; do
  n=$((n + 1))
  ip netns add "$ns" 2>"$scratch/ip.err" ||
    skip "cannot make a network namespace: $(head -n1 "$scratch/ip.err")"
  made_ns+=("$ns")
  # Both ends are made inside the namespaces: no interface ever appears in the root one.
  ip -n "$ns_sched" link add "s$n" type veth peer name "p$n" netns "$ns" 2>"$scratch/ip.err" ||
    skip "cannot make a veth pair: $(head -n1 "$scratch/ip.err")"
  ip -n "$ns_sched" addr add "10.200.$n.1/30" dev "s$n" || die "address of s$n"
  ip -n "$ns_sched" link set "s$n" up || die "s$n up"
  ip -n "$ns" link set lo up || die "lo up in $ns"
  ip -n "$ns" addr add "10.200.$n.2/30" dev "p$n" || die "address of p$n"
  ip -n "$ns" link set "p$n" up || die "p$n up"
  ip -n "$ns" route add 10.200.0.1/32 via "10.200.$n.1" || die "route in $ns"
done

# --- certificates and tokens --------------------------------------------------------------
pki=$scratch/pki
"$make_certs" ca "$pki" >/dev/null || die "make-certs.sh ca"
"$make_certs" server "$pki" 10.200.0.1 >/dev/null || die "make-certs.sh server"
"$make_certs" node "$pki" nodeA >/dev/null || die "make-certs.sh node nodeA"
"$make_certs" node "$pki" nodeB >/dev/null || die "make-certs.sh node nodeB"
# A second, unrelated CA: what a client with the wrong trust anchor has.
"$make_certs" ca "$scratch/other-pki" >/dev/null || die "make-certs.sh ca (other)"
ca=$pki/ca.pem
secrets=$scratch/secrets
mkdir -m 700 "$secrets"
tokens=$scratch/tokens
(umask 077 && : >"$tokens")
for entry in "client alice" "client bob" "worker nodeA" "worker nodeB" "admin ops"; do
  read -r role name <<<"$entry"
  "$make_token" "$role" "$name" "$secrets/$name" >>"$tokens" || die "make-token.sh $entry"
done
(umask 077 && printf '%s' 0123456789abcdef0123456789abcdef >"$secrets/bogus")
mkdir "$scratch/logs"

sched=10.200.0.1:7340
sched_mtls=10.200.0.1:7341

# start_in NS LOGNAME PROGRAM ARG...: starts PROGRAM in namespace NS in the background, its
# stdout and stderr in logs/LOGNAME.out/.err; `ip netns exec` execs it, so $! is PROGRAM.
start_in() {
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$@" >"$scratch/logs/$log.out" 2>"$scratch/logs/$log.err" &
  last_pid=$!
  pids+=("$last_pid")
}
# start_node NS LOGNAME ARG...: a worker node on the first scheduler unless ARG says otherwise.
start_node() {
  local ns=$1 log=$2
  shift 2
  start_in "$ns" "$log" "$worker_bin" --tls-ca "$ca" --processes 2 --prefetch 0 --grace 1 "$@"
}
log_has() { grep -q -- "$2" "$scratch/logs/$1.err" 2>/dev/null; }
# shellcheck disable=SC2317 # called through wait_for
listening() { grep -q "^listening on $2\$" "$scratch/logs/$1.out" 2>/dev/null; }

# np NS SECRET ARG...: the CLI in namespace NS (SECRET a name in secrets/, or - for none);
# stdout in $out, stderr in $err, exit status in $rc. Never longer than 30 s.
np() {
  local ns=$1 secret=$2
  shift 2
  local token_args=()
  [ "$secret" = - ] || token_args=(--token-file "$secrets/$secret")
  timeout 30 ip netns exec "$ns" "$cli_bin" "${token_args[@]}" "$@" \
    >"$scratch/cli.out" 2>"$scratch/cli.err"
  rc=$?
  out=$(cat "$scratch/cli.out")
  err=$(cat "$scratch/cli.err")
}
# as USER ARG...: the CLI as USER from the client namespace, on the first scheduler, over TLS.
as() {
  local user=$1
  shift
  np "$ns_client" "$user" --scheduler "$sched" --tls-ca "$ca" "$@"
}
# expect_refused NAME WANT_RC WANT_MESSAGE: the last CLI call exited WANT_RC and said so.
expect_refused() {
  if [ "$rc" -eq "$2" ] && grep -q -- "$3" <<<"$err"; then
    pass "$1 (exit $rc: $(grep -m1 "$3" <<<"$err"))"
  else
    fail "$1: exit $rc, want $2 with \"$3\"; stdout: ${out:0:300}; stderr: ${err:0:500}"
  fi
}
# workers_named SCHED NAME: how many rows of `netpool workers` (as ops) are named NAME.
workers_on() { np "$ns_client" ops --scheduler "$1" --tls-ca "$ca" workers; }
count_workers() {
  workers_on "$1"
  [ "$rc" -eq 0 ] || { echo 0; return; }
  awk -v n="$2" 'NR > 1 && $1 == n' <<<"$out" | wc -l
}
# shellcheck disable=SC2317 # called through wait_for
worker_listed() { [ "$(count_workers "$1" "$2")" -ge 1 ]; }
worker_id() { workers_on "$1"; awk -v n="$2" 'NR > 1 && $1 == n { print $2 }' <<<"$out"; }
# job_rows FUNCTION: "ID WORKER" for every row of the `netpool jobs` table in $out that ran
# FUNCTION (columns found by their header: ID STATE FUNCTION ATTEMPTS WORKER ...).
job_rows() {
  awk -v fn="$1" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["FUNCTION"] == fn { print $col["ID"], $col["WORKER"] }' <<<"$out"
}

# --- netpoold refuses a non-loopback address without TLS and tokens (no lasting process) ----
start_in "$ns_sched" refuse-plain "$netpoold" --listen 10.200.0.1:7342 --store memory
refuse_pid=$last_pid
wait "$refuse_pid"
refuse_rc=$?
if [ "$refuse_rc" -eq 64 ]; then
  pass "0. netpoold --listen 10.200.0.1 without TLS and --token-file exits 64 ($(head -n1 "$scratch/logs/refuse-plain.err"))"
else
  fail "0. netpoold --listen 10.200.0.1 without TLS and --token-file: exit $refuse_rc, want 64"
fi

# --- the cluster --------------------------------------------------------------------------
start_in "$ns_sched" netpoold "$netpoold" --listen "$sched" --store memory \
  --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --token-file "$tokens"
netpoold_pid=$last_pid
start_in "$ns_sched" netpoold-mtls "$netpoold" --listen "$sched_mtls" --store memory \
  --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --token-file "$tokens" \
  --tls-client-ca "$ca"
wait_for 15 listening netpoold "$sched" || die "netpoold did not print 'listening on $sched'"
wait_for 15 listening netpoold-mtls "$sched_mtls" ||
  die "netpoold (mTLS) did not print 'listening on $sched_mtls'"

start_node "$ns_a" nodeA --scheduler "$sched" --token-file "$secrets/nodeA" --name nodeA
nodeA_pid=$last_pid
start_node "$ns_b" nodeB --scheduler "$sched" --token-file "$secrets/nodeB" --name nodeB
wait_for 20 worker_listed "$sched" nodeA || die "nodeA did not join"
wait_for 20 worker_listed "$sched" nodeB || die "nodeB did not join"
echo "setup: 4 namespaces, 2 schedulers, 2 nodes in $((SECONDS - start_time)) s"

# --- 1. alice maps 20 items across both nodes ---------------------------------------------
mapfile -t items < <(seq 1 20)
want_results=$(printf '[%s]\n' "${items[@]}")
# job_ids: the ids of every job in `netpool jobs` as ops, sorted.
job_ids() { as ops jobs; awk 'NR > 1 { print $1 }' <<<"$out" | sort; }
# alice_map_spread BEFORE: alice maps echo over the 20 items (map_rc, map_out) and sets
# spread to "nodeA=N nodeB=M", the new jobs (not in BEFORE) each node ran. 20 echo jobs
# normally land on both nodes (2 processes each, no prefetch); on a loaded machine one node
# may take them all, and then 4 one-second sleep jobs (more than one node's 2 slots) do.
alice_map_spread() {
  local before=$1
  as alice map echo ::: "${items[@]}"
  map_rc=$rc map_out=$out
  spread_of "$before"
  if ! grep -q 'nodeA=' <<<"$spread" || ! grep -q 'nodeB=' <<<"$spread"; then
    echo "note: the echo jobs ran on '$spread' only; 4 sleep jobs of 1 s to see both nodes work"
    as alice map sleep ::: 1 1 1 1
    [ "$rc" -eq 0 ] || echo "note: map sleep: exit $rc: $err"
    spread_of "$before"
  fi
}
spread_of() {
  as ops jobs
  spread=$({ job_rows echo; job_rows sleep; } |
    awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen) { print $2 }' <(echo "$1") - |
    sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
}
alice_map_spread ""
if [ "$map_rc" -eq 0 ] && [ "$map_out" = "$want_results" ]; then
  pass "1a. alice's map echo ::: 1..20 from the client namespace: exit 0, all 20 results in order"
else
  fail "1a. alice's map echo: exit $map_rc; got $(wc -l <<<"$map_out") lines: ${map_out:0:300}"
fi
as ops workers
if [ "$rc" -eq 0 ] && [ "$(awk 'NR > 1 { print $1 }' <<<"$out" | sort | tr '\n' ' ')" = "nodeA nodeB " ]; then
  pass "1b. netpool workers (ops, admin) lists nodeA and nodeB: $(awk 'NR > 1 { print $1 "=" $2 }' <<<"$out" | tr '\n' ' ')"
else
  fail "1b. netpool workers (ops): exit $rc: $out $err"
fi
if grep -q 'nodeA=' <<<"$spread" && grep -q 'nodeB=' <<<"$spread"; then
  pass "1c. netpool jobs (ops) shows alice's jobs ran on both nodes: $spread"
else
  fail "1c. alice's jobs did not run on both nodes: '$spread'"
fi

# --- 2. refused clients -------------------------------------------------------------------
as - stats
expect_refused "2a. a client without a token is refused" 77 "no token"
as bogus stats
expect_refused "2b. a client with an unknown token is refused" 77 "not valid"
as nodeA submit echo x
expect_refused "2c. a client with a worker token cannot submit" 77 "has role worker"
as alice workers
expect_refused "2d. a client token cannot list workers (admin only)" 77 "needs role admin"
np "$ns_client" alice --scheduler "$sched" stats
expect_refused "2e. plaintext (no --tls-ca) to the TLS port fails" 69 "unavailable"
np "$ns_client" alice --scheduler "$sched" --tls-ca "$scratch/other-pki/ca.pem" stats
expect_refused "2f. a client trusting another CA fails the handshake" 69 "unavailable"

# --- 3. nodes without a worker credential cannot join --------------------------------------
start_node "$ns_client" rogue-notoken --scheduler "$sched" --name nodeC
start_node "$ns_client" rogue-clienttoken --scheduler "$sched" --token-file "$secrets/alice" \
  --name alice
# --- 5. a rogue node with nodeA's name (started now, checked below) -------------------------
nodeA_id_before=$(worker_id "$sched" nodeA)
start_node "$ns_client" rogue-nodeB-as-nodeA --scheduler "$sched" \
  --token-file "$secrets/nodeB" --name nodeA
start_node "$ns_client" rogue-stolen-nodeA --scheduler "$sched" \
  --token-file "$secrets/nodeA" --name nodeA

# refused_node NAME LOG MESSAGE NAME_IN_WORKERS: the node logged MESSAGE and is not listed.
refused_node() {
  local name=$1 log=$2 message=$3 node_name=$4
  if wait_for 15 log_has "$log" "$message"; then
    local count
    count=$(count_workers "$sched" "$node_name")
    if [ "$count" -eq 0 ]; then
      pass "$name (not in workers; node log: $(grep -m1 -o 'cannot connect.*' "$scratch/logs/$log.err"))"
    else
      fail "$name: the node logged '$message' but $node_name is listed $count times: $out"
    fi
  else
    fail "$name: no '$message' in the node's log within 15 s: $(tail -n3 "$scratch/logs/$log.err")"
  fi
}
refused_node "3a. a node without a token cannot join" rogue-notoken \
  "UNAUTHENTICATED: no token" nodeC
refused_node "3b. a node with a client token (alice) cannot join" rogue-clienttoken \
  "PERMISSION_DENIED: alice has role client" alice

# --- 4. bob and alice's jobs ----------------------------------------------------------------
as alice submit echo alice-secret
done_job=$out done_rc=$rc done_err=$err
as alice submit sleep 25
running_job=$out
if [[ "$done_job" =~ ^j-[A-Za-z0-9]+$ ]] && [[ "$running_job" =~ ^j-[A-Za-z0-9]+$ ]]; then
  as alice wait "$done_job" --timeout 20
  as bob status "$done_job"
  expect_refused "4a. bob cannot see the status of alice's job" 77 "another identity"
  as bob get "$done_job"
  expect_refused "4b. bob cannot get alice's result" 77 "another identity"
  as bob cancel "$running_job"
  expect_refused "4c. bob cannot cancel alice's job" 77 "another identity"
  as bob jobs
  if [ "$rc" -eq 0 ] && ! grep -q -e "$done_job" -e "$running_job" <<<"$out"; then
    pass "4d. netpool jobs as bob does not list alice's jobs ($(($(wc -l <<<"$out") - 1)) rows)"
  else
    fail "4d. netpool jobs as bob: exit $rc: $out $err"
  fi
  as alice jobs
  if [ "$rc" -eq 0 ] && grep -q "$done_job" <<<"$out" && grep -q "$running_job" <<<"$out"; then
    pass "4e. netpool jobs as alice lists both of her jobs"
  else
    fail "4e. netpool jobs as alice: exit $rc: $out $err"
  fi
  as alice get "$done_job" --timeout 20
  if [ "$rc" -eq 0 ] && [ "$out" = '["alice-secret"]' ]; then
    pass "4f. alice gets her result: $out"
  else
    fail "4f. alice get: exit $rc: $out $err"
  fi
  as alice status "$running_job"
  if [ "$rc" -eq 0 ] && grep -Eq "$running_job"$'\t'"(PENDING|RUNNING)" <<<"$out"; then
    pass "4g. alice's job survived bob's cancel: $(tr '\t' ' ' <<<"$out")"
  else
    fail "4g. alice status after bob's cancel: exit $rc: $out $err"
  fi
  as alice cancel "$running_job"
  if [ "$rc" -eq 0 ] && grep -q "CANCELLED" <<<"$out"; then
    pass "4h. alice cancels her own job: $(tr '\t' ' ' <<<"$out")"
  else
    fail "4h. alice cancel: exit $rc: $out $err"
  fi
else
  fail "4. alice's submissions did not print job ids: '$done_job' (exit $done_rc: $done_err)" \
    "'$running_job' (exit $rc: $err)"
fi

# --- 5. rogue nodes named nodeA -----------------------------------------------------------
if wait_for 15 log_has rogue-nodeB-as-nodeA "does not belong to credential"; then
  pass "5a. nodeB's token with --name nodeA is refused ($(grep -m1 -o 'PERMISSION_DENIED.*' "$scratch/logs/rogue-nodeB-as-nodeA.err"))"
else
  fail "5a. nodeB's token with --name nodeA: not refused within 15 s: $(tail -n3 "$scratch/logs/rogue-nodeB-as-nodeA.err")"
fi
if wait_for 15 log_has rogue-stolen-nodeA "already connected"; then
  pass "5b. nodeA's stolen token with --name nodeA while nodeA is live is refused ($(grep -m1 -o 'ALREADY_EXISTS.*' "$scratch/logs/rogue-stolen-nodeA.err"))"
else
  fail "5b. stolen nodeA token: not refused within 15 s: $(tail -n3 "$scratch/logs/rogue-stolen-nodeA.err")"
fi
nodeA_count=$(count_workers "$sched" nodeA)
nodeA_id_after=$(worker_id "$sched" nodeA)
if [ "$nodeA_count" -eq 1 ] && [ -n "$nodeA_id_before" ] && [ "$nodeA_id_after" = "$nodeA_id_before" ] &&
  kill -0 "$nodeA_pid" 2>/dev/null; then
  pass "5c. workers lists nodeA once, still the real one (id $nodeA_id_after)"
else
  fail "5c. nodeA listed $nodeA_count times, id '$nodeA_id_before' -> '$nodeA_id_after'"
fi
alice_map_spread "$(job_ids)"
if [ "$map_rc" -eq 0 ] && [ "$map_out" = "$want_results" ] && grep -q 'nodeA=' <<<"$spread"; then
  pass "5d. after the rogue attempts a 20-item map completes; the new jobs ran on: $spread"
else
  fail "5d. map after the rogue attempts: exit $map_rc, $(wc -l <<<"$map_out") lines; new jobs on: '$spread'"
fi
if log_has nodeA "cannot connect\|disconnected\|lost"; then
  fail "5e. the real nodeA's log shows trouble: $(grep -m3 'cannot connect\|disconnected\|lost' "$scratch/logs/nodeA.err")"
else
  pass "5e. the real nodeA's log shows no disconnection"
fi

# --- 6. mutual TLS ------------------------------------------------------------------------
start_node "$ns_a" mtls-nocert --scheduler "$sched_mtls" --token-file "$secrets/nodeA" \
  --name nodeA
if wait_for 15 log_has mtls-nocert "only with a certificate"; then
  if [ "$(count_workers "$sched_mtls" nodeA)" -eq 0 ]; then
    pass "6a. with --tls-client-ca, nodeA's token without a certificate cannot join ($(grep -m1 -o 'UNAUTHENTICATED.*only with a certificate' "$scratch/logs/mtls-nocert.err"))"
  else
    fail "6a. the node without a certificate is listed: $out"
  fi
else
  fail "6a. node without a certificate: not refused within 15 s: $(tail -n3 "$scratch/logs/mtls-nocert.err")"
fi
kill -TERM "$last_pid" 2>/dev/null
start_node "$ns_b" mtls-wrongcert --scheduler "$sched_mtls" --token-file "$secrets/nodeA" \
  --tls-cert "$pki/nodeB.pem" --tls-key "$pki/nodeB.key" --name nodeA
start_node "$ns_a" mtls-nodeA --scheduler "$sched_mtls" --token-file "$secrets/nodeA" \
  --tls-cert "$pki/nodeA.pem" --tls-key "$pki/nodeA.key" --name nodeA
if wait_for 15 log_has mtls-wrongcert "does not belong to credential"; then
  pass "6b. nodeB's certificate with --name nodeA is refused ($(grep -m1 -o 'PERMISSION_DENIED.*' "$scratch/logs/mtls-wrongcert.err"))"
else
  fail "6b. nodeB's certificate with --name nodeA: not refused within 15 s: $(tail -n3 "$scratch/logs/mtls-wrongcert.err")"
fi
if wait_for 15 worker_listed "$sched_mtls" nodeA; then
  np "$ns_client" alice --scheduler "$sched_mtls" --tls-ca "$ca" map echo ::: m1 m2 m3
  if [ "$rc" -eq 0 ] && [ "$out" = $'["m1"]\n["m2"]\n["m3"]' ] &&
    [ "$(count_workers "$sched_mtls" nodeA)" -eq 1 ]; then
    pass "6c. nodeA with its certificate and token joins the mTLS scheduler (listed once) and runs alice's map"
  else
    fail "6c. mTLS map: exit $rc: $out $err"
  fi
else
  fail "6c. nodeA with its certificate did not join the mTLS scheduler within 15 s: $(tail -n3 "$scratch/logs/mtls-nodeA.err")"
fi

# --- 7. no commands on nodes that did not opt in --------------------------------------------
as ops workers
offers_exec=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["FUNCTIONS"] ~ /(^|,)exec(,|$)/ { print $1 }' <<<"$out")
as alice exec -- /bin/true
if [ "$rc" -ne 0 ] && [ -z "$offers_exec" ] && grep -q "exec" <<<"$err"; then
  pass "7. without --allow-exec no node offers exec; alice's exec from the client namespace: exit $rc ($(grep -m1 exec <<<"$err"))"
else
  fail "7. exec on nodes without --allow-exec: exit $rc, nodes offering exec: '$offers_exec'; $out $err"
fi

# --- the schedulers are still up ----------------------------------------------------------
if kill -0 "$netpoold_pid" 2>/dev/null; then
  pass "8. netpoold is still running after all of it"
else
  fail "8. netpoold exited"
fi

echo "$passes passed, $failures failed in $((SECONDS - start_time)) s"
if [ "$failures" -ne 0 ]; then
  show_logs=yes
  exit 1
fi
exit 0
