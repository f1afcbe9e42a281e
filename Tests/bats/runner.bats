#!/usr/bin/env bats
# The seam with the CI: docs/examples/runner.sh plays the runner on the test host. A PR comment
# webhook flows through ccci-trigger -> a run slot -> a realm on the (stand-in) warm Keycloak ->
# the run -> the result record -> the realm deleted -> the slot freed, and a nightly sweep
# started in the middle of the run skips. Plus the quick lane's fallback to cold, co-deploy when
# the warm Keycloak is down, redeliveries, and the record's own contract.

load ../testhost/lib/testhost
load helpers
load porcelain

load keycloak

RUNNER=$BATS_TEST_DIRNAME/../../docs/examples/runner.sh

setup_file() {
    testhost_setup_file --private custom-html
    keycloak_start
}

teardown_file() { keycloak_stop; }

setup() {
    porcelain_setup
    keycloak_env
    export CCCI_ENROLLED=$SCRATCH/enrolled
    echo custom-html >"$CCCI_ENROLLED"
    mkdir -p "$SCRATCH/probe"
    export PROBE=$SCRATCH/probe
    # What the runner's commands see mid-run, written for the assertions below.
    cat >"$SCRATCH/observe" <<'EOF'
#!/bin/sh
# observe: record the run's environment and whether its realm works; with PAUSE=1, say "mid-run"
# and wait for the test's "go" (the test looks at the slot and starts a sweep meanwhile).
env | grep '^CCCI_' | grep -v -e CREDENTIALS= -e HELD_LOCKS= | sort >"$PROBE/env-$CCCI_MODE"
if [ -n "${CCCI_SSO_CREDENTIALS:-}" ]; then
    ccci-realm check "$CCCI_SSO_REALM" --credentials "$CCCI_SSO_CREDENTIALS" >"$PROBE/check-$CCCI_MODE" 2>/dev/null || true
    stat -c %a "$CCCI_SSO_CREDENTIALS" >"$PROBE/mode-$CCCI_MODE"
fi
if [ "${PAUSE:-}" = 1 ]; then
    touch "$PROBE/mid-$CCCI_MODE"
    i=0
    while [ ! -e "$PROBE/go" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
fi
EOF
    # The operator's cold run: a per-run app on the run's cold domain at the PR head.
    cat >"$SCRATCH/cold" <<'EOF'
#!/bin/sh
set -eu
"$SCRATCH/observe"
d=$CCCI_APP_DOMAIN
printf '%s\n' "$d" >>"$BATS_TEST_TMPDIR/.th-apps"
ccci-app new "$CCCI_RECIPE" --domain "$d" --set TIMEOUT=20 >/dev/null
trap 'ccci-app undeploy "$CCCI_RECIPE" --domain "$d" >/dev/null; ccci-app remove "$CCCI_RECIPE" --domain "$d" --yes >/dev/null' EXIT
if [ -n "$CCCI_REF" ]; then
    ccci-app deploy "$CCCI_RECIPE" --ref "$CCCI_REF" --domain "$d" --timeout 120 >/dev/null
else
    ccci-app deploy "$CCCI_RECIPE" "$CCCI_VERSION" --domain "$d" --timeout 120 >/dev/null
fi
# shellcheck disable=SC2086
ccci-health $CCCI_HEALTH_ARGS --timeout 60 "http://$d/" >/dev/null
test "${COLD_VERDICT:-pass}" = pass
EOF
    chmod +x "$SCRATCH/observe" "$SCRATCH/cold"
    export SCRATCH BATS_TEST_TMPDIR
    export COLD="$SCRATCH/cold" QUICK="\"\$SCRATCH/observe\" && test \"\${QUICK_VERDICT:-pass}\" = pass"
}

teardown() {
    [ -e "$SCRATCH/remake" ] && th_recipe custom-html
    porcelain_teardown
}

# payload BODY COMMENT-ID: a GitHub issue_comment webhook on PR 42 of coop-cloud/custom-html
payload() {
    jq -c --arg b "$1" --argjson id "$2" '.comment.body = $b | .comment.id = $id' \
        "$FIXTURES/webhooks/github-created-pr.json" >"$SCRATCH/payload-$2.json"
    printf '%s\n' "$SCRATCH/payload-$2.json"
}

# seed: a canonical of custom-html at 1.1.0 on a fresh domain, undeployed with its known-good
seed() {
    new_app custom-html 1.1.0+1.28.0
    ccci-app undeploy custom-html "${A[@]}" >/dev/null
    jq -n '{app:"custom-html",mode:"cold",ref:null,status:"pass",version:"1.1.0+1.28.0",run:"seed"}' |
        ccci-promote --domain "$D" >/dev/null
}

# mid_run MODE PAYLOAD [VAR=VALUE...]: the runner in the background, paused mid-run; meanwhile
# the test looks at the slot and the realms from outside and starts a nightly sweep (as its timer
# would); then the run goes on. Sets rc and output.
mid_run() {
    local mode=$1 payload=$2 i pid
    shift 2
    env PAUSE=1 "$@" "$RUNNER" <"$payload" >"$SCRATCH/out" 2>"$SCRATCH/err" &
    pid=$!
    for ((i = 0; i < 1800; i++)); do [ -e "$PROBE/mid-$mode" ] && break; sleep 0.1; done
    [ -e "$PROBE/mid-$mode" ] || { cat "$SCRATCH/err"; return 1; }
    if slot_free 2>/dev/null; then echo free; else echo held; fi >"$PROBE/slot"
    realms >"$PROBE/realms-mid"
    ccci-sweep --test false >"$PROBE/sweep" 2>/dev/null
    echo $? >"$PROBE/sweep-exit"
    touch "$PROBE/go"
    rc=0
    wait "$pid" || rc=$?
    output=$(cat "$SCRATCH/out")
    [ "$rc" -eq 0 ] || cat "$SCRATCH/err"
}

# stop_mid_run SIGNAL CHECK COMMAND...: COMMAND (a ccci-run whose command touches
# $PROBE/started) in the background with SIGINT at its default (a background job of a
# non-interactive shell starts with it ignored; a terminal's ^C would find it at default); once
# started, CHECK (a shell snippet) runs, then SIGNAL. Sets rc and took (seconds from the signal).
stop_mid_run() {
    local sig=$1 check=$2 pid
    shift 2
    python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
        "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" &
    pid=$!
    for _ in $(seq 600); do [ -e "$PROBE/started" ] && break; sleep 0.1; done
    [ -e "$PROBE/started" ] || { cat "$SCRATCH/err"; return 1; }
    eval "$check"
    SECONDS=0
    kill "-$sig" "$pid"
    rc=0
    wait "$pid" || rc=$?
    took=$SECONDS
}

realms() { curl -sf "$KC/_standin/stats" | jq -c .realms; }
slot_free() { ccci-lock --no-wait --slots 1 --pool runs -- true; }

@test "!testme: trigger -> slot -> realm -> cold run -> record -> realm deleted -> slot freed; a sweep mid-run skips" {
    touch "$SCRATCH/remake"
    head=$(th_release custom-html --untagged --env APP_MODE=healthy)
    mid_run cold "$(payload '!testme' 9001)" REF="$head" SSO_PARENT=custom-html
    [ "$rc" -eq 0 ]
    rec=$output
    echo "$rec" | jq -e --arg h "$head" '.format == "ccci-result/1" and .run == "pr42-c9001" and .recipe == "custom-html"
        and .pr == 42 and .repository == "coop-cloud/custom-html" and .ref == $h
        and .requested_mode == "cold" and .mode == "cold" and .gates_merge == true
        and .status == "pass" and .exit == 0 and .fallback == null
        and .known_good.action == "none" and .promotion == null
        and .sso.decision == "realm" and .sso.realm == ("custom-html-" + .hex) and .sso.deleted == true
        and .slot.pool == "runs" and .slot.slot == 0 and (.hex as $x | .app_domain | startswith("cust-" + $x))'
    # the record is the file the bot reads, byte for byte, mode 0600 in a 0700 directory
    [ "$(cat "$CCCI_STATE/results/pr42-c9001.json")" = "$rec" ]
    [ "$(stat -c %a "$CCCI_STATE/results/pr42-c9001.json")" = 600 ]
    [ "$(stat -c %a "$CCCI_STATE/results")" = 700 ]
    # mid-run: the realm existed and worked (0600 credentials), the slot was held, the sweep skipped
    jq -e --arg r "$(echo "$rec" | jq -r .sso.realm)" 'index($r) != null' "$PROBE/realms-mid"
    jq -e '.ok == true' "$PROBE/check-cold"
    [ "$(cat "$PROBE/mode-cold")" = 600 ]
    [ "$(cat "$PROBE/slot")" = held ]
    [ "$(cat "$PROBE/sweep-exit")" = 0 ]
    jq -e '.result == "skipped" and (.busy | test("pool runs"))' "$PROBE/sweep"
    grep -qx "CCCI_SSO=realm" "$PROBE/env-cold"
    grep -qx "CCCI_REF=$head" "$PROBE/env-cold"
    # run end: realm deleted, slot free, the cold app gone
    [ "$(realms)" = '["master"]' ]
    slot_free
    [ ! -e "$(th_env_file "$(echo "$rec" | jq -r .app_domain)")" ]
}

@test "!testme --quick: the quick lane in a slot, with a realm; the record says quick, gates_merge false" {
    seed
    touch "$SCRATCH/remake"
    head=$(th_release custom-html --untagged --env APP_MODE=healthy)
    mid_run quick "$(payload '!testme --quick' 9002)" REF="$head" SSO_PARENT=custom-html
    [ "$rc" -eq 0 ]
    rec=$output
    echo "$rec" | jq -e --arg h "$head" '.run == "pr42-c9002" and .requested_mode == "quick" and .mode == "quick"
        and .gates_merge == false and .status == "pass" and .exit == 0 and .ref == $h
        and .known_good == {"version": "1.1.0+1.28.0", "action": "untouched"} and .promotion == null
        and .quick.app == "custom-html" and .sso.decision == "realm" and .sso.deleted == true'
    [ "$(cat "$CCCI_STATE/results/pr42-c9002.json")" = "$rec" ]
    jq -e --arg r "$(echo "$rec" | jq -r .sso.realm)" 'index($r) != null' "$PROBE/realms-mid"
    jq -e '.ok == true' "$PROBE/check-quick"
    [ "$(cat "$PROBE/slot")" = held ]
    jq -e '.result == "skipped" and (.busy | test("pool runs"))' "$PROBE/sweep"
    grep -qx "CCCI_SSO=realm" "$PROBE/env-quick"
    [ "$(realms)" = '["master"]' ]
    slot_free
    [ "$(ccci-canon show custom-html | jq -r .version)" = 1.1.0+1.28.0 ]
}

@test "a red quick run: recorded fail (exit 1), the known-good restored, gates_merge false" {
    seed
    touch "$SCRATCH/remake"
    head=$(th_release custom-html --untagged --env APP_MODE=healthy)
    run --separate-stderr ccci-run custom-html --mode quick --ref "$head" --run q-red --cold false --test 'exit 1'
    assert_failure 1
    echo "$output" | jq -e '.mode == "quick" and .gates_merge == false and .status == "fail" and .exit == 1
        and .known_good == {"version": "1.1.0+1.28.0", "action": "restored"} and .quick.receipt.ok == true'
}

@test "a redelivered comment is not a second run" {
    run --separate-stderr env REF=main COLD=true QUICK=true "$RUNNER" <"$(payload '!testme --quick' 9003)"
    assert_success
    echo "$output" | jq -e '.run == "pr42-c9003" and .mode == "cold" and .requested_mode == "quick"'
    run --separate-stderr env REF=main COLD=false QUICK=false "$RUNNER" <"$SCRATCH/payload-9003.json"
    assert_success
    echo "$output" | jq -e '.trigger == false and .reason == "duplicate"'
    [ "$(ls "$CCCI_STATE/results")" = pr42-c9003.json ]
}

@test "--quick with no canonical still tests the PR: cold, recorded as a fallback that gates merge" {
    run --separate-stderr ccci-run custom-html --mode quick --ref main --run q-nocanon --cold "$COLD" --test "$QUICK"
    assert_success
    echo "$output" | jq -e '.requested_mode == "quick" and .mode == "cold" and .gates_merge == true
        and .fallback == "no-record" and .status == "pass" and .known_good.action == "none"
        and .sso.decision == "none" and .quick.promoted == false'
    [ -e "$PROBE/env-cold" ] && [ ! -e "$PROBE/env-quick" ]
}

@test "warm Keycloak down: co-deploy, the run goes on; a red cold run is a recorded fail (exit 1)" {
    run --separate-stderr env CCCI_KEYCLOAK_URL=http://127.0.0.1:9 ccci-run custom-html --mode cold --ref main \
        --run kc-down --sso custom-html --cold '"$SCRATCH/observe"; exit 1' --results "$SCRATCH/res"
    assert_failure 1
    echo "$output" | jq -e '.status == "fail" and .exit == 1 and .sso.decision == "co-deploy"
        and .sso.reason == "keycloak-unhealthy" and .sso.realm == null and .gates_merge == true'
    grep -qx "CCCI_SSO=co-deploy" "$PROBE/env-cold"
    jq -e '.status == "fail"' "$SCRATCH/res/kc-down.json"
    slot_free
}

@test "a green cold run of the latest release (no ref) advances the canonical: known_good promoted" {
    export CCCI_BASE_DOMAIN
    CCCI_BASE_DOMAIN=$(th_domain pr)
    th_track "warm-custom-html.$CCCI_BASE_DOMAIN"
    run --separate-stderr ccci-run custom-html --mode cold --run latest-1 --cold '"$SCRATCH/observe"' --health-timeout 60
    assert_success
    echo "$output" | jq -e '.ref == null and .version == "1.1.0+1.28.0" and .mode == "cold" and .status == "pass"
        and .promotion == {"promoted": true} and .known_good == {"version": "1.1.0+1.28.0", "action": "promoted"}'
    grep -qx "CCCI_VERSION=1.1.0+1.28.0" "$PROBE/env-cold"
    ccci-canon has custom-html | jq -e '.has == true and .record.run == "latest-1"'
    [ "$(ccci-app status custom-html | jq -r .deployed)" = false ]
    # a PR's green cold run never promotes
    run --separate-stderr ccci-run custom-html --mode cold --ref main --run pr-1 --cold true
    assert_success
    echo "$output" | jq -e '.promotion == null and .known_good.action == "none"'
    [ "$(ccci-canon show custom-html | jq -r .run)" = latest-1 ]
}

@test "an operator command failing with 64+ is an error: the record is written, stdout stays empty" {
    run --separate-stderr ccci-run custom-html --mode cold --ref main --run broken --cold 'exit 69'
    assert_json_error ccci-run 69
    jq -e '.status == "error" and .exit == 69 and .result == "error:custom-html@main"' "$CCCI_STATE/results/broken.json"
}

@test "ccci-quick failing internally (70) is an error, never a fallback to cold" {
    mkdir -p "$SCRATCH/shim"
    cat >"$SCRATCH/shim/ccci-quick" <<'EOF'
#!/bin/sh
echo "error:custom-html@main"
echo '{"app":"custom-html","ref":"main","mode":"quick","gates_merge":false,"result":"error","status":"error","exit":70,"step":"upgrade","known_good":{"version":"1.1.0+1.28.0","action":"restore-pending"}}'
exit 70
EOF
    chmod +x "$SCRATCH/shim/ccci-quick"
    PATH=$SCRATCH/shim:$PATH run --separate-stderr ccci-run custom-html --mode quick --ref main --run q-70 --cold "$COLD" --test true
    assert_json_error ccci-run 70
    jq -e '.status == "error" and .exit == 70 and .mode == "quick" and .fallback == null and .gates_merge == false
        and .known_good == {"version": "1.1.0+1.28.0", "action": "restore-pending"} and .quick.step == "upgrade"' "$CCCI_STATE/results/q-70.json"
    [ ! -e "$PROBE/env-cold" ]
}

@test "a run stopped by TERM deletes its realm on the way out, records the stop and frees its slot (exit 143)" {
    stop_mid_run TERM '[ "$(realms | jq length)" = 2 ]' \
        ccci-run custom-html --mode cold --ref main --run stopped --sso custom-html \
        --cold 'sleep 30 & echo $! >"$PROBE/sleeper"; touch "$PROBE/started"; wait'
    [ "$rc" -eq 143 ]
    # At once, not after the command's 30 s, and nothing of the command is left.
    [ "$took" -lt 10 ]
    ! kill -0 "$(cat "$PROBE/sleeper")" 2>/dev/null
    [ "$(realms)" = '["master"]' ]
    slot_free
    jq -e '.status == "error" and .exit == 143 and .signal == "TERM" and .result == "error:custom-html@main"
        and .sso.decision == "realm" and .sso.deleted == true and .known_good.action == "none"
        and .promotion == null' "$CCCI_STATE/results/stopped.json"
    [ "$(stat -c %a "$CCCI_STATE/results/stopped.json")" = 600 ]
    [ ! -s "$SCRATCH/out" ]
}

@test "a quick run stopped by INT: recorded (exit 143, signal INT), the known-good's state as far as known" {
    seed
    stop_mid_run INT : \
        ccci-run custom-html --mode quick --ref main --run q-int --test 'touch "$PROBE/started"; sleep 30' --cold false
    [ "$rc" -eq 143 ]
    slot_free
    jq -e '.status == "error" and .exit == 143 and .signal == "INT" and .mode == "quick" and .gates_merge == false
        and (.known_good.action | IN("unknown", "restore-pending", "restored"))' "$CCCI_STATE/results/q-int.json"
    [ ! -s "$SCRATCH/out" ]
}

@test "a stopped run's command that ignores TERM is KILLed after CCCI_KILL_GRACE; the record is written" {
    CCCI_KILL_GRACE=1 stop_mid_run TERM : \
        ccci-run custom-html --mode cold --ref main --run deaf --cold 'trap "" TERM; touch "$PROBE/started"; sleep 30'
    [ "$rc" -eq 143 ]
    [ "$took" -lt 10 ]
    grep -q 'did not stop within 1 s: KILL' "$SCRATCH/err"
    slot_free
    jq -e '.exit == 143 and .signal == "TERM"' "$CCCI_STATE/results/deaf.json"
}

@test "a busy pool: no slot within --slot-wait is 75, nothing run" {
    ccci-lock --slots 1 --pool runs -- sleep 30 &
    holder=$!
    sleep 0.3
    run --separate-stderr ccci-run custom-html --mode cold --ref main --cold "$COLD" --slot-wait 1
    kill "$holder"
    assert_json_error ccci-lock 75
    [ ! -e "$PROBE/env-cold" ]
}

@test "usage: mode, commands and names are checked before a slot is taken" {
    run --separate-stderr ccci-run custom-html --mode warm --cold true
    assert_json_error ccci-run 64
    run --separate-stderr ccci-run custom-html --mode quick --ref main --cold true
    assert_json_error ccci-run 64
    run --separate-stderr ccci-run custom-html --mode quick --test true --cold true
    assert_json_error ccci-run 64
    run --separate-stderr ccci-run ../x --mode cold --cold true
    assert_json_error ccci-run 64
    run --separate-stderr ccci-run custom-html --mode cold --cold true --run 'a/b'
    assert_json_error ccci-run 64
}
