#!/usr/bin/env bats
# Signals and closed pipes: a command that runs a child forwards SIGINT, SIGTERM and SIGHUP to
# the child's process group, waits for it (then SIGKILL after the grace period) and only then
# dies of the same signal, so the lock it holds is never free while its child still runs. A
# reader that went away is a quiet end.

load helpers

setup() {
    setup_scratch
    ccci-alert raise --app sig --kind sweep-failed --message "for the relay" </dev/null >/dev/null
}
teardown() { teardown_scratch; }

# relay_under_lock CMD: ccci-lock on app "sig" running `ccci-alert relay --exec CMD`, in the
# background in its own process group; waits until CMD has started (it touches $SCRATCH/started).
relay_under_lock() {
    setsid ccci-lock sig -- ccci-alert relay --exec "$1" >"$SCRATCH/out" 2>"$SCRATCH/err" &
    pid=$!
    for _ in $(seq 100); do [ -e "$SCRATCH/started" ] && return 0; sleep 0.05; done
    return 1
}
held() { ccci-lock --status sig | jq -r .held; }

@test "SIGTERM to the lock holder: forwarded to its child, the lock stays held until the child is gone" {
    relay_under_lock "touch $SCRATCH/started; trap '' TERM; sleep 2; touch $SCRATCH/finished"
    kill -TERM "$pid"
    sleep 0.5
    [ "$(held)" = true ]
    [ ! -e "$SCRATCH/finished" ]
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 143 ]
    [ -e "$SCRATCH/finished" ]
    [ "$(held)" = false ]
    tail -n 1 "$SCRATCH/err" | jq -e '.error.code == "interrupted" and .error.exit == 143'
}

@test "a child that ignores the forwarded signal is killed after the grace period" {
    CCCI_KILL_GRACE=1 relay_under_lock "touch $SCRATCH/started; trap '' TERM HUP; echo \$\$ >$SCRATCH/child; sleep 30"
    child=$(cat "$SCRATCH/child")
    kill -HUP "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 129 ]
    ! kill -0 "$child" 2>/dev/null
    [ "$(held)" = false ]
}

@test "a closed pipe on stdout is a quiet end (status 141, nothing on stderr)" {
    run python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(["ccci-gate", "--help"], stdout=w, stderr=subprocess.PIPE)
sys.stdout.write("%d %d\n" % (p.returncode, len(p.stderr)))
'
    assert_success
    [ "$output" = "141 0" ]
}
