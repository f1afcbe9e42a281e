#!/usr/bin/env bats
# ccci-realm against the Keycloak stand-in (Tests/keycloak): names, create/check/delete, idempotent
# create, concurrent runs, reaping, 500s on delete, master and foreign realms, the Keycloak 24+
# user profile, admin token reuse, and secrets kept out of every argv.

load helpers

STANDIN=$BATS_TEST_DIRNAME/../keycloak/keycloak-standin

# start_standin DIR [options]: a stand-in on a free port; its pid and port land in DIR.
start_standin() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$STANDIN" --admin-password-file "$KC_DIR/admin-password" --port-file "$dir/port" "$@" 3>&- &
    echo $! >"$dir/pid"
    for _ in $(seq 100); do [ -f "$dir/port" ] && break; sleep 0.05; done
    [ -f "$dir/port" ]
}

setup_file() {
    KC_DIR=$(mktemp -d)
    export KC_DIR
    KC_PW="pw-$RANDOM$RANDOM-sesame"
    printf '%s\n' "$KC_PW" >"$KC_DIR/admin-password"
    printf '%s' "$KC_PW" >"$KC_DIR/admin-password.raw"
    chmod 600 "$KC_DIR"/admin-password*
    start_standin "$KC_DIR/main"
    curl -sf "http://127.0.0.1:$(cat "$KC_DIR/main/port")/_standin/stats" | jq -c .config >"$KC_DIR/defaults"
}

teardown_file() {
    for pid in "$KC_DIR"/*/pid; do kill "$(cat "$pid")" 2>/dev/null || true; done
    rm -rf "$KC_DIR"
}

setup() {
    setup_scratch
    KC=http://127.0.0.1:$(cat "$KC_DIR/main/port")
    export CCCI_KEYCLOAK_URL=$KC CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE=$KC_DIR/admin-password
    curl -sf -X POST "$KC/_standin/reset"
    curl -sf -X POST --data-binary @"$KC_DIR/defaults" "$KC/_standin/config" >/dev/null
}
teardown() { teardown_scratch; }

# Test-side access to the stand-in (never ccci-realm's own path).
kc_config() { curl -sf -X POST --data-binary "$1" "$KC/_standin/config" >/dev/null; }
kc_stats() { curl -sf "$KC/_standin/stats"; }
kc_token() {
    curl -sf -d grant_type=password -d client_id=admin-cli -d username=admin \
        --data-urlencode "password@$KC_DIR/admin-password.raw" "$KC/realms/master/protocol/openid-connect/token" | jq -r .access_token
}
# kc_admin METHOD PATH [curl args]: an admin API call; prints the status on the last line.
kc_admin() {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" -H "Authorization: Bearer $(kc_token)" -H 'Content-Type: application/json' \
        -w '\n%{http_code}' "$KC/admin/realms$path" "$@"
}
# seed NAME [RUN [CREATED]]: a realm made directly in the stand-in (RUN "-" = untagged).
seed() {
    local name=$1 run=${2:-} created=${3:-2026-01-01T00:00:00.000Z}
    [ -n "$run" ] || run=${name##*-}
    if [ "$run" = - ]; then
        jq -nc --arg n "$name" '{realm: $n, enabled: true}'
    else
        jq -nc --arg n "$name" --arg r "$run" --arg c "$created" '{realm: $n, enabled: true, attributes: {"ccci.run": $r, "ccci.created": $c}}'
    fi | curl -sf -X POST --data-binary @- "$KC/_standin/realms"
}
realms() { kc_stats | jq -c .realms; }
# grant REALM CLIENT SECRET USER PASSWORD: the token endpoint's status and body.
grant() {
    curl -s -w '\n%{http_code}' -d grant_type=password -d "client_id=$2" -d "client_secret=$3" -d "username=$4" \
        -d "password=$5" "$KC/realms/$1/protocol/openid-connect/token"
}
fast() { ccci-realm "$@" --retry-interval 0.05; }

@test "name: <parent>-<hex> from the hex or the run's cold domain; bad parts are 64" {
    run --separate-stderr ccci-realm name lasuite-docs 4c0858
    assert_success
    echo "$output" | jq -e '.realm == "lasuite-docs-4c0858" and .parent == "lasuite-docs" and .hex == "4c0858"'
    run --separate-stderr ccci-realm name lasuite-docs lasu-4c0858.test.local
    assert_success
    echo "$output" | jq -e '.realm == "lasuite-docs-4c0858"'
    for bad in "Docs 4c0858" "docs- 4c0858" "docs 4C0858" "docs 4c085" "docs warm-keycloak.test.local" "a_b 4c0858"; do
        run --separate-stderr ccci-realm name $bad
        assert_json_error ccci-realm 64
    done
}

@test "name: the whole cold domain or stack must be of the scheme; garbage after the hex is 64" {
    for good in lasu-4c0858.ci.example lasu-4c0858_ci_example a-b-4c0858.x.y l-4c0858.example lasu-4c0858_ci_exa; do
        run --separate-stderr ccci-realm name lasu "$good"
        assert_success
        echo "$output" | jq -e '.realm == "lasu-4c0858"'
    done
    for bad in 'lasu-4c0858.ci.example;rm -rf /' $'lasu-4c0858.ci.example\n' $'lasu-4c0858.ci.example\nx' 'lasu-4c0858.ci.example/../x' \
        'lasu-4c0858.ci.example%2F' 'lasu-4c0858.ci example' ' lasu-4c0858.ci.example' 'LASU-4C0858.ci.example' 'lasu-4c0858.' \
        'lasu-4c0858' 'lasuu-4c0858.ci.example' '-4c0858.ci.example' 'x/lasu-4c0858.ci.example' 'lasu-4c0858_ci_ex;' \
        'lasu-4c0858_' 'lasu-4c0858.ci.example.' 'lasu-4c0858..example' 'lasu-4c0858_ci__x'; do
        run --separate-stderr ccci-realm name lasu "$bad"
        assert_json_error ccci-realm 64
    done
}

@test "reap: --live takes the same strict scheme; --grace speaks of minutes in its error" {
    run --separate-stderr ccci-realm reap --live 'lasu-4c0858.ci.example;x' --url http://127.0.0.1:9 --admin-password-file /dev/null
    assert_json_error ccci-realm 64
    for grace in -1 1e3 abc inf 99999999; do
        run --separate-stderr ccci-realm reap --live '' --grace "$grace" --url http://127.0.0.1:9 --admin-password-file /dev/null
        assert_json_error ccci-realm 64
        error_line | jq -e '.error.message | contains("minutes")'
    done
}

@test "create -> check -> delete: a realm that works at once, then is gone" {
    run --separate-stderr ccci-realm create docs-aaa111
    assert_success
    creds=$output
    echo "$creds" | jq -e --arg kc "$KC" '.realm == "docs-aaa111" and .run == "aaa111" and .issuer == "\($kc)/realms/docs-aaa111"
        and .token_endpoint == "\($kc)/realms/docs-aaa111/protocol/openid-connect/token" and .client_id == "docs"
        and (.client_secret | length) == 64 and .username == "ci" and (.password | length) == 64
        and .new == {"realm": true, "client": true, "user": true} and (.created | test("^20..-..-..T..:..:..\\....Z$"))'
    echo "$creds" >"$SCRATCH/creds"
    run --separate-stderr ccci-realm check docs-aaa111 --credentials "$SCRATCH/creds"
    assert_success
    echo "$output" | jq -e '.ok == true and .problems == [] and .signature_checked == false and .issuer == .token_issuer
        and .azp == "docs" and .preferred_username == "ci" and .grant_status == 200 and .discovery_status == 200'
    # check also reads the credentials on stdin
    run --separate-stderr ccci-realm check docs-aaa111 <"$SCRATCH/creds"
    assert_success
    run --separate-stderr ccci-realm delete docs-aaa111
    assert_success
    echo "$output" | jq -e '.realm == "docs-aaa111" and .deleted == true and .existed == true and .attempts == 1'
    [ "$(realms)" = '["master"]' ]
    # a deleted realm no longer works: a clean "no"
    run --separate-stderr ccci-realm check docs-aaa111 --credentials "$SCRATCH/creds"
    assert_failure 1
    echo "$output" | jq -e '.ok == false and (.problems | index("grant")) and .grant_status == 404 and .discovery_status == 404'
    # deleting again: 404 is done
    run --separate-stderr ccci-realm delete docs-aaa111
    assert_success
    echo "$output" | jq -e '.existed == false'
}

@test "create sets up what the contract's traps need: enabled realm, tags, direct grants, a complete user" {
    run --separate-stderr ccci-realm create docs-aaa111 --redirect-uri 'https://docs-aaa111.test.local/*' --username tester
    assert_success
    run kc_admin GET /docs-aaa111
    [ "${lines[-1]}" = 200 ]
    echo "${lines[0]}" | jq -e '.enabled == true and .attributes["ccci.run"] == "aaa111" and (.attributes["ccci.created"] | length) == 24'
    run kc_admin GET '/docs-aaa111/clients?clientId=docs'
    echo "${lines[0]}" | jq -e '.[0].publicClient == false and .[0].directAccessGrantsEnabled == true and .[0].standardFlowEnabled == true
        and .[0].redirectUris == ["https://docs-aaa111.test.local/*"] and .[0].enabled == true'
    run kc_admin GET '/docs-aaa111/users?username=tester&exact=true'
    echo "${lines[0]}" | jq -e '.[0].enabled == true and .[0].emailVerified == true and .[0].requiredActions == []
        and (.[0].email | length) > 0 and (.[0].firstName | length) > 0 and (.[0].lastName | length) > 0'
}

@test "without the Keycloak 24+ profile fields, or with a temporary password, a user cannot log in" {
    run --separate-stderr ccci-realm create docs-aaa111 --out "$SCRATCH/creds"
    assert_success
    secret=$(jq -r .client_secret "$SCRATCH/creds")
    run grant docs-aaa111 docs "$secret" ci "$(jq -r .password "$SCRATCH/creds")"
    [ "${lines[-1]}" = 200 ]
    # the same client, a user as a naive script would create it: no email, first or last name
    run kc_admin POST /docs-aaa111/users --data '{"username":"bare","enabled":true,"credentials":[{"type":"password","value":"pw","temporary":false}]}'
    [ "${lines[-1]}" = 201 ]
    run grant docs-aaa111 docs "$secret" bare pw
    [ "${lines[-1]}" = 400 ]
    echo "${lines[0]}" | jq -e '.error == "invalid_grant" and .error_description == "Account is not fully set up"'
    # complete profile, but a temporary password (the API's default)
    run kc_admin POST /docs-aaa111/users --data '{"username":"temp","enabled":true,"email":"t@x.example","firstName":"t","lastName":"t","credentials":[{"type":"password","value":"pw"}]}'
    [ "${lines[-1]}" = 201 ]
    run grant docs-aaa111 docs "$secret" temp pw
    [ "${lines[-1]}" = 400 ]
    echo "${lines[0]}" | jq -e '.error_description == "Account is not fully set up"'
    # a realm created without "enabled" is disabled: its token endpoint answers 403, check says no
    run kc_admin POST '' --data '{"realm":"docs-bbb222"}'
    [ "${lines[-1]}" = 201 ]
    run grant docs-bbb222 docs x ci pw
    [ "${lines[-1]}" = 403 ]
    echo "${lines[0]}" | jq -e '.error_description == "Realm not enabled"'
    jq '.realm = "docs-bbb222"' "$SCRATCH/creds" >"$SCRATCH/creds-b"
    run --separate-stderr ccci-realm check docs-bbb222 --credentials "$SCRATCH/creds-b"
    assert_failure 1
    echo "$output" | jq -e '.ok == false and .grant_status == 403 and .grant_error == "Realm not enabled"'
}

@test "create is idempotent: a re-run of the same run completes a half-made realm" {
    run --separate-stderr ccci-realm create docs-aaa111 --out "$SCRATCH/first"
    assert_success
    # a crash left it disabled, without its user and client
    id=$(kc_admin GET '/docs-aaa111/users?username=ci&exact=true' | head -n 1 | jq -r '.[0].id')
    cid=$(kc_admin GET '/docs-aaa111/clients?clientId=docs' | head -n 1 | jq -r '.[0].id')
    kc_admin DELETE "/docs-aaa111/users/$id" >/dev/null
    kc_admin DELETE "/docs-aaa111/clients/$cid" >/dev/null
    kc_admin PUT /docs-aaa111 --data '{"enabled":false}' >/dev/null
    run --separate-stderr ccci-realm create docs-aaa111 --out "$SCRATCH/second"
    assert_success
    echo "$output" | jq -e '.new == {"realm": false, "client": true, "user": true} and (has("client_secret") | not) and (has("password") | not)
        and .credentials_file != null'
    [ "$(stat -c %a "$SCRATCH/second")" = 600 ]
    # the creation time is the first run's
    [ "$(jq -r .created "$SCRATCH/first")" = "$(jq -r .created "$SCRATCH/second")" ]
    run --separate-stderr ccci-realm check docs-aaa111 --credentials "$SCRATCH/second"
    assert_success
    # a third run finds everything: the client keeps its secret, the user gets a fresh password
    run --separate-stderr ccci-realm create docs-aaa111
    assert_success
    echo "$output" | jq -e --arg s "$(jq -r .client_secret "$SCRATCH/second")" '.new == {"realm": false, "client": false, "user": false} and .client_secret == $s'
    echo "$output" >"$SCRATCH/third"
    run --separate-stderr ccci-realm check docs-aaa111 --credentials "$SCRATCH/third"
    assert_success
    # given secrets are used as given
    printf 'given-secret\n' >"$SCRATCH/cs"
    printf 'given-password\n' >"$SCRATCH/up"
    run --separate-stderr ccci-realm create docs-aaa111 --client-secret-file "$SCRATCH/cs" --user-password-file "$SCRATCH/up"
    assert_success
    echo "$output" | jq -e '.client_secret == "given-secret" and .password == "given-password"'
}

@test "create never takes over a realm of another run, or an untagged one (73)" {
    seed docs-aaa111 other-run
    run --separate-stderr ccci-realm create docs-aaa111
    assert_json_error ccci-realm 73
    error_line | jq -e '.error.code == "exists" and (.error.message | test("other-run"))'
    seed docs-bbb222 -
    run --separate-stderr ccci-realm create docs-bbb222
    assert_json_error ccci-realm 73
    # but --run other-run is the same run
    run --separate-stderr ccci-realm create docs-aaa111 --run other-run
    assert_success
}

@test "concurrent runs of the same recipe get distinct realms that both work" {
    a=$(ccci-realm name docs docs-aaa111.test.local | jq -r .realm)
    b=$(ccci-realm name docs docs-bbb222.test.local | jq -r .realm)
    [ "$a" != "$b" ]
    ccci-realm create "$a" --out "$SCRATCH/a" >"$SCRATCH/a.out" 2>&1 &
    pa=$!
    ccci-realm create "$b" --out "$SCRATCH/b" >"$SCRATCH/b.out" 2>&1 &
    pb=$!
    wait "$pa"
    wait "$pb"
    [ "$(jq -r .issuer "$SCRATCH/a")" != "$(jq -r .issuer "$SCRATCH/b")" ]
    [ "$(jq -r .client_secret "$SCRATCH/a")" != "$(jq -r .client_secret "$SCRATCH/b")" ]
    run --separate-stderr ccci-realm check "$a" --credentials "$SCRATCH/a"
    assert_success
    run --separate-stderr ccci-realm check "$b" --credentials "$SCRATCH/b"
    assert_success
    # one run's credentials do not open the other's realm
    jq --arg r "$b" '.realm = $r' "$SCRATCH/a" >"$SCRATCH/a-as-b"
    run --separate-stderr ccci-realm check "$b" --credentials "$SCRATCH/a-as-b"
    assert_failure 1
    # and ending one run leaves the other working
    run --separate-stderr ccci-realm delete "$a"
    assert_success
    run --separate-stderr ccci-realm check "$b" --credentials "$SCRATCH/b"
    assert_success
}

@test "reap: a dry run first, then it removes only old orphans; live, young, untagged, foreign realms stay" {
    old=2026-01-01T00:00:00.000Z
    seed docs-aaa111 aaa111 "$old"          # live run
    seed docs-bbb222 bbb222 "$old"          # orphan
    seed hedgedoc-ccc333 ccc333 "$old"      # orphan of another parent
    run --separate-stderr ccci-realm create docs-ddd444   # young: its run has not deployed yet
    assert_success
    seed docs-eee555 -                      # ours by name, but untagged
    seed company - ; seed Docs-fff666 fff666 "$old"       # foreign
    run --separate-stderr fast reap --live aaa111 --grace 60 --dry-run
    assert_success
    echo "$output" | jq -e '.dry_run == true and .live == ["aaa111"] and .deleted == 0 and .would_delete == 2 and .kept == 3'
    echo "$output" | jq -e '[.realms[] | select(.action == "would-delete") | .realm] == ["docs-bbb222", "hedgedoc-ccc333"]'
    [ "$(realms)" = '["Docs-fff666","company","docs-aaa111","docs-bbb222","docs-ddd444","docs-eee555","hedgedoc-ccc333","master"]' ]
    # --parent narrows the sweep
    run --separate-stderr fast reap --live aaa111 --parent docs
    assert_success
    echo "$output" | jq -e '.deleted == 1 and ([.realms[] | select(.action == "deleted") | .realm] == ["docs-bbb222"])'
    run --separate-stderr fast reap --live aaa111
    assert_success
    echo "$output" | jq -e '.dry_run == false and .grace_minutes == 60 and .deleted == 1 and .kept == 3'
    echo "$output" | jq -e '[.realms[] | {(.realm): "\(.action):\(.reason)"}] | add == {
        "docs-aaa111": "kept:live", "docs-ddd444": "kept:young", "docs-eee555": "kept:untagged", "hedgedoc-ccc333": "deleted:orphan"}'
    [ "$(realms)" = '["Docs-fff666","company","docs-aaa111","docs-ddd444","docs-eee555","master"]' ]
    # untagged realms only go when forced; live ones never
    run --separate-stderr fast reap --live aaa111 --force-untagged
    assert_success
    echo "$output" | jq -e '[.realms[] | select(.action == "deleted") | .reason] == ["untagged-forced"]'
    # nothing live and no grace: every tagged realm of ours goes, foreign ones and master stay
    run --separate-stderr fast reap --live '' --grace 0
    assert_success
    [ "$(realms)" = '["Docs-fff666","company","master"]' ]
}

@test "reap refuses to guess which runs are live" {
    run --separate-stderr ccci-realm reap
    assert_json_error ccci-realm 64
    run --separate-stderr ccci-realm reap --live NOTHEX
    assert_json_error ccci-realm 64
}

@test "reap --live-from-docker takes live runs from the swarm's stacks; a failing docker reaps nothing" {
    seed docs-aaa111 aaa111 2026-01-01T00:00:00.000Z
    seed docs-bbb222 bbb222 2026-01-01T00:00:00.000Z
    cat >"$SCRATCH/docker" <<'EOF'
#!/bin/sh
[ "$1 $2" = "stack ls" ] || { echo "unexpected: $*" >&2; exit 2; }
echo '{"Name":"docs-aaa111_test_local","Namespace":"","Orchestrator":"Swarm","Services":"2"}'
echo '{"Name":"warm-keycloak_test_local","Namespace":"","Orchestrator":"Swarm","Services":"1"}'
EOF
    chmod +x "$SCRATCH/docker"
    CCCI_DOCKER=$SCRATCH/docker run --separate-stderr fast reap --live-from-docker --dry-run
    assert_success
    echo "$output" | jq -e '.live == ["aaa111"] and .live_stacks == ["docs-aaa111_test_local", "warm-keycloak_test_local"]
        and ([.realms[] | select(.action == "would-delete") | .realm] == ["docs-bbb222"])'
    printf '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n' >"$SCRATCH/docker"
    CCCI_DOCKER=$SCRATCH/docker run --separate-stderr fast reap --live-from-docker
    assert_json_error ccci-realm 69
    [ "$(realms)" = '["docs-aaa111","docs-bbb222","master"]' ]
}

@test "delete survives injected 500s, retries with backoff and confirms with a GET" {
    seed docs-aaa111
    kc_config '{"fail_deletes": 3}'
    run --separate-stderr fast delete docs-aaa111
    assert_success
    echo "$output" | jq -e '.deleted == true and .existed == true and .attempts == 4 and .server_errors == 3'
    [ "$(realms)" = '["master"]' ]
    # a 500 after the realm was in fact deleted: the GET before the retry finds 404, done
    seed docs-bbb222
    kc_config '{"fail_deletes_committed": 1}'
    run --separate-stderr fast delete docs-bbb222
    assert_success
    echo "$output" | jq -e '.attempts == 1 and .server_errors == 1 and .existed == true'
    [ "$(kc_stats | jq .deletes)" -eq 5 ]
    # a server that never recovers: 75 once the retry budget is spent, the realm still there
    seed docs-ccc333
    kc_config '{"fail_deletes": 1000}'
    run --separate-stderr ccci-realm delete docs-ccc333 --retry-interval 0.1 --retry-for 1
    assert_json_error ccci-realm 75
    error_line | jq -e '.error.code == "delete-failed" and .error.details.attempts >= 3'
    [ "$(realms)" = '["docs-ccc333","master"]' ]
}

@test "concurrent deletes fail with 500 as in Keycloak: reap deletes one at a time, parallel deletes survive by retrying" {
    kc_config '{"fail_concurrent_deletes": true, "delete_ms": 150}'
    for h in 000001 000002 000003 000004; do seed "docs-$h"; done
    run --separate-stderr fast reap --live '' --grace 0
    assert_success
    echo "$output" | jq -e '.deleted == 4 and .failed == 0 and ([.realms[].server_errors] | add) == 0'
    kc_stats | jq -e '.deletes_concurrent_max == 1 and .deletes_500 == 0'
    # three runs ending at once: the stand-in fails the overlapping deletes, each run's retries win
    for h in 000005 000006 000007; do seed "docs-$h"; done
    for h in 000005 000006 000007; do fast delete "docs-$h" >"$SCRATCH/$h" 2>/dev/null & done
    wait
    kc_stats | jq -e '.deletes_500 > 0'
    for h in 000005 000006 000007; do jq -e '.deleted == true' "$SCRATCH/$h"; done
    [ "$(realms)" = '["master"]' ]
}

@test "master and foreign realms are never touched, not even asked" {
    seed company -
    for name in master company Docs-abcdef docs_abcdef docs-abcdeg "docs-abcdef/../master" ""; do
        run --separate-stderr ccci-realm delete "$name"
        assert_json_error ccci-realm 64
    done
    run --separate-stderr ccci-realm create master
    assert_json_error ccci-realm 64
    [ "$(kc_stats | jq .deletes)" -eq 0 ]
    [ "$(realms)" = '["company","master"]' ]
    # why it matters: Keycloak 24.0.x deleted master when asked, and the server was gone
    start_standin "$KC_DIR/kc24" --server-version 24.0.5
    k24=http://127.0.0.1:$(cat "$KC_DIR/kc24/port")
    t=$(curl -sf -d grant_type=password -d client_id=admin-cli -d username=admin --data-urlencode "password@$KC_DIR/admin-password.raw" \
        "$k24/realms/master/protocol/openid-connect/token" | jq -r .access_token)
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $t" "$k24/admin/realms/master")" = 204 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$k24/realms/master")" = 500 ]
    # later versions refuse with 400
    [ "$(kc_admin DELETE /master | tail -n 1)" = 400 ]
}

@test "the admin token is reused across calls and refreshed before its lifetime runs out" {
    for h in 000001 000002 000003 000004 000005 000006; do seed "docs-$h"; done
    run --separate-stderr fast reap --live '' --grace 0
    assert_success
    kc_stats | jq -e '.admin_token_requests == 1 and .admin_calls > 12 and .unauthorized == 0'
    # 2-second tokens and slow answers: renewed by refresh ahead of expiry, never a 401
    curl -sf -X POST "$KC/_standin/reset"
    kc_config '{"token_lifetime": 2, "latency_ms": 150}'
    for h in 000001 000002 000003 000004 000005 000006 000007 000008; do seed "docs-$h"; done
    start=$(date +%s%N)
    run --separate-stderr fast reap --live '' --grace 0
    assert_success
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    kc_stats | jq -e --argjson e "$((elapsed / 1000)).$((elapsed % 1000 / 100))" '.unauthorized == 0 and .token_requests.refresh_token >= 1
        and .admin_token_requests >= 2 and .admin_token_requests <= ($e / 1.8 + 1.5) and .admin_calls > .admin_token_requests * 3'
}

@test "a token the server forgot: 401, renewed once (refresh refused, so a new login), the call retried" {
    kc_config '{"latency_ms": 200}'
    for h in 000001 000002 000003 000004 000005 000006; do seed "docs-$h"; done
    fast reap --live '' --grace 0 >"$SCRATCH/out" 2>"$SCRATCH/err" &
    pid=$!
    sleep 1.5
    curl -sf -X POST "$KC/_standin/revoke"
    wait "$pid"
    jq -e '.deleted == 6 and .failed == 0' "$SCRATCH/out"
    kc_stats | jq -e '.unauthorized == 1 and .token_requests.password == 2 and .token_requests.refresh_token == 1'
}

@test "secrets never appear in any process's argv (sampled from /proc/*/cmdline)" {
    printf 'client-secret-sesame\n' >"$SCRATCH/cs"
    printf 'user-password-sesame\n' >"$SCRATCH/up"
    kc_config '{"latency_ms": 100}'
    for h in 000001 000002 000003; do seed "docs-$h"; done
    touch "$SCRATCH/running"
    (
        while [ -e "$SCRATCH/running" ]; do
            cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' '
            echo
            sleep 0.02
        done | sort -u >"$SCRATCH/cmdlines"
    ) &
    sampler=$!
    ccci-realm create docs-aaa111 --client-secret-file "$SCRATCH/cs" --user-password-file "$SCRATCH/up" --out "$SCRATCH/a" >/dev/null
    ccci-realm check docs-aaa111 --credentials "$SCRATCH/a" >/dev/null
    ccci-realm create docs-bbb222 --out "$SCRATCH/b" >/dev/null
    ccci-realm check docs-bbb222 --credentials "$SCRATCH/b" >/dev/null
    env -u CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE ccci-realm reap --live '' --grace 0 \
        --admin-password-command "cat '$KC_DIR/admin-password'" >/dev/null
    rm "$SCRATCH/running"
    wait "$sampler"
    # the sampler saw the work being done (curl's constant argv) ...
    grep -q 'curl -q -K -' "$SCRATCH/cmdlines"
    # ... and no secret: the admin password, given or generated client secrets and user passwords
    run grep -c -e sesame -e "$(jq -r .client_secret "$SCRATCH/b")" -e "$(jq -r .password "$SCRATCH/b")" "$SCRATCH/cmdlines"
    [ "$output" = 0 ]
    [ "$(realms)" = '["master"]' ]
}

@test "credentials: a missing file is 66, a wrong password 77, a failing password command 69; nothing leaks" {
    run --separate-stderr ccci-realm list --admin-password-file "$SCRATCH/none"
    assert_json_error ccci-realm 66
    printf 'wrong-sesame\n' >"$SCRATCH/wrong"
    run --separate-stderr ccci-realm list --admin-password-file "$SCRATCH/wrong"
    assert_json_error ccci-realm 77
    error_line | jq -e '.error.code == "admin-login"'
    [[ "$stderr" != *sesame* ]]
    run --separate-stderr env -u CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE ccci-realm list --admin-password-command 'echo sesame-leak; exit 3'
    assert_json_error ccci-realm 69
    [[ "$stderr" != *sesame* ]]
    run --separate-stderr env -u CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE ccci-realm list
    assert_json_error ccci-realm 64
    run --separate-stderr ccci-realm list --admin-password-command 'cat x'
    assert_json_error ccci-realm 64   # both a file (from the environment) and a command
}

@test "list: every realm with its tags, or only ours" {
    seed docs-aaa111 aaa111 2026-01-01T00:00:00.000Z
    seed company -
    run --separate-stderr ccci-realm list
    assert_success
    [ "${#lines[@]}" -eq 3 ]
    echo "${lines[0]}" | jq -e '.realm == "company" and .ours == false and (has("run") | not)'
    echo "${lines[1]}" | jq -e '.realm == "docs-aaa111" and .ours == true and .parent == "docs" and .hex == "aaa111"
        and .run == "aaa111" and .created == "2026-01-01T00:00:00.000Z" and .age_minutes > 0 and .enabled == true'
    run --separate-stderr ccci-realm list --ours
    assert_success
    [ "${#lines[@]}" -eq 1 ]
}

@test "unreachable Keycloak is 69; a non-JWT token is 65; a mismatched issuer is a clean no" {
    run --separate-stderr ccci-realm list --url http://127.0.0.1:9
    assert_json_error ccci-realm 69
    run --separate-stderr ccci-realm create docs-aaa111 --out "$SCRATCH/creds"
    assert_success
    # the app reaches Keycloak by another name than the one that issued the token
    run --separate-stderr ccci-realm check docs-aaa111 --credentials "$SCRATCH/creds" --discovery-url "http://localhost:${KC##*:}"
    assert_failure 1
    echo "$output" | jq -e '.ok == false and .problems == ["iss"] and (.issuer | startswith("http://localhost:"))'
    kc_config '{"opaque_tokens": true}'
    run --separate-stderr ccci-realm check docs-aaa111 --credentials "$SCRATCH/creds"
    assert_json_error ccci-realm 65
    error_line | jq -e '.error.code == "not-jwt"'
    run --separate-stderr ccci-realm check docs-aaa111 --credentials /dev/null
    assert_json_error ccci-realm 65
}

@test "a base URL with a path, reached through host pinning" {
    start_standin "$KC_DIR/prefixed" --path-prefix /auth
    port=$(cat "$KC_DIR/prefixed/port")
    base=http://sso.test.local:$port/auth
    pin=(--resolve "sso.test.local:$port:127.0.0.1")
    run --separate-stderr ccci-realm create docs-aaa111 --url "$base" "${pin[@]}" --out "$SCRATCH/creds"
    assert_success
    echo "$output" | jq -e --arg b "$base" '.issuer == "\($b)/realms/docs-aaa111" and .token_endpoint == "\($b)/realms/docs-aaa111/protocol/openid-connect/token"'
    run --separate-stderr ccci-realm check docs-aaa111 --url "$base" "${pin[@]}" --credentials "$SCRATCH/creds"
    assert_success
    run --separate-stderr ccci-realm delete docs-aaa111 --url "$base" "${pin[@]}"
    assert_success
    # without the path, the token endpoint is not there: said plainly
    run --separate-stderr ccci-realm list --url "http://sso.test.local:$port" "${pin[@]}"
    assert_json_error ccci-realm 69
    error_line | jq -e '.error.code == "keycloak-not-found"'
}

@test "secrets with quotes, backslashes, form specials and UTF-8 survive curl's config and the form encoding" {
    printf 'p"w\\ &=+ é%%#\n' >"$SCRATCH/odd"
    printf 'c"s\\ &=+ é%%\n' >"$SCRATCH/odd-cs"
    mkdir -p "$KC_DIR/odd"
    "$STANDIN" --admin-password-file "$SCRATCH/odd" --port-file "$KC_DIR/odd/port" 3>&- &
    echo $! >"$KC_DIR/odd/pid"
    for _ in $(seq 100); do [ -f "$KC_DIR/odd/port" ] && break; sleep 0.05; done
    url=http://127.0.0.1:$(cat "$KC_DIR/odd/port")
    run --separate-stderr ccci-realm create docs-aaa111 --url "$url" --admin-password-file "$SCRATCH/odd" \
        --client-secret-file "$SCRATCH/odd-cs" --user-password-file "$SCRATCH/odd" --out "$SCRATCH/creds"
    assert_success
    jq -e '.client_secret == "c\"s\\ &=+ é%" and .password == "p\"w\\ &=+ é%#"' "$SCRATCH/creds"
    run --separate-stderr ccci-realm check docs-aaa111 --url "$url" --credentials "$SCRATCH/creds"
    assert_success
}
