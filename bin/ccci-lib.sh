# ccci-lib.sh: what the porcelain scripts share. Sourced, not run.
# shellcheck shell=sh

# Each script sets prog (its name) before sourcing this file.
: "${prog:?}"

# log MESSAGE...: a timestamped line on stderr.
log() {
    printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$prog" "$*" >&2
}

# die EXIT CODE MESSAGE: the contract's final JSON error line on stderr, then exit.
die() {
    log "$3"
    jq -cn --arg p "$prog" --arg c "$2" --argjson e "$1" --arg m "$3" \
        '{error: {prog: $p, code: $c, exit: $e, message: $m}}' >&2
    exit "$1"
}

# need COMMAND...: every command must be on PATH (69 otherwise).
need() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die 69 unavailable "'$c' is not on PATH"
    done
}

# valid_name NAME: the toolkit's name rule, checked before a name reaches any path.
valid_name() {
    case $1 in
    '' | *..* | [!a-z0-9]*) return 1 ;;
    *[!a-z0-9._-]*) return 1 ;;
    esac
    [ "${#1}" -le 63 ]
}

# field JSON FILTER: one value out of a JSON text (empty for null).
field() {
    printf '%s' "$1" | jq -r "$2 // empty"
}
