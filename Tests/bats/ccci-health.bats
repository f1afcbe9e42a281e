#!/usr/bin/env bats
# ccci-health: consecutive successes, flapping, unreachable endpoints, pinning, headers, JSON.

load helpers

setup_file() {
    HTTPD_DIR=$(mktemp -d)
    python3 "$BATS_TEST_DIRNAME/../fixtures/httpd.py" "$HTTPD_DIR/port" 3>&- &
    echo $! >"$HTTPD_DIR/pid"
    for _ in $(seq 100); do [ -f "$HTTPD_DIR/port" ] && break; sleep 0.05; done
    export HTTPD_DIR
}

teardown_file() {
    kill "$(cat "$HTTPD_DIR/pid")" 2>/dev/null || true
    rm -rf "$HTTPD_DIR"
}

setup() {
    setup_scratch
    PORT=$(cat "$HTTPD_DIR/port")
    U=http://127.0.0.1:$PORT
}
teardown() { teardown_scratch; }

fast() { ccci-health --interval 0.05 --max-interval 0.2 "$@"; }

@test "healthy after N consecutive good answers" {
    run --separate-stderr fast --successes 3 --timeout 10 "$U/ok"
    assert_success
    echo "$output" | jq -e '.healthy == true and .attempts == 3 and .consecutive == 3 and .last_status == 200 and .reachable == true'
    echo "$output" | jq -e '.first_success_after >= 0 and .elapsed >= .first_success_after'
}

@test "a slow start: healthy only once the answers stay good" {
    run --separate-stderr fast --successes 2 --timeout 10 "$U/after/3"
    assert_success
    echo "$output" | jq -e '.attempts == 5'
}

@test "a flapping app is never healthy with 3 consecutive required (exit 1)" {
    run --separate-stderr fast --successes 3 --timeout 1.5 "$U/flap"
    assert_failure 1
    echo "$output" | jq -e '.healthy == false and .reachable == true and .attempts >= 3 and .consecutive <= 1'
}

@test "one lucky answer is not health" {
    run --separate-stderr fast --successes 1 --timeout 5 "$U/flap-solo"
    assert_failure 1  # 404 every time
    run --separate-stderr fast --successes 1 --timeout 5 "$U/flap"
    assert_success    # with N=1, the first 200 would pass: that is why the default is 3
}

@test "--expect takes a list" {
    run --separate-stderr fast --successes 2 --timeout 5 --expect 200,204,503 "$U/status/503"
    assert_success
    run --separate-stderr fast --successes 2 --timeout 1 --expect 200 "$U/status/503"
    assert_failure 1
    echo "$output" | jq -e '.last_status == 503 and .last_error == "status 503"'
}

@test "connection refused is reported distinctly: 69, JSON error, nothing on stdout" {
    run --separate-stderr fast --timeout 1 "http://127.0.0.1:9/"
    assert_json_error ccci-health 69
    error_line | jq -e '.error.code == "unreachable" and .error.details.reachable == false'
}

@test "--json-path requires a field of the body (Keycloak's status UP)" {
    run --separate-stderr fast --successes 2 --timeout 5 --json-path status=UP "$U/json/UP"
    assert_success
    run --separate-stderr fast --successes 1 --timeout 1 --json-path .status=UP "$U/json/DOWN"
    assert_failure 1
    echo "$output" | jq -e '.last_error | test("not .UP.")'
}

@test "host pinning: a public name reached on loopback, like curl --resolve" {
    run --separate-stderr fast --successes 1 --timeout 5 --resolve "warm-keycloak.ci.example:$PORT:127.0.0.1" \
        "http://warm-keycloak.ci.example:$PORT/ok"
    assert_success
    run --separate-stderr fast --successes 1 --timeout 5 --connect-to "warm-keycloak.ci.example:80:127.0.0.1:$PORT" \
        "http://warm-keycloak.ci.example/ok"
    assert_success
}

@test "a ~/.curlrc cannot change the verdict: 'fail' there does not turn an expected 404 into 69" {
    mkdir -p "$SCRATCH/home"
    printf 'fail\n' >"$SCRATCH/home/.curlrc"
    # curl reads $CURL_HOME/.curlrc, then $XDG_CONFIG_HOME/.curlrc, then $HOME/.curlrc
    run --separate-stderr env HOME="$SCRATCH/home" CURL_HOME="$SCRATCH/home" XDG_CONFIG_HOME="$SCRATCH/home" \
        ccci-health --interval 0.05 --successes 2 --timeout 5 --expect 404 "$U/status/404"
    assert_success
    echo "$output" | jq -e '.healthy == true and .last_status == 404'
}

@test "headers come from a file and never appear in argv" {
    printf 'X-Token: sesame\n' >"$SCRATCH/headers"
    run --separate-stderr fast --successes 1 --timeout 5 --headers "$SCRATCH/headers" "$U/need-header"
    assert_success
    run --separate-stderr fast --successes 1 --timeout 1 "$U/need-header"
    assert_failure 1
    # while a check runs, no process's command line carries the token
    fast --successes 1000 --timeout 3 --headers "$SCRATCH/headers" "$U/need-header" >/dev/null 2>&1 &
    pid=$!
    found=0
    for _ in $(seq 40); do
        if cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -q 's[e]same'; then found=1; fi
        sleep 0.05
    done
    wait "$pid" || true
    [ "$found" -eq 0 ]
}

@test "bad input: a bad URL, bad codes, bad pinning, a missing headers file or CA file" {
    run --separate-stderr ccci-health ftp://x/
    assert_json_error ccci-health 64
    run --separate-stderr ccci-health --expect abc "$U/ok"
    assert_json_error ccci-health 64
    run --separate-stderr ccci-health --resolve nonsense "$U/ok"
    assert_json_error ccci-health 64
    run --separate-stderr ccci-health --headers "$SCRATCH/none" "$U/ok"
    assert_json_error ccci-health 66
    run --separate-stderr ccci-health --cacert "$SCRATCH/none" "$U/ok"
    assert_json_error ccci-health 66
    printf 'not a header\n' >"$SCRATCH/bad"
    run --separate-stderr ccci-health --headers "$SCRATCH/bad" "$U/ok"
    assert_json_error ccci-health 65
    run --separate-stderr ccci-health --json-path nonsense "$U/ok"
    assert_json_error ccci-health 64
}
