#!/usr/bin/env bats
# The porcelain under failure, against recording stand-ins of the platform plumbing
# (Tests/fault): one test per way the porcelain used to break its promise, then the whole
# fault-injection matrix.

load helpers
load ../fault/lib

setup_file() {
    export FAULT_WORLD=$BATS_FILE_TMPDIR/world
    mkdir -p "$FAULT_WORLD"
    fault_world "$FAULT_WORLD"
    export FAULT_PATH=$PATH ABRA_DIR FAULT_SHIMS FAULT_REAL CCCI_LOCK_WAIT CCCI_KILL_GRACE CCCI_HEALTH_SCHEME
}

setup() {
    export LOGS=$BATS_FILE_TMPDIR
    PATH=$FAULT_PATH  # the shims first again (helpers.bash put the built commands first)
    work=$FAULT_WORLD
    here=$fault_here
}

# start STORY: a fresh model host for STORY
start() {
    story=$1
    fresh
}

alerts() { ccci-alert list | jq -r .kind | sort | tr '\n' ' '; }
last_record() { printf '%s\n' "$output" | tail -n 1; }

@test "sweep: a green cold run whose release never comes up as the canonical is not promoted; the known-good stays" {
    start sweep
    touch "$M/ch.unhealthy.1.1.0+1" "$M/ch.migrates.1.1.0+1"
    run -1 --separate-stderr run_sweep
    last_record | jq -e '.recipes[0].status == "pass" and .recipes[0].promoted == false and .failed == 1'
    [ "$(jq -r .version "$M/ch.record")" = 1.0.0+1 ]
    [ "$(cat "$M/ch.snap")" = "1.0.0+1|orig" ]
    [ "$(cat "$M/ch.data")" = orig ]
    [[ "$(alerts)" == *advance-failed* ]]
}

@test "sweep: each recipe's cold run holds a slot of the run pool, as a CI run does" {
    start sweep
    # shellcheck disable=SC2016 # the test command expands them
    run -0 --separate-stderr ccci-sweep --infra-file "$case_dir/infra" --health-timeout 1 --deploy-timeout 1 \
        --test 'echo "slot=${CCCI_SLOT:-none}" >"$CCCI_STATE/seen"; flock -n "$CCCI_STATE/slots/runs/0" true || echo busy >>"$CCCI_STATE/seen"'
    [ "$(cat "$CCCI_STATE/seen")" = $'slot=0\nbusy' ]
    last_record | jq -e '.recipes[0].promoted == true'
    # The advance held one too, and both were let go: the slot is free now.
    grep -q $'\tccci-lock\t.*--pool runs -- ccci-advance ' "$FAULT_DIR/calls"
    grep -q $'\tccci-advance\t' "$FAULT_DIR/calls"
    flock -n "$CCCI_STATE/slots/runs/0" true
}

@test "sweep: no run slot for the advance within --slot-wait: not promoted (exit 75 noted), the known-good stays" {
    start sweep
    # The cold run leaves a process behind that inherited its slot (as a careless test
    # command's daemon would): the slot stays busy after the cold run, so the advance waits.
    # shellcheck disable=SC2016
    run -1 --separate-stderr ccci-sweep --test 'sleep 30 & echo $! >"$CCCI_STATE/left-behind"' \
        --infra-file "$case_dir/infra" --health-timeout 1 --deploy-timeout 1 --slot-wait 1
    kill "$(cat "$CCCI_STATE/left-behind")"
    last_record | jq -e '.recipes[0].status == "pass" and .recipes[0].promoted == false
        and (.recipes[0].note | test("exit 75"))'
    [ "$(jq -r .version "$M/ch.record")" = 1.0.0+1 ]
    ! grep -q $'\tccci-advance' "$FAULT_DIR/calls"
    [[ "$(alerts)" == *sweep-failed* ]]
}

@test "sweep: infra[].exit is the reconciler's own status" {
    start sweep
    touch "$M/kc.unhealthy.1.0.1+1"
    run -0 --separate-stderr run_sweep
    last_record | jq -e '.infra[0].app == "kc" and .infra[0].exit == 1 and (.infra[0].result | startswith("rolled-back:"))'
}

@test "sweep: latest is the newest parsable release, never a stray tag" {
    start sweep
    printf '%s\n' 1.0.0+1 zz-stray 1.1.0+1 latest >"$M/ch.versions"
    run -0 --separate-stderr ccci-sweep --test 'echo "$CCCI_VERSION" >'"$case_dir/seen" --infra-file "$case_dir/infra" --health-timeout 1 --deploy-timeout 1
    [ "$(cat "$case_dir/seen")" = 1.1.0+1 ]
    last_record | jq -e '.recipes[0].version == "1.1.0+1" and .recipes[0].promoted == true'
}

@test "sweep: a promotion records the release's commit and leaves the canonical idle" {
    start sweep
    run -0 --separate-stderr run_sweep
    commit=$(git -C "$ABRA_DIR/recipes/ch" rev-parse '1.1.0+1^{commit}')
    jq -e --arg c "$commit" '.version == "1.1.0+1" and .commit == $c and .status == "idle" and (.run | startswith("sweep-"))' "$M/ch.record"
}

@test "sweep: an infra file line that is neither an argv array nor plain words is refused, nothing runs" {
    start sweep
    printf '%s\n' '["kc", 3]' >"$case_dir/infra"
    run -65 --separate-stderr run_sweep
    [ ! -e "$FAULT_DIR/calls" ] || ! grep -q $'\tccci-reconcile\t' "$FAULT_DIR/calls"
    printf '%s\n' "kc --health-arg 'a b'" >"$case_dir/infra"
    run -65 --separate-stderr run_sweep
}

@test "sweep: infra argv arrays arrive intact, CRLF tolerated" {
    start sweep
    printf '%s\r\n' '# infra' '["kc","--health-arg","--json-path","--health-arg","realm=master x"]' >"$case_dir/infra"
    run -0 --separate-stderr run_sweep
    grep -F $'\tccci-health\t--timeout 300 --json-path realm=master x http://' "$FAULT_DIR/calls"
}

@test "sweep: plain infra lines with options still work" {
    start sweep
    printf '%s\n' 'kc --health-timeout 1 --deploy-timeout 1  # keycloak' >"$case_dir/infra"
    run -0 --separate-stderr run_sweep
    last_record | jq -e '.infra[0].app == "kc" and .infra[0].exit == 0'
    grep -q $'\tccci-reconcile\tkc --health-timeout 1 --deploy-timeout 1$' "$FAULT_DIR/calls"
}

@test "reconcile: a snapshot that fails after the undeploy brings the old version straight back, alerted" {
    start reconcile
    FAULT_SPEC='ccci-snap#1:exit=74' run -1 --separate-stderr run_reconcile
    assert_line --index 0 "upgrade-aborted:1.0.0+1->1.0.1+1"
    [ "$(cat "$M/kc.deployed")" = 1.0.0+1 ]
    [[ "$(alerts)" == *snapshot-failed* ]]
    [ ! -e "$CCCI_STATE/kc/reconcile.json" ]
}

@test "reconcile: an undeploy that fails before the snapshot brings the old version back, alerted" {
    start reconcile
    FAULT_SPEC='ccci-app.undeploy#1:after=69' run -1 --separate-stderr run_reconcile
    assert_line --index 0 "upgrade-aborted:1.0.0+1->1.0.1+1"
    [ "$(cat "$M/kc.deployed")" = 1.0.0+1 ]
    [[ "$(alerts)" == *snapshot-failed* ]]
}

@test "reconcile: a plumbing crash mid-story is never silent: alert, result, the plumbing's code, journal kept" {
    start reconcile
    FAULT_SPEC='ccci-canon.last-good#2:exit=74' run -74 --separate-stderr run_reconcile
    assert_line --index 0 "failed:record-last-good"
    last_record | jq -e '.exit == 74 and .step == "record-last-good"'
    [[ "$(alerts)" == *porcelain-failed* ]]
}

@test "reconcile: a jq crash is an internal error (70), never a verdict" {
    start reconcile
    FAULT_SPEC='jq#4:exit=2' run -70 --separate-stderr run_reconcile
    [[ "$(alerts)" == *porcelain-failed* ]]
}

@test "reconcile --stateless: a failed upgrade is rolled back in place, never undeployed" {
    start stateless:unhealthy
    run -1 --separate-stderr run_stateless
    assert_line --index 0 "rolled-back:1.0.1+1->1.0.0+1"
    [ "$(cat "$M/kc.deployed")" = 1.0.0+1 ]
    ! grep -q $'\tccci-app\tundeploy' "$FAULT_DIR/calls"
}

@test "reconcile --stateless: a version that never got deployed leaves the old one serving" {
    start stateless:undeployable
    run -1 --separate-stderr run_stateless
    [ "$(cat "$M/kc.deployed")" = 1.0.0+1 ]
    ! grep -q $'\tccci-app\tundeploy' "$FAULT_DIR/calls"
}

@test "reconcile: on a hold the running version is still health-checked; a sick app is redeployed at last-good" {
    start reconcile
    printf '%s\n' 1.0.0+1 2.0.0+1 >"$M/kc.versions"
    echo 1.0.0+1 >"$CCCI_STATE/.lg"
    ccci-canon last-good kc --set 1.0.0+1 >/dev/null
    touch "$M/kc.crashed"
    run -1 --separate-stderr run_reconcile
    assert_line --index 0 "recovered:1.0.0+1"
    [ ! -e "$M/kc.crashed" ]
    [[ "$(alerts)" == *health-failed*held-major* ]]
}

@test "reconcile: a held major carries the release notes of every held version, bounded" {
    start reconcile
    printf '%s\n' 1.0.0+1 2.0.0+1 2.1.0+1 >"$M/kc.versions"
    d=$ABRA_DIR/recipes/kc
    echo "The admin console moved." >"$d/releaseNotes/2.0.0+1.md"
    head -c 6000 /dev/zero | tr '\0' x >"$d/releaseNotes/2.1.0+1.md"
    git -C "$d" add -A && git -C "$d" -c user.name=t -c user.email=t@t commit -qm "notes for 2.x"
    run -0 --separate-stderr run_reconcile
    assert_line --index 0 "held-major:1.0.0+1->2.1.0+1"
    ccci-alert list | jq -e 'select(.kind == "held-major") | .details.notes
        | (.[0].version == "2.0.0+1" and (.[0].notes | contains("admin console moved")) and .[0].truncated == false)
          and (.[1].truncated == true and (.[1].notes | length) < 4200)'
}

@test "reconcile: the recipe is fetched before the gate; a failed fetch is alerted and the local clone judged" {
    start reconcile
    touch "$M/kc.fetch-fails"
    run -0 --separate-stderr run_reconcile
    assert_line --index 0 "upgraded:1.0.0+1->1.0.1+1"
    [[ "$(alerts)" == *fetch-failed* ]]
    [ "$(grep -n $'\tccci-app\tfetch' "$FAULT_DIR/calls" | cut -d: -f1)" -lt "$(grep -n $'\tccci-gate\t' "$FAULT_DIR/calls" | cut -d: -f1)" ]
}

@test "CCCI_SKIP_FETCH=1: no fetch, for drills" {
    start reconcile
    CCCI_SKIP_FETCH=1 run -0 --separate-stderr run_reconcile
    ! grep -q $'\tccci-app\tfetch' "$FAULT_DIR/calls"
}

@test "quick: the PR head is fetched before it is looked for" {
    start quick
    run -0 --separate-stderr run_quick
    grep -q $'\tccci-app\tfetch ch .*--ref pr-1' "$FAULT_DIR/calls"
}

@test "reconcile: an app never deployed here is bootstrapped: created with secrets and the host's settings, newest release, health-gated" {
    start reconcile
    rm -f "$M/kc.exists" "$M/kc.deployed"
    run -0 --separate-stderr ccci-reconcile kc --set LETS_ENCRYPT_ENV= --set TIMEOUT=600 --health-timeout 1 --deploy-timeout 1
    assert_line --index 0 "bootstrapped:1.0.1+1"
    grep -q $'\tccci-app\tnew kc --recipe kc --secrets --set LETS_ENCRYPT_ENV= --set TIMEOUT=600$' "$FAULT_DIR/calls"
    [ "$(cat "$M/kc.deployed")" = 1.0.1+1 ]
    [ "$(ccci-canon last-good kc | jq -r .last_good)" = 1.0.1+1 ]
}

@test "reconcile: a bootstrap that does not come up is unhealthy (2) and alerted" {
    start reconcile
    rm -f "$M/kc.exists" "$M/kc.deployed"
    touch "$M/kc.unhealthy.1.0.1+1"
    run -2 --separate-stderr run_reconcile
    assert_line --index 0 "unhealthy:1.0.1+1"
    [[ "$(alerts)" == *not-deployed* ]]
}

@test "health specs: one file per app, read by reconcile, advance and quick alike; built-in keycloak default; a bad spec is refused" {
    start sweep
    mkdir -p "$case_dir/health"
    export CCCI_HEALTH_DIR=$case_dir/health
    printf '%s\n' '{"path": "/healthz", "expect": "200,204", "args": ["--connect-to", "::127.0.0.1:1 x"]}' >"$CCCI_HEALTH_DIR/ch.json"
    printf '%s\n' '{"path": "/ping"}' >"$CCCI_HEALTH_DIR/kc.json"
    run -0 --separate-stderr run_sweep
    grep -qF $'\tccci-health\t--timeout 1 --expect 200,204 --connect-to ::127.0.0.1:1 x http://warm-ch.test.local/healthz' "$FAULT_DIR/calls"
    grep -qF $'\tccci-health\t--timeout 1 http://warm-kc.test.local/ping' "$FAULT_DIR/calls"
    run -0 --separate-stderr ccci-quick ch --ref pr-1 --test true --health-timeout 1 --deploy-timeout 1
    grep -qF 'http://warm-ch.test.local/healthz' "$FAULT_DIR/calls"
    printf '%s\n' '{"path": "healthz"}' >"$CCCI_HEALTH_DIR/kc.json"
    run -64 --separate-stderr run_reconcile
    rm "$CCCI_HEALTH_DIR/kc.json"
    printf '%s\n' 1.0.0+1 1.0.1+1 >"$M/keycloak.versions"; echo keycloak >"$M/keycloak.recipe"
    touch "$M/keycloak.exists"; echo 1.0.0+1 >"$M/keycloak.deployed"; echo orig >"$M/keycloak.data"
    mkdir -p "$ABRA_DIR/recipes/keycloak" && git -C "$ABRA_DIR/recipes/keycloak" init -q -b main 2>/dev/null || true
    run --separate-stderr ccci-reconcile keycloak --health-timeout 1 --deploy-timeout 1
    grep -qF $'\tccci-health\t--timeout 1 --expect 200 --json-path realm=master http://warm-keycloak.test.local/realms/master' "$FAULT_DIR/calls"
    unset CCCI_HEALTH_DIR
}

# a df that reports FREE KiB available on every filesystem
fake_df() {
    mkdir -p "$case_dir/bin"
    printf '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "/dev/x 1000000 %s %s 99%% /"\n' "$((1000000 - $1))" "$1" >"$case_dir/bin/df"
    chmod +x "$case_dir/bin/df"
    PATH=$case_dir/bin:$PATH
}

@test "reconcile: no room for the snapshot is refused before the undeploy (73), alerted, nothing touched" {
    start reconcile
    fake_df 1000
    run -73 --separate-stderr run_reconcile
    [ "$(cat "$M/kc.deployed")" = 1.0.0+1 ]
    ! grep -q $'\tccci-app\tundeploy' "$FAULT_DIR/calls"
    [[ "$(alerts)" == *disk-low* ]]
    [ ! -e "$CCCI_STATE/kc/reconcile.json" ]
}

@test "sweep: under --min-free-percent, alert disk-low and prune dangling images only with nothing in flight" {
    start sweep
    fake_df 90000
    run -0 --separate-stderr ccci-sweep --test true --infra-file "$case_dir/infra" --min-free-percent 10 --health-timeout 1 --deploy-timeout 1
    last_record | jq -e '(.disk.low | test("9% free")) and .disk.pruned_images == ["image: Total reclaimed space: 0B"]'
    [[ "$(alerts)" == *disk-low* ]]
    ccci-alert list | jq -se 'map(select(.kind == "disk-low"))[0].details | .min_free_percent == 10 and (.low | test("9% free"))
        and .pruned == ["image: Total reclaimed space: 0B"] and .in_flight == ""'
    grep -q $'\tccci-app\tprune-dangling' "$FAULT_DIR/calls"
}

@test "reconcile: --policy all is refused (majors are for people)" {
    start reconcile
    run -64 --separate-stderr ccci-reconcile kc --policy all
    run -64 --separate-stderr ccci-reconcile kc --health-timeout soon
}

@test "quick: a PR ref the recipe clone lacks is 'run it cold' (ours to fetch), and nothing is deployed" {
    start quick
    run -2 --separate-stderr ccci-quick ch --ref no-such-pr --test true --health-timeout 1 --deploy-timeout 1
    last_record | jq -e '.status == "cold" and .reason == "ref-not-found" and .mode == "quick" and .gates_merge == false'
    ! grep -q $'\tccci-app\tdeploy' "$FAULT_DIR/calls"
}

@test "quick: the record says 'quick' while the PR runs, 'idle' after" {
    start quick
    run -0 --separate-stderr ccci-quick ch --ref pr-1 --test '[ "$(ccci-canon show ch | jq -r .status)" = quick ]' --health-timeout 1 --deploy-timeout 1
    [ "$(jq -r .status "$M/ch.record")" = idle ]
    last_record | jq -e '.status == "pass" and .known_good.action == "untouched" and .known_good.version == "1.0.0+1"'
}

@test "quick: a jq crash is an error (70) and the canonical is put back, never 'run it cold'" {
    start quick:red
    FAULT_SPEC='jq#7:exit=2' run -70 --separate-stderr run_quick
    grep -q $'\tjq\texit=2\t-r .ok' "$FAULT_DIR/faults"
    last_record | jq -e '.status == "error"'
    [ "$(cat "$M/ch.data")" = orig ]
}

@test "quick: a run stopped by a signal leaves the 'quick' mark; the next run restores the known-good first" {
    start quick
    touch "$M/ch.migrates.ref:pr-1"
    FAULT_SPEC='ccci-health#2:hang' setsid "$BATS_TEST_DIRNAME/../fault/lib-run" quick >"$case_dir/out" 2>"$case_dir/err" &
    pid=$!
    for _ in $(seq 100); do [ -s "$FAULT_DIR/hanging" ] && break; sleep 0.1; done
    [ -s "$FAULT_DIR/hanging" ]
    [ "$(ccci-lock --status ch | jq -r .held)" = true ]
    kill -TERM -- "-$pid"
    wait "$pid" || rc=$?
    [ "$rc" -eq 143 ]
    ! kill -0 "$(cat "$FAULT_DIR/hanging")" 2>/dev/null
    [ "$(ccci-lock --status ch | jq -r .held)" = false ]
    [ "$(jq -r .status "$M/ch.record")" = quick ]
    [[ "$(alerts)" == *interrupted* ]]
    tail -n 1 "$case_dir/out" | jq -e '.status == "error" and .exit == 143 and .known_good.action == "restore-pending"'
    [ "$(cat "$M/ch.data")" != orig ]
    # the next run puts the known-good back before anything else
    rm -f "$M/ch.migrates.ref:pr-1"
    run -0 --separate-stderr run_quick
    [ "$(cat "$M/ch.data")" = orig ]
    grep -n $'\tccci-restore\t' "$FAULT_DIR/calls" | head -n 1 | grep -q .
    [ "$(jq -r .status "$M/ch.record")" = idle ]
}

@test "advance: the whole advance holds the app's lock; a quick run cannot reattach halfway" {
    start advance
    FAULT_SPEC='ccci-app.deploy#1:hang' setsid "$BATS_TEST_DIRNAME/../fault/lib-run" advance >"$case_dir/out" 2>"$case_dir/err" &
    pid=$!
    for _ in $(seq 100); do [ -s "$FAULT_DIR/hanging" ] && break; sleep 0.1; done
    [ -s "$FAULT_DIR/hanging" ]
    CCCI_LOCK_WAIT=0 run -75 --separate-stderr ccci-quick ch --ref pr-1 --test true
    kill -TERM -- "-$pid"
    wait "$pid" || rc=$?
    [ "$rc" -eq 143 ]
    [ "$(jq -r .version "$M/ch.record")" = 1.0.0+1 ]
    [[ "$(alerts)" == *interrupted* ]]
}

@test "advance: a release that fails its health check is undone: the known-good's data is back" {
    start advance:unhealthy
    touch "$M/ch.converges-anyway.1.1.0+1"
    run -1 --separate-stderr run_advance
    assert_line --index 0 "advance-failed:1.1.0+1"
    [ "$(cat "$M/ch.data")" = orig ]
    [ "$(jq -r '.version + " " + .status' "$M/ch.record")" = "1.0.0+1 idle" ]
    [ ! -e "$M/ch.deployed" ]
}

@test "advance: a first advance creates the canonical, with the host's settings from the sweep" {
    start sweep
    rm -f "$M/ch.record" "$M/ch.snap" "$M/ch.exists"
    run -0 --separate-stderr ccci-sweep --test true --infra-file "$case_dir/infra" --set LETS_ENCRYPT_ENV= --health-timeout 1 --deploy-timeout 1
    grep -q $'\tccci-app\tnew ch --recipe ch --domain warm-ch.test.local --secrets --set LETS_ENCRYPT_ENV=$' "$FAULT_DIR/calls"
    rm -f "$M/ch.record" "$M/ch.snap" "$M/ch.exists"
    run -0 --separate-stderr run_advance
    assert_line --index 0 "created:1.1.0+1"
    [ -e "$M/ch.exists" ]
    [ "$(jq -r .version "$M/ch.record")" = 1.1.0+1 ]
}

# The matrix: every story, every call in turn made to fail each way, CCCI_MATRIX_JOBS stories
# at a time (default 2; Tests/run gives 1, as this file runs beside the test host's). The
# quick lane gets every fault kind (its 2 means "run cold", so a tool's own 2 must never leak);
# the others every kind but exit=2 (a kill already makes a tool crash with a code that is no
# verdict); the sweep, which nests reconcile and advance, a failure and a kill. The whole matrix
# with every kind for every story is `Tests/fault/matrix STORY` by hand.
@test "fault matrix: every story holds its invariants under every injected fault" {
    {
        for s in reconcile reconcile:unhealthy reconcile:bootstrap stateless:unhealthy stateless:undeployable \
            advance advance:unhealthy; do
            echo "$s exit=1 exit=69 after=74 kill"
        done
        for s in quick quick:red quick:unhealthy; do echo "$s exit=1 exit=2 exit=69 after=74 kill"; done
        echo "sweep exit=69 kill"
    } | xargs -P "${CCCI_MATRIX_JOBS:-2}" -L 1 sh -c 'story=$1; "$0" "$@" >"$LOGS/matrix.$story.log" 2>&1; echo "$?" >>"$LOGS/matrix.$story.log"' \
        "$fault_here/matrix"
    cat "$LOGS"/matrix.*.log >&3
    total=$(cat "$LOGS"/matrix.*.log | sed -n 's/^matrix .*: \([0-9]*\) cases.*/\1/p' | awk '{s += $1} END {print s + 0}')
    bad=$(cat "$LOGS"/matrix.*.log | sed -n 's/.*, \([0-9]*\) violations$/\1/p' | awk '{s += $1} END {print s + 0}')
    echo "# fault matrix: $total cases, $bad violations" >&3
    [ "$(cat "$LOGS"/matrix.*.log | grep -c ' violations$')" -eq 11 ]
    [ "$bad" -eq 0 ]
}
