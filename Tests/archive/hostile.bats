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
@test "a name component of 256 bytes" { refuse name-component-256; }
@test "a 256-byte component deeper down" { refuse name-component-255-then-more; }
@test "no root entry" { refuse no-root-entry; }
@test "a directory the archive does not name" { refuse unnamed-directory; }
@test "uid 4294967295 (chown's leave-unchanged)" { refuse uid-minus-one; }
@test "gid 4294967295" { refuse gid-minus-one; }
@test "an mtime of 2^62" { refuse mtime-2-62; }
@test "an mtime before 1901" { refuse mtime-before-1901; }
@test "a symlink target of 4096 bytes" { refuse symlink-target-4096; }
@test "an xattr value over 64 KiB" { refuse xattr-value-too-large; }
@test "a global pax linkpath" { refuse global-linkpath; }
@test "a global pax path" { refuse global-path; }
@test "a pax linkpath on a regular file" { refuse pax-linkpath-on-a-file; }
@test "a pax linkpath symlink, then through it" { refuse pax-linkpath-symlink-then-through; }
@test "a pax linkpath hard link outside" { refuse pax-linkpath-hardlink-outside; }
@test "a NUL in a pax linkpath" { refuse nul-in-pax-linkpath; }
@test "sparse holes out of proportion (2^33 bytes from 4 KiB), refused without hashing them" { refuse sparse-holes-2-33; }
@test "sparse holes of 2^50 (the size cap) refused at once" { refuse sparse-holes-2-50; }
@test "sparse 0.1 holes of 2^40 refused at once" { refuse sparse-0.1-holes-2-40; }
@test "sparse holes that add up across members are refused" { refuse sparse-holes-add-up; }
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

# One judgement: verify answers exactly what extraction answers (exit and error code), for every
# case of the corpus, as root and as nobody.
@test "verify and extract give the same verdict on every case of the corpus" {
    local bad=0 name v e
    chmod 644 "$CORPUS"/*.tar
    while read -r name _; do
        for who in root nobody; do
            rm -rf "$S/staging" && mkdir "$S/staging"
            if [ "$who" = nobody ]; then
                chown nobody "$S/staging"
                run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups "$PROBE" verify "$CORPUS/$name.tar"
                v="$status $(printf '%s\n' "$stderr" | tail -n 1 | jq -r '.error.code? // ""' 2>/dev/null)"
                run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups "$PROBE" extract --no-sync "$CORPUS/$name.tar" "$S/staging"
            else
                run --separate-stderr "$PROBE" verify "$CORPUS/$name.tar"
                v="$status $(printf '%s\n' "$stderr" | tail -n 1 | jq -r '.error.code? // ""' 2>/dev/null)"
                run --separate-stderr "$PROBE" extract --no-sync "$CORPUS/$name.tar" "$S/staging"
            fi
            e="$status $(printf '%s\n' "$stderr" | tail -n 1 | jq -r '.error.code? // ""' 2>/dev/null)"
            if [ "$v" != "$e" ]; then echo "$name as $who: verify '$v', extract '$e'"; bad=1; fi
        done
    done <"$CORPUS/cases"
    [ "$bad" = 0 ]
}

@test "a 4 KiB archive claiming 2^33 bytes of holes costs no hashing (verify answers at once)" {
    local start=$SECONDS
    run --separate-stderr timeout 20 "$PROBE" verify "$CORPUS/sparse-holes-2-33.tar"
    [ "$status" -eq 65 ]
    printf '%s\n' "$stderr" | tail -n 1 | jq -e '.error.code == "corrupt-archive"' >/dev/null
    [ $((SECONDS - start)) -le 2 ]
}
