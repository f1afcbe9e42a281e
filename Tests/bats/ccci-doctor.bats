#!/usr/bin/env bats
# ccci-doctor on the test host: it passes there (and changes nothing), and each test breaks one
# assumption and sees that check fail with its fix. Where the real thing cannot be broken here
# without disturbing others (docker's live-restore, free disk, systemd), a shim stands in for the
# one command the check asks (CCCI_DOCKER, or a PATH entry for df and systemctl).

load ../testhost/lib/testhost
load helpers
load porcelain
load keycloak

setup_file() {
    testhost_setup_file --private custom-html
    keycloak_start
    AUX=$(mktemp -d)
    export AUX
    python3 "$BATS_TEST_DIRNAME/../fixtures/httpd.py" "$AUX/http-port" 3>&- &
    echo $! >"$AUX/http-pid"
    for _ in $(seq 100); do [ -f "$AUX/http-port" ] && break; sleep 0.05; done
    # the recipe clone is fetchable: its origin is a bare copy
    git clone -q --bare "$ABRA_DIR/recipes/custom-html" "$AUX/custom-html.git"
    git -C "$ABRA_DIR/recipes/custom-html" remote add origin "$AUX/custom-html.git"
    # one warm app deployed, whose stack name and health URL are checked
    WARM=warm-custom-html.$(th_domain dr)
    echo "$WARM" >"$AUX/warm"
    abra app new custom-html 1.1.0+1.28.0 -s "${CCCI_TESTHOST_SERVER:-default}" -D "$WARM" -n >/dev/null
    abra app deploy "$WARM" -n -o >/dev/null
}

teardown_file() {
    th_cleanup_app "$(cat "$AUX/warm")"
    kill "$(cat "$AUX/http-pid")" 2>/dev/null || true
    rm -rf "$AUX"
    keycloak_stop
}

setup() {
    porcelain_setup
    WARM=$(cat "$AUX/warm")
    keycloak_env
    curl -sf -X POST "$CCCI_KEYCLOAK_URL/_standin/reset"
    HTTP=http://127.0.0.1:$(cat "$AUX/http-port")
    export CCCI_ENROLLED=$SCRATCH/enrolled
    echo custom-html >"$CCCI_ENROLLED"
    # the infra file as the units write it: JSON Lines, the argv of ccci-reconcile, APP first
    jq -cn --arg d "$WARM" '["custom-html", "--domain", $d, "--health-arg", "--expect", "--health-arg", "200"]' >"$SCRATCH/infra"
    export CCCI_INFRA_FILE=$SCRATCH/infra CCCI_ALERT_RELAY='cat >/dev/null'
    mkdir -m 700 "$CCCI_STATE" "$CCCI_STATE/alerts"
    mkdir -p "$SCRATCH/bin"
}

teardown() {
    rm -f "$ABRA_DIR/servers/${CCCI_TESTHOST_SERVER:-default}/broken.test.local.env"
    porcelain_teardown
}

# doctor ARGS...: ccci-doctor --json, stdout in $output (JSON Lines), stderr apart
doctor() { run --separate-stderr ccci-doctor --json --health-timeout 3 "$@"; }
# check NAME: the line of check NAME
check() { printf '%s\n' "$output" | jq -c --arg c "$1" 'select(.check == $c)'; }
# is NAME STATUS: check NAME has STATUS (and a fix when it failed)
is() {
    local line
    line=$(check "$1")
    [ -n "$line" ] || { echo "no check $1 in: $output"; return 1; }
    echo "$line" | jq -e --arg s "$2" '.status == $s and (.detail | length > 0) and (if $s == "fail" then (.fix | length > 0) else true end)' >/dev/null ||
        { echo "check $1 is not $2: $line"; return 1; }
}

@test "passes on the test host, and changes nothing (abra only asked for --help, no realm, no state)" {
    calls_before=$(wc -l <"$ABRA_DIR/.ccci-calls.jsonl")
    state_before=$(find "$CCCI_STATE" -printf '%p %m %s\n' | sort)
    doctor
    assert_success
    for c in tools abra abra-version abra-help:app-new abra-help:app-deploy abra-help:app-undeploy abra-help:app-remove abra-help:recipe-fetch \
        infra-file env-files docker swarm live-restore volume-driver stack-names recipe:custom-html state-format state-permissions \
        disk keycloak-reachable keycloak-admin-login keycloak-token-refresh health:custom-html alert-relay; do
        is "$c" ok
    done
    is units skip
    is write-probe skip
    [ -z "$(printf '%s\n' "$output" | jq -r 'select(.status == "fail") | .check')" ]
    # read-only: every abra call was a --help or --version, no realm made, the state untouched
    tail -n +"$((calls_before + 1))" "$ABRA_DIR/.ccci-calls.jsonl" |
        jq -e -s 'length > 0 and all(.[]; (.argv | index("--help")) or (.argv | index("--version")))'
    [ "$(curl -sf "$CCCI_KEYCLOAK_URL/_standin/stats" | jq -c .realms)" = '["master"]' ]
    [ "$(find "$CCCI_STATE" -printf '%p %m %s\n' | sort)" = "$state_before" ]
}

@test "at a terminal: a table, one line per check" {
    command -v script >/dev/null || skip "script(1) is not installed"
    run script -qec "ccci-doctor --check abra" /dev/null
    assert_success
    assert_line --regexp '^ok +abra-help:app-deploy +all of'
    refute_output --partial '"check"'
}

@test "--write-probes creates, checks and deletes a throw-away realm" {
    doctor --check write-probe --write-probes
    assert_success
    is write-probe ok
    [ "$(curl -sf "$CCCI_KEYCLOAK_URL/_standin/stats" | jq -c .realms)" = '["master"]' ]
}

@test "abra missing: the abra check fails with its fix, its dependants are skipped" {
    CCCI_ABRA=/nonexistent/abra doctor --check abra
    assert_failure 1
    is abra fail
    is abra-help:app-deploy skip
    echo "$(check abra)" | jq -e '.fix | test("install abra")'
}

@test "a flag we pass renamed in abra (-C -> -X): that subcommand's check fails naming it" {
    CCCI_ABRA_RENAME_FLAG=-C:-X doctor --check abra
    assert_failure 1
    is abra-help:app-deploy fail
    check abra-help:app-deploy | jq -e '.detail | test(" -C")'
    is abra-help:app-undeploy ok
    is abra-help:app-new ok
}

@test "an abra that needs a terminal: the help checks fail with the fix; CCCI_ABRA_TERMINAL=1 passes" {
    command -v script >/dev/null || skip "script(1) is not installed"
    CCCI_ABRA_NEEDS_TTY=1 doctor --check abra-help:app-deploy
    assert_failure 1
    is abra-help:app-deploy fail
    check abra-help:app-deploy | jq -e '.fix | test("CCCI_ABRA_TERMINAL=1")'
    CCCI_ABRA_NEEDS_TTY=1 CCCI_ABRA_TERMINAL=1 doctor --check abra-help
    assert_success
    is abra-help:app-deploy ok
}

@test "--check with a name no check has is a usage error" {
    run --separate-stderr ccci-doctor --check no-such-check
    assert_json_error ccci-doctor 64
}

@test "the infra file: plain lines work too; a line that is neither is a failed infra-file check" {
    printf '# live-warm apps\ncustom-html --domain %s\n' "$WARM" >"$SCRATCH/infra"
    doctor --check infra-file --check health
    assert_success
    is infra-file ok
    is health:custom-html ok
    printf '["custom-html", 3]\n' >>"$SCRATCH/infra"
    doctor --check infra-file
    assert_failure 1
    is infra-file fail
}

@test "an env file without TYPE= or RECIPE=: env-files fails" {
    printf 'DOMAIN=broken.test.local\nTIMEOUT=20\n' >"$ABRA_DIR/servers/${CCCI_TESTHOST_SERVER:-default}/broken.test.local.env"
    doctor --check env-files
    assert_failure 1
    is env-files fail
    check env-files | jq -e '.detail | test("broken.test.local.env")'
}

@test "abra cutting stack names elsewhere than at 45: stack-names fails" {
    long=a-rather-long-name-for-a-stack-$RANDOM.$(th_domain sn)
    abra app new custom-html 1.1.0+1.28.0 -s "${CCCI_TESTHOST_SERVER:-default}" -D "$long" -n >/dev/null
    CCCI_ABRA_STACK_NAME_MAX=30 abra app deploy "$long" -n -o -c >/dev/null
    short=$(printf '%s' "${long//./_}" | cut -c 1-30)
    doctor --check stack-names
    docker stack rm "$short" >/dev/null
    th_wait_gone "$short" 60 || true
    for _ in $(seq 40); do
        docker ps -aq --filter "label=com.docker.stack.namespace=$short" | xargs -r docker rm -f >/dev/null 2>&1 || true
        docker volume ls -q --filter "label=com.docker.stack.namespace=$short" | xargs -r docker volume rm >/dev/null 2>&1 || true
        [ -z "$(docker volume ls -q --filter "label=com.docker.stack.namespace=$short")" ] && break
        sleep 0.25
    done
    rm -f "$(th_env_file "$long")"
    assert_failure 1
    is stack-names fail
    check stack-names | jq -e --arg s "$short" '.detail | contains($s)'
}

@test "live-restore on (docker info faked by a shim: the shared engine is not restarted): live-restore fails" {
    cat >"$SCRATCH/bin/docker" <<'EOF'
#!/bin/sh
if [ "$1" = info ]; then docker "$@" | jq -c '.LiveRestoreEnabled = true'; else exec docker "$@"; fi
EOF
    chmod +x "$SCRATCH/bin/docker"
    CCCI_DOCKER=$SCRATCH/bin/docker doctor --check live-restore --check swarm
    assert_failure 1
    is live-restore fail
    is swarm ok
    check live-restore | jq -e '.fix | test("live-restore.: false")'
}

@test "a legacy state dir (the Python CI's layout) fails with ccci-migrate as the fix; beside ours it is 'mixed'" {
    mkdir -p "$SCRATCH/vol"
    echo hello >"$SCRATCH/vol/index.html"
    "$TESTHOST_DIR/legacy-state" "$CCCI_STATE" custom-html warm-custom-html.ci.example gnu content="$SCRATCH/vol"
    echo 1.1.0+1.28.0 >"$CCCI_STATE/custom-html/last_good"
    doctor --check state-format
    assert_failure 1
    is state-format fail
    check state-format | jq -e '(.detail | test("^legacy.*custom-html")) and (.fix | test("ccci-migrate --all"))'
    mkdir -p "$CCCI_STATE/twovol/snapshot"
    echo '{}' >"$CCCI_STATE/twovol/snapshot/manifest.json"
    doctor --check state-format
    assert_failure 1
    check state-format | jq -e '.status == "fail" and (.detail | test("^mixed.*twovol"))'
}

@test "a state dir others can read: state-permissions fails" {
    chmod 755 "$CCCI_STATE"
    doctor --check state-permissions
    assert_failure 1
    is state-permissions fail
    check state-permissions | jq -e '.fix | test("chmod 700")'
}

@test "less free disk than the largest snapshot (df faked by a shim): disk fails" {
    mkdir -p "$CCCI_STATE/custom-html/snapshot/volumes"
    head -c 300000 /dev/zero >"$CCCI_STATE/custom-html/snapshot/volumes/content.tar"
    printf '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted"\necho "/dev/x 1000 900 100 90%% /"\n' >"$SCRATCH/bin/df"
    chmod +x "$SCRATCH/bin/df"
    PATH=$SCRATCH/bin:$PATH doctor --check disk
    assert_failure 1
    is disk fail
}

@test "a wrong Keycloak admin password: the admin login fails, the refresh is skipped" {
    printf 'not-the-password\n' >"$SCRATCH/pw"
    CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE=$SCRATCH/pw doctor --check keycloak
    assert_failure 1
    is keycloak-reachable ok
    is keycloak-admin-login fail
    check keycloak-admin-login | jq -e '.detail | test("401")'
    is keycloak-token-refresh skip
}

@test "Keycloak unreachable: keycloak-reachable fails; not configured: skipped, not failed" {
    CCCI_KEYCLOAK_URL=http://127.0.0.1:9 doctor --check keycloak
    assert_failure 1
    is keycloak-reachable fail
    CCCI_KEYCLOAK_URL='' doctor --check keycloak
    assert_success
    is keycloak-reachable skip
}

@test "health specs: the app's spec file decides path and expectations; an invalid one fails" {
    export CCCI_HEALTH_DIR=$SCRATCH/health
    mkdir -p "$CCCI_HEALTH_DIR"
    echo '{"path": "/version", "expect": "200"}' >"$CCCI_HEALTH_DIR/custom-html.json"
    doctor --check health
    assert_success
    check health:custom-html | jq -e '.status == "ok" and (.detail | test("/version answers 200"))'
    echo '{"path": "/no-such-page"}' >"$CCCI_HEALTH_DIR/custom-html.json"
    doctor --check health
    assert_failure 1
    is health:custom-html fail
    echo '{"path": "/", "frobnicate": true}' >"$CCCI_HEALTH_DIR/custom-html.json"
    doctor --check health
    assert_failure 1
    check health:custom-html | jq -e '.status == "fail" and (.detail | test("invalid health spec")) and (.fix | test("health spec"))'
}

@test "a health URL that redirects fails with the redirect named in the fix" {
    CCCI_HEALTH_ARGS='' doctor --check health:http --health-url "$HTTP/status/302"
    assert_failure 1
    is "health:$HTTP/status/302" fail
    check "health:$HTTP/status/302" | jq -e '(.detail | test("redirects \\(302\\)")) and (.fix | test("--expect 200,302"))'
    CCCI_HEALTH_ARGS='' doctor --check health:http --health-url "$HTTP/ok"
    assert_success
}

@test "a recipe clone missing or not fetchable: its recipe check fails" {
    echo twovol >>"$CCCI_ENROLLED"
    git -C "$ABRA_DIR/recipes/custom-html" remote set-url origin "$AUX/nowhere.git"
    doctor --check recipe
    git -C "$ABRA_DIR/recipes/custom-html" remote set-url origin "$AUX/custom-html.git"
    assert_failure 1
    is recipe:custom-html fail
    is recipe:twovol fail
    check recipe:twovol | jq -e '.fix == "abra recipe fetch twovol"'
}

@test "units under systemd (systemctl faked by a shim): a disabled sweep timer fails, all enabled is ok" {
    cat >"$SCRATCH/bin/systemctl" <<'EOF'
#!/bin/sh
case $1 in
is-system-running) echo running ;;
cat) exit 1 ;;
is-enabled) case " $SYSTEMCTL_DISABLED " in *" $2 "*) echo disabled; exit 1 ;; *) echo enabled ;; esac ;;
esac
EOF
    chmod +x "$SCRATCH/bin/systemctl"
    PATH=$SCRATCH/bin:$PATH SYSTEMCTL_DISABLED=ci-warm-sweep.timer doctor --check units
    assert_failure 1
    is units fail
    check units | jq -e '.detail | test("ci-warm-sweep.timer\\(disabled\\)")'
    PATH=$SCRATCH/bin:$PATH SYSTEMCTL_DISABLED= doctor --check units
    assert_success
    is units ok
    check units | jq -e '.detail | test("ci-warm-reconcile@custom-html.timer") and test("ci-warm-alert-relay.path")'
}

@test "an alert relay that cannot run: alert-relay fails; none configured is a warning" {
    CCCI_ALERT_RELAY='no-such-relay-program --post' doctor --check alert-relay
    assert_failure 1
    is alert-relay fail
    CCCI_ALERT_RELAY='' doctor --check alert-relay
    assert_success
    is alert-relay warn
}

@test "usage: an unknown option is 64 with a JSON error line" {
    run --separate-stderr ccci-doctor --definitely-not
    assert_json_error ccci-doctor 64
}
