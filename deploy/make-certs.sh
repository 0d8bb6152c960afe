#!/bin/sh
# make-certs.sh: a small private CA for netpool's TLS, with openssl only.
#
#   make-certs.sh ca DIR                     DIR/ca.pem, DIR/ca.key: a self-signed CA (10 years)
#   make-certs.sh server DIR NAME [NAME...]  DIR/server.pem, DIR/server.key for netpoold, signed by
#                                            DIR/ca.*: CN = the first NAME, a subjectAltName for
#                                            every NAME (IP: for an IPv4/IPv6 address, DNS:
#                                            otherwise), extendedKeyUsage serverAuth
#   make-certs.sh node DIR NAME              DIR/NAME.pem, DIR/NAME.key: a node's certificate for
#                                            mutual TLS (CN = NAME, extendedKeyUsage clientAuth)
#
# Keys are EC P-256, unencrypted, mode 0600; certificates other than the CA's last 825 days.
# Nothing is overwritten: remove a file to issue it again. No configuration outside DIR is
# read (OPENSSL_CONF points at a temporary file in DIR, removed on exit).
# Exit status: 0 done, 64 bad usage, 73 an output file exists, 1 anything else.
set -eu
umask 077

prog=${0##*/}
usage() {
  cat >&2 <<EOF
usage: $prog ca DIR
       $prog server DIR NAME [NAME...]   (NAME: a DNS name or an IPv4/IPv6 address)
       $prog node DIR NAME               (NAME: [A-Za-z0-9_.@-], 1 to 64 characters)
EOF
  exit 64
}
die() { echo "$prog: $*" >&2; exit 1; }
# openssl's own messages, shown only when it fails.
openssl_failed() {
  [ -z "${errors:-}" ] || cat "$errors" >&2
  die "$@"
}

# A node name is also a file name and a token name: the token name's alphabet.
valid_node_name() {
  case $1 in '' | *[!A-Za-z0-9_.@-]*) return 1 ;; esac
  [ "${#1}" -le 64 ]
}
is_ipv4() {
  case $1 in '' | *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
  ipv4_ifs=$IFS; IFS=.
  # shellcheck disable=SC2086 # split on dots on purpose
  set -- $1
  IFS=$ipv4_ifs
  [ $# -eq 4 ] || return 1
  for octet in "$@"; do
    [ "${#octet}" -le 3 ] && [ "$octet" -le 255 ] || return 1
  done
}
is_ipv6() {
  case $1 in *:*:*) ;; *) return 1 ;; esac
  case $1 in *[!0-9A-Fa-f:.]*) return 1 ;; esac
}
# A DNS name (a leading "*." wildcard allowed): letters, digits, '-' and '.', nothing that
# could end the subjectAltName list early.
is_dns_name() {
  dns_host=${1#\*.}
  case $dns_host in '' | *[!A-Za-z0-9.-]* | .* | *. | *..* | -*) return 1 ;; esac
  case $dns_host in *[!0-9.]*) ;; *) return 1 ;; esac # digits and dots: a bad IPv4 address
  [ "${#1}" -le 253 ]
}
refuse_existing() {
  for f in "$@"; do
    if [ -e "$f" ] || [ -L "$f" ]; then
      echo "$prog: $f exists; remove it first to issue it again" >&2
      exit 73
    fi
  done
}

[ $# -ge 2 ] || usage
command=$1
dir=$2
shift 2
case $command in
  ca) [ $# -eq 0 ] || usage ;;
  server)
    [ $# -ge 1 ] || usage
    [ "${#1}" -le 64 ] || { echo "$prog: '$1' is too long for a common name (64 at most)" >&2; usage; }
    san=
    for name in "$@"; do
      bare=$name
      case $bare in \[*\]) bare=${bare#\[}; bare=${bare%\]} ;; esac
      if is_ipv4 "$bare" || is_ipv6 "$bare"; then
        entry="IP:$bare"
      elif is_dns_name "$name"; then
        entry="DNS:$name"
      else
        echo "$prog: '$name' is neither an IP address nor a DNS name" >&2
        usage
      fi
      san=${san:+$san, }$entry
    done
    ;;
  node)
    [ $# -eq 1 ] || usage
    valid_node_name "$1" || { echo "$prog: bad node name '$1'" >&2; usage; }
    case $1 in ca | server) echo "$prog: '$1' is reserved (DIR/$1.pem)" >&2; usage ;; esac
    ;;
  *) usage ;;
esac
command -v openssl >/dev/null 2>&1 || die "openssl not found"
mkdir -p "$dir"
if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then die "$dir is not a writable directory"; fi

# The one configuration openssl reads: a temporary file in DIR with the extensions of each
# kind of certificate. Names are validated before they get here.
conf=$(mktemp "$dir/.make-certs.XXXXXX")
errors=$(mktemp "$dir/.make-certs-errors.XXXXXX")
csr=
# What this run writes, removed again unless it all succeeds (nothing half-made is left to
# refuse the next run). Set only after refuse_existing, so never a file that was there.
outputs=
finished=no
cleanup() {
  rm -f "$conf" "$errors" ${csr:+"$csr"}
  if [ "$finished" != yes ] && [ -n "$outputs" ]; then
    printf '%s\n' "$outputs" | while IFS= read -r f; do [ -z "$f" ] || rm -f "$f"; done
  fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
OPENSSL_CONF=$conf
export OPENSSL_CONF

days=825
serial() { echo "0x$(openssl rand -hex 16)"; }

# new_key_and_csr KEY CSR CN: an EC P-256 key (mode 0600) and a request for it.
new_key_and_csr() {
  openssl req -new -config "$conf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$1" -out "$2" -subj "/CN=$3" 2>"$errors" || openssl_failed "openssl req failed for $3"
  chmod 600 "$1"
}
# sign CSR CERT SECTION: CERT from CSR, signed by the CA, with the extensions of SECTION.
sign() {
  openssl x509 -req -in "$1" -out "$2" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "$(serial)" -days "$days" -sha256 -extfile "$conf" -extensions "$3" \
    2>"$errors" || openssl_failed "openssl x509 failed signing $2"
  chmod 644 "$2"
}
need_ca() {
  if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
    die "no CA in $dir: run '$prog ca $dir' first"
  fi
}

case $command in
  ca)
    refuse_existing "$dir/ca.pem" "$dir/ca.key"
    outputs="$dir/ca.pem
$dir/ca.key"
    cat >"$conf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    openssl req -x509 -new -config "$conf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=netpool CA" -days 3650 -sha256 \
      -set_serial "$(serial)" 2>"$errors" || openssl_failed "openssl req failed making the CA"
    chmod 600 "$dir/ca.key"
    chmod 644 "$dir/ca.pem"
    echo "$dir/ca.pem $dir/ca.key"
    ;;
  server)
    need_ca
    refuse_existing "$dir/server.pem" "$dir/server.key"
    outputs="$dir/server.pem
$dir/server.key"
    cat >"$conf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    csr=$(mktemp "$dir/.server-csr.XXXXXX")
    new_key_and_csr "$dir/server.key" "$csr" "$1"
    sign "$csr" "$dir/server.pem" server_ext
    echo "$dir/server.pem $dir/server.key ($san)"
    ;;
  node)
    need_ca
    refuse_existing "$dir/$1.pem" "$dir/$1.key"
    outputs="$dir/$1.pem
$dir/$1.key"
    cat >"$conf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
[node_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    csr=$(mktemp "$dir/.node-csr.XXXXXX")
    new_key_and_csr "$dir/$1.key" "$csr" "$1"
    sign "$csr" "$dir/$1.pem" node_ext
    echo "$dir/$1.pem $dir/$1.key"
    ;;
esac
finished=yes
