#!/usr/bin/env bats
# The command contract, checked for every command declared in Package.swift.

load helpers

@test "Package.swift declares commands and every one is built" {
    run commands
    assert_success
    [ "${#lines[@]}" -ge 2 ]
    for c in "${lines[@]}"; do
        [ -x "$BIN/$c" ] || fail "$c is not built in $BIN"
    done
}

@test "every command is a link to the one multicall executable, which runs the command it is called as" {
    [ -x "$BIN/ci-warm" ] && [ ! -L "$BIN/ci-warm" ]
    for c in $(commands); do
        [ "$(readlink -f "$BIN/$c")" = "$(readlink -f "$BIN/ci-warm")" ] || fail "$c is not a link to ci-warm"
        run --separate-stderr "$c" --help
        [[ "$output" == "usage: $c"* ]] || fail "$c runs another command"
    done
    # by any other name (its own, a copy, a link named after nothing) it is a usage error
    ln -s "$BIN/ci-warm" "$BATS_TEST_TMPDIR/ccci-nothing"
    for name in "$BIN/ci-warm" "$BATS_TEST_TMPDIR/ccci-nothing"; do
        run --separate-stderr "$name" --help
        assert_json_error ci-warm 64
    done
}

@test "--help and -h print usage on stdout, exit 0, nothing on stderr" {
    for c in $(commands); do
        for h in --help -h; do
            run --separate-stderr "$c" "$h"
            [ "$status" -eq 0 ] || fail "$c $h exited $status"
            [[ "$output" == "usage: $c"* ]] || fail "$c $h: no usage line"
            [[ "$output" == *"docs/exit-codes.md"* ]] || fail "$c $h: no pointer to the exit table"
            [ -z "$stderr" ] || fail "$c $h wrote to stderr"
        done
    done
}

@test "an unknown option exits 64 with empty stdout and one JSON error line" {
    for c in $(commands); do
        run --separate-stderr "$c" --definitely-not-an-option </dev/null
        assert_json_error "$c" 64 || fail "$c"
    done
}

@test "a missing operand exits 64 (commands that need none are listed with their own answer)" {
    # ccci-trigger needs no operand: an empty comment is a clean "not a trigger".
    declare -A own=([ccci-trigger]=1)
    for c in $(commands); do
        run --separate-stderr "$c" </dev/null
        if [ -n "${own[$c]:-}" ]; then
            [ "$status" -eq "${own[$c]}" ] || fail "$c with no operand exited $status"
        else
            assert_json_error "$c" 64 || fail "$c"
        fi
    done
}

@test "no binary links full Foundation (or any Swift runtime library dynamically)" {
    for c in $(commands); do
        run ldd "$BIN/$c"
        refute_output --partial Foundation
        refute_output --partial libswiftCore
    done
}

@test "every command has a doc page with the standard sections" {
    for c in $(commands); do
        page=$REPO/docs/commands/$c.md
        [ -f "$page" ] || fail "missing $page"
        for section in "## Synopsis" "## Input" "## Output" "## Files" "## Environment" "## Exit codes" "## Examples"; do
            grep -qx "$section" "$page" || fail "$page lacks '$section'"
        done
        grep -q "exit-codes.md" "$page" || fail "$page does not link the exit table"
    done
}

@test "the exit table is documented once with every code" {
    for code in 0 1 64 65 66 69 70 73 74 75 77; do
        grep -Eq "^\| *$code *\|" "$REPO/docs/exit-codes.md" || fail "exit $code missing from docs/exit-codes.md"
    done
}

# The porcelain of the seam with the CI (bin/, POSIX sh): the same contract.
seam_porcelain() { printf '%s\n' ccci-doctor ccci-run ccci-sso; }

@test "seam porcelain: --help on stdout (exit 0), unknown options 64 with a JSON error, a doc page, shellcheck" {
    for c in $(seam_porcelain); do
        run --separate-stderr "$c" --help
        [ "$status" -eq 0 ] || fail "$c --help exited $status"
        [[ "$output" == "usage: $c"* ]] || fail "$c --help: no usage line"
        [[ "$output" == *"docs/exit-codes.md"* ]] || fail "$c --help: no pointer to the exit table"
        [ -z "$stderr" ] || fail "$c --help wrote to stderr"
        run --separate-stderr "$c" --definitely-not-an-option </dev/null
        assert_json_error "$c" 64 || fail "$c"
        page=$REPO/docs/commands/$c.md
        [ -f "$page" ] || fail "missing $page"
        for section in "## Synopsis" "## Input" "## Output" "## Files" "## Environment" "## Exit codes" "## Examples"; do
            grep -qx "$section" "$page" || fail "$page lacks '$section'"
        done
        if command -v shellcheck >/dev/null; then
            shellcheck -S warning "$REPO/bin/$c" || fail "$c: shellcheck"
        fi
    done
}

# The porcelain scripts (everything in bin/ but the shared library).
porcelain() {
    for p in "$REPO"/bin/ccci-*; do [ "$p" = "$REPO/bin/ccci-lib.sh" ] || basename "$p"; done
}

@test "--version alone: '<name> (ci-warm) <version> <commit>' on stdout, exit 0, the same for every command and script" {
    version=$(sed -n 's/^let version = "\(.*\)"$/\1/p' "$REPO/Package.swift")
    [ -n "$version" ] || fail "Package.swift declares no version"
    # Tests/run (and make) build with CCCI_COMMIT from packaging/commit: then it must be that one.
    commit='[0-9a-f]{12}(-dirty)?|unknown'
    [ -n "${CCCI_COMMIT:-}" ] && commit=$(printf '%s' "$CCCI_COMMIT" | sed 's/[.+]/\\&/g')
    tails=()
    for c in $(commands) $(porcelain); do
        run --separate-stderr "$c" --version </dev/null
        [ "$status" -eq 0 ] || fail "$c --version exited $status"
        [ -z "$stderr" ] || fail "$c --version wrote to stderr: $stderr"
        [ "${#lines[@]}" -eq 1 ] || fail "$c --version: not one line"
        [[ "$output" =~ ^"$c (ci-warm) $version "($commit)$ ]] || fail "$c --version: '$output'"
        tails+=("${output#"$c"}")
    done
    [ "$(printf '%s\n' "${tails[@]}" | sort -u | wc -l)" -eq 1 ] || fail "versions differ: ${tails[*]}"
}

@test "--version with anything after it is a usage error (64), never a result" {
    for c in $(commands) $(porcelain); do
        run --separate-stderr "$c" --version 1.2.3 </dev/null
        assert_json_error "$c" 64 || fail "$c --version 1.2.3"
    done
    for c in $(commands); do
        run --separate-stderr "$c" --version=1.2.3 </dev/null
        assert_json_error "$c" 64 || fail "$c --version=1.2.3"
    done
}
