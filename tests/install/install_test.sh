#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds the examples against it
# as a separate CMake project would: find_package(netpool CONFIG), target
# netpool::netpool. Also checks the three programs land in bin/ with their man
# pages and shell completion, and that the completion completes.
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

share=$scratch/prefix/share
for program in netpoold netpool-worker netpool; do
  grep -q "^\.TH ${program^^} \"1\"" "$share/man/man1/$program.1" || { echo "no man page $program.1"; exit 1; }
  [ -e "$share/bash-completion/completions/$program" ] || { echo "no bash completion for $program"; exit 1; }
done
grep -q '^\.SS map' "$share/man/man1/netpool.1" || { echo "netpool.1 lacks the subcommands"; exit 1; }
grep -q 'chunksize' "$share/man/man1/netpool.1" || { echo "netpool.1 lacks map's flags"; exit 1; }

# What bash offers after TAB, from the installed completion and programs.
complete_words() {
  PATH="$scratch/prefix/bin:$PATH" bash -c '
    source "$1/bash-completion/completions/$2"; shift 2
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _netpool; echo "${COMPREPLY[*]}"' _ "$share" "$@"
}
[ "$(complete_words netpool netpool ma)" = map ] || { echo "bash: netpool ma<TAB>"; exit 1; }
[ "$(complete_words netpool netpool --scheduler h:1 map --chunk)" = --chunksize ] ||
  { echo "bash: netpool map --chunk<TAB>: $(complete_words netpool netpool map --chunk)"; exit 1; }
[ "$(complete_words netpoold netpoold --tls-k)" = --tls-key ] || { echo "bash: netpoold --tls-k<TAB>"; exit 1; }
[ "$(complete_words netpool-worker netpool-worker --proc)" = --processes ] ||
  { echo "bash: netpool-worker --proc<TAB>"; exit 1; }
if command -v zsh >/dev/null; then
  zsh -n "$share/zsh/vendor-completions/_netpool" || { echo "zsh completion does not parse"; exit 1; }
fi

cmake -S "$source/examples" -B "$scratch/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
ninja -C "$scratch/consumer" crunch_image local_squares >/dev/null
[ -x "$scratch/consumer/crunch_image" ] || { echo "consumer build made no program"; exit 1; }
# Pool::Local links the embedded scheduler from the installed libraries.
[ "$("$scratch/consumer/local_squares" | tail -1)" = 25 ] || { echo "local_squares failed"; exit 1; }
echo "install and find_package(netpool) consumer build: ok"
