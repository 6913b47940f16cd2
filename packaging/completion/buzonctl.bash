# bash completion for buzonctl(1)

_buzonctl_accounts()
{
    local conf=${XDG_CONFIG_HOME:-$HOME/.config}/buzon/accounts.conf
    [ -r "$conf" ] || return
    sed -n 's/^[[:space:]]*\[account[[:space:]]\{1,\}\([A-Za-z0-9._-]\{1,64\}\)[[:space:]]*\][[:space:]]*$/\1/p' "$conf"
}

_buzonctl()
{
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local commands='status sync watch messages search set-password forget-password authorize add remove import'

    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return
    fi

    case $cmd in
        status)
            COMPREPLY=($(compgen -W '--json --help' -- "$cur"))
            ;;
        sync)
            COMPREPLY=($(compgen -W "--wait --help $(_buzonctl_accounts)" -- "$cur"))
            ;;
        messages)
            case $prev in -n|--limit) return ;; esac
            COMPREPLY=($(compgen -W "--limit --json --help $(_buzonctl_accounts)" -- "$cur"))
            ;;
        search)
            case $prev in
                -n|--limit) return ;;
                -a|--account)
                    COMPREPLY=($(compgen -W "$(_buzonctl_accounts)" -- "$cur"))
                    return
                    ;;
            esac
            COMPREPLY=($(compgen -W '--account --limit --json --help' -- "$cur"))
            ;;
        set-password|forget-password)
            case $prev in
                -c|--config)
                    compopt -o filenames 2>/dev/null
                    COMPREPLY=($(compgen -f -- "$cur"))
                    ;;
                *)
                    COMPREPLY=($(compgen -W "--config --help $(_buzonctl_accounts)" -- "$cur"))
                    ;;
            esac
            ;;
        add)
            case $prev in
                -c|--config)
                    compopt -o filenames 2>/dev/null
                    COMPREPLY=($(compgen -f -- "$cur"))
                    ;;
                --security)
                    COMPREPLY=($(compgen -W 'tls starttls none' -- "$cur"))
                    ;;
                --keep)
                    COMPREPLY=($(compgen -W 'forever delete days:' -- "$cur"))
                    ;;
                -n|--name|--host|--port|--user|--autoconfig-url) ;;
                *)
                    COMPREPLY=($(compgen -W '--name --host --port --security --user --keep
                        --autoconfig-url --no-discover --config --help' -- "$cur"))
                    ;;
            esac
            ;;
        remove)
            case $prev in
                -c|--config)
                    compopt -o filenames 2>/dev/null
                    COMPREPLY=($(compgen -f -- "$cur"))
                    ;;
                *)
                    COMPREPLY=($(compgen -W "--forget-password --config --help $(_buzonctl_accounts)" -- "$cur"))
                    ;;
            esac
            ;;
        authorize)
            case $prev in
                -c|--config)
                    compopt -o filenames 2>/dev/null
                    COMPREPLY=($(compgen -f -- "$cur"))
                    ;;
                *)
                    COMPREPLY=($(compgen -W "--config --no-browser --help $(_buzonctl_accounts)" -- "$cur"))
                    ;;
            esac
            ;;
        import)
            case $prev in
                -a|--account)
                    COMPREPLY=($(compgen -W "$(_buzonctl_accounts)" -- "$cur"))
                    return
                    ;;
                -c|--config)
                    compopt -o filenames 2>/dev/null
                    COMPREPLY=($(compgen -f -- "$cur"))
                    return
                    ;;
            esac
            if [ "$prev" = import ]; then
                COMPREPLY=($(compgen -W 'mpop getmail fetchmail thunderbird' -- "$cur"))
            elif [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W '--account --dry-run --force --config --help' -- "$cur"))
            else
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            ;;
    esac
}

complete -F _buzonctl buzonctl
