# bash completion for buzond(1)

_buzond()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    case $prev in
        -c|--config)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        -a|--account)
            COMPREPLY=($(compgen -W "$(_buzon_accounts)" -- "$cur"))
            return
            ;;
    esac
    COMPREPLY=($(compgen -W '--config --once --account --verbose --version --help' -- "$cur"))
}

# Account names are the [account NAME] groups of the config file.
_buzon_accounts()
{
    local conf=${XDG_CONFIG_HOME:-$HOME/.config}/buzon/accounts.conf
    [ -r "$conf" ] || return
    sed -n 's/^[[:space:]]*\[account[[:space:]]\{1,\}\([A-Za-z0-9._-]\{1,64\}\)[[:space:]]*\][[:space:]]*$/\1/p' "$conf"
}

complete -F _buzond buzond
