#!/usr/bin/env bats
# ccci-app on the test host: the real swarm, the abra stand-in, the router.

load ../testhost/lib/testhost
load helpers

setup_file() { testhost_setup_file --private custom-html broken; }
setup() {
    setup_scratch
    D=$(th_domain app)
    th_track "$D"
    A=(--domain "$D")
}
teardown() {
    # a test that tagged the private recipe gets it rebuilt, so later tests see it clean
    [ -e "$SCRATCH/remake" ] && th_recipe custom-html
    testhost_teardown
    teardown_scratch
}

@test "status before and after a deploy; the content is served through the router" {
    run --separate-stderr ccci-app new custom-html "${A[@]}" --set TIMEOUT=30
    assert_success
    run --separate-stderr ccci-app status custom-html "${A[@]}"
    assert_success
    echo "$output" | jq -e '.deployed == false and .services == [] and .converged == false'
    run --separate-stderr ccci-app deploy custom-html 1.0.0+1.27.0 "${A[@]}" --timeout 90
    assert_success
    echo "$output" | jq -e '.deployed == true and .converged == true and .version == "1.0.0+1.27.0" and .label_version == "1.0.0+1.27.0"'
    echo "$output" | jq -e '.services[0].replicas == "1/1" and .services[0].converged == true'
    run th_http "$D" /version
    assert_output 1.0.0+1.27.0
    run --separate-stderr ccci-app volumes custom-html "${A[@]}"
    echo "$output" | jq -e --arg s "$(th_stack "$D")" '.volumes[0].name == ($s + "_content") and (.volumes[0].mountpoint | startswith("/"))'
}

@test "a deploy that never converges fails with abra's FATA text and leaves the stack deployed" {
    ccci-app new broken "${A[@]}" --recipe broken --set TIMEOUT=5 >/dev/null
    run --separate-stderr ccci-app deploy broken 1.0.1+1.0 "${A[@]}" --recipe broken --timeout 10
    assert_json_error ccci-app 69
    error_line | jq -e '.error.code == "deploy-timeout" and (.error.message | test("FATA.*timed out"))'
    error_line | jq -e '.error.details.abra_tail | length > 0 and length <= 20 and any(test("^FATA deploy timed out"))'
    run --separate-stderr ccci-app status broken "${A[@]}" --recipe broken
    echo "$output" | jq -e '.deployed == true and .converged == false'
}

# a healthcheck that passes once the app serves: the task is "starting" until then
healthcheck='s/^    stop_grace_period: 10s$/    stop_grace_period: 10s\n    healthcheck:\n      test: ["CMD", "test", "-e", "\/srv\/health"]\n      interval: 1s\n      start_period: 120s/'

@test "deploy: abra's 'deploy failed' on a slow start is not final once the swarm has the new spec; convergence decides" {
    touch "$SCRATCH/remake"
    th_release custom-html 1.2.0+1.29.0 --sed "$healthcheck" --env APP_START_DELAY=12 >/dev/null
    ccci-app new custom-html "${A[@]}" --set TIMEOUT=3 >/dev/null
    CCCI_ABRA_SLOW_SAYS_FAILED=1 run --separate-stderr ccci-app deploy custom-html 1.2.0+1.29.0 "${A[@]}" --timeout 90
    assert_success
    echo "$output" | jq -e '.converged == true and .version == "1.2.0+1.29.0" and (.abra_fatal | test("deploy failed"))'
    [ "$(th_http "$D" /version)" = 1.2.0+1.29.0 ]
}

@test "deploy: abra's verdict before anything reached the swarm is final (a missing version)" {
    ccci-app new custom-html "${A[@]}" --set TIMEOUT=30 >/dev/null
    run --separate-stderr ccci-app deploy custom-html 9.9.9+9.9 "${A[@]}" --timeout 60
    assert_json_error ccci-app 69
    error_line | jq -e '.error.code == "abra-failed" and (.error.details.abra_tail | last | test("^FATA .*9.9.9"))'
    [ "$(ccci-app status custom-html "${A[@]}" | jq -r .deployed)" = false ]
}

@test "a failing abra call: the end of its output, coloured and on a terminal, is in the error's details, clean, never on stdout" {
    CCCI_ABRA_COLOR=1 run --separate-stderr ccci-app new nosuch "${A[@]}" --recipe nosuch --terminal
    assert_json_error ccci-app 69
    error_line | jq -e '.error.code == "abra-failed" and (.error.message | test("FATA"))'
    error_line | jq -e '.error.details.abra_tail | length > 0 and (last | test("^FATA ")) and all(test("[\u0001-\u001f\u007f]") | not)'
    # not vacuous: under a terminal this abra writes colour escapes and CRLF
    raw=$(CCCI_ABRA_COLOR=1 script -qec "abra app new nosuch -s $CCCI_TESTHOST_SERVER -D nosuch.test.local -n" /dev/null || true)
    [[ "$raw" == *"${ESC}["*"FATA"* && "$raw" == *"$CR"* ]]
}

@test "deploy at a terminal: abra's run, then the swarm's tasks on one live line, erased before the error line" {
    ccci-app new broken "${A[@]}" --recipe broken --set TIMEOUT=3 >/dev/null
    on_pty -- ccci-app deploy broken 1.0.1+1.0 "${A[@]}" --recipe broken --timeout 6
    [ "$status" -eq 69 ]
    [ -z "$out" ]
    [[ "$err" == *"${CR}ccci-app: deploying '$D': running abra app deploy, 0:0"?"${ESC}[K"* ]]
    [[ "$err" == *"${CR}ccci-app: deploying '$D': 0/1 tasks running (app 0/1"*"), 0:0"?"${ESC}[K"* ]]
    [[ "$err" == *"${CR}${ESC}[Kccci-app: deploying '$D': not converged after 6 s"* ]]
    tail -n 1 "$SCRATCH/err" | jq -e '.error.code == "deploy-timeout" and (.error.details.abra_tail | any(test("^FATA")))' >/dev/null
}

@test "undeploy not at a terminal: a plain line every interval while swarm lets go; stdout only the result" {
    ccci-app new custom-html "${A[@]}" >/dev/null
    ccci-app deploy custom-html 1.0.0+1.27.0 "${A[@]}" --timeout 90 >/dev/null
    CCCI_PROGRESS_INTERVAL=1 run --separate-stderr ccci-app undeploy custom-html "${A[@]}" --timeout 60
    assert_success
    echo "$output" | jq -e '.was_deployed == true' >/dev/null
    [ "${#lines[@]}" -eq 1 ]
    [[ "$stderr" != *"$CR"* && "$stderr" != *"$ESC"* ]]
    grep -q "^ccci-app: undeploying '$D': left: [0-9]* container" <<<"$stderr"
    [ -z "$(grep -v "^ccci-app: undeploying '$D'" <<<"$stderr")" ]
}

@test "deploy: an update that swarm rolled back itself (failure_action: rollback) is a failed deploy" {
    touch "$SCRATCH/remake"
    rollback='s/^      restart_policy:$/      update_config:\n        failure_action: rollback\n        monitor: 4s\n      restart_policy:/'
    th_release custom-html 1.2.0+1.29.0 --sed "$rollback" >/dev/null
    th_release custom-html 1.3.0+1.30.0 --mode crashloop --env APP_CRASH_AFTER=1 >/dev/null
    ccci-app new custom-html "${A[@]}" --set TIMEOUT=40 >/dev/null
    ccci-app deploy custom-html 1.2.0+1.29.0 "${A[@]}" --timeout 90 >/dev/null
    run --separate-stderr ccci-app deploy custom-html 1.3.0+1.30.0 "${A[@]}" --timeout 90
    assert_json_error ccci-app 69
    error_line | jq -e '.error.code == "deploy-failed" and (.error.message | test("rollback"))'
    # and what runs is the old spec, which a redeploy of it accepts as converged
    run --separate-stderr ccci-app deploy custom-html 1.2.0+1.29.0 "${A[@]}" --timeout 90
    assert_success
}

@test "ref: the commit a PR head names; a ref the clone lacks is 66; deploy --ref puts the clone back" {
    touch "$SCRATCH/remake"
    head=$(th_release custom-html --untagged --env APP_MODE=healthy)
    run --separate-stderr ccci-app ref custom-html "${A[@]}" --ref "$head"
    assert_success
    echo "$output" | jq -e --arg h "$head" '.commit == $h'
    run --separate-stderr ccci-app ref custom-html "${A[@]}" --ref no-such-branch
    assert_json_error ccci-app 66
    run --separate-stderr ccci-app ref custom-html "${A[@]}" --ref '--upload-pack=x'
    assert_json_error ccci-app 64
    clone="$ABRA_DIR/recipes/custom-html"
    ccci-app new custom-html "${A[@]}" --set TIMEOUT=30 >/dev/null  # abra moves the clone too
    git -C "$clone" checkout -q --detach 1.0.0+1.27.0
    before=$(git -C "$clone" rev-parse HEAD)
    run --separate-stderr ccci-app deploy custom-html "${A[@]}" --ref "$head" --timeout 90
    assert_success
    [ "$(git -C "$clone" rev-parse HEAD)" = "$before" ]
    git -C "$clone" checkout -q main
    run --separate-stderr ccci-app deploy custom-html "${A[@]}" --ref "$head~1" --timeout 90
    [ "$(git -C "$clone" rev-parse --abbrev-ref HEAD)" = main ]
}

@test "fetch: branches and tags arrive from origin, HEAD and the work tree stay; a PR head on demand; no origin is nothing to fetch" {
    touch "$SCRATCH/remake"
    clone=$ABRA_DIR/recipes/custom-html
    run --separate-stderr ccci-app fetch custom-html "${A[@]}"
    assert_success
    echo "$output" | jq -e '.origin == false'
    git clone -q --bare "$clone" "$SCRATCH/upstream.git"
    git -C "$clone" remote add origin "$SCRATCH/upstream.git"
    git clone -q "$SCRATCH/upstream.git" "$SCRATCH/other/recipes/custom-html"
    "$TESTHOST_DIR/recipes/release" --abra-dir "$SCRATCH/other" custom-html 1.2.0+1.29.0 --notes "Upstream release." >/dev/null
    git -C "$SCRATCH/other/recipes/custom-html" push -q origin main --tags
    pr=$("$TESTHOST_DIR/recipes/release" --abra-dir "$SCRATCH/other" custom-html --untagged --env APP_MODE=healthy)
    git -C "$SCRATCH/other/recipes/custom-html" push -q origin "$pr:refs/pull/7/head"
    head=$(git -C "$clone" rev-parse HEAD)
    ccci-app versions custom-html "${A[@]}" | jq -e '.versions | index("1.2.0+1.29.0") == null'
    run --separate-stderr ccci-app fetch custom-html "${A[@]}"
    assert_success
    echo "$output" | jq -e '.origin == true and .tags_after == .tags_before + 1'
    ccci-app versions custom-html "${A[@]}" | jq -e '.versions | last == "1.2.0+1.29.0"'
    [ "$(git -C "$clone" rev-parse HEAD)" = "$head" ]
    [ -z "$(git -C "$clone" status --porcelain)" ]
    git -C "$clone" rev-parse --verify origin/main
    run --separate-stderr ccci-app ref custom-html "${A[@]}" --ref refs/pull/7/head
    assert_json_error ccci-app 66
    run --separate-stderr ccci-app fetch custom-html "${A[@]}" --ref refs/pull/7/head
    assert_success
    echo "$output" | jq -e --arg c "$pr" '.commit == $c'
    git -C "$clone" remote set-url origin "$SCRATCH/nowhere.git"
    run --separate-stderr ccci-app fetch custom-html "${A[@]}"
    assert_json_error ccci-app 69
    error_line | jq -e '.error.code == "fetch-failed"'
}

@test "undeploy waits out swarm's linger; without waiting, leftovers would be seen" {
    ccci-app new custom-html "${A[@]}" >/dev/null
    ccci-app deploy custom-html 1.0.0+1.27.0 "${A[@]}" --timeout 90 >/dev/null
    stack=$(th_stack "$D")
    # the race: abra's undeploy returns while containers still exist
    abra app undeploy "$D" -n >/dev/null
    [ "$(th_containers "$stack")" -gt 0 ]
    # ccci-app undeploy (of what is left) returns only once nothing is left
    run --separate-stderr ccci-app undeploy custom-html "${A[@]}" --timeout 60
    assert_success
    [ "$(th_containers "$stack")" -eq 0 ]
    [ -z "$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")" ]
    [ -z "$(docker ps -aq --filter "volume=${stack}_content")" ]
    # volumes survive an undeploy
    docker volume inspect "${stack}_content" >/dev/null
}

@test "undeploy of a deployed app reports what it waited for" {
    ccci-app new custom-html "${A[@]}" >/dev/null
    ccci-app deploy custom-html 1.0.0+1.27.0 "${A[@]}" --timeout 90 >/dev/null
    run --separate-stderr ccci-app undeploy custom-html "${A[@]}" --timeout 60
    assert_success
    echo "$output" | jq -e '.was_deployed == true and .waited > 0 and (.volumes | length) == 1'
    [ "$(th_containers "$(th_stack "$D")")" -eq 0 ]
}

@test "versions: annotated tags sorted by version (not text) across upstream shapes; lightweight apart" {
    touch "$SCRATCH/remake"
    th_release custom-html 1.9.0+1.29.0 --notes nine >/dev/null
    th_release custom-html 1.10.0+v2.0.0 --notes ten >/dev/null
    th_release custom-html 1.10.1+2.0.1-alpine --notes alpine >/dev/null
    th_release custom-html 1.11.0+2024-05-01 --notes dated >/dev/null
    th_release custom-html 1.12.0+3.0 --lightweight >/dev/null
    run --separate-stderr ccci-app versions custom-html "${A[@]}"
    assert_success
    echo "$output" | jq -e '.versions == ["1.0.0+1.27.0","1.0.1+1.27.0","1.1.0+1.28.0","1.9.0+1.29.0","1.10.0+v2.0.0","1.10.1+2.0.1-alpine","1.11.0+2024-05-01"]'
    echo "$output" | jq -e '.lightweight == ["1.12.0+3.0"]'
    run --separate-stderr ccci-app versions custom-html "${A[@]}" --lines
    assert_line --index 0 1.0.0+1.27.0
    assert_line --index 6 1.11.0+2024-05-01
}

@test "remove needs --yes, is refused while deployed, and then removes the volumes" {
    ccci-app new custom-html "${A[@]}" >/dev/null
    ccci-app deploy custom-html 1.0.0+1.27.0 "${A[@]}" --timeout 90 >/dev/null
    run --separate-stderr ccci-app remove custom-html "${A[@]}"
    assert_json_error ccci-app 64
    run --separate-stderr ccci-app remove custom-html "${A[@]}" --yes
    assert_json_error ccci-app 75
    ccci-app undeploy custom-html "${A[@]}" >/dev/null
    run --separate-stderr ccci-app remove custom-html "${A[@]}" --yes
    assert_success
    ! docker volume inspect "$(th_stack "$D")_content" >/dev/null 2>&1
    [ ! -e "$(th_env_file "$D")" ]
}

@test "mutating subcommands take the app's lock; a caller's lock is recognised" {
    ccci-lock custom-html -- sleep 30 &
    holder=$!
    sleep 0.3
    run --separate-stderr ccci-app new custom-html "${A[@]}" --no-wait
    kill -9 "$holder"
    assert_json_error ccci-app 75
    run ccci-lock custom-html -- ccci-app new custom-html "${A[@]}" --no-wait
    assert_success
}

@test "bad input: bad names, domains, refs, settings; new on an existing app is 73" {
    run --separate-stderr ccci-app status ../x "${A[@]}"
    assert_json_error ccci-app 64
    run --separate-stderr ccci-app status custom-html --domain "UPPER.test.local"
    assert_json_error ccci-app 64
    run --separate-stderr ccci-app domain custom-html --cold XYZ123
    assert_json_error ccci-app 64
    run --separate-stderr ccci-app new custom-html "${A[@]}" --set "lower=x"
    assert_json_error ccci-app 64
    ccci-app new custom-html "${A[@]}" >/dev/null
    run --separate-stderr ccci-app new custom-html "${A[@]}"
    assert_json_error ccci-app 73
    run --separate-stderr ccci-app deploy custom-html "${A[@]}" --ref "--upload-pack=x"
    assert_json_error ccci-app 64
    run --separate-stderr ccci-app deploy custom-html 1.0.0+1.27.0 "${A[@]}" --ref main
    assert_json_error ccci-app 64
    run --separate-stderr ccci-app versions nope "${A[@]}"
    assert_json_error ccci-app 66
}

@test "the cold domain and stack name follow abra's rules" {
    run --separate-stderr ccci-app domain custom-html --cold 0a1b2c
    echo "$output" | jq -e '.domain == "cust-0a1b2c.test.local" and .stack == "cust-0a1b2c_test_local"'
    run --separate-stderr ccci-app domain keycloak --domain a-very-long-domain-name-for-the-stack-limit.test.local
    echo "$output" | jq -e '.stack | length == 45'
}
