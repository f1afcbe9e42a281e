#!/usr/bin/env bats
# ccci-lock: kernel locks that never go stale, passed down to nested ci-warm commands.

load helpers

setup() { setup_scratch; }
teardown() {
    [ -n "${holder:-}" ] && kill -9 "$holder" 2>/dev/null || true
    teardown_scratch
}

wait_held() { # app: wait until someone holds it
    for _ in $(seq 100); do
        run ccci-lock --status "$1"
        [ "$(echo "$output" | jq -r .held)" = true ] && return 0
        sleep 0.05
    done
    return 1
}

@test "runs the command holding the lock; the command's status is ours" {
    run ccci-lock app1 -- sh -c 'exit 7'
    assert_failure 7
    run ccci-lock app1 -- echo hello
    assert_success
    assert_output hello
}

@test "a held lock: --no-wait exits 75, --wait gives up after its time" {
    ccci-lock app1 -- sleep 30 &
    holder=$!
    wait_held app1
    run --separate-stderr ccci-lock --no-wait app1 -- true
    assert_json_error ccci-lock 75
    start=$(date +%s%N)
    run --separate-stderr ccci-lock --wait 0.5 app1 -- true
    assert_json_error ccci-lock 75
    [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 450 ]
}

@test "kill -9 of the holder frees the lock at once (no stale lock file)" {
    ccci-lock app1 -- sleep 30 &
    holder=$!
    wait_held app1
    kill -9 "$holder"
    wait "$holder" 2>/dev/null || true
    run ccci-lock --no-wait app1 -- echo free
    assert_success
    assert_output free
}

@test "a nested ci-warm command under the held lock does not deadlock" {
    run ccci-lock --no-wait app1 -- ccci-lock --no-wait app1 -- ccci-lock --no-wait app1 -- echo nested
    assert_success
    assert_output nested
}

@test "the passed-down lock names the same file and is really held" {
    run ccci-lock app1 -- sh -c 'echo "$CCCI_HELD_LOCKS"; ccci-lock --status app1'
    assert_success
    ino=$(stat -c %i "$CCCI_STATE/app1/lock")
    [[ "${lines[0]}" == *":$ino:"* ]]
    echo "${lines[1]}" | jq -e '.held == true'
}

@test "a forged CCCI_HELD_LOCKS does not let a second writer in" {
    ccci-lock app1 -- sleep 30 &
    holder=$!
    wait_held app1
    ino=$(stat -c %i "$CCCI_STATE/app1/lock")
    dev=$(stat -c %d "$CCCI_STATE/app1/lock")
    exec 9<"$CCCI_STATE/app1/lock"
    CCCI_HELD_LOCKS="$dev:$ino:9" run --separate-stderr ccci-lock --no-wait app1 -- true
    exec 9<&-
    assert_json_error ccci-lock 75
}

@test "two writers are serialised" {
    for i in 1 2 3 4; do
        ccci-lock app1 -- sh -c "echo start >>'$SCRATCH/log'; sleep 0.2; echo end >>'$SCRATCH/log'" &
    done
    wait
    run cat "$SCRATCH/log"
    [ "${#lines[@]}" -eq 8 ]
    for i in 0 2 4 6; do
        [ "${lines[$i]}" = start ] && [ "${lines[$((i + 1))]}" = end ] || fail "interleaved: $output"
    done
}

@test "different apps run in parallel" {
    ccci-lock app1 -- sleep 30 &
    holder=$!
    wait_held app1
    run ccci-lock --no-wait app2 -- echo other
    assert_success
}

@test "run slots: N at once, the N+1th waits or is refused, CCCI_SLOT is set" {
    ccci-lock --slots 2 --pool tests -- sleep 30 &
    holder=$!
    ccci-lock --slots 2 --pool tests -- sh -c "echo \$CCCI_SLOT >'$SCRATCH/slot2'; exec sleep 30" &
    holder2=$!
    sleep 0.5
    run --separate-stderr ccci-lock --no-wait --slots 2 --pool tests -- true
    assert_json_error ccci-lock 75
    kill -9 "$holder2"
    wait "$holder2" 2>/dev/null || true
    run ccci-lock --no-wait --slots 2 --pool tests -- sh -c 'echo "$CCCI_SLOT"'
    assert_success
    assert_output "$(cat "$SCRATCH/slot2")"
}

@test "bad input: invalid app name, no command, --slots without --pool, conflicting waits" {
    run --separate-stderr ccci-lock ../etc -- true
    assert_json_error ccci-lock 64
    [ ! -e "$SCRATCH/etc" ]
    run --separate-stderr ccci-lock app1
    assert_json_error ccci-lock 64
    run --separate-stderr ccci-lock --slots 2 -- true
    assert_json_error ccci-lock 64
    run --separate-stderr ccci-lock --wait 1 --no-wait app1 -- true
    assert_json_error ccci-lock 64
    run --separate-stderr ccci-lock --slots 0 --pool p -- true
    assert_json_error ccci-lock 64
}

@test "a command that cannot be run is 66 with the lock released" {
    run --separate-stderr ccci-lock app1 -- /nonexistent/program
    assert_json_error ccci-lock 66
    run ccci-lock --no-wait app1 -- true
    assert_success
}
