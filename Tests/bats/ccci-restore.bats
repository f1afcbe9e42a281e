#!/usr/bin/env bats
# ccci-restore on plain directories (--offline): verify first, all or nothing, receipts,
# hostile snapshots refused, and crash recovery through the journal.

load helpers

setup() {
    setup_scratch
    sample_volumes
    ccci-snap app1 "${VOLS[@]}" --app-version 1.0.0+1.0 >"$SCRATCH/manifest.json"
}
teardown() {
    # never let rm -rf reach into a bind mount a test made
    awk -v s="$SCRATCH/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount "$m"; done
    teardown_scratch
}

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

@test "a crash while staging is reversed by the next restore: every volume wholly old" {
    echo mutated >"$V/db/_data/a"
    mkdir "$V/db/.ccci-staging-000000000001-db"
    echo partial >"$V/db/.ccci-staging-000000000001-db/a"
    jq -n --arg l "$V/db/_data" --arg s "$V/db/.ccci-staging-000000000001-db" \
        '{op:"restore",phase:"staging",token:"000000000001",volumes:[{name:"db",live:$l,staging:$s}]}' >"$CCCI_STATE/app1/journal.json"
    # --verify touches nothing: the journal and the staging directory stay
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    [ -e "$V/db/.ccci-staging-000000000001-db/a" ]
    [ -e "$CCCI_STATE/app1/journal.json" ]
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_success
    echo "$output" | jq -e '.recovered == "reversed" and .ok == true'
    [ ! -e "$V/db/.ccci-staging-000000000001-db" ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
    [ "$(cat "$V/db/_data/a")" = hello ]
}

# swapped_journal: stages a complete restored tree for both volumes by hand, swaps only the
# first, and leaves the journal a crash would leave.
swapped_journal() {
    ccci-restore app1 --into "$SCRATCH/staged" >/dev/null
    echo mutated >"$V/db/_data/a"
    echo mutated >"$V/files/_data/c"
    mv "$SCRATCH/staged/db" "$V/db/.ccci-staging-000000000002-db"
    mv "$SCRATCH/staged/files" "$V/files/.ccci-staging-000000000002-files"
    jq -n --arg l1 "$V/db/_data" --arg s1 "$V/db/.ccci-staging-000000000002-db" \
        --argjson d1 "$(stat -c %d "$V/db/_data")" --argjson o1 "$(stat -c %i "$V/db/_data")" --argjson i1 "$(stat -c %i "$V/db/.ccci-staging-000000000002-db")" \
        --arg l2 "$V/files/_data" --arg s2 "$V/files/.ccci-staging-000000000002-files" \
        --argjson d2 "$(stat -c %d "$V/files/_data")" --argjson o2 "$(stat -c %i "$V/files/_data")" --argjson i2 "$(stat -c %i "$V/files/.ccci-staging-000000000002-files")" \
        '{op:"restore",phase:"swapping",token:"000000000002",volumes:[
            {name:"db",live:$l1,staging:$s1,device:$d1,live_inode:$o1,staging_inode:$i1},
            {name:"files",live:$l2,staging:$s2,device:$d2,live_inode:$o2,staging_inode:$i2}]}' \
        >"$CCCI_STATE/app1/journal.json"
    mv "$V/db/_data" "$SCRATCH/old-db" && mv "$V/db/.ccci-staging-000000000002-db" "$V/db/_data" && mv "$SCRATCH/old-db" "$V/db/.ccci-staging-000000000002-db"
}

@test "a crash while swapping is rolled forward by the next restore: every volume wholly restored" {
    swapped_journal
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    [ "$(cat "$V/files/_data/c")" = mutated ]    # --verify finished nothing
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_success
    echo "$output" | jq -e '.recovered == "rolled-forward" and .ok == true'
    [ "$(cat "$V/db/_data/a")" = hello ]
    [ "$(cat "$V/files/_data/c")" = two ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
}

@test "a journal naming a directory that is not a volume given is refused (70): nothing deleted, journal kept" {
    mkdir -p "$SCRATCH/victim/data" && echo precious >"$SCRATCH/victim/data/f"
    mkdir "$SCRATCH/victim/.ccci-staging-000000000003-db" && echo precious >"$SCRATCH/victim/.ccci-staging-000000000003-db/g"
    for phase in staging swapping; do
        jq -n --arg p "$phase" --arg l "$SCRATCH/victim/data" --arg s "$SCRATCH/victim/.ccci-staging-000000000003-db" \
            --argjson d "$(stat -c %d "$SCRATCH/victim/data")" --argjson o "$(stat -c %i "$SCRATCH/victim/.ccci-staging-000000000003-db")" \
            --argjson i "$(stat -c %i "$SCRATCH/victim/data")" \
            '{op:"restore",phase:$p,token:"000000000003",volumes:[{name:"db",live:$l,staging:$s,device:$d,live_inode:$o,staging_inode:$i}]}' \
            >"$CCCI_STATE/app1/journal.json"
        run --separate-stderr ccci-restore app1 "${VOLS[@]}"
        assert_json_error ccci-restore 70
        [ "$(jq -r .error.code <<<"${stderr##*$'\n'}")" = journal-unproven ]
        run --separate-stderr ccci-snap app1 "${VOLS[@]}"
        assert_json_error ccci-snap 70
        [ "$(cat "$SCRATCH/victim/data/f")" = precious ]
        [ "$(cat "$SCRATCH/victim/.ccci-staging-000000000003-db/g")" = precious ]
        [ -e "$CCCI_STATE/app1/journal.json" ]
    done
    # a volume name the snapshot does not have, and a staging name this toolkit did not make
    jq -n --arg l "$V/db/_data" '{op:"restore",phase:"staging",token:"000000000003",volumes:[{name:"other",live:$l,staging:($l|sub("_data$";".ccci-staging-000000000003-other"))}]}' >"$CCCI_STATE/app1/journal.json"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 70
    jq -n --arg l "$V/db/_data" '{op:"restore",phase:"staging",token:"000000000003",volumes:[{name:"db",live:$l,staging:($l|sub("_data$";"precious"))}]}' >"$CCCI_STATE/app1/journal.json"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 70
    [ "$(cat "$V/db/_data/a")" = hello ]
}

@test "a swapping journal whose inodes do not match is unresolved (70): nothing moved or deleted" {
    swapped_journal
    # the recorded old-tree inode now names something else: neither state is proven
    jq --argjson x 1 '.volumes[0].live_inode = $x' "$CCCI_STATE/app1/journal.json" >"$SCRATCH/j" && cp "$SCRATCH/j" "$CCCI_STATE/app1/journal.json"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 70
    [ -e "$V/db/.ccci-staging-000000000002-db/a" ]
    [ "$(cat "$V/files/_data/c")" = mutated ]
}

@test "a bind mount inside a live volume: refused before any write (74 mount-point), the mounted data intact" {
    mkdir -p "$SCRATCH/host" "$V/db/_data/mnt" && echo precious >"$SCRATCH/host/keep"
    mount --bind "$SCRATCH/host" "$V/db/_data/mnt" || skip "cannot bind mount here"
    echo mutated >"$V/db/_data/a"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    umount "$V/db/_data/mnt"
    assert_json_error ccci-restore 74
    [ "$(jq -r .error.code <<<"${stderr##*$'\n'}")" = mount-point ]
    [ "$(cat "$SCRATCH/host/keep")" = precious ]
    [ "$(cat "$V/db/_data/a")" = mutated ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
}

@test "a live volume that is itself a mount point: refused before any write (74 mount-point), nothing left behind" {
    mkdir -p "$SCRATCH/elsewhere" && printf 'two' >"$SCRATCH/elsewhere/c" && echo precious >"$SCRATCH/elsewhere/keep"
    mount --bind "$SCRATCH/elsewhere" "$V/files/_data" || skip "cannot bind mount here"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    umount "$V/files/_data"
    assert_json_error ccci-restore 74
    [ "$(jq -r .error.code <<<"${stderr##*$'\n'}")" = mount-point ]
    [ "$(cat "$SCRATCH/elsewhere/keep")" = precious ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
    [ ! -e "$CCCI_STATE/app1/journal.json" ]
}

@test "a file bind-mounted inside a live volume is refused too (74 mount-point), its content intact" {
    echo precious >"$SCRATCH/host-file"
    mount --bind "$SCRATCH/host-file" "$V/db/_data/sub/b" || skip "cannot bind mount here"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    umount "$V/db/_data/sub/b"
    assert_json_error ccci-restore 74
    [ "$(error_line | jq -r .error.code)" = mount-point ]
    [ "$(cat "$SCRATCH/host-file")" = precious ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
}

@test "removal never crosses a mount: a mount that appears in the old tree stops recovery (74), its data intact, the journal kept" {
    swapped_journal
    mkdir -p "$SCRATCH/host" "$V/db/.ccci-staging-000000000002-db/mnt" && echo precious >"$SCRATCH/host/keep"
    mount --bind "$SCRATCH/host" "$V/db/.ccci-staging-000000000002-db/mnt" || skip "cannot bind mount here"
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    umount "$V/db/.ccci-staging-000000000002-db/mnt"
    assert_json_error ccci-restore 74
    [ "$(error_line | jq -r .error.code)" = mount-point ]
    [ "$(cat "$SCRATCH/host/keep")" = precious ]
    [ -e "$CCCI_STATE/app1/journal.json" ]
    [ "$(cat "$V/db/_data/a")" = hello ]
    # unmounted, the next run finishes the job
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_success
    [ "$(cat "$V/files/_data/c")" = two ]
    [ -z "$(ls -A "$V/db" "$V/files" | grep staging || true)" ]
}

@test "two volumes in one parent directory restore (a staging name per volume)" {
    mkdir -p "$SCRATCH/flat/one" "$SCRATCH/flat/two"
    echo 1 >"$SCRATCH/flat/one/f" && echo 2 >"$SCRATCH/flat/two/f"
    flat=(--offline --volume "one=$SCRATCH/flat/one" --volume "two=$SCRATCH/flat/two")
    ccci-snap app3 "${flat[@]}" >/dev/null
    echo x >"$SCRATCH/flat/one/f" && echo y >"$SCRATCH/flat/two/f"
    run --separate-stderr ccci-restore app3 "${flat[@]}"
    assert_success
    [ "$(cat "$SCRATCH/flat/one/f")" = 1 ] && [ "$(cat "$SCRATCH/flat/two/f")" = 2 ]
    [ "$(ls -A "$SCRATCH/flat")" = "$(printf 'one\ntwo')" ]
}

@test "names are bytes: a live file whose name is not UTF-8 is replaced like any other" {
    touch "$V/db/_data/$(printf 'bad\377\376name')"
    mkdir "$V/db/_data/$(printf 'dir\377')" && touch "$V/db/_data/$(printf 'dir\377')/$(printf '\300x')"
    for round in 1 2; do
        run --separate-stderr ccci-restore app1 "${VOLS[@]}"
        assert_success
        [ -z "$(ls -A "$V/db" | grep -v '^_data$' || true)" ]
    done
    [ "$(ls "$V/db/_data" | wc -l)" -eq 3 ]
}

@test "--volume NAME=PATH with a PATH that does not exist is 66, and nothing is created" {
    run --separate-stderr ccci-restore app1 --offline --volume "db=$V/db/_data" --volume "files=$SCRATCH/nowhere/_data"
    assert_json_error ccci-restore 66
    [ ! -e "$SCRATCH/nowhere" ]
    run --separate-stderr ccci-restore app1 --offline --volume "db=$V/db/_data" --volume "files=$SCRATCH/vols/files/missing"
    assert_json_error ccci-restore 66
    [ ! -e "$SCRATCH/vols/files/missing" ]
}

@test "a drill gives restore's verdict: a manifest that does not match is 65, and the drill leaves nothing" {
    jq -c '.volumes[1].tree_digest = ("0" * 64)' "$CCCI_STATE/app1/snapshot/manifest.json" >"$SCRATCH/m"
    cp "$SCRATCH/m" "$CCCI_STATE/app1/snapshot/manifest.json"
    for args in "--verify" "--into $SCRATCH/drill" "${VOLS[*]}"; do
        run --separate-stderr ccci-restore app1 $args
        assert_json_error ccci-restore 65
        [ "$(error_line | jq -r .error.code)" = manifest-mismatch ]
    done
    [ ! -e "$SCRATCH/drill" ]
    mkdir "$SCRATCH/kept"
    run --separate-stderr ccci-restore app1 --into "$SCRATCH/kept"
    assert_json_error ccci-restore 65
    [ -d "$SCRATCH/kept" ] && [ -z "$(ls -A "$SCRATCH/kept")" ]
}

@test "a manifest with no volumes is refused (65)" {
    jq -c '.volumes = []' "$CCCI_STATE/app1/snapshot/manifest.json" >"$SCRATCH/m" && cp "$SCRATCH/m" "$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    run --separate-stderr ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 65
}

@test "a FIFO in place of an archive or the manifest is refused at once (65), never waited on" {
    cp "$CCCI_STATE/app1/snapshot/manifest.json" "$SCRATCH/m"
    rm "$CCCI_STATE/app1/snapshot/volumes/files.tar" && mkfifo "$CCCI_STATE/app1/snapshot/volumes/files.tar"
    run --separate-stderr timeout 10 ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    run --separate-stderr timeout 10 ccci-restore app1 "${VOLS[@]}"
    assert_json_error ccci-restore 65
    run --separate-stderr timeout 10 ccci-restore app1 --into "$SCRATCH/drill"
    assert_json_error ccci-restore 65
    # a directory, a symlink and a socket in place of the archive: the same
    rm "$CCCI_STATE/app1/snapshot/volumes/files.tar" && mkdir "$CCCI_STATE/app1/snapshot/volumes/files.tar"
    run --separate-stderr timeout 10 ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    rmdir "$CCCI_STATE/app1/snapshot/volumes/files.tar" && ln -s db.tar "$CCCI_STATE/app1/snapshot/volumes/files.tar"
    run --separate-stderr timeout 10 ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    rm "$CCCI_STATE/app1/snapshot/volumes/files.tar"
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$CCCI_STATE/app1/snapshot/volumes/files.tar"
    run --separate-stderr timeout 10 ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    rm "$CCCI_STATE/app1/snapshot/manifest.json" && mkfifo "$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr timeout 10 ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    rm "$CCCI_STATE/app1/snapshot/manifest.json"
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr timeout 10 ccci-restore app1 --verify
    assert_json_error ccci-restore 65
    [ "$(cat "$V/db/_data/a")" = hello ]
}

@test "the manifest digest is the SHA-256 of the manifest file: a rewritten manifest has a new digest" {
    want=$(sha256sum <"$CCCI_STATE/app1/snapshot/manifest.json" | cut -d' ' -f1)
    jq -e --arg w "$want" '.manifest_digest == $w' "$SCRATCH/manifest.json"
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    echo "$output" | jq -e --arg w "$want" '.manifest_digest == $w'
    jq . "$CCCI_STATE/app1/snapshot/manifest.json" >"$SCRATCH/pretty" && cp "$SCRATCH/pretty" "$CCCI_STATE/app1/snapshot/manifest.json"
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    echo "$output" | jq -e --arg w "$want" --arg n "$(sha256sum <"$SCRATCH/pretty" | cut -d' ' -f1)" '.manifest_digest != $w and .manifest_digest == $n'
}

# One judgement, end to end: every archive of the hostile corpus installed as a snapshot's
# archive gets the same verdict from --verify, --into and a live restore; a refused one leaves
# the live volume untouched.
@test "verify, --into and restore give the same verdict on every hostile or odd archive" {
    corpus=$SCRATCH/corpus
    "$BATS_TEST_DIRNAME/../archive/lib/make-hostile" "$corpus" >/dev/null
    probe=${CCCI_BIN:-$BATS_TEST_DIRNAME/../../.build/release}/ccci-archive-probe
    m=$CCCI_STATE/app1/snapshot/manifest.json
    jq -c '.volumes |= map(select(.name == "db"))' "$m" >"$SCRATCH/one" && cp "$SCRATCH/one" "$m"
    one=(--offline --volume "db=$V/db/_data")
    bad=0
    verdict() { echo "$status $(printf '%s\n' "$stderr" | tail -n 1 | jq -r '.error.code? // ""' 2>/dev/null)"; }
    while read -r name _; do
        tar=$corpus/$name.tar
        cp "$tar" "$CCCI_STATE/app1/snapshot/volumes/db.tar"
        # the manifest tells the archive's truth where the probe can read it, so only the archive decides
        sum=$("$probe" verify "$tar" 2>/dev/null || true)
        jq -c --arg s "$(sha256sum <"$tar" | cut -d' ' -f1)" --argjson b "$(stat -c %s "$tar")" \
            --argjson e "$(jq '.entries // 0' <<<"${sum:-{\}}")" --arg t "$(jq -r '.treeDigest // ("0" * 64)' <<<"${sum:-{\}}")" \
            '.volumes[0] += {sha256: $s, bytes: $b, entries: $e, tree_digest: $t}' "$m" >"$SCRATCH/one" && cp "$SCRATCH/one" "$m"
        run --separate-stderr ccci-restore app1 --verify; v=$(verdict)
        rm -rf "$SCRATCH/drill"
        run --separate-stderr ccci-restore app1 --into "$SCRATCH/drill"; into=$(verdict)
        before=$(cd "$V/db/_data" && find . -printf '%p %y %m %s\n' | sort)
        run --separate-stderr ccci-restore app1 "${one[@]}"; r=$(verdict)
        if [ "$v" != "$into" ] || [ "$v" != "$r" ]; then echo "$name: verify '$v', --into '$into', restore '$r'"; bad=1; fi
        if [ "${r%% *}" != 0 ] && [ "$before" != "$(cd "$V/db/_data" && find . -printf '%p %y %m %s\n' | sort)" ]; then
            echo "$name: refused, yet the live volume changed"; bad=1
        fi
        [ -z "$(ls -A "$V/db" | grep staging || true)" ] || { echo "$name: staging left behind"; bad=1; }
        if [ "${into%% *}" != 0 ] && [ -e "$SCRATCH/drill" ]; then echo "$name: a refused drill left '$SCRATCH/drill' behind"; bad=1; fi
    done <"$corpus/cases"
    [ "$bad" = 0 ]
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
