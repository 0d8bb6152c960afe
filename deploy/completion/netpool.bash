# bash completion for netpool, netpoold and netpool-worker (installed as
# share/bash-completion/completions/netpool, with links for the other two).
# It reads the programs' own --help, so it knows every flag and subcommand of
# the version installed and never goes stale.

# The long flags the --help of "$@" lists (its option column only).
_netpool_flags() {
  "$@" --help 2>/dev/null | sed -nE 's/^  (-[[:alnum:]],)?(--[[:alnum:]][[:alnum:]-]*).*/\2/p'
}

# The subcommands `$1 --help` lists.
_netpool_subcommands() {
  "$1" --help 2>/dev/null | sed -n '/^Subcommands:/,$p' | sed -nE 's/^  ([a-z][a-z-]*) .*/\1/p'
}

_netpool() {
  local cur=${COMP_WORDS[COMP_CWORD]} program=${COMP_WORDS[0]} sub="" word i
  COMPREPLY=()
  case ${COMP_WORDS[COMP_CWORD - 1]} in
    --config | --token-file | --tls-ca | --tls-cert | --tls-key | --tls-client-ca | --jobs-file)
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    --data)
      COMPREPLY=($(compgen -d -- "$cur"))
      return
      ;;
  esac
  if [[ ${program##*/} == netpool ]]; then
    local subcommands
    subcommands=$(_netpool_subcommands "$program")
    for ((i = 1; i < COMP_CWORD; i++)); do
      word=${COMP_WORDS[i]}
      [[ $word == -- ]] && return  # a command's own words follow
      if [[ $word != -* && " ${subcommands//$'\n'/ } " == *" $word "* ]]; then
        sub=$word
        break
      fi
    done
    if [[ -z $sub && $cur != -* ]]; then
      COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
      return
    fi
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_netpool_flags "$program" $sub)" -- "$cur"))
  fi
}

complete -o default -F _netpool netpool netpoold netpool-worker
