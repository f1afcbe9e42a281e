#!/usr/bin/env bats
# Interoperability, both directions, on generated trees (Tests/archive/lib/make-sample-tree):
# GNU tar and bsdtar extract our archives to the identical tree, and we extract theirs (pax, GNU
# and ustar formats) to the identical tree. "Identical" is checked by an independent lister
# (Tests/archive/lib/tree-listing: types, modes, owners, nanosecond mtimes, content, symlink
# targets, hard-link groups, device numbers, xattrs, and the data/hole map), and our tree digest
# of what we extracted must equal the digest of the source, whoever wrote the archive.
#
# Deviations that belong to the other tool, each asserted here so a change shows up:
# - bsdtar does not apply the "./" entry's metadata to the directory it extracts into;
# - libarchive reads and writes pre-1970 fractional pax times as "-S.F" = -S + F (POSIX and GNU
#   tar: the decimal -S.F), so its trees use a whole pre-1970 second (profile libarchive);
# - libarchive's gnutar writer stores sparse files densely (content equal, holes lost) and
#   pre-1970 mtimes as 0.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROBE=${CCCI_BIN:-$REPO/.build/release}/ccci-archive-probe
LIB=$BATS_TEST_DIRNAME/lib

setup() {
    [ "$(id -u)" = 0 ] || skip "owners, devices and security.capability need root"
    S=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ccci-interop.XXXXXX")
}

teardown() { [ -n "${S:-}" ] && rm -rf "$S"; }

# same_tree A B [--holes] [--skip-root] [--except PATH]: the lister's view of both trees is the
# same (but for the root's line, or PATH's, when told).
same_tree() {
    local a=$1 b=$2; shift 2
    local holes='' skip=''
    while [ $# -gt 0 ]; do
        case $1 in
            --holes) holes=--holes ;;
            --skip-root) skip='.' ;;
            --except) skip=$2; shift ;;
        esac
        shift
    done
    "$LIB/tree-listing" "$a" $holes | awk -F '\t' -v skip="$skip" '$1 != skip' >"$S/a.list"
    "$LIB/tree-listing" "$b" $holes | awk -F '\t' -v skip="$skip" '$1 != skip' >"$S/b.list"
    [ -s "$S/a.list" ] || { echo "empty listing"; return 1; }
    diff "$S/a.list" "$S/b.list"
}

digest_of_tree() { "$PROBE" digest "$1" | jq -r .treeDigest; }

# ours_extract ARCHIVE DIR: extracts with the library; prints its tree digest.
ours_extract() {
    mkdir "$2"
    "$PROBE" extract --no-sync "$1" "$2" | jq -r .treeDigest
}

@test "the same tree built twice gives byte-identical archives" {
    "$LIB/make-sample-tree" "$S/one" full
    "$LIB/make-sample-tree" "$S/two" full
    "$PROBE" write --no-sync "$S/one" "$S/one.tar" >/dev/null
    "$PROBE" write --no-sync "$S/two" "$S/two.tar" >/dev/null
    cmp "$S/one.tar" "$S/two.tar"
}

@test "GNU tar extracts our archive to the identical tree, holes and xattrs included" {
    "$LIB/make-sample-tree" "$S/src" full
    "$PROBE" write --no-sync "$S/src" "$S/ours.tar" >/dev/null
    mkdir "$S/x"
    tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$S/ours.tar" -C "$S/x" 2>"$S/tar.err"
    same_tree "$S/src" "$S/x" --holes
    [ "$(digest_of_tree "$S/x")" = "$(digest_of_tree "$S/src")" ]
}

@test "bsdtar extracts our archive to the identical tree, holes and xattrs included" {
    "$LIB/make-sample-tree" "$S/src" libarchive
    "$PROBE" write --no-sync "$S/src" "$S/ours.tar" >/dev/null
    mkdir "$S/x"
    bsdtar --numeric-owner -xpf "$S/ours.tar" -C "$S/x"
    same_tree "$S/src" "$S/x" --holes --skip-root
    # The deviation: the root's mtime is left as bsdtar found it.
    run ! same_tree "$S/src" "$S/x" --holes
}

@test "GNU tar's pax archive extracts to the identical tree and the same tree digest" {
    "$LIB/make-sample-tree" "$S/src" full
    tar --format=pax --xattrs --xattrs-include='*' --sparse --numeric-owner -cf "$S/g.tar" -C "$S/src" .
    grep -aq 'GNU.sparse.major=1' "$S/g.tar"
    digest=$(ours_extract "$S/g.tar" "$S/x")
    same_tree "$S/src" "$S/x" --holes
    [ "$digest" = "$(digest_of_tree "$S/src")" ]
}

@test "GNU tar's gnu-format archive (long names, base-256, old sparse) extracts to the identical tree" {
    "$LIB/make-sample-tree" "$S/src" gnu
    tar --format=gnu --sparse --numeric-owner -cf "$S/g.tar" -C "$S/src" .
    digest=$(ours_extract "$S/g.tar" "$S/x")
    same_tree "$S/src" "$S/x" --holes
    [ "$digest" = "$(digest_of_tree "$S/src")" ]
}

@test "GNU tar's ustar archive extracts to the identical tree" {
    "$LIB/make-sample-tree" "$S/src" ustar
    tar --format=ustar --numeric-owner -cf "$S/g.tar" -C "$S/src" .
    digest=$(ours_extract "$S/g.tar" "$S/x")
    same_tree "$S/src" "$S/x" --holes
    [ "$digest" = "$(digest_of_tree "$S/src")" ]
}

@test "bsdtar's pax archive extracts to the identical tree and the same tree digest" {
    "$LIB/make-sample-tree" "$S/src" libarchive
    bsdtar --format=pax --numeric-owner -cf "$S/b.tar" -C "$S/src" .
    digest=$(ours_extract "$S/b.tar" "$S/x")
    same_tree "$S/src" "$S/x" --holes
    [ "$digest" = "$(digest_of_tree "$S/src")" ]
}

@test "bsdtar's gnutar archive extracts to the identical tree (its writer drops holes)" {
    "$LIB/make-sample-tree" "$S/src" gnu
    bsdtar --format=gnutar --numeric-owner -cf "$S/b.tar" -C "$S/src" .
    digest=$(ours_extract "$S/b.tar" "$S/x")
    same_tree "$S/src" "$S/x" --except setgid
    [ "$digest" = "$(digest_of_tree "$S/x")" ]
    # The deviations: holes gone, and the pre-1970 mtime written as 0.
    run ! same_tree "$S/src" "$S/x" --holes --except setgid
    [ "$(stat -c %Y "$S/x/setgid")" = 0 ] && [ "$(stat -c %Y "$S/src/setgid")" -lt 0 ]
}

@test "bsdtar's ustar archive extracts to the identical tree" {
    "$LIB/make-sample-tree" "$S/src" ustar
    bsdtar --format=ustar --numeric-owner -cf "$S/b.tar" -C "$S/src" .
    digest=$(ours_extract "$S/b.tar" "$S/x")
    same_tree "$S/src" "$S/x" --holes
    [ "$digest" = "$(digest_of_tree "$S/src")" ]
}

@test "a file over 8 GiB with data in proportion goes both ways (pax size and realsize beyond the ustar field)" {
    "$LIB/make-sample-tree" "$S/src" big-data
    "$PROBE" write --no-sync "$S/src" "$S/ours.tar" >/dev/null
    mkdir "$S/g"
    tar --numeric-owner -xpf "$S/ours.tar" -C "$S/g"
    [ "$(stat -c %s "$S/g/over-8-gib")" = 9663676416 ]
    [ "$(tail -c +$(( (17 << 29) + 1 )) "$S/g/over-8-gib" | head -c 15)" = "past eight GiB" ]
    rm -rf "$S/g" "$S/ours.tar"
    tar --format=pax --sparse -cf "$S/g.tar" -C "$S/src" .
    digest=$(ours_extract "$S/g.tar" "$S/x")
    same_tree "$S/src" "$S/x" --holes
    [ "$digest" = "$(digest_of_tree "$S/src")" ]
}

@test "a file over 8 GiB of holes is refused both ways, at once (the work a snapshot demands is bounded)" {
    # 9 GiB logical, 4 KiB of data: hashing the holes would cost seconds, and 2^40 minutes, so
    # our writer refuses it and our reader refuses GNU tar's archive of it, before hashing.
    "$LIB/make-sample-tree" "$S/src" big
    run --separate-stderr timeout 20 "$PROBE" write --no-sync "$S/src" "$S/ours.tar"
    [ "$status" -eq 65 ]
    printf '%s\n' "$stderr" | tail -n 1 | jq -e '.error.code == "unsupported-entry"' >/dev/null
    tar --format=pax --sparse -cf "$S/g.tar" -C "$S/src" .
    mkdir "$S/x"
    run --separate-stderr timeout 20 "$PROBE" extract --no-sync "$S/g.tar" "$S/x"
    [ "$status" -eq 65 ]
    printf '%s\n' "$stderr" | tail -n 1 | jq -e '.error.code == "corrupt-archive"' >/dev/null
}
