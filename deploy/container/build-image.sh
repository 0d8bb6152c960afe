#!/usr/bin/env bash
# build-image.sh [BUILD_DIR]: the container image localhost/netpool:VERSION (and :latest).
#
# A Debian 12 base made here with mmdebstrap (nothing is pulled from a registry): the
# essential packages, the shared libraries that netpoold, netpool-worker and netpool load
# (found with ldd, mapped to their packages with dpkg -S), openssl for make-token.sh, and
# the three programs from `cmake --install BUILD_DIR`. No entrypoint: the command names the
# program. Runs as user netpool (10001); /var/lib/netpool, its home, is a volume; secrets go
# in /run/netpool (netpoold's) and /run/netpool-worker (a node's), both that user's, mode 700.
#   deploy/container/build-image.sh build/release      # after scripts/build.sh
# Needs root, mmdebstrap and podman, and downloads ~100 MB of Debian packages.
# Env: NETPOOL_IMAGE (default localhost/netpool), NETPOOL_ROOTFS_TAR=FILE keeps the rootfs
# tarball there (the container test's chroot fallback unpacks it), DEBIAN_MIRROR.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:-$source_dir/build/release}" && pwd)
image=${NETPOOL_IMAGE:-localhost/netpool}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org}
for tool in mmdebstrap podman cmake ldd dpkg; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool not found" >&2; exit 1; }
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
stage=$scratch/stage
cmake --install "$build_dir" --prefix "$stage" >/dev/null
programs=("$stage/bin/netpoold" "$stage/bin/netpool-worker" "$stage/bin/netpool")
version=$("$stage/bin/netpoold" --version | awk '{print $NF}')

# The packages that own every library the programs load, on this (Debian 12) build host.
libraries=$(ldd "${programs[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
packages=$(for lib in $libraries; do
  dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" ||
    { echo "build-image.sh: no package owns $lib" >&2; exit 1; }
done | cut -d: -f1 | sort -u | paste -sd, -)
echo "runtime packages: $packages"

mkdir -p "$scratch/bin"
cp "${programs[@]}" "$source_dir/deploy/make-token.sh" "$source_dir/deploy/container/http-probe" \
  "$scratch/bin/"
rootfs=${NETPOOL_ROOTFS_TAR:-$scratch/rootfs.tar}
# Docs, man pages and translations are of no use in the image. mmdebstrap would empty /run
# after the hooks; the hooks do that themselves, so that the secrets' directories stay.
mmdebstrap --variant=essential --include="$packages,openssl" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="sync-in $scratch/bin /usr/local/bin" \
  --customize-hook='echo "netpool:x:10001:10001:netpool:/var/lib/netpool:/usr/sbin/nologin" >>"$1/etc/passwd"' \
  --customize-hook='echo "netpool:x:10001:" >>"$1/etc/group"' \
  --customize-hook='install -d -m 700 -o 10001 -g 10001 "$1/var/lib/netpool"' \
  --skip=cleanup/run \
  --customize-hook='find "$1/run" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +' \
  --customize-hook='install -d -m 700 -o 10001 -g 10001 "$1/run/netpool" "$1/run/netpool-worker"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$rootfs" \
  "deb $mirror/debian bookworm main" \
  "deb $mirror/debian bookworm-updates main" \
  "deb $mirror/debian-security bookworm-security main"

# podman import takes Dockerfile instructions, one value per --change.
podman import \
  --change 'USER netpool' \
  --change 'WORKDIR /var/lib/netpool' \
  --change 'VOLUME /var/lib/netpool' \
  --change 'EXPOSE 7340' --change 'EXPOSE 7341' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'CMD ["netpoold", "--help"]' \
  --message "netpool $version" \
  "$rootfs" "$image:$version" >/dev/null
podman tag "$image:$version" "$image:latest"
echo "$image:$version $image:latest"
