#!/usr/bin/env bash
# End to end, opt-in (not in ctest: it downloads ~100 MB of Debian packages and needs root):
# builds the image with deploy/container/build-image.sh, brings up deploy/compose.yaml under
# podman-compose, runs `netpool map` inside the netpoold container and from the host through
# the published port, checks the results and the health check, and tears everything down.
#   tests/deploy/container_test.sh BUILD_DIR
# Where podman cannot run containers, it says why and runs the same image's files instead:
# the rootfs unpacked, netpoold and two nodes started in it with chroot as the image's user,
# the same map. NETPOOL_TEST_CHROOT=1 goes straight there; NETPOOL_TEST_NO_BUILD=1 reuses
# localhost/netpool:latest and the rootfs tarball NETPOOL_ROOTFS_TAR from an earlier build.
# Needs podman, podman-compose (and the CNI dnsname plugin, so that nodes find `netpoold`),
# mmdebstrap.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:?usage: container_test.sh BUILD_DIR}" && pwd)
host_cli=$build_dir/client/netpool
project=netpooltest
scratch=$(mktemp -d)
rootfs_tar=${NETPOOL_ROOTFS_TAR:-$scratch/rootfs.tar}
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# Commands the cleanup runs, the last added first.
cleanup_steps=()
cleanup() {
  local i
  for ((i = ${#cleanup_steps[@]} - 1; i >= 0; i--)); do eval "${cleanup_steps[i]}" || true; done
  rm -rf --one-file-system "$scratch"  # never into a /dev left mounted
}
trap cleanup EXIT

if [ "${NETPOOL_TEST_NO_BUILD:-}" != 1 ]; then
  NETPOOL_ROOTFS_TAR=$rootfs_tar "$source_dir/deploy/container/build-image.sh" "$build_dir"
fi
[ -s "$rootfs_tar" ] || fail "no rootfs tarball at $rootfs_tar"

# check_map OUTPUT: the results of `map echo 1 2 3`, in order.
check_map() {
  [ "$1" = $'[1]\n[2]\n[3]' ] || fail "map echo 1 2 3 printed: $1"
}

# --- podman --------------------------------------------------------------------------------
# podman's defaults ask for more than a host that is itself a container may grant: a
# containers.conf of our own adjusts them, each when a first container fails for it.
podman_works() {
  podman run --rm localhost/netpool:latest netpoold --version >"$scratch/probe" 2>&1
}
podman_ready() {
  podman_works && return 0
  export CONTAINERS_CONF=$scratch/containers.conf
  # podman's default limits (nofile, nproc) are above this host's hard limits.
  if grep -q setrlimit "$scratch/probe"; then
    echo "podman: $(tail -1 "$scratch/probe"); retrying with this host's limits"
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' \
      "$(ulimit -Hn)" "$(ulimit -Hn)" >>"$CONTAINERS_CONF"
    podman_works && return 0
  fi
  # crun refuses cgroup v1 hybrid hosts; runc does not.
  if grep -q "hybrid mode" "$scratch/probe" && command -v runc >/dev/null; then
    echo "podman: $(tail -1 "$scratch/probe"); retrying with runc"
    printf '[engine]\nruntime = "runc"\n' >>"$CONTAINERS_CONF"
    podman_works && return 0
  fi
  return 1
}

compose() { podman-compose -p "$project" -f "$source_dir/deploy/compose.yaml" "$@"; }

# Waits up to $1 seconds for "$@" (after $1) to succeed.
eventually() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}

# Down, with the anonymous volumes that the image's VOLUME gave the nodes and the tokens step
# (`down -v` leaves them), and the project's network.
podman_down() {
  local volumes=() container
  for container in $(podman ps -aq --filter label=io.podman.compose.project=$project); do
    volumes+=($(podman inspect "$container" --format '{{range .Mounts}}{{.Name}} {{end}}'))
  done
  compose down -v >/dev/null 2>&1
  [ ${#volumes[@]} -eq 0 ] || podman volume rm "${volumes[@]}" >/dev/null 2>&1
  podman network rm "${project}_default" >/dev/null 2>&1
}

two_nodes() {
  [ "$("$@" workers | grep -c '^nodes/')" -eq 2 ]
}

test_with_podman() {
  local netpoold=${project}_netpoold_1
  cleanup_steps+=(podman_down)
  compose up -d >"$scratch/up.log" 2>&1 || { cat "$scratch/up.log" >&2; fail "compose up"; }
  ok "compose up: $(podman ps --filter label=io.podman.compose.project=$project --format '{{.Names}}' | tr '\n' ' ')"
  eventually 60 podman healthcheck run "$netpoold" || fail "netpoold's health check (/healthz) never passed"
  ok "netpoold's health check passes"
  eventually 60 two_nodes podman exec "$netpoold" netpool --token-file /var/lib/netpool/admin.token ||
    fail "two nodes did not join: $(podman logs ${project}_worker-1_1 2>&1 | tail -1)"
  ok "both nodes joined with the shared worker token"
  check_map "$(timeout 60 podman exec "$netpoold" netpool --token-file /run/netpool/client.token map echo 1 2 3)"
  ok "map echo 1 2 3 in the netpoold container"
  podman cp "$netpoold:/run/netpool/client.token" "$scratch/client.token"
  chmod 600 "$scratch/client.token"
  check_map "$(timeout 60 "$host_cli" --scheduler 127.0.0.1:7340 --token-file "$scratch/client.token" map echo 1 2 3)"
  ok "map echo 1 2 3 from the host through the published port 7340"
  local status=0
  timeout 30 env -u NETPOOL_TOKEN "$host_cli" --scheduler 127.0.0.1:7340 map echo 1 >/dev/null 2>&1 || status=$?
  [ $status -eq 77 ] || fail "a call without a token: exit $status, want 77 (UNAUTHENTICATED)"
  ok "a call without a token is refused (exit 77)"
}

# --- chroot fallback -----------------------------------------------------------------------
# as_image COMMAND...: COMMAND in the unpacked rootfs as the image runs it: its user, its
# PATH, its working directory, nothing from this host but /dev and /proc. An array, not a
# function, so that `timeout as_image...` works and `$!` of `as_image... &` is the program.
as_image=(chroot --userspec=10001:10001 "$scratch/rootfs" env -i --chdir=/var/lib/netpool
  PATH=/usr/local/bin:/usr/bin:/bin HOME=/var/lib/netpool)

test_with_chroot() {
  local root=$scratch/rootfs
  mkdir "$root"
  tar -C "$root" -xf "$rootfs_tar"
  mount --bind /dev "$root/dev" && cleanup_steps+=("umount --lazy $root/dev")
  mount -t proc proc "$root/proc" && cleanup_steps+=("umount --lazy $root/proc")
  "${as_image[@]}" sh -c 'umask 077 && make-token.sh worker nodes /run/netpool-worker/token >/run/netpool/tokens &&
    make-token.sh client demo /run/netpool/client.token >>/run/netpool/tokens'
  # Loopback, so no --insecure: the ports are this host's.
  local listen=127.0.0.1:27340 http=127.0.0.1:27341 pids=()
  "${as_image[@]}" netpoold --listen=$listen --http=$http --data=/var/lib/netpool \
    --token-file=/run/netpool/tokens >"$scratch/netpoold.log" 2>&1 &
  pids+=($!)
  for node in 1 2; do
    "${as_image[@]}" netpool-worker --scheduler=$listen --token-file=/run/netpool-worker/token \
      --processes=2 >"$scratch/worker-$node.log" 2>&1 &
    pids+=($!)
  done
  cleanup_steps+=("kill ${pids[*]}; wait")
  eventually 30 "${as_image[@]}" http-probe $http /healthz || fail "/healthz: $(cat "$scratch/netpoold.log")"
  ok "netpoold from the image's files answers /healthz"
  eventually 60 two_nodes "${as_image[@]}" netpool --scheduler=$listen --token-file=/var/lib/netpool/admin.token ||
    fail "two nodes did not join: $(tail -1 "$scratch/worker-1.log")"
  ok "both nodes joined with the shared worker token"
  check_map "$(timeout 60 "${as_image[@]}" netpool --scheduler=$listen --token-file=/run/netpool/client.token map echo 1 2 3)"
  ok "map echo 1 2 3 with the image's netpool"
}

if [ "${NETPOOL_TEST_CHROOT:-}" != 1 ] && podman_ready; then
  test_with_podman
  echo "PASS (podman)"
else
  [ "${NETPOOL_TEST_CHROOT:-}" = 1 ] || echo "podman cannot run containers here: $(tail -1 "$scratch/probe")"
  test_with_chroot
  echo "PASS (chroot of the image's rootfs)"
fi
