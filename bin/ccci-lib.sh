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
    story_finished=1
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

# field JSON FILTER: one value out of a JSON text (empty for null, and for false: test booleans
# against "true" only).
field() {
    printf '%s' "$1" | jq -r "$2 // empty"
}

# q WORD: WORD quoted for sh (single quotes), so argv can be stored in a string and replayed
# with `eval "set -- $list"` without word splitting or globbing.
q() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# quote_all WORD...: every word quoted, space-separated.
quote_all() {
    for w in "$@"; do printf '%s ' "$(q "$w")"; done
}

# --- The story: a porcelain run that always ends with a result, an exit status that tells the
# truth, and an alert when it did not end by `finish`.
#
# set -e is a safety net here, not the plan: it does nothing inside `if`, `while`, `!`, `&&`/`||`
# lists or `{ ...; } || ...`, so every step checks its own status. When the script ends any other
# way than through the script's `finish` (a plumbing crash caught by set -e, a jq error, a
# signal), the EXIT trap calls the script's `aborted CODE` hook (which raises its alert and
# prints its result) and exits with:
#   - 128+N for a signal N (SIGINT, SIGTERM, SIGHUP are trapped: the step in flight is allowed to
#     end, as the plumbing itself forwards the signal to what it runs and waits for it);
#   - the plumbing's own code when it is one of the shared table's failures (64-78);
#   - 70 otherwise: a 1, 2 or 3 from jq or sh must never read as one of the porcelain's verdicts.
story_step=start
story_signal=''
story_finished=0

story_begin() {
    trap 'story_exit' EXIT
    trap 'story_caught 2' INT
    trap 'story_caught 15' TERM
    trap 'story_caught 1' HUP
}

story_caught() {
    story_signal=$1
    log "caught signal $1 during step '$story_step': stopping"
    exit $((128 + $1))
}

# at STEP: name the step in flight (for the abort alert and result).
at() {
    story_step=$1
}

story_exit() {
    rc=$?
    [ "$story_finished" = 0 ] || return 0
    trap '' INT TERM HUP
    if [ -n "$story_signal" ]; then
        code=$((128 + story_signal))
    elif [ "$rc" -ge 64 ] && [ "$rc" -le 78 ]; then
        code=$rc
    else
        code=70
    fi
    story_finished=1
    log "stopped during step '$story_step' (status $rc): exit $code"
    aborted "$code" || true
    exit "$code"
}

# story_end EXIT: the script's own, planned end (after it printed its result).
story_end() {
    story_finished=1
    exit "$1"
}

# raise_alert APP KIND MESSAGE [DETAILS-JSON]: raise it; a failure to raise is logged, never
# fatal (the story goes on to its verdict). alert KIND MESSAGE [DETAILS-JSON] raises it for $app.
raise_alert() {
    alert_details=${4:-}
    [ -n "$alert_details" ] || alert_details='{}'
    printf '%s' "$alert_details" | ccci-alert raise --app "$1" --kind "$2" --message "$3" >/dev/null ||
        log "could not raise alert $2"
}
# shellcheck disable=SC2154 # app is the sourcing script's
alert() { raise_alert "$app" "$@"; }

# fetch_recipe APP [ccci-app fetch arguments]: bring APP's recipe clone up to date before anything
# judges it (the gate, "latest", a PR head). CCCI_SKIP_FETCH=1 skips it (drills, tests). A fetch
# that fails (the network, the forge) raises `fetch-failed` and the story goes on with what is
# local: the fetch is atomic (every ref moves or none), so nothing half-fetched is ever judged.
# Anything else (a usage error, a missing abra) ends the story.
fetch_recipe() {
    if [ "${CCCI_SKIP_FETCH:-}" = 1 ]; then
        log "CCCI_SKIP_FETCH=1: not fetching the recipe of $1"
        return 0
    fi
    fetch_rc=0
    ccci-app fetch "$@" >/dev/null || fetch_rc=$?
    case $fetch_rc in
    0) return 0 ;;
    69)
        log "fetching the recipe of $1 failed: going on with the local clone"
        raise_alert "$1" fetch-failed "$1: fetching its recipe failed" \
            "$(jq -cn --arg a "$1" '{app: $a, proceeding: "local clone"}')"
        ;;
    *) exit "$fetch_rc" ;;
    esac
}

# health_spec APP RECIPE: what "healthy" means for APP, in one place for the reconciler and the
# canonical advance. Sets health_path and prepends the spec's ccci-health arguments (quoted
# words) to health_args, so arguments given on the command line come later and win. The spec is
# $CCCI_HEALTH_DIR/APP.json (default /etc/ci-warm/health/APP.json):
#     {"path": "/realms/master", "expect": "200", "json_path": "realm=master", "args": ["--resolve", "..."]}
# else the built-in one for RECIPE (keycloak: /realms/master answering 200 with realm=master,
# since Keycloak 24+ redirects / to its console; traefik: / answering at all, 200-404, since a
# proxy with no route for its own name says 404), else / answering 200. A spec file that is not
# valid is a usage error (64): never guessed at.
health_spec() {
    spec_dir=${CCCI_HEALTH_DIR:-/etc/ci-warm/health}
    if [ -e "$spec_dir/$1.json" ]; then
        spec=$(jq -ce '
            if type == "object"
               and ((.path // "/") | type == "string" and startswith("/"))
               and ((.expect // "200") | tostring | test("^[1-5][0-9][0-9](,[1-5][0-9][0-9])*$"))
               and ((.json_path // "a=b") | type == "string" and test("="))
               and ((.args // []) | type == "array" and all(type == "string"))
               and (keys - ["path", "expect", "json_path", "args"] | length == 0)
            then . else error("invalid") end' "$spec_dir/$1.json" 2>/dev/null) ||
            die 64 bad-health-spec "invalid health spec '$spec_dir/$1.json': expected {path, expect, json_path, args}"
    else
        case $2 in
        keycloak) spec='{"path": "/realms/master", "expect": "200", "json_path": "realm=master"}' ;;
        traefik) spec='{"path": "/", "expect": "200,301,302,307,308,401,403,404"}' ;;
        *) spec='{}' ;;
        esac
    fi
    # shellcheck disable=SC2034 # read by the script that sourced this file
    health_path=$(printf '%s' "$spec" | jq -r '.path // "/"')
    spec_args=$(printf '%s' "$spec" | jq -r '[(if .expect then "--expect", (.expect | tostring) else empty end),
        (if .json_path then "--json-path", .json_path else empty end), (.args // [])[]] | map(@sh) | join(" ")')
    health_args="$spec_args $health_args"
}

# print_version N: `--version` for a porcelain script, called from its option loop with $# (the
# arguments left, --version included). Alone, it prints `<prog> (ci-warm) <version> <commit>`,
# the plumbing's (installed with the porcelain), and exits 0; with anything after it, it is a
# usage error, so an old `--version VALUE` can never pass for a result.
print_version() {
    [ "$1" -eq 1 ] || die 64 usage "'--version' takes no value (alone, it prints the toolkit's version)"
    v=$(ccci-trigger --version) || die 69 unavailable "'ccci-trigger --version' failed: is the plumbing on PATH?"
    printf '%s%s\n' "$prog" "${v#ccci-trigger}"
    exit 0
}
