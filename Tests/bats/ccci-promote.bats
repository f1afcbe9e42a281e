#!/usr/bin/env bats
# ccci-promote (offline volumes): the predicate, the record and history, concurrency, and kill -9.

load helpers

setup() {
    setup_scratch
    export CCCI_ENROLLED=$SCRATCH/enrolled
    printf '# enrolled recipes\ncustom-html\ntwovol\n' >"$CCCI_ENROLLED"
    V=$SCRATCH/vols
    mkdir -p "$V/content/_data"
    echo "known good" >"$V/content/_data/index.html"
    VOLS=(--offline --volume "content=$V/content/_data" --domain warm-custom-html.test.local)
}
teardown() { teardown_scratch; }

runrec() { # mode ref status version [app]
    jq -n --arg m "$1" --arg r "$2" --arg s "$3" --arg v "$4" --arg a "${5:-custom-html}" \
        '{app:$a, mode:$m, ref:(if $r == "" then null else $r end), status:$s, version:$v, commit:"c0ffee", run:"run-1"}'
}

@test "the first green cold run on latest seeds the canonical" {
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    run --separate-stderr ccci-promote "${VOLS[@]}" <"$SCRATCH/r"
    assert_success
    echo "$output" | jq -e '.app == "custom-html" and .version == "1.0.0+1.27.0" and .status == "idle" and .run == "run-1" and .domain == "warm-custom-html.test.local"'
    [ "$(echo "$output" | jq -r .manifest_digest)" = "$(sha256sum "$CCCI_STATE/custom-html/snapshot/manifest.json" | cut -d' ' -f1)" ]
    run ccci-canon history custom-html
    echo "$output" | jq -e '.event == "promoted" and .version == "1.0.0+1.27.0" and .previous_version == null'
    run ccci-canon has custom-html --offline
    assert_success
}

@test "anything but enrolled + pass + cold + no ref is not promoted, and nothing changes" {
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    ccci-promote "${VOLS[@]}" <"$SCRATCH/r" >/dev/null
    before=$(cd "$CCCI_STATE" && find . -type f -exec sha256sum {} + | sort)
    for spec in "quick||pass|not-cold" "cold|refs/pull/7/head|pass|pull-request-ref" "cold||fail|not-green" "cold||pass|not-enrolled|nextcloud"; do
        IFS='|' read -r m r s why a <<<"$spec"
        runrec "$m" "$r" "$s" 2.0.0+1.28.0 "${a:-custom-html}" >"$SCRATCH/r"
        run --separate-stderr ccci-promote "${VOLS[@]}" <"$SCRATCH/r"
        [ "$status" -eq 1 ] || fail "$spec exited $status"
        echo "$output" | jq -e --arg w "$why" '.promote == false and (.reasons | index($w))' >/dev/null || fail "$spec: $output"
    done
    [ "$(cd "$CCCI_STATE" && find . -type f -exec sha256sum {} + | sort)" = "$before" ]
}

@test "--check evaluates only" {
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    run --separate-stderr ccci-promote --check <"$SCRATCH/r"
    assert_success
    echo "$output" | jq -e '.promote == true'
    [ ! -e "$CCCI_STATE/custom-html" ]
}

@test "a later green cold run replaces the known-good and records the previous one" {
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    first=$(ccci-promote "${VOLS[@]}" <"$SCRATCH/r" | jq -r .manifest_digest)
    echo "newer" >"$V/content/_data/index.html"
    runrec cold "" pass 1.1.0+1.28.0 >"$SCRATCH/r"
    run --separate-stderr ccci-promote "${VOLS[@]}" <"$SCRATCH/r"
    assert_success
    run ccci-canon history custom-html
    [ "${#lines[@]}" -eq 2 ]
    echo "${lines[1]}" | jq -e --arg f "$first" '.version == "1.1.0+1.28.0" and .previous_version == "1.0.0+1.27.0" and .previous_manifest_digest == $f'
}

@test "eight parallel promotes of one app serialise into a consistent registry" {
    for i in $(seq 8); do
        runrec cold "" pass "1.$i.0+1.27.0" >"$SCRATCH/r$i"
        ccci-promote "${VOLS[@]}" <"$SCRATCH/r$i" >/dev/null 2>"$SCRATCH/e$i" &
    done
    wait
    run ccci-canon history custom-html
    [ "${#lines[@]}" -eq 8 ]
    run ccci-canon has custom-html --offline
    assert_success
    # the record names the snapshot that is actually there
    [ "$(ccci-canon show custom-html | jq -r .manifest_digest)" = "$(sha256sum "$CCCI_STATE/custom-html/snapshot/manifest.json" | cut -d' ' -f1)" ]
}

@test "different apps promote in parallel" {
    mkdir -p "$V/two/_data" && echo x >"$V/two/_data/f"
    ccci-lock custom-html -- sleep 30 &
    holder=$!
    sleep 0.3
    runrec cold "" pass 1.0.0+1.0 twovol >"$SCRATCH/r"
    run --separate-stderr ccci-promote --offline --volume "two=$V/two/_data" --domain warm-twovol.test.local --no-wait <"$SCRATCH/r"
    kill -9 "$holder"
    assert_success
}

@test "kill -9 mid-promote: the old known-good still verifies and has tells the truth" {
    for i in $(seq 30); do head -c 262144 /dev/urandom >"$V/content/_data/blob$i"; done
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    ccci-promote "${VOLS[@]}" <"$SCRATCH/r" >/dev/null
    for round in 1 2 3 4 5; do
        echo "round $round" >"$V/content/_data/index.html"
        runrec cold "" pass "1.$round.1+1.27.0" >"$SCRATCH/r"
        ccci-promote "${VOLS[@]}" <"$SCRATCH/r" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        run --separate-stderr ccci-canon has custom-html --offline
        assert_success
        echo "$output" | jq -e '.has == true'
        [ "$(ccci-canon show custom-html | jq -r .manifest_digest)" = "$(sha256sum "$CCCI_STATE/custom-html/snapshot/manifest.json" | cut -d' ' -f1)" ]
        [ ! -e "$CCCI_STATE/custom-html/journal.json" ]
    done
}

@test "bad input: invalid JSON, missing fields, a bad mode, an invalid app name, a missing enrolment list" {
    echo '{' >"$SCRATCH/r"
    run --separate-stderr ccci-promote <"$SCRATCH/r"
    assert_json_error ccci-promote 65
    echo '{"app":"custom-html","mode":"warm","ref":null,"status":"pass","version":"1"}' >"$SCRATCH/r"
    run --separate-stderr ccci-promote <"$SCRATCH/r"
    assert_json_error ccci-promote 65
    echo '{"app":"../etc","mode":"cold","ref":null,"status":"pass","version":"1"}' >"$SCRATCH/r"
    run --separate-stderr ccci-promote <"$SCRATCH/r"
    assert_json_error ccci-promote 64
    echo '{"app":"custom-html","mode":"cold","status":"pass","version":"1"}' >"$SCRATCH/r"
    run --separate-stderr ccci-promote <"$SCRATCH/r"
    assert_json_error ccci-promote 65
    runrec cold "" pass 1.0.0+1 >"$SCRATCH/r"
    CCCI_ENROLLED=$SCRATCH/none run --separate-stderr ccci-promote <"$SCRATCH/r"
    assert_json_error ccci-promote 66
    [ ! -e "$CCCI_STATE/custom-html" ]
}

@test "a history that cannot be appended after promoting is a warning, not a failure (exit 0)" {
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    ccci-promote "${VOLS[@]}" <"$SCRATCH/r" >/dev/null
    rm "$CCCI_STATE/custom-html/history.jsonl" && mkdir "$CCCI_STATE/custom-html/history.jsonl"
    echo "newer" >"$V/content/_data/index.html"
    runrec cold "" pass 1.1.0+1.27.0 >"$SCRATCH/r"
    run --separate-stderr ccci-promote "${VOLS[@]}" <"$SCRATCH/r"
    assert_success
    echo "$output" | jq -e '.version == "1.1.0+1.27.0" and .history_appended == false and .warnings[0].code == "history-not-appended"'
    [ "$(echo "$output" | jq -r .manifest_digest)" = "$(sha256sum "$CCCI_STATE/custom-html/snapshot/manifest.json" | cut -d' ' -f1)" ]
    [ ! -e "$CCCI_STATE/custom-html/journal.json" ]
    run ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.record.version == "1.1.0+1.27.0"'
}

@test "a promotion that appends its history says so" {
    runrec cold "" pass 1.0.0+1.27.0 >"$SCRATCH/r"
    run --separate-stderr ccci-promote "${VOLS[@]}" <"$SCRATCH/r"
    assert_success
    echo "$output" | jq -e '.history_appended == true and .warnings == []'
}
