#!/usr/bin/env bats
# Progress on stderr, as a person at a terminal (through a pseudo-terminal: Tests/fixtures/on-pty)
# or a journal reading a pipe sees it; stdout carries the result and nothing else. The deploy
# waits are tested on the test host in ccci-app.bats.

load helpers


setup_file() {
    # 64 MiB of incompressible data and a few small files: archived, read and checked in well
    # under a second; on-pty --slow makes that last long enough to watch (a re-read of it takes
    # ~50 ms of CPU: --slow 0.05 makes that a second).
    export DATA=$BATS_FILE_TMPDIR/data
    mkdir -p "$DATA/_data/sub"
    head -c $((64 << 20)) /dev/urandom >"$DATA/_data/big"
    for i in 1 2 3; do echo "$i" >"$DATA/_data/sub/f$i"; done
}

setup() {
    setup_scratch
    unset CCCI_PROGRESS CCCI_PROGRESS_INTERVAL
    VOL=(--offline --volume "data=$DATA/_data")
}
teardown() { teardown_scratch; }

snapshot() { ccci-snap demo "${VOL[@]}" >/dev/null; }

@test "at a terminal: one live line, redrawn with CR, shows bytes, total, rate and ETA, and is erased at the end" {
    snapshot
    on_pty --slow 0.1 -- ccci-restore demo --into "$SCRATCH/drill"
    [ "$status" -eq 0 ]
    # redrawn in place: several draws, each "\r<line>ESC[K", and never a newline
    [ "$(grep -o "$CR" <<<"$err" | wc -l)" -ge 3 ]
    [[ "$err" != *$'\n'* ]]
    [[ "$err" =~ ${CR}ccci-restore:\ extracting\ \'data\':\ [0-9.]+\ [KM]iB\ /\ 64\.[0-9]\ MiB\ \([0-9]+%\),\ [0-9.]+\ [KMG]iB/s,\ ETA\ [0-9]+:[0-9][0-9]${ESC}\[K ]]
    [[ "$err" == *"${CR}ccci-restore: checking 'data': "* ]]
    # the last thing on the terminal is the erase: it is left clean
    [[ "$err" == *"${CR}${ESC}[K" ]]
    [[ "${err%"${CR}${ESC}[K"}" == *"${ESC}[K" ]]
}

@test "at a terminal: stdout holds only the result, byte for byte the one a run without a terminal gives" {
    snapshot
    on_pty --slow 0.1 -- ccci-restore demo --into "$SCRATCH/drill"
    [ "$status" -eq 0 ]
    [ -n "$err" ]
    echo "$out" | jq -e '.ok == true' >/dev/null
    [ "$(wc -l <"$SCRATCH/out")" -eq 1 ]
    rm -rf "$SCRATCH/drill"
    ccci-restore demo --into "$SCRATCH/drill" >"$SCRATCH/plain.out" 2>"$SCRATCH/plain.err"
    cmp "$SCRATCH/out" "$SCRATCH/plain.out"
    [ ! -s "$SCRATCH/plain.err" ]
}

@test "at a terminal: the live line is cut to the terminal's width" {
    snapshot
    on_pty --slow 0.05 --columns 40 -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    [ -n "$err" ]
    # every drawn line: at most 39 characters between "\r" and ESC[K
    python3 -c '
import sys
for piece in open(sys.argv[1], encoding="utf-8", newline="").read().split("\r"):
    text = piece.removesuffix("\x1b[K")
    assert len(text) <= 39, "too wide: " + text
' "$SCRATCH/err"
}

@test "snap at a terminal: the last snapshot's size is the estimate (~); the result is the manifest" {
    snapshot
    on_pty --slow 0.1 -- ccci-snap demo "${VOL[@]}"
    [ "$status" -eq 0 ]
    [[ "$err" =~ ${CR}ccci-snap:\ archiving\ \'data\':\ [0-9.]+\ [KM]iB\ /\ ~64\.[0-9]\ MiB\ \([0-9]+%\),\ [0-9.]+\ [KMG]iB/s,\ ETA\ ~[0-9]+:[0-9][0-9] ]]
    [[ "$err" == *"${CR}${ESC}[K" ]]
    echo "$out" | jq -e '.app == "demo" and (.volumes | length) == 1' >/dev/null
}

@test "restore --verify, promote and has --full show their re-reading too" {
    snapshot
    on_pty --slow 0.05 -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    [[ "$err" == *"${CR}ccci-restore: verifying 'data': "*" / 64."?" MiB ("* ]]
    printf 'demo\n' >"$SCRATCH/enrolled"
    export CCCI_ENROLLED=$SCRATCH/enrolled
    jq -n '{app:"demo",mode:"cold",ref:null,status:"pass",version:"1.0.0+1.0",commit:"c0ffee",run:"run-1"}' >"$SCRATCH/run.json"
    "$ON_PTY" --slow 0.05 --out "$SCRATCH/out" --err "$SCRATCH/err" -- sh -c 'exec ccci-promote "$@" <"$0"' "$SCRATCH/run.json" "${VOL[@]}" --domain demo.test.local
    grep -q "ccci-promote: archiving 'data': " "$SCRATCH/err"
    grep -q "ccci-promote: verifying 'data': " "$SCRATCH/err"
    jq -e '.version == "1.0.0+1.0"' "$SCRATCH/out" >/dev/null
    on_pty --slow 0.05 -- ccci-canon has demo --offline --full
    [ "$status" -eq 0 ]
    [[ "$err" == *"${CR}ccci-canon: verifying 'data': "* ]]
    echo "$out" | jq -e '.has == true and .verified == "full"' >/dev/null
}

@test "not at a terminal: a plain line every interval, nothing else on stderr, the result alone on stdout" {
    snapshot
    CCCI_PROGRESS_INTERVAL=0.3 on_pty --stderr pipe --slow 0.1 -- ccci-restore demo --into "$SCRATCH/drill"
    [ "$status" -eq 0 ]
    [[ "$err" != *"$CR"* && "$err" != *"$ESC"* ]]
    [ "$(grep -c . <<<"$err")" -ge 2 ]
    # every line is a progress line
    [ -z "$(grep -Ev "^ccci-restore: (extracting|checking) 'data': [0-9.]+ [KM]?i?B" <<<"$err")" ]
    grep -Eq "^ccci-restore: extracting 'data': [0-9.]+ [KM]iB / 64\.[0-9] MiB \([0-9]+%\), [0-9.]+ [KMG]iB/s, ETA [0-9]+:[0-9]{2}$" <<<"$err"
    echo "$out" | jq -e '.ok == true' >/dev/null
}

@test "not at a terminal: work shorter than the interval (30 s by default) prints nothing" {
    snapshot
    run --separate-stderr ccci-restore demo --verify
    assert_success
    [ -z "$stderr" ]
    CCCI_PROGRESS=plain on_pty --slow 0.2 -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    [ -z "$err" ]
}

@test "the mode can be forced: plain at a terminal, tty on a pipe, off anywhere (flag or CCCI_PROGRESS)" {
    snapshot
    on_pty --slow 0.05 -- ccci-restore demo --verify --progress plain --progress-interval 0.3
    [ "$status" -eq 0 ]
    [[ -n "$err" && "$err" != *"$CR"* ]]
    grep -q "^ccci-restore: verifying 'data': " <<<"$err"
    CCCI_PROGRESS=tty on_pty --stderr pipe --slow 0.05 -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    [[ "$err" == *"${CR}ccci-restore: verifying 'data': "* ]]
    CCCI_PROGRESS=off on_pty --slow 0.05 -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    [ -z "$err" ]
    on_pty --slow 0.1 -- ccci-snap demo "${VOL[@]}" --progress off
    [ "$status" -eq 0 ]
    [ -z "$err" ]
    echo "$out" | jq -e '.app == "demo"' >/dev/null
}

@test "a failure at a terminal: the live line is erased, then the message and the JSON error line" {
    snapshot
    archive=$CCCI_STATE/demo/snapshot/volumes/data.tar
    # damage the last member's data: the failure comes late, after the line was drawn
    size=$(stat -c %s "$archive")
    printf 'X' | dd of="$archive" bs=1 seek=$((size - 20000)) conv=notrunc status=none
    on_pty --slow 0.05 -- ccci-restore demo --verify
    [ "$status" -eq 65 ]
    [ -z "$out" ]
    [[ "$err" == *"${CR}ccci-restore: verifying 'data': "* ]]
    [[ "$err" == *"${CR}${ESC}[Kccci-restore: "* ]]
    tail -n 1 "$SCRATCH/err" | jq -e '.error.prog == "ccci-restore" and .error.exit == 65' >/dev/null
}

@test "a broken or closed stderr changes neither the result nor the exit code" {
    snapshot
    ccci-restore demo --verify >"$SCRATCH/expected"
    CCCI_PROGRESS=tty on_pty --stderr broken --slow 0.05 -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    cmp "$SCRATCH/out" "$SCRATCH/expected"
    CCCI_PROGRESS=plain CCCI_PROGRESS_INTERVAL=0.01 on_pty --stderr broken -- ccci-restore demo --verify
    [ "$status" -eq 0 ]
    cmp "$SCRATCH/out" "$SCRATCH/expected"
    status=0
    CCCI_PROGRESS=plain CCCI_PROGRESS_INTERVAL=0.01 ccci-restore demo --verify >"$SCRATCH/closed" 2>&- || status=$?
    [ "$status" -eq 0 ]
    cmp "$SCRATCH/closed" "$SCRATCH/expected"
    # and a failure keeps its own code
    status=0
    CCCI_PROGRESS=tty ccci-restore nosuch --verify >"$SCRATCH/closed" 2>&- || status=$?
    [ "$status" -eq 66 ]
    [ ! -s "$SCRATCH/closed" ]
}

@test "--progress and --progress-interval are checked, and every command with long work documents them" {
    run --separate-stderr ccci-restore demo --verify --progress sometimes
    assert_json_error ccci-restore 64
    run --separate-stderr ccci-snap demo "${VOL[@]}" --progress-interval 0
    assert_json_error ccci-snap 64
    CCCI_PROGRESS=loud run --separate-stderr ccci-restore demo --verify
    assert_json_error ccci-restore 64
    for c in "ccci-snap" "ccci-restore" "ccci-promote" "ccci-migrate" "ccci-canon has" "ccci-app deploy" "ccci-app undeploy"; do
        help=$($c --help)
        [[ "$help" == *"--progress WHEN"*"CCCI_PROGRESS"* && "$help" == *"--progress-interval SECONDS"*"CCCI_PROGRESS_INTERVAL"* ]] \
            || { echo "$c --help lacks the progress options"; return 1; }
        page=$REPO/docs/commands/${c%% *}.md
        grep -q CCCI_PROGRESS_INTERVAL "$page" || { echo "$page lacks the progress options"; return 1; }
    done
}
