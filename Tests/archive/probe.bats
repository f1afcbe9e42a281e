#!/usr/bin/env bats
# The archive library through its test helper, on what is not a regular file: archives written
# to and read from FIFOs (no writeback, short reads), stdin/stdout, and the error contract.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROBE=${CCCI_BIN:-$REPO/.build/release}/ccci-archive-probe

setup() {
    S=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ccci-probe.XXXXXX")
    mkdir -p "$S/src/d"
    echo hello >"$S/src/d/f"
    head -c 3000000 /dev/urandom >"$S/src/big"
    ln -s d/f "$S/src/l"
}

teardown() { rm -rf "$S"; }

@test "an archive written into a FIFO is the same as one written to a file" {
    "$PROBE" write --no-sync "$S/src" "$S/file.tar" >"$S/file.json"
    mkfifo "$S/fifo"
    cat "$S/fifo" >"$S/piped.tar" &
    run --separate-stderr "$PROBE" write "$S/src" "$S/fifo"
    wait
    assert_success
    cmp "$S/file.tar" "$S/piped.tar"
    [ "$(echo "$output" | jq -r .sha256)" = "$(jq -r .sha256 "$S/file.json")" ]
}

@test "an archive read from a FIFO extracts, verified, with the same digests" {
    "$PROBE" write --no-sync "$S/src" "$S/a.tar" >"$S/a.json"
    mkfifo "$S/fifo"
    mkdir "$S/x"
    cat "$S/a.tar" >"$S/fifo" &
    run --separate-stderr "$PROBE" extract --sha256 "$(jq -r .sha256 "$S/a.json")" "$S/fifo" "$S/x"
    wait
    assert_success
    [ "$(echo "$output" | jq -r .treeDigest)" = "$(jq -r .treeDigest "$S/a.json")" ]
    diff -r "$S/src" "$S/x"
}

@test "verify reads stdin and reports what write reported" {
    "$PROBE" write --no-sync "$S/src" "$S/a.tar" >"$S/a.json"
    run --separate-stderr "$PROBE" verify - <"$S/a.tar"
    assert_success
    [ "$(echo "$output" | jq -c '{sha256, bytes, entries, treeDigest}')" = "$(jq -c '{sha256, bytes, entries, treeDigest}' "$S/a.json")" ]
    [ "$(echo "$output" | jq -r .sha256)" = "$(sha256sum "$S/a.tar" | cut -d' ' -f1)" ]
}

@test "a wrong expected SHA-256 fails with exit 65 and an empty stdout" {
    "$PROBE" write --no-sync "$S/src" "$S/a.tar" >/dev/null
    mkdir "$S/x"
    run --separate-stderr "$PROBE" extract --sha256 "$(printf '0%.0s' $(seq 64))" "$S/a.tar" "$S/x"
    [ "$status" -eq 65 ]
    [ -z "$output" ]
    printf '%s\n' "$stderr" | tail -n 1 | jq -e '.error.code == "digest-mismatch" and .error.exit == 65'
}

@test "a staging directory that is not empty is refused" {
    "$PROBE" write --no-sync "$S/src" "$S/a.tar" >/dev/null
    mkdir "$S/x" && touch "$S/x/old"
    run --separate-stderr "$PROBE" extract "$S/a.tar" "$S/x"
    [ "$status" -ne 0 ]
    [ "$(ls "$S/x")" = old ]
}

@test "the probe's help exits 0" {
    run "$PROBE" --help
    assert_success
    assert_output --partial extract
}
