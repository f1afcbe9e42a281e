#!/usr/bin/env bats
# ccci-sso, the one place that decides "a realm on the warm Keycloak, or co-deploy": against
# the Keycloak stand-in, with no docker needed (--no-reap) except where reaping is the point.

load helpers
load keycloak

setup_file() { keycloak_start; }
teardown_file() { keycloak_stop; }

setup() {
    setup_scratch
    keycloak_env
}
teardown() { teardown_scratch; }

realms() { curl -sf "$KC/_standin/stats" | jq -c .realms; }

@test "decide: a healthy warm Keycloak is 'realm' (0); none configured, or down, is 'co-deploy' (1)" {
    run --separate-stderr ccci-sso decide
    assert_success
    echo "$output" | jq -e --arg u "$KC" '.sso == "realm" and .reason == null and .keycloak_url == $u'
    CCCI_KEYCLOAK_URL='' run --separate-stderr ccci-sso decide
    assert_failure 1
    echo "$output" | jq -e '.sso == "co-deploy" and .reason == "not-configured"'
    CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE='' run --separate-stderr ccci-sso decide
    assert_failure 1
    echo "$output" | jq -e '.reason == "no-admin-credentials"'
    run --separate-stderr ccci-sso decide --url http://127.0.0.1:9 --health-timeout 1
    assert_failure 1
    echo "$output" | jq -e '.sso == "co-deploy" and .reason == "keycloak-unhealthy"'
}

@test "start: the run's realm <parent>-<hex>, tagged with the run, proven, credentials 0600; end deletes it" {
    run --separate-stderr ccci-sso start lasuite-docs --hex 4c0858 --run pr7-c1 --out "$SCRATCH/sso.json" --no-reap
    assert_success
    echo "$output" | jq -e --arg f "$SCRATCH/sso.json" '.sso == "realm" and .realm == "lasuite-docs-4c0858" and .run == "pr7-c1"
        and .credentials_file == $f and .client_id == "lasuite-docs" and (has("client_secret") | not) and (has("password") | not)'
    [ "$(stat -c %a "$SCRATCH/sso.json")" = 600 ]
    ccci-realm check lasuite-docs-4c0858 --credentials "$SCRATCH/sso.json" | jq -e '.ok'
    [ "$(realms)" = '["lasuite-docs-4c0858","master"]' ] || [ "$(realms)" = '["master","lasuite-docs-4c0858"]' ]
    run --separate-stderr ccci-sso end lasuite-docs-4c0858
    assert_success
    echo "$output" | jq -e '.deleted == true and .existed == true'
    [ "$(realms)" = '["master"]' ]
    run --separate-stderr ccci-sso end lasuite-docs-4c0858
    assert_success
    echo "$output" | jq -e '.existed == false'
}

@test "start reaps orphan realms first, keeping live and young ones" {
    # the reaper asks docker which runs are live: here, none (a docker that lists no stacks)
    printf '#!/bin/sh\nexit 0\n' >"$SCRATCH/docker"
    chmod +x "$SCRATCH/docker"
    export CCCI_DOCKER=$SCRATCH/docker
    now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
    for r in "docs-bbb222 2026-01-01T00:00:00.000Z" "docs-ccc333 $now"; do
        set -- $r
        jq -nc --arg n "$1" --arg c "$2" '{realm: $n, enabled: true, attributes: {"ccci.run": "old", "ccci.created": $c}}' |
            curl -sf -X POST --data-binary @- "$KC/_standin/realms"
    done
    run --separate-stderr ccci-sso start docs --hex aaa111 --out "$SCRATCH/sso.json"
    assert_success
    echo "$output" | jq -e '.reaped == {"deleted": 1, "kept": 1, "failed": 0} and .realm == "docs-aaa111"'
    realms | jq -e 'index("docs-bbb222") == null and index("docs-ccc333") != null and index("docs-aaa111") != null'
}

@test "start with a wrong admin password: co-deploy (1), no realm, no credentials file" {
    printf 'wrong\n' >"$SCRATCH/pw"
    CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE=$SCRATCH/pw run --separate-stderr ccci-sso start docs --hex abc123 --out "$SCRATCH/sso.json" --no-reap
    assert_failure 1
    echo "$output" | jq -e '.sso == "co-deploy" and .reason == "realm-failed" and .realm_exit == 77'
    [ ! -e "$SCRATCH/sso.json" ]
    [ "$(realms)" = '["master"]' ]
}

@test "start with the warm Keycloak down: co-deploy (1) without trying to create anything" {
    run --separate-stderr ccci-sso start docs --hex abc123 --out "$SCRATCH/sso.json" --url http://127.0.0.1:9 --health-timeout 1
    assert_failure 1
    echo "$output" | jq -e '.sso == "co-deploy" and .reason == "keycloak-unhealthy" and .realm == "docs-abc123"'
    [ ! -e "$SCRATCH/sso.json" ]
}

@test "usage: subcommand, hex, parent and out are checked (64)" {
    run --separate-stderr ccci-sso
    assert_json_error ccci-sso 64
    run --separate-stderr ccci-sso frobnicate
    assert_json_error ccci-sso 64
    run --separate-stderr ccci-sso start docs --hex ABC123 --out "$SCRATCH/x"
    assert_json_error ccci-sso 64
    run --separate-stderr ccci-sso start Docs_1 --hex abc123 --out "$SCRATCH/x"
    assert_json_error ccci-sso 64
    run --separate-stderr ccci-sso start docs --hex abc123
    assert_json_error ccci-sso 64
    run --separate-stderr ccci-sso end
    assert_json_error ccci-sso 64
}
