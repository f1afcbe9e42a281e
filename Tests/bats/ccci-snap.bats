#!/usr/bin/env bats
# ccci-snap on plain directories (--offline): the one known-good, swapped atomically.
# The docker-backed scenarios live in snapshot-testhost.bats.

load helpers

setup() {
    setup_scratch
    sample_volumes
}
teardown() {
    awk -v s="$SCRATCH/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount "$m"; done
    teardown_scratch
}

@test "writes manifest and archives with private modes, and prints the manifest" {
    run --separate-stderr ccci-snap app1 "${VOLS[@]}" --app-version 1.0.0+1.0 --commit abc123
    assert_success
    echo "$output" | jq -e '.format == "ccci-snapshot/1" and .app == "app1" and .version == "1.0.0+1.0" and .commit == "abc123"'
    echo "$output" | jq -e '[.volumes[].name] == ["db","files"] and (.volumes[0].sha256 | length) == 64 and (.volumes[0].tree_digest | length) == 64'
    S=$CCCI_STATE/app1/snapshot
    [ "$(stat -c %a "$S")" = 700 ] && [ "$(stat -c %a "$S/volumes")" = 700 ]
    [ "$(stat -c %a "$S/manifest.json")" = 600 ] && [ "$(stat -c %a "$S/volumes/db.tar")" = 600 ]
    [ "$(sha256sum "$S/volumes/db.tar" | cut -d' ' -f1)" = "$(echo "$output" | jq -r '.volumes[0].sha256')" ]
    [ "$(sha256sum "$S/manifest.json" | cut -d' ' -f1)" = "$(echo "$output" | jq -r .manifest_digest)" ]
}

@test "the old '--version VERSION' is refused (64) naming --app-version, and nothing is written" {
    run --separate-stderr ccci-snap app1 "${VOLS[@]}" --version 1.0.0+1.0
    assert_json_error ccci-snap 64
    error_line | jq -e '.error.details.renamed == "--version" and .error.details.use == "--app-version"'
    [ ! -e "$CCCI_STATE/app1/snapshot" ]
}

@test "GNU tar reads our archive back to the same content" {
    ccci-snap app1 "${VOLS[@]}" >/dev/null
    mkdir "$SCRATCH/x"
    tar -xf "$CCCI_STATE/app1/snapshot/volumes/db.tar" -C "$SCRATCH/x"
    diff -r "$V/db/_data" "$SCRATCH/x"
}

@test "the same tree gives byte-identical archives" {
    ccci-snap app1 "${VOLS[@]}" >/dev/null
    cp "$CCCI_STATE/app1/snapshot/volumes/db.tar" "$SCRATCH/first.tar"
    ccci-snap app1 "${VOLS[@]}" >/dev/null
    cmp "$SCRATCH/first.tar" "$CCCI_STATE/app1/snapshot/volumes/db.tar"
}

@test "a new snapshot replaces the old; siblings in <app>/ are never touched" {
    mkdir -p "$CCCI_STATE/app1"
    echo 10.7.9+26.6.2 >"$CCCI_STATE/app1/last_good"
    echo '{"app":"app1"}' >"$CCCI_STATE/app1/canonical.json"
    first=$(ccci-snap app1 "${VOLS[@]}" | jq -r .manifest_digest)
    echo changed >"$V/db/_data/a"
    second=$(ccci-snap app1 "${VOLS[@]}" | jq -r .manifest_digest)
    [ "$first" != "$second" ]
    [ "$(cat "$CCCI_STATE/app1/last_good")" = 10.7.9+26.6.2 ]
    [ -f "$CCCI_STATE/app1/canonical.json" ]
    run ls -A "$CCCI_STATE/app1"
    assert_output $'canonical.json\nlast_good\nlock\nsnapshot'
}

@test "leftovers of an interrupted snapshot are cleaned by the next one" {
    mkdir -p "$CCCI_STATE/app1/.snapshot.new-deadbeef0000/volumes"
    echo junk >"$CCCI_STATE/app1/.snapshot.new-deadbeef0000/volumes/db.tar"
    run --separate-stderr ccci-snap app1 "${VOLS[@]}"
    assert_success
    [ ! -e "$CCCI_STATE/app1/.snapshot.new-deadbeef0000" ]
}

@test "a failure leaves the previous snapshot in place" {
    ccci-snap app1 "${VOLS[@]}" >/dev/null
    before=$(sha256sum "$CCCI_STATE/app1/snapshot/manifest.json")
    run --separate-stderr ccci-snap app1 --offline --volume "db=$V/db/_data" --volume "gone=$V/nonexistent"
    assert_json_error ccci-snap 66
    [ "$(sha256sum "$CCCI_STATE/app1/snapshot/manifest.json")" = "$before" ]
    [ -z "$(ls -A "$CCCI_STATE/app1" | grep snapshot.new || true)" ]
}

@test "the app's lock is honoured: --no-wait while held is 75" {
    ccci-lock app1 -- sleep 30 &
    holder=$!
    sleep 0.3
    run --separate-stderr ccci-snap app1 "${VOLS[@]}" --no-wait
    kill -9 "$holder"
    assert_json_error ccci-snap 75
    [ ! -e "$CCCI_STATE/app1/snapshot" ]
}

@test "under a lock held by the caller it does not deadlock" {
    run ccci-lock app1 -- ccci-snap app1 "${VOLS[@]}" --no-wait
    assert_success
}

@test "volumes as JSON on stdin (what ccci-app volumes prints)" {
    jq -n --arg p "$V/db/_data" '{app:"app1",volumes:[{name:"db",mountpoint:$p,driver:"local"}]}' >"$SCRATCH/vols.json"
    run --separate-stderr ccci-snap app1 --offline --stdin <"$SCRATCH/vols.json"
    assert_success
    echo "$output" | jq -e '[.volumes[].name] == ["db"]'
}

@test "bad input: names, paths, duplicates, malformed stdin, --offline without volumes" {
    run --separate-stderr ccci-snap ../x "${VOLS[@]}"
    assert_json_error ccci-snap 64
    run --separate-stderr ccci-snap app1 --offline --volume "../db=$V/db/_data"
    assert_json_error ccci-snap 64
    run --separate-stderr ccci-snap app1 --offline --volume "db=relative/path"
    assert_json_error ccci-snap 64
    run --separate-stderr ccci-snap app1 --offline --volume "db=$V/db/_data" --volume "db=$V/files/_data"
    assert_json_error ccci-snap 64
    echo '{"volumes":[{"name":"db"}]}' >"$SCRATCH/bad.json"
    run --separate-stderr ccci-snap app1 --offline --stdin <"$SCRATCH/bad.json"
    assert_json_error ccci-snap 65
    run --separate-stderr ccci-snap app1 --offline
    assert_json_error ccci-snap 64
    [ ! -e "$CCCI_STATE/app1/snapshot" ]
}

@test "a volume root that is a symlink is refused, not followed" {
    ln -s "$V/db/_data" "$SCRATCH/linked"
    run --separate-stderr ccci-snap app1 --offline --volume "db=$SCRATCH/linked"
    [ "$status" -ge 64 ]
    [ ! -e "$CCCI_STATE/app1/snapshot" ]
}

@test "a socket is skipped and reported in the manifest and the output" {
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$V/db/_data/sock"
    run --separate-stderr ccci-snap app1 "${VOLS[@]}"
    assert_success
    echo "$output" | jq -e '(.volumes[] | select(.name == "db") | .skipped) == ["sock"]'
    echo "$output" | jq -e '(.volumes[] | select(.name == "files") | has("skipped")) == false'
    jq -e '(.volumes[] | select(.name == "db") | .skipped) == ["sock"]' "$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr ccci-restore app1 --verify
    assert_success
}

@test "what restore would refuse is not snapshotted: an mtime the filesystem of a restore cannot store (65)" {
    mkdir "$SCRATCH/tmpfs"
    mount -t tmpfs none "$SCRATCH/tmpfs" || skip "cannot mount tmpfs here"
    echo x >"$SCRATCH/tmpfs/f"
    touch -d @$((1 << 36)) "$SCRATCH/tmpfs/f"
    run --separate-stderr ccci-snap app9 --offline --volume "v=$SCRATCH/tmpfs"
    umount "$SCRATCH/tmpfs"
    assert_json_error ccci-snap 65
    [ "$(error_line | jq -r .error.code)" = unsupported-entry ]
    [ ! -e "$CCCI_STATE/app9/snapshot" ]
}
