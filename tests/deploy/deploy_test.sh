#!/usr/bin/env bash
# Checks deploy/: make-certs.sh and make-token.sh (what they write, modes, refusals) and
# the systemd units (settings that must stay, `systemd-analyze verify` in a scratch root
# with dummy binaries, `systemd-analyze security --offline` scores). Without systemd-analyze
# the unit checks that need it are skipped and the rest still has to pass.
#   deploy_test.sh   (from anywhere; finds deploy/ next to tests/)
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
deploy=$source_dir/deploy
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# expect_status WANT DESCRIPTION COMMAND...: COMMAND exits with WANT.
expect_status() {
  local want=$1 what=$2 got=0
  shift 2
  "$@" >"$scratch/out" 2>&1 || got=$?
  if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
    fail "$what: exit $got, want $want"; cat "$scratch/out" >&2
  fi
}
mode_of() { stat -c %a "$1"; }
not() { ! "$@"; }

command -v openssl >/dev/null || { echo "FAIL: openssl not found" >&2; exit 1; }

# --- make-certs.sh -------------------------------------------------------------------------
pki=$scratch/pki
"$deploy/make-certs.sh" ca "$pki" >/dev/null
"$deploy/make-certs.sh" server "$pki" 127.0.0.1 localhost >/dev/null
"$deploy/make-certs.sh" node "$pki" node-1 >/dev/null
for f in ca.pem ca.key server.pem server.key node-1.pem node-1.key; do
  [ -f "$pki/$f" ] || fail "make-certs.sh wrote no $f"
done
for key in ca.key server.key node-1.key; do
  [ "$(mode_of "$pki/$key")" = 600 ] || fail "$key is mode $(mode_of "$pki/$key"), want 600"
done
ok "certificates and keys written, keys mode 600"
[ -z "$(find "$pki" -name '.*' -type f)" ] || fail "make-certs.sh left temporary files in $pki"

verify() { openssl verify -CAfile "$pki/ca.pem" "$@" >"$scratch/out" 2>&1; }
# check DESCRIPTION COMMAND...: COMMAND succeeds.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
check "server certificate verifies against the CA (serverAuth)" verify -purpose sslserver "$pki/server.pem"
check "node certificate verifies against the CA (clientAuth)" verify -purpose sslclient "$pki/node-1.pem"
# gRPC checks the subjectAltName, not the CN: the names must be there as SAN entries.
check "server certificate matches IP 127.0.0.1" verify -purpose sslserver -verify_ip 127.0.0.1 "$pki/server.pem"
check "server certificate matches DNS localhost" \
  verify -purpose sslserver -verify_hostname localhost "$pki/server.pem"
san=$(openssl x509 -in "$pki/server.pem" -noout -ext subjectAltName)
check "server subjectAltName has IP Address:127.0.0.1 ($(tail -1 <<<"$san" | sed 's/^ *//'))" \
  grep -q 'IP Address:127.0.0.1' <<<"$san"
check "an address not in the SAN is refused" \
  not verify -purpose sslserver -verify_ip 10.9.9.9 "$pki/server.pem"
check "a node certificate is no server certificate" not verify -purpose sslserver "$pki/node-1.pem"
check "node certificate has CN=node-1" \
  grep -q 'CN *= *node-1' <<<"$(openssl x509 -in "$pki/node-1.pem" -noout -subject)"

expect_status 64 "make-certs.sh without arguments is refused" "$deploy/make-certs.sh"
expect_status 64 "make-certs.sh with an unknown command is refused" "$deploy/make-certs.sh" bogus "$pki"
expect_status 64 "make-certs.sh refuses a node name with a slash" "$deploy/make-certs.sh" node "$pki" a/b
expect_status 64 "make-certs.sh refuses a server name with a comma" "$deploy/make-certs.sh" server "$scratch/x" a,DNS:b
expect_status 73 "make-certs.sh does not overwrite the CA" "$deploy/make-certs.sh" ca "$pki"

# --- make-token.sh -------------------------------------------------------------------------
secret=$scratch/worker.token
line=$("$deploy/make-token.sh" worker node-1 "$secret")
read -r role name digest rest <<<"$line"
check "token line starts with 'worker node-1' ($line)" \
  test "$role $name ${rest:-}" = "worker node-1 "
want="sha256:$(sha256sum <"$secret" | cut -d' ' -f1)"
check "token line's digest is sha256 of the secret file" test "$digest" = "$want"
check "secret file holds one 64-hex token, no newline" \
  test "$(grep -Ec '^[0-9a-f]{64}$' "$secret")/$(wc -c <"$secret")" = 1/64
check "secret file is mode 600" test "$(mode_of "$secret")" = 600
before=$(cat "$secret")
expect_status 73 "make-token.sh does not overwrite an existing file" "$deploy/make-token.sh" worker node-1 "$secret"
check "the existing secret file is unchanged" test "$(cat "$secret")" = "$before"
expect_status 64 "make-token.sh refuses role 'root'" "$deploy/make-token.sh" root node-1 "$scratch/t1"
expect_status 64 "make-token.sh refuses a name with a space" "$deploy/make-token.sh" client "a b" "$scratch/t2"
expect_status 64 "make-token.sh refuses a missing argument" "$deploy/make-token.sh" client alice
check "a refused make-token.sh writes no file" not test -e "$scratch/t1" -o -e "$scratch/t2"

# --- systemd units: settings that must stay ------------------------------------------------
units=$deploy/systemd
common_settings=(
  DynamicUser=yes UMask=0077 NoNewPrivileges=yes CapabilityBoundingSet= AmbientCapabilities=
  PrivateUsers=yes RestrictSUIDSGID=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes
  InaccessiblePaths=-/etc/netpool
  PrivateDevices=yes DevicePolicy=closed ProtectKernelTunables=yes ProtectKernelModules=yes
  ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes
  ProtectProc=invisible PrivateMounts=yes PrivateIPC=yes RemoveIPC=yes LockPersonality=yes
  RestrictRealtime=yes RestrictNamespaces=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"
  SystemCallArchitectures=native SystemCallFilter=@system-service SystemCallErrorNumber=EPERM
)
netpoold_settings=(
  "${common_settings[@]}" StateDirectory=netpool StateDirectoryMode=0700 ProcSubset=pid
  MemoryDenyWriteExecute=yes "SystemCallFilter=~@privileged @resources" IPAddressDeny=any
  IPAddressAllow=localhost "ExecReload=/bin/kill -HUP \$MAINPID" RestartPreventExitStatus=64
  "ExecStart=/usr/local/bin/netpoold --listen 127.0.0.1:7340 --data /var/lib/netpool --token-file %d/tokens"
  LoadCredential=tokens:/etc/netpool/tokens
)
worker_settings=(
  "${common_settings[@]}" "SystemCallFilter=~@privileged" KillMode=mixed
  "ExecStart=/usr/local/bin/netpool-worker --scheduler 127.0.0.1:7340 --token-file %d/token --grace 30"
  LoadCredential=token:/etc/netpool/worker.token "RestartPreventExitStatus=64 243"
)
# require_settings UNIT SETTING...: each SETTING is a line of UNIT exactly.
require_settings() {
  local unit=$1 setting missing=0
  shift
  for setting in "$@"; do
    grep -qxF -- "$setting" "$units/$unit" || { fail "$unit lacks '$setting'"; missing=1; }
  done
  [ "$missing" -eq 1 ] || ok "$unit has its ${#} required settings"
}
require_settings netpoold.service "${netpoold_settings[@]}"
require_settings netpool-worker.service "${worker_settings[@]}"
if grep -v '^[[:space:]]*#' "$units/netpool-worker.service" | grep -q -- '--allow-exec'; then
  fail "netpool-worker.service enables --allow-exec"
else
  ok "netpool-worker.service leaves exec jobs off"
fi

# The commented network examples, uncommented: TLS, tokens and credentials.
network_variant() {
  sed -e 's/^#\(ExecStart=\|LoadCredential=\|IPAddressAllow=\|    --\)/\1/' "$units/$1"
}
network_variant netpoold.service >"$scratch/netpoold-network.service"
network_variant netpool-worker.service >"$scratch/netpool-worker-network.service"
check "netpoold.service has a TLS example" grep -qx -- \
  '    --token-file %d/tokens --tls-cert %d/server.pem --tls-key %d/server.key' \
  "$scratch/netpoold-network.service"
check "netpoold.service's TLS example loads the key as a credential" \
  grep -qx 'LoadCredential=server.key:/etc/netpool/server.key' "$scratch/netpoold-network.service"
check "netpool-worker.service has a remote scheduler example" grep -qx -- \
  '    --token-file %d/token --tls-ca %d/ca.pem' "$scratch/netpool-worker-network.service"
check "netpool-worker.service's example loads the CA as a credential" \
  grep -qx 'LoadCredential=ca.pem:/etc/netpool/ca.pem' "$scratch/netpool-worker-network.service"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "skip: systemd-analyze not found: units not verified or scored"
  [ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
  echo "deploy scripts: ok"
  exit 0
fi

# --- systemd-analyze verify, in a scratch root ---------------------------------------------
# verify checks that every Exec binary exists and that the units a service needs by default
# are there: the root gets dummy executables at the ExecStart/ExecReload paths and empty stub
# targets for the default dependencies.
root=$scratch/root
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd/system"
ln -s usr/bin "$root/bin"
for program in usr/local/bin/netpoold usr/local/bin/netpool-worker usr/bin/kill; do
  printf '#!/bin/sh\nexit 0\n' >"$root/$program"
  chmod 755 "$root/$program"
done
for target in sysinit basic shutdown network network-online multi-user; do
  printf '[Unit]\nDescription=stub %s\n' "$target" >"$root/usr/lib/systemd/system/$target.target"
done
cp "$units/netpoold.service" "$units/netpool-worker.service" "$scratch/netpoold-network.service" \
  "$scratch/netpool-worker-network.service" "$root/etc/systemd/system/"
for unit in netpoold.service netpool-worker.service netpoold-network.service netpool-worker-network.service; do
  status=0
  output=$(systemd-analyze verify --man=no --root="$root" "$root/etc/systemd/system/$unit" 2>&1) || status=$?
  if [ "$status" -eq 0 ] && [ -z "$output" ]; then ok "systemd-analyze verify $unit: clean"; else
    fail "systemd-analyze verify $unit: exit $status"; echo "$output" >&2
  fi
done

# --- systemd-analyze security --offline ----------------------------------------------------
# score FILE: the "Overall exposure level" of FILE, e.g. 0.9.
score() {
  systemd-analyze security --offline=true "$1" 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p'
}
# expect_score FILE MAX
expect_score() {
  local value
  value=$(score "$1")
  if [ -z "$value" ]; then fail "no exposure level for ${1##*/}"; return; fi
  if awk -v v="$value" -v max="$2" 'BEGIN { exit !(v <= max) }'; then
    ok "systemd-analyze security ${1##*/}: $value (at most $2)"
  else
    fail "systemd-analyze security ${1##*/}: $value, want at most $2"
  fi
}
expect_score "$units/netpoold.service" 3.0
expect_score "$scratch/netpoold-network.service" 3.0
# The worker runs users' jobs and has some protections off (see the unit); a unit that lost
# its hardening scores above 8.
expect_score "$units/netpool-worker.service" 3.0
expect_score "$scratch/netpool-worker-network.service" 3.0

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "deploy scripts: ok"
