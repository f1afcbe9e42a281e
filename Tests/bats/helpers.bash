# Shared set-up for the command tests: the built binaries first on PATH, bats-support and
# bats-assert loaded, a scratch directory per test.
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BIN=${CCCI_BIN:-$REPO/.build/release}
PATH="$BIN:$REPO/bin:$PATH"
export PATH REPO BIN
FIXTURES=$REPO/Tests/fixtures

# The commands declared in Package.swift (the one list).
commands() {
    sed -n '/^let commands = \[/,/^\]/p' "$REPO/Package.swift" | sed -n 's/^ *"\(ccci-[a-z-]*\)",*$/\1/p'
}

setup_scratch() {
    SCRATCH=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ccci-bats.XXXXXX")
    export CCCI_STATE=$SCRATCH/state
}

teardown_scratch() {
    [ -n "${SCRATCH:-}" ] && rm -rf "$SCRATCH"
}

# The last line of stderr, which on failure must be the JSON error line.
error_line() {
    printf '%s\n' "$stderr" | tail -n 1
}

# Asserts the failure contract: exit code, empty stdout, a final JSON error line naming prog.
assert_json_error() {
    local prog=$1 code=$2
    [ "$status" -eq "$code" ] || { echo "expected exit $code, got $status"; return 1; }
    [ -z "$output" ] || { echo "stdout not empty: $output"; return 1; }
    error_line | jq -e --arg p "$prog" --argjson c "$code" \
        '.error.prog == $p and .error.exit == $c and (.error.code | type == "string" and length > 0) and (.error.message | type == "string" and length > 0)' >/dev/null \
        || { echo "bad error line: $(error_line)"; return 1; }
}

# sample_volumes: two small volumes as plain directories under $SCRATCH/vols (V), and the
# arguments that name them (VOLS) for ccci-snap and ccci-restore.
sample_volumes() {
    V=$SCRATCH/vols
    mkdir -p "$V/db/_data/sub" "$V/files/_data"
    echo hello >"$V/db/_data/a"
    echo nested >"$V/db/_data/sub/b"
    ln -s a "$V/db/_data/link"
    printf 'two' >"$V/files/_data/c"
    VOLS=(--offline --volume "db=$V/db/_data" --volume "files=$V/files/_data")
}

# on_pty [on-pty options] -- COMMAND...: runs COMMAND with stderr on a pseudo-terminal and stdout
# on a pipe (Tests/fixtures/on-pty); sets $status, $out (stdout) and $err (stderr, raw bytes: CR
# and escapes as written), also kept in $SCRATCH/out and $SCRATCH/err.
ON_PTY=$REPO/Tests/fixtures/on-pty
ESC=$'\e'
CR=$'\r'
on_pty() {
    status=0
    "$ON_PTY" --out "$SCRATCH/out" --err "$SCRATCH/err" "$@" || status=$?
    out=$(cat "$SCRATCH/out")
    err=$(cat "$SCRATCH/err")
}
