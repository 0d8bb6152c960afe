#!/bin/sh
# make-token.sh ROLE NAME SECRET_FILE: a new bearer token for netpool.
#
# Writes a random token (openssl rand -hex 32) alone, with no newline, to SECRET_FILE
# (mode 0600; an existing file is never overwritten) and prints the line for netpoold's
# token file, which holds only the token's SHA-256:
#     ROLE NAME sha256:<64 hex>
# ROLE is client, worker or admin; NAME is 1 to 64 of [A-Za-z0-9_.@-]. A worker token
# named N lets a node use --name N or N/anything.
#
#   make-token.sh worker node-1 /etc/netpool/worker.token >>/etc/netpool/tokens
#
# Exit status: 0 done, 64 bad usage, 73 SECRET_FILE exists, 1 anything else.
set -eu
umask 077

prog=${0##*/}
usage() {
  echo "usage: $prog client|worker|admin NAME SECRET_FILE   (NAME: [A-Za-z0-9_.@-], 1 to 64 characters)" >&2
  exit 64
}

[ $# -eq 3 ] || usage
role=$1
name=$2
file=$3
case $role in client | worker | admin) ;; *) echo "$prog: bad role '$role'" >&2; usage ;; esac
case $name in '' | *[!A-Za-z0-9_.@-]*) echo "$prog: bad name '$name'" >&2; usage ;; esac
[ "${#name}" -le 64 ] || { echo "$prog: name longer than 64 characters" >&2; usage; }
[ -n "$file" ] || usage
command -v openssl >/dev/null 2>&1 || { echo "$prog: openssl not found" >&2; exit 1; }
if [ -e "$file" ] || [ -L "$file" ]; then
  echo "$prog: $file exists; not overwriting it" >&2
  exit 73
fi

token=$(openssl rand -hex 32)
[ "${#token}" -eq 64 ] || { echo "$prog: openssl rand failed" >&2; exit 1; }
# noclobber: the shell opens the file with O_EXCL, so a file that appeared since the check
# above is not overwritten either. printf is a shell builtin: the token is on no command line.
set -C
if ! printf '%s' "$token" >"$file"; then
  echo "$prog: cannot create $file" >&2
  exit 73
fi
set +C
chmod 600 "$file"
digest=$(printf '%s' "$token" | openssl dgst -sha256 -r)
digest=${digest%% *}
case $digest in
  *[!0-9a-f]*) echo "$prog: openssl dgst failed" >&2; rm -f "$file"; exit 1 ;;
esac
[ "${#digest}" -eq 64 ] || { echo "$prog: openssl dgst failed" >&2; rm -f "$file"; exit 1; }
echo "$role $name sha256:$digest"
