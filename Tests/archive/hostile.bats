#!/usr/bin/env bats
# The hostile-archive corpus (Tests/archive/lib/make-hostile, generated, not committed): each case
# is refused with the documented exit code and JSON error code, and nothing outside the staging
# directory changes (a sibling directory with a victim file, the sandbox itself, /tmp).

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROBE=${CCCI_BIN:-$REPO/.build/release}/ccci-archive-probe

setup_file() {
    export CORPUS=$BATS_FILE_TMPDIR/corpus
    "$BATS_TEST_DIRNAME/lib/make-hostile" "$CORPUS"
}

setup() {
    S=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ccci-hostile.XXXXXX")
    mkdir "$S/outside" "$S/staging"
    echo precious >"$S/outside/victim"
    chmod 755 "$S" "$S/outside"
    rm -f /tmp/ccci-pwned
}

teardown() { rm -rf "$S"; }

# Everything in the sandbox but the staging directory, with the metadata a write would change.
state() {
    find "$S" -path "$S/staging" -prune -o -printf '%P %y %m %u %g %s %T@ %n %l\n' | sort
    sha256sum "$S/outside/victim"
}

# refuse CASE [as-user]: extracts the case's archive and checks the refusal.
refuse() {
    local name=$1 expected exit code
    expected=$(grep "^$name " "$CORPUS/cases") || { echo "no case '$name' in the corpus"; return 1; }
    read -r _ exit code <<<"$expected"
    local before
    before=$(state)
    if [ "${2:-}" = nobody ]; then
        chown nobody "$S/staging"
        chmod 644 "$CORPUS/$name.tar"
        run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups "$PROBE" extract --no-sync "$CORPUS/$name.tar" "$S/staging"
    else
        run --separate-stderr "$PROBE" extract --no-sync "$CORPUS/$name.tar" "$S/staging"
    fi
    [ "$status" -eq "$exit" ] || { echo "$name: exit $status, expected $exit; stderr: $stderr"; return 1; }
    [ -z "$output" ] || { echo "$name: stdout not empty: $output"; return 1; }
    printf '%s\n' "$stderr" | tail -n 1 | jq -e --arg c "$code" --argjson e "$exit" \
        '.error.prog == "ccci-archive-probe" and .error.code == $c and .error.exit == $e' >/dev/null \
        || { echo "$name: bad error line: $(printf '%s\n' "$stderr" | tail -n 1)"; return 1; }
    [ "$(state)" = "$before" ] || { echo "$name: the sandbox outside staging changed"; diff <(echo "$before") <(state); return 1; }
    [ ! -e /tmp/ccci-pwned ] || { echo "$name: /tmp/ccci-pwned was created"; return 1; }
}

@test "every case in the corpus has a test here" {
    while read -r name _; do
        grep -q "refuse $name\b" "$BATS_TEST_FILENAME" || { echo "no test for $name"; return 1; }
    done <"$CORPUS/cases"
}

@test "a valid archive extracts, so the refusals below are about the hostile detail" {
    mkdir "$S/src" && echo fine >"$S/src/f"
    "$PROBE" write --no-sync "$S/src" "$S/ok.tar" >/dev/null
    run "$PROBE" extract --no-sync "$S/ok.tar" "$S/staging"
    assert_success
    [ "$(cat "$S/staging/f")" = fine ]
}

@test "absolute path" { refuse absolute-path; }
@test "dot-dot" { refuse dot-dot; }
@test "dot-dot inside a name" { refuse dot-dot-inside; }
@test "pax path with dot-dot" { refuse pax-path-dot-dot; }
@test "pax path absolute" { refuse pax-path-absolute; }
@test "GNU long name with dot-dot" { refuse gnu-longname-dot-dot; }
@test "ustar prefix with dot-dot" { refuse ustar-prefix-dot-dot; }
@test "through a symlink the archive created" { refuse symlink-then-through; }
@test "through an absolute symlink the archive created" { refuse absolute-symlink-then-through; }
@test "through a symlink deeper down" { refuse deep-symlink-then-through; }
@test "a symlink replaced by a file" { refuse symlink-then-replace; }
@test "a directory made through a symlink" { refuse symlink-dir-then-mkdir-through; }
@test "hard link outside" { refuse hardlink-outside; }
@test "hard link absolute" { refuse hardlink-absolute; }
@test "hard link through a symlink" { refuse hardlink-through-symlink; }
@test "hard link to nothing" { refuse hardlink-missing; }
@test "hard link to a directory" { refuse hardlink-to-directory; }
@test "a directory replaced by a symlink" { refuse directory-replaced-by-symlink; }
@test "a directory replaced by a file" { refuse directory-replaced-by-file; }
@test "an implied directory replaced by a symlink" { refuse implied-directory-replaced-by-symlink; }
@test "a duplicate file" { refuse duplicate-file; }
@test "the root as a file" { refuse root-as-file; }
@test "a NUL in a pax path" { refuse nul-in-pax-path; }
@test "a device node when not root" { refuse device-node nobody; }
@test "truncated inside a header" { refuse truncated-in-header; }
@test "truncated inside member data" { refuse truncated-in-data; }
@test "truncated at a member boundary" { refuse truncated-at-member-boundary; }
@test "truncated inside the end marker" { refuse truncated-in-end-marker; }
@test "a bad header checksum" { refuse bad-checksum; }
@test "not a tar header" { refuse not-a-tar-header; }
@test "empty input" { refuse empty-input; }
@test "garbage after the end marker" { refuse garbage-after-end; }
@test "a lone zero block before more members" { refuse lone-zero-block-then-member; }
@test "an absurd pax size" { refuse absurd-pax-size; }
@test "an absurd base-256 size" { refuse absurd-base256-size; }
@test "an absurd extended header" { refuse absurd-extended-header; }
@test "an absurd GNU long name" { refuse absurd-long-name; }
@test "a malformed pax record" { refuse malformed-pax-record; }
@test "a sparse map beyond the file's size" { refuse sparse-map-beyond-size; }
@test "a sparse map with an absurd count" { refuse sparse-map-absurd-count; }
@test "an unsupported entry type" { refuse unsupported-type; }
@test "a GNU multi-volume continuation" { refuse multivolume-continuation; }

@test "a device node is created when root" {
    [ "$(id -u)" = 0 ] || skip "needs root"
    run "$PROBE" extract --no-sync "$CORPUS/device-node.tar" "$S/staging"
    assert_success
    [ -c "$S/staging/null" ]
}
