#!/usr/bin/env bats
# ccci-restore on plain directories (--offline): verify first, all or nothing, receipts,
# hostile snapshots refused, and crash recovery through the journal.

load helpers

setup() {
    setup_scratch
    sample_volumes
    ccci-snap app1 "${VOLS[@]}" --version 1.0.0+1.0 >"$SCRATCH/manifest.json"
}
teardown() { teardown_scratch; }

tree() { (cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort); }

@test "restores mutated volumes to the snapshot and proves it" {
    tree "$V/db/_data" >"$SCRATCH/before"
    echo mutated >"$V/db/_data/a"
    rm "$V/db/_data/sub/b"
    echo extra >"$V/files/_data/new"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_success
    echo "$output" | jq -e '.ok == true and ([.volumes[].equal] | all) and .version == "1.0.0+1.0"'
    echo "$output" | jq -e --slurpfile m "$SCRATCH/manifest.json" '.manifest_digest == $m[0].manifest_digest'
    tree "$V/db/_data" | diff "$SCRATCH/before" -
    [ ! -e "$V/files/_data/new" ]
    [ "$(cat "$V/files/_data/c")" = two ]
    # no staging or journal left behind
    [ -z "$(ls -A "$V/db" | grep -v '^_data$' || true)" ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
}

@test "--verify checks hashes and touches nothing" {
    echo mutated >"$V/db/_data/a"
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    echo "$output" | jq -e '.ok == true and (.volumes | length) == 2'
    [ "$(cat "$V/db/_data/a")" = mutated ]
}

@test "a corrupted archive is refused before any volume is touched (65)" {
    echo mutated >"$V/db/_data/a"
    echo mutated >"$V/files/_data/c"
    # flip one byte of file content inside the second archive
    printf 'X' | dd of="$CCCI_STATE/app1/snapshot/volumes/files.tar" bs=1 seek=1536 conv=notrunc 2>/dev/null
    run --separate-stderr ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 65
    [ "$(cat "$V/db/_data/a")" = mutated ]
    [ "$(cat "$V/files/_data/c")" = mutated ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
}

@test "a tampered manifest is refused (65)" {
    jq -c '.volumes[0].tree_digest = ("0" * 64)' "$CCCI_STATE/app1/snapshot/manifest.json" >"$SCRATCH/m"
    cp "$SCRATCH/m" "$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    echo '{"format":"other"}' >"$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 65
}

@test "a missing volume of the snapshot is 66, nothing touched" {
    echo mutated >"$V/db/_data/a"
    run --separate-stderr ccci-restore app1 --offline --volume "db=$V/db/_data"
    assert_json_error ccci-restore 66
    [ "$(cat "$V/db/_data/a")" = mutated ]
}

@test "no snapshot is 66" {
    run --separate-stderr ccci-restore app2 --verify
    assert_json_error ccci-restore 66
}

@test "a restore drill restores into a scratch directory and leaves live volumes alone" {
    echo mutated >"$V/db/_data/a"
    run --separate-stderr ccci-restore app1 --into "$SCRATCH/drill"
    assert_success
    echo "$output" | jq -e '.ok == true'
    [ "$(cat "$SCRATCH/drill/db/a")" = hello ]
    [ "$(cat "$V/db/_data/a")" = mutated ]
}

@test "a crash while staging is reversed by the next run: every volume wholly old" {
    echo mutated >"$V/db/_data/a"
    mkdir "$V/db/.ccci-staging-000000000001"
    echo partial >"$V/db/.ccci-staging-000000000001/a"
    jq -n --arg l "$V/db/_data" --arg s "$V/db/.ccci-staging-000000000001" \
        '{op:"restore",phase:"staging",volumes:[{name:"db",live:$l,staging:$s,staging_inode:null}]}' >"$CCCI_STATE/app1/journal.json"
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    [ ! -e "$V/db/.ccci-staging-000000000001" ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
    [ "$(cat "$V/db/_data/a")" = mutated ]
}

@test "a crash while swapping is rolled forward by the next run: every volume wholly restored" {
    # stage a complete restored tree for both volumes by hand, swap only the first, then "crash"
    ccci-restore app1 --into "$SCRATCH/staged" >/dev/null
    echo mutated >"$V/db/_data/a"
    echo mutated >"$V/files/_data/c"
    mv "$SCRATCH/staged/db" "$V/db/.ccci-staging-000000000002"
    mv "$SCRATCH/staged/files" "$V/files/.ccci-staging-000000000002"
    i1=$(stat -c %i "$V/db/.ccci-staging-000000000002")
    i2=$(stat -c %i "$V/files/.ccci-staging-000000000002")
    jq -n --arg l1 "$V/db/_data" --arg s1 "$V/db/.ccci-staging-000000000002" --argjson i1 "$i1" \
        --arg l2 "$V/files/_data" --arg s2 "$V/files/.ccci-staging-000000000002" --argjson i2 "$i2" \
        '{op:"restore",phase:"swapping",volumes:[{name:"db",live:$l1,staging:$s1,staging_inode:$i1},{name:"files",live:$l2,staging:$s2,staging_inode:$i2}]}' \
        >"$CCCI_STATE/app1/journal.json"
    mv "$V/db/_data" "$SCRATCH/old-db" && mv "$V/db/.ccci-staging-000000000002" "$V/db/_data" && mv "$SCRATCH/old-db" "$V/db/.ccci-staging-000000000002"
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    [ "$(cat "$V/db/_data/a")" = hello ]
    [ "$(cat "$V/files/_data/c")" = two ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
}

@test "kill -9 at random instants: the next run always converges to a verified state" {
    # a volume big enough that the kill lands mid-operation
    for i in $(seq 40); do head -c 262144 /dev/urandom >"$V/db/_data/blob$i"; done
    ccci-snap app1 "${VOLS[@]}" >/dev/null
    want_db=$(ccci-restore app1 --verify | jq -r '.volumes[] | select(.name == "db") | .sha256')
    for round in 1 2 3 4 5 6; do
        echo "round $round" >"$V/db/_data/a"
        ccci-restore app1 "${VOLS[@]}" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        # whatever the instant: a volume is wholly old or wholly restored, and a rerun finishes
        a=$(cat "$V/db/_data/a")
        [ "$a" = "round $round" ] || [ "$a" = hello ] || fail "torn volume: $a"
        run --separate-stderr ccci-restore app1 "${VOLS[@]}"
        assert_success
        [ "$(cat "$V/db/_data/a")" = hello ]
        [ ! -e "$CCCI_STATE/app1/journal.json" ]
        # and kill -9 of a snapshot never loses the known-good
        ccci-snap app1 "${VOLS[@]}" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        run --separate-stderr ccci-restore app1 --verify
        assert_success
    done
    [ -n "$want_db" ]
}

@test "bad input: --verify with --into, a relative --into" {
    run --separate-stderr ccci-restore app1 --verify --into /tmp/x
    assert_json_error ccci-restore 64
    run --separate-stderr ccci-restore app1 --into relative
    assert_json_error ccci-restore 64
}
