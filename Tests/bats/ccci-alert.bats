#!/usr/bin/env bats
# ccci-alert: de-duplicated alerts, relay, acknowledgement.

load helpers

setup() { setup_scratch; }
teardown() { teardown_scratch; }

@test "raise writes one file per open alert, 0600, named to sort by time" {
    echo '{"attempted":"10.7.10+26.6.2"}' >"$SCRATCH/d.json"
    run --separate-stderr ccci-alert raise --app keycloak --kind rollback --message "rolled back" <"$SCRATCH/d.json"
    assert_success
    echo "$output" | jq -e '.new == true and .count == 1 and .details.attempted == "10.7.10+26.6.2" and .state == "open"'
    id=$(echo "$output" | jq -r .id)
    [[ "$id" =~ ^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-keycloak-rollback$ ]]
    [ "$(stat -c %a "$CCCI_STATE/alerts/$id.json")" = 600 ]
}

@test "the same app and kind while open is updated, not duplicated" {
    ccci-alert raise --app keycloak --kind rollback </dev/null >/dev/null
    run --separate-stderr ccci-alert raise --app keycloak --kind rollback </dev/null
    echo "$output" | jq -e '.new == false and .count == 2'
    ccci-alert raise --app traefik --kind rollback </dev/null >/dev/null
    run ccci-alert list
    [ "${#lines[@]}" -eq 2 ]
}

@test "concurrent raisers of one alert leave one file with the full count" {
    for i in $(seq 8); do ccci-alert raise --app keycloak --kind held-major </dev/null >/dev/null & done
    wait
    run ccci-alert list
    [ "${#lines[@]}" -eq 1 ]
    echo "$output" | jq -e '.count == 8'
}

@test "relay archives what the command accepts and keeps what it refuses" {
    ccci-alert raise --app keycloak --kind rollback </dev/null >/dev/null
    ccci-alert raise --app traefik --kind held-major </dev/null >/dev/null
    run --separate-stderr ccci-alert relay --exec "jq -e '.app == \"keycloak\"' >/dev/null"
    assert_failure 1
    [ "${#lines[@]}" -eq 2 ]
    run ccci-alert list
    [ "${#lines[@]}" -eq 1 ]
    echo "$output" | jq -e '.app == "traefik" and .relay_attempts == 1'
    [ "$(ls "$CCCI_STATE/alerts/archive" | wc -l)" -eq 1 ]
    # the archive does not count as open alerts, and a later relay only sees what is still open
    run --separate-stderr ccci-alert relay --exec "cat >'$SCRATCH/got'"
    assert_success
    jq -e '.app == "traefik"' "$SCRATCH/got"
    run ccci-alert list
    assert_output ""
    run ccci-alert list --all
    [ "${#lines[@]}" -eq 2 ]
}

@test "relay gives the command the alert on stdin and in its environment" {
    ccci-alert raise --app keycloak --kind restore-failed </dev/null >/dev/null
    run ccci-alert relay --exec 'printf "%s %s " "$CCCI_ALERT_APP" "$CCCI_ALERT_KIND" >'"'$SCRATCH/env'"'; jq -r .kind >>'"'$SCRATCH/env'"
    assert_success
    [ "$(cat "$SCRATCH/env")" = "keycloak restore-failed restore-failed" ]
}

@test "a relay command that hangs is cut off by its timeout and the alert stays open" {
    ccci-alert raise --app keycloak --kind rollback </dev/null >/dev/null
    run --separate-stderr ccci-alert relay --exec 'sleep 30' --timeout 0.5
    assert_failure 1
    echo "$output" | jq -e '.relayed == false'
    run ccci-alert list
    [ "${#lines[@]}" -eq 1 ]
}

@test "ack moves an open alert to the archive; an unknown id is 66" {
    id=$(ccci-alert raise --app keycloak --kind rollback </dev/null | jq -r .id)
    run --separate-stderr ccci-alert ack "$id"
    assert_success
    echo "$output" | jq -e '.state == "acked"'
    [ -f "$CCCI_STATE/alerts/archive/$id.json" ]
    [ ! -f "$CCCI_STATE/alerts/$id.json" ]
    run --separate-stderr ccci-alert ack "$id"
    assert_json_error ccci-alert 66
}

@test "bad input: unknown kind, bad app, invalid details, non-object details, bad id" {
    run --separate-stderr ccci-alert raise --app keycloak --kind oops </dev/null
    assert_json_error ccci-alert 64
    run --separate-stderr ccci-alert raise --app ../x --kind rollback </dev/null
    assert_json_error ccci-alert 64
    echo '{"a":' >"$SCRATCH/bad"
    run --separate-stderr ccci-alert raise --app keycloak --kind rollback <"$SCRATCH/bad"
    assert_json_error ccci-alert 65
    echo '[1]' >"$SCRATCH/arr"
    run --separate-stderr ccci-alert raise --app keycloak --kind rollback <"$SCRATCH/arr"
    assert_json_error ccci-alert 65
    run --separate-stderr ccci-alert ack ../../etc/passwd
    assert_json_error ccci-alert 64
    [ ! -d "$CCCI_STATE/alerts" ] || [ -z "$(ls "$CCCI_STATE/alerts")" ]
}

@test "usage: a subcommand is required" {
    run --separate-stderr ccci-alert nope
    assert_json_error ccci-alert 64
}

@test "raise with an answer that cannot be written leaves nothing raised (74), so a retry is new" {
    for sink in '>&-' '>/dev/full'; do
        rm -rf "$CCCI_STATE"
        run --separate-stderr sh -c "ccci-alert raise --app keycloak --kind rollback </dev/null $sink"
        [ "$status" -eq 74 ] || fail "$sink: exit $status"
        error_line | jq -e '.error.exit == 74'
        [ -z "$(ls -A "$CCCI_STATE/alerts" | grep -v '^archive$')" ]
        run --separate-stderr ccci-alert raise --app keycloak --kind rollback </dev/null
        echo "$output" | jq -e '.new == true and .count == 1'
        # an update that cannot be answered is undone too
        run --separate-stderr sh -c "ccci-alert raise --app keycloak --kind rollback --message changed </dev/null $sink"
        [ "$status" -eq 74 ]
        run ccci-alert list
        echo "$output" | jq -e '.count == 1 and .message == null'
    done
}

@test "a --message with line breaks is stored as one line" {
    run --separate-stderr ccci-alert raise --app keycloak --kind rollback --message $'first\nsecond\r\n\tthird\u2028fourth' </dev/null
    assert_success
    echo "$output" | jq -e '.message == "first second third fourth"'
    [ "$(wc -l <"$CCCI_STATE"/alerts/*.json)" -eq 1 ]
}

@test "a symlinked alerts/ is 73, not 66 missing; a device as the state directory too" {
    mkdir -p "$CCCI_STATE" "$SCRATCH/elsewhere"
    ln -s "$SCRATCH/elsewhere" "$CCCI_STATE/alerts"
    for sub in list 'raise --app a --kind rollback'; do
        run --separate-stderr ccci-alert $sub </dev/null
        assert_json_error ccci-alert 73
    done
    [ -z "$(ls -A "$SCRATCH/elsewhere")" ]
    run --separate-stderr ccci-alert list --state /dev/full
    assert_json_error ccci-alert 73
}

@test "an id inside an alert file never builds a path: the file name is the id" {
    mkdir -p "$CCCI_STATE/alerts"
    id=20261201T000000.000Z-keycloak-rollback
    echo '{"id":"../../outside","app":"keycloak","kind":"rollback","state":"open","count":1}' >"$CCCI_STATE/alerts/$id.json"
    echo '{"id":"x","app":"a","kind":"rollback"}' >"$CCCI_STATE/alerts/Not-Ours.json"
    run --separate-stderr ccci-alert relay --exec true
    assert_success
    [ ! -e "$SCRATCH/outside.json" ]
    [ -f "$CCCI_STATE/alerts/archive/$id.json" ]
    jq -e --arg id "$id" '.id == $id' "$CCCI_STATE/alerts/archive/$id.json"
    [ -f "$CCCI_STATE/alerts/Not-Ours.json" ]
}

@test "ack with an answer that cannot be written leaves the alert open (74)" {
    id=$(ccci-alert raise --app keycloak --kind rollback </dev/null | jq -r .id)
    for sink in '>&-' '>/dev/full'; do
        run --separate-stderr sh -c "ccci-alert ack '$id' $sink"
        [ "$status" -eq 74 ] || fail "$sink: exit $status"
        [ -f "$CCCI_STATE/alerts/$id.json" ]
        [ ! -e "$CCCI_STATE/alerts/archive/$id.json" ]
    done
    run --separate-stderr ccci-alert ack "$id"
    assert_success
    echo "$output" | jq -e '.state == "acked"'
}
