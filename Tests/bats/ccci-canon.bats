#!/usr/bin/env bats
# ccci-canon (offline): show, list, has, enrolled, set-status, history, log, last-good, prune.

load helpers

setup() {
    setup_scratch
    export CCCI_ENROLLED=$SCRATCH/enrolled
    printf 'custom-html\n' >"$CCCI_ENROLLED"
    V=$SCRATCH/vols
    mkdir -p "$V/content/_data"
    echo "known good" >"$V/content/_data/index.html"
    jq -n '{app:"custom-html",mode:"cold",ref:null,status:"pass",version:"1.0.0+1.27.0",commit:"c0ffee",run:"run-1"}' |
        ccci-promote --offline --volume "content=$V/content/_data" --domain warm-custom-html.test.local >/dev/null
}
teardown() { teardown_scratch; }

@test "show and list print the record" {
    run --separate-stderr ccci-canon show custom-html
    assert_success
    echo "$output" | jq -e '.version == "1.0.0+1.27.0" and .status == "idle"'
    run ccci-canon list
    [ "${#lines[@]}" -eq 1 ]
    run --separate-stderr ccci-canon show nextcloud
    assert_json_error ccci-canon 66
}

@test "has is yes only while record and snapshot agree and the snapshot verifies" {
    run ccci-canon has custom-html --offline
    assert_success
    run ccci-canon has nextcloud --offline
    assert_failure 1
    echo "$output" | jq -e '.has == false and .reason == "no-record"'
    printf 'X' | dd of="$CCCI_STATE/custom-html/snapshot/volumes/content.tar" bs=1 seek=1536 conv=notrunc 2>/dev/null
    run ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
    rm -rf "$CCCI_STATE/custom-html/snapshot"
    run ccci-canon has custom-html --offline
    echo "$output" | jq -e '.reason == "no-snapshot"'
}

@test "has notices a record that names another snapshot" {
    jq -c '.manifest_digest = ("a" * 64)' "$CCCI_STATE/custom-html/canonical.json" >"$SCRATCH/c"
    cp "$SCRATCH/c" "$CCCI_STATE/custom-html/canonical.json"
    run ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-mismatch"'
}

@test "set-status changes only the status (and updated_at)" {
    run --separate-stderr ccci-canon set-status custom-html quick
    assert_success
    echo "$output" | jq -e '.status == "quick" and .version == "1.0.0+1.27.0"'
    run --separate-stderr ccci-canon set-status custom-html broken
    assert_json_error ccci-canon 64
    run --separate-stderr ccci-canon set-status nextcloud idle
    assert_json_error ccci-canon 66
}

@test "log appends provenance; history survives a torn last line" {
    ccci-canon log custom-html --event rolled-back --field attempted=1.1.0+1.28.0 >/dev/null
    printf '{"torn":' >>"$CCCI_STATE/custom-html/history.jsonl"
    ccci-canon log custom-html --event held --field reason=major >/dev/null
    run ccci-canon history custom-html
    assert_success
    [ "${#lines[@]}" -eq 3 ]
    echo "${lines[1]}" | jq -e '.event == "rolled-back" and .attempted == "1.1.0+1.28.0" and .app == "custom-html"'
    echo "${lines[2]}" | jq -e '.event == "held" and .reason == "major"'
}

@test "last-good: none is a clean no; set records it atomically" {
    run --separate-stderr ccci-canon last-good keycloak
    assert_failure 1
    echo "$output" | jq -e '.last_good == null'
    run --separate-stderr ccci-canon last-good keycloak --set 10.7.9+26.6.2
    assert_success
    [ "$(cat "$CCCI_STATE/keycloak/last_good")" = 10.7.9+26.6.2 ]
    run --separate-stderr ccci-canon last-good keycloak
    assert_success
    echo "$output" | jq -e '.last_good == "10.7.9+26.6.2"'
    run --separate-stderr ccci-canon last-good keycloak --set not-a-version
    assert_json_error ccci-canon 64
}

@test "enrolled reads the list; invalid names are bad data" {
    printf 'custom-html\n# comment\n\nkeycloak\n' >"$CCCI_ENROLLED"
    run --separate-stderr ccci-canon enrolled
    assert_success
    echo "$output" | jq -e '.enrolled == ["custom-html","keycloak"]'
    printf '../../etc\n' >"$SCRATCH/bad"
    run --separate-stderr ccci-canon enrolled --enrolled "$SCRATCH/bad"
    assert_json_error ccci-canon 65
}

@test "prune removes only de-enrolled canonicals; infra, alerts and enrolled apps stay" {
    ccci-canon last-good keycloak --set 10.7.9+26.6.2 >/dev/null
    echo '{"app":"keycloak"}' >"$CCCI_STATE/keycloak/canonical.json.bak"
    ccci-alert raise --app keycloak --kind rollback </dev/null >/dev/null
    mkdir -p "$V/old/_data" && echo x >"$V/old/_data/f"
    jq -n '{app:"oldapp",mode:"cold",ref:null,status:"pass",version:"1.0.0+1",run:"r"}' >"$SCRATCH/r"
    printf 'custom-html\noldapp\n' >"$CCCI_ENROLLED"
    ccci-promote --offline --volume "old=$V/old/_data" --domain warm-oldapp.test.local <"$SCRATCH/r" >/dev/null
    printf 'custom-html\n' >"$CCCI_ENROLLED"
    run --separate-stderr ccci-canon prune --offline --dry-run
    assert_success
    echo "$output" | jq -e 'select(.app == "oldapp") | .action == "would-remove"'
    [ -d "$CCCI_STATE/oldapp" ]
    run --separate-stderr ccci-canon prune --offline
    assert_success
    [ ! -e "$CCCI_STATE/oldapp" ]
    [ -f "$CCCI_STATE/custom-html/canonical.json" ]
    [ -f "$CCCI_STATE/keycloak/last_good" ]
    [ -n "$(ls "$CCCI_STATE/alerts"/*.json)" ]
}

@test "prune keeps an app whose lock is held" {
    mkdir -p "$V/old/_data" && echo x >"$V/old/_data/f"
    printf 'custom-html\noldapp\n' >"$CCCI_ENROLLED"
    jq -n '{app:"oldapp",mode:"cold",ref:null,status:"pass",version:"1.0.0+1",run:"r"}' |
        ccci-promote --offline --volume "old=$V/old/_data" --domain warm-oldapp.test.local >/dev/null
    printf 'custom-html\n' >"$CCCI_ENROLLED"
    ccci-lock oldapp -- sleep 30 &
    holder=$!
    sleep 0.3
    run --separate-stderr ccci-canon prune --offline
    kill -9 "$holder"
    echo "$output" | jq -e 'select(.app == "oldapp") | .action == "kept" and .reason == "busy"'
    [ -d "$CCCI_STATE/oldapp" ]
}

@test "log --field refuses reserved keys and keys that are not plain identifiers (64), writing nothing" {
    before=$(cat "$CCCI_STATE/custom-html/history.jsonl" 2>/dev/null || true)
    for f in at=x event=x app=other 'with space=x' 'Upper=x' '1st=x' 'a.b=x' $'a\nb=x' '=x' 'noequals'; do
        run --separate-stderr ccci-canon log custom-html --event held --field "$f"
        assert_json_error ccci-canon 64
    done
    [ "$(cat "$CCCI_STATE/custom-html/history.jsonl" 2>/dev/null || true)" = "$before" ]
}

@test "log --stdin refuses reserved and bad keys too (65); a --field wins over the same stdin key" {
    for j in '{"app":"other"}' '{"at":"1970"}' '{"a b":1}'; do
        run --separate-stderr ccci-canon log custom-html --event held --stdin <<<"$j"
        assert_json_error ccci-canon 65
    done
    run --separate-stderr ccci-canon log custom-html --event held --stdin --field reason=flag <<<'{"reason":"stdin","n":1}'
    assert_success
    run ccci-canon history custom-html
    echo "${lines[-1]}" | jq -e '.reason == "flag" and .n == 1 and .app == "custom-html"'
}

@test "history: a corrupt line in the middle is 65 with its line number, not skipped" {
    ccci-canon log custom-html --event held --field reason=a >/dev/null
    n=$(wc -l <"$CCCI_STATE/custom-html/history.jsonl")
    echo 'not json' >>"$CCCI_STATE/custom-html/history.jsonl"
    ccci-canon log custom-html --event held --field reason=b >/dev/null
    run --separate-stderr ccci-canon history custom-html
    assert_json_error ccci-canon 65
    error_line | jq -e --argjson l "$((n + 1))" '.error.code == "corrupt-history" and .error.details.line == $l'
}

@test "history: a torn last line is skipped with a note; the next append cuts it off" {
    ccci-canon log custom-html --event held --field reason=a >/dev/null
    printf '{"torn":' >>"$CCCI_STATE/custom-html/history.jsonl"
    run --separate-stderr ccci-canon history custom-html
    assert_success
    echo "${lines[-1]}" | jq -e '.reason == "a"'
    ccci-canon log custom-html --event held --field reason=b >/dev/null
    [ "$(grep -c torn "$CCCI_STATE/custom-html/history.jsonl")" -eq 0 ]
    run --separate-stderr ccci-canon history custom-html
    assert_success
}

@test "enrolled accepts a CRLF list (and a BOM)" {
    printf '\357\273\277custom-html\r\n# c\r\nkeycloak\r\n' >"$SCRATCH/crlf"
    run --separate-stderr ccci-canon enrolled --enrolled "$SCRATCH/crlf"
    assert_success
    echo "$output" | jq -e '.enrolled == ["custom-html","keycloak"]'
}

@test "a symlinked app directory is 73, not 66 missing" {
    mkdir -p "$CCCI_STATE" "$SCRATCH/elsewhere"
    ln -s "$SCRATCH/elsewhere" "$CCCI_STATE/linked"
    run --separate-stderr ccci-canon history linked
    assert_json_error ccci-canon 73
    run --separate-stderr ccci-canon log linked --event held
    assert_json_error ccci-canon 73
    [ -z "$(ls -A "$SCRATCH/elsewhere")" ]
}

@test "a record whose domain or recipe is not a valid name is bad data (65), not used" {
    for edit in '.domain = "warm-x.test.local;rm -rf /"' '.domain = "../../x"' '.recipe = "../etc"' '.recipe = "a b"'; do
        mkdir -p "$CCCI_STATE/crafted"
        jq -c --arg d 'x' "$edit" <<<'{"app":"crafted","recipe":"crafted","domain":"warm-crafted.test.local","version":"1.0.0+1","commit":null,"status":"idle","run":null,"manifest_digest":"'"$(printf 'a%.0s' $(seq 64))"'","promoted_at":"t","updated_at":"t"}' >"$CCCI_STATE/crafted/canonical.json"
        run --separate-stderr ccci-canon show crafted
        assert_json_error ccci-canon 65
    done
}

@test "an enrolment list behind a symlink (NixOS environment.etc) is read; a directory or FIFO is 65" {
    printf 'custom-html\n' >"$SCRATCH/list"
    ln -s "$SCRATCH/list" "$SCRATCH/linked"
    run --separate-stderr ccci-canon enrolled --enrolled "$SCRATCH/linked"
    assert_success
    echo "$output" | jq -e '.enrolled == ["custom-html"]'
    mkfifo "$SCRATCH/fifo"
    for f in "$SCRATCH" "$SCRATCH/fifo"; do
        run --separate-stderr timeout 10 ccci-canon enrolled --enrolled "$f"
        assert_json_error ccci-canon 65
    done
}

@test "log with an answer that cannot be written takes the event back (74)" {
    ccci-canon log custom-html --event held --field reason=a >/dev/null
    before=$(cat "$CCCI_STATE/custom-html/history.jsonl")
    for sink in '>&-' '>/dev/full'; do
        run --separate-stderr sh -c "ccci-canon log custom-html --event held --field reason=b $sink"
        [ "$status" -eq 74 ] || fail "$sink: exit $status"
        error_line | jq -e '.error.exit == 74'
        [ "$(cat "$CCCI_STATE/custom-html/history.jsonl")" = "$before" ]
    done
}

@test "a record filed under another app's directory is bad data (65); set-status writes nothing" {
    mkdir -p "$CCCI_STATE/crafted"
    jq -c '.app = "victim"' <<<'{"app":"crafted","recipe":"crafted","domain":"warm-crafted.test.local","version":"1.0.0+1","commit":null,"status":"idle","run":null,"manifest_digest":"'"$(printf 'a%.0s' $(seq 64))"'","promoted_at":"t","updated_at":"t"}' >"$CCCI_STATE/crafted/canonical.json"
    run --separate-stderr ccci-canon show crafted
    assert_json_error ccci-canon 65
    run --separate-stderr ccci-canon set-status crafted deployed
    assert_json_error ccci-canon 65
    [ ! -e "$CCCI_STATE/victim" ]
}

@test "has: a FIFO in place of an archive or the manifest is a prompt no, never a hang" {
    rm "$CCCI_STATE/custom-html/snapshot/volumes/content.tar" && mkfifo "$CCCI_STATE/custom-html/snapshot/volumes/content.tar"
    run --separate-stderr timeout 10 ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.has == false and .reason == "snapshot-corrupt"'
    rm "$CCCI_STATE/custom-html/snapshot/manifest.json" && mkfifo "$CCCI_STATE/custom-html/snapshot/manifest.json"
    run --separate-stderr timeout 10 ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.has == false and .reason == "snapshot-corrupt"'
}

@test "has: a rewritten manifest no longer matches the record (the digest is the file's SHA-256)" {
    m=$CCCI_STATE/custom-html/snapshot/manifest.json
    jq . "$m" >"$SCRATCH/pretty" && cp "$SCRATCH/pretty" "$m"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-mismatch"'
}

@test "has: a manifest with no volumes is a no" {
    m=$CCCI_STATE/custom-html/snapshot/manifest.json
    jq -c '.volumes = []' "$m" >"$SCRATCH/m" && cp "$SCRATCH/m" "$m"
    # the record names this very manifest, so only the empty list decides
    jq -c --arg d "$(sha256sum <"$m" | cut -d' ' -f1)" '.manifest_digest = $d' "$CCCI_STATE/custom-html/canonical.json" >"$SCRATCH/c"
    cp "$SCRATCH/c" "$CCCI_STATE/custom-html/canonical.json"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
}

@test "has: an archive restore would refuse does not verify (one judgement)" {
    corpus=$SCRATCH/corpus
    "$BATS_TEST_DIRNAME/../archive/lib/make-hostile" "$corpus" >/dev/null
    for name in name-component-256 no-root-entry uid-minus-one mtime-2-62 pax-linkpath-symlink-then-through sparse-holes-2-33; do
        cp "$corpus/$name.tar" "$CCCI_STATE/custom-html/snapshot/volumes/content.tar"
        m=$CCCI_STATE/custom-html/snapshot/manifest.json
        jq -c --arg s "$(sha256sum <"$corpus/$name.tar" | cut -d' ' -f1)" --argjson b "$(stat -c %s "$corpus/$name.tar")" \
            '.volumes[0] += {sha256: $s, bytes: $b}' "$m" >"$SCRATCH/m" && cp "$SCRATCH/m" "$m"
        jq -c --arg d "$(sha256sum <"$m" | cut -d' ' -f1)" '.manifest_digest = $d' "$CCCI_STATE/custom-html/canonical.json" >"$SCRATCH/c"
        cp "$SCRATCH/c" "$CCCI_STATE/custom-html/canonical.json"
        run --separate-stderr timeout 20 ccci-canon has custom-html --offline
        [ "$status" -eq 1 ] || { echo "$name: has exited $status"; return 1; }
        echo "$output" | jq -e '.reason == "snapshot-corrupt"' >/dev/null || { echo "$name: $output"; return 1; }
    done
}

@test "has: an interrupted restore is not finished by has (no, restore-interrupted); the journal stays" {
    jq -n --arg l "$V/content/_data" '{op:"restore",phase:"staging",token:"000000000001",volumes:[{name:"content",live:$l,staging:($l|sub("_data$";".ccci-staging-000000000001-content"))}]}' \
        >"$CCCI_STATE/custom-html/journal.json"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.has == false and .reason == "restore-interrupted"'
    [ -e "$CCCI_STATE/custom-html/journal.json" ]
}

# --- The verification stamp (<app>/verified.json, keyed by <state>/stamp.key) -------------------
A=volumes/content.tar

# stamped: a full `has` that writes the stamp (archives whose ctime is under a second old are
# racy: no stamp), then the stamp's answer.
stamped() {
    sleep 1.1
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamped == true' >/dev/null
    [ -f "$CCCI_STATE/custom-html/verified.json" ]
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "stamp" and .stamp == "valid"' >/dev/null
}

# damage: one byte of the archive changed in place, its size kept and its mtime put back.
damage() {
    local f=$CCCI_STATE/custom-html/snapshot/$A m s
    m=$(stat -c %y "$f") s=$(stat -c %s "$f")
    printf 'X' | dd of="$f" bs=1 seek=1536 conv=notrunc 2>/dev/null
    touch -d "$m" "$f"
    [ "$(stat -c %y "$f")" = "$m" ] && [ "$(stat -c %s "$f")" = "$s" ]
}

@test "has: an unchanged snapshot is answered from the stamp; --full re-reads every archive" {
    stamped
    run --separate-stderr ccci-canon has custom-html --offline --full
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamp == "ignored" and .stamped == true'
    s=$CCCI_STATE/custom-html/verified.json
    [ "$(stat -c %a "$s")" = 600 ] && [ "$(stat -c %a "$CCCI_STATE/stamp.key")" = 600 ]
    [ "$(stat -c %s "$CCCI_STATE/stamp.key")" = 32 ]
    jq -e --arg d "$(jq -r .manifest_digest "$CCCI_STATE/custom-html/canonical.json")" \
        '.format == "ccci-verify-stamp/1" and .manifest_digest == $d and (.archives | length) == 1 and (.mac | length) == 64' "$s"
}

@test "has: a snapshot verified within the last second is not stamped (racy ctime)" {
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamped == false'
    [ ! -e "$CCCI_STATE/custom-html/verified.json" ]
}

@test "has: an archive byte changed with its size kept and its mtime restored (touch -d) is re-verified: no" {
    stamped
    damage
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.has == false and .reason == "snapshot-corrupt"'
    # the failed verification removed the stamp
    [ ! -e "$CCCI_STATE/custom-html/verified.json" ]
}

@test "has: a different file swapped in under the archive's name (same size and mtime) is re-verified" {
    stamped
    f=$CCCI_STATE/custom-html/snapshot/$A
    cp -p "$f" "$SCRATCH/same" && mv "$SCRATCH/same" "$f"   # identical bytes, another inode
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamp == "stale"'
    cp -p "$f" "$SCRATCH/other"
    printf 'X' | dd of="$SCRATCH/other" bs=1 seek=1536 conv=notrunc 2>/dev/null
    touch -r "$f" "$SCRATCH/other" && mv "$SCRATCH/other" "$f"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
}

@test "has: a stamp written by hand for the damaged archive, with its true identity, is never trusted" {
    stamped
    good=$(cat "$CCCI_STATE/custom-html/verified.json")
    f=$CCCI_STATE/custom-html/snapshot/$A
    ids() { printf '"archives":[{"archive":"%s","dev":%s,"ino":%s,"size":%s,"mtime_ns":%s,"ctime_ns":%s}]' "$A" "$(stat -c %d "$f")" \
        "$(stat -c %i "$f")" "$(stat -c %s "$f")" "$(stat -c '%.9Y' "$f" | tr -d .)" "$(stat -c '%.9Z' "$f" | tr -d .)"; }
    # the forger knows the identity exactly as a real stamp writes it
    [[ $good == *"$(ids)"* ]] || fail "identity not as the stamp writes it: $good"
    damage
    # what the damaged archive looks like now, in the stamp's own shape (printf: jq 1.6 rounds
    # 64-bit numbers); the MAC copied from the good stamp, then made up
    for mac in "$(jq -r .mac <<<"$good")" "$(printf %064d 0)" "$(sha256sum "$f" | cut -d' ' -f1)"; do
        printf '{"format":"ccci-verify-stamp/1","app":"custom-html","manifest_digest":"%s","verified_at":"%s",%s,"mac":"%s"}\n' \
            "$(jq -r .manifest_digest <<<"$good")" "$(jq -r .verified_at <<<"$good")" "$(ids)" "$mac" >"$CCCI_STATE/custom-html/verified.json"
        run --separate-stderr ccci-canon has custom-html --offline
        assert_failure 1
        echo "$output" | jq -e '.reason == "snapshot-corrupt"'
    done
}

@test "has: a stamp of another manifest (an older snapshot), even with its digest edited, is never trusted" {
    stamped
    cp "$CCCI_STATE/custom-html/verified.json" "$SCRATCH/old-stamp"
    # a new known-good: another manifest digest, a new archive
    echo "newer" >"$V/content/_data/index.html"
    jq -n '{app:"custom-html",mode:"cold",ref:null,status:"pass",version:"1.0.1+1.27.0",commit:"c0ffee",run:"run-2"}' |
        ccci-promote --offline --volume "content=$V/content/_data" --domain warm-custom-html.test.local >/dev/null
    d=$(jq -r .manifest_digest "$CCCI_STATE/custom-html/canonical.json")
    [ "$d" != "$(jq -r .manifest_digest "$SCRATCH/old-stamp")" ]
    sleep 1.1
    damage
    cp "$SCRATCH/old-stamp" "$CCCI_STATE/custom-html/verified.json"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
    jq -c --arg d "$d" '.manifest_digest = $d' "$SCRATCH/old-stamp" >"$CCCI_STATE/custom-html/verified.json"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
}

@test "has: a stamp made under another key (a copied stamp or key) is never trusted; a lost key only costs a full read" {
    stamped
    head -c 32 /dev/urandom >"$CCCI_STATE/stamp.key"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamp == "stale" and .stamped == true'
    rm "$CCCI_STATE/stamp.key"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamp == "stale" and .stamped == true'
    [ "$(stat -c %s "$CCCI_STATE/stamp.key")" = 32 ]
    run --separate-stderr ccci-canon has custom-html --offline
    echo "$output" | jq -e '.verified == "stamp"'
}

@test "has: a stamp that is a symlink or a FIFO is not read (never a hang), and is replaced by a real one" {
    stamped
    s=$CCCI_STATE/custom-html/verified.json
    mv "$s" "$SCRATCH/good-stamp" && ln -s "$SCRATCH/good-stamp" "$s"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.verified == "full" and .stamp == "unreadable" and .stamped == true'
    [ -f "$s" ] && [ ! -L "$s" ]
    # a symlink to the stamp that was good before the damage
    damage
    rm "$s" && ln -s "$SCRATCH/good-stamp" "$s"
    run --separate-stderr ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
    rm -f "$s" && mkfifo "$s"
    run --separate-stderr timeout 10 ccci-canon has custom-html --offline
    assert_failure 1
    echo "$output" | jq -e '.reason == "snapshot-corrupt"'
    [ ! -e "$s" ]
}
