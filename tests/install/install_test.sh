#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds the examples against it
# as a separate CMake project would: find_package(netpool CONFIG), target
# netpool::netpool. Also checks the three programs land in bin/.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
for program in netpoold netpool-worker netpool; do
  [ -x "$scratch/prefix/bin/$program" ] || { echo "missing bin/$program"; exit 1; }
done
"$scratch/prefix/bin/netpool" --help >/dev/null

cmake -S "$source/examples" -B "$scratch/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
ninja -C "$scratch/consumer" crunch_image local_squares >/dev/null
[ -x "$scratch/consumer/crunch_image" ] || { echo "consumer build made no program"; exit 1; }
# Pool::Local links the embedded scheduler from the installed libraries.
[ "$("$scratch/consumer/local_squares" | tail -1)" = 25 ] || { echo "local_squares failed"; exit 1; }
echo "install and find_package(netpool) consumer build: ok"
