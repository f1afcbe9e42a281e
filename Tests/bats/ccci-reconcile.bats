#!/usr/bin/env bats
# ccci-reconcile end to end on the test host: every outcome, the data-preserving rollback,
# a failed rollback that the next run finishes, and kill -9 mid-upgrade.

load ../testhost/lib/testhost
load helpers
load porcelain

setup_file() { testhost_setup_file --private custom-html migrating traefik; }
setup() { porcelain_setup; }
teardown() { porcelain_teardown; }

@test "noop-healthy: on the latest version and healthy; last_good recorded" {
    new_app custom-html 1.1.0+1.28.0
    run --separate-stderr ccci-reconcile custom-html "${A[@]}"
    assert_success
    assert_line --index 0 "noop-healthy:1.1.0+1.28.0"
    [ "$(cat "$CCCI_STATE/custom-html/last_good")" = 1.1.0+1.28.0 ]
}

@test "upgraded (stateful): snapshot first, data kept, last_good committed" {
    new_app custom-html 1.0.0+1.27.0
    before=$(content "$D")
    run --separate-stderr ccci-reconcile custom-html "${A[@]}"
    assert_success
    assert_line --index 0 "upgraded:1.0.0+1.27.0->1.1.0+1.28.0"
    echo "${lines[1]}" | jq -e '.result == "upgraded:1.0.0+1.27.0->1.1.0+1.28.0"'
    [ "$(th_http "$D" /version)" = 1.1.0+1.28.0 ]
    [ "$(content "$D")" = "$before" ]
    [ "$(cat "$CCCI_STATE/custom-html/last_good")" = 1.1.0+1.28.0 ]
    ccci-restore custom-html --verify | jq -e '.version == "1.0.0+1.27.0"'
    ccci-canon history custom-html | jq -e 'select(.event == "upgraded") | .to == "1.1.0+1.28.0"'
    [ ! -e "$CCCI_STATE/custom-html/reconcile.json" ]
}

@test "upgraded (stateless): no snapshot, version only" {
    new_app traefik 5.1.1+v3.6.15
    run --separate-stderr ccci-reconcile traefik "${A[@]}" --stateless
    assert_success
    assert_line --index 0 "upgraded:5.1.1+v3.6.15->5.1.2+v3.6.16"
    [ ! -e "$CCCI_STATE/traefik/snapshot" ]
}

@test "rolled-back: a broken upgrade that migrated the data is undone, data proven intact" {
    new_app migrating 1.0.0+1.0
    before=$(content "$D")
    [ "$(th_http "$D" /migrating/schema 2>/dev/null || echo 1)" != 3 ]
    run --separate-stderr ccci-reconcile migrating "${A[@]}" --health-timeout 15 --deploy-timeout 40
    assert_failure 1
    assert_line --index 0 "rolled-back:1.2.0+1.2->1.0.0+1.0"
    echo "${lines[1]}" | jq -e '.receipt.ok == true and (.receipt.volumes | all(.equal))'
    [ "$(th_http "$D" /version)" = 1.0.0+1.0 ]
    [ "$(content "$D")" = "$before" ]
    [ "$(cat "$CCCI_STATE/migrating/last_good")" = 1.0.0+1.0 ]
    ccci-alert list | jq -e 'select(.kind == "rollback") | .details.attempted == "1.2.0+1.2" and .details.last_good == "1.0.0+1.0" and .details.recovered == true'
    [ ! -e "$CCCI_STATE/migrating/reconcile.json" ]
}

@test "real swarm, fault: a snapshot that fails after the undeploy brings the old version straight back, data intact" {
    new_app custom-html 1.0.0+1.27.0
    before=$(content "$D")
    fault_shims ccci-snap
    FAULT_SPEC='ccci-snap#1:exit=74' run --separate-stderr ccci-reconcile custom-html "${A[@]}"
    assert_failure 1
    assert_line --index 0 "upgrade-aborted:1.0.0+1.27.0->1.1.0+1.28.0"
    [ "$(th_http "$D" /version)" = 1.0.0+1.27.0 ]
    [ "$(content "$D")" = "$before" ]
    ccci-alert list | jq -e 'select(.kind == "snapshot-failed") | .details.step == "snapshot"'
    [ ! -e "$CCCI_STATE/custom-html/reconcile.json" ]
}

@test "real swarm: a stateless upgrade that never converges is rolled back in place, never undeployed" {
    touch "$SCRATCH/remake"
    new_app traefik 5.1.2+v3.6.16
    th_release traefik 5.1.3+v3.6.17 --broken >/dev/null
    run --separate-stderr ccci-reconcile traefik "${A[@]}" --stateless --deploy-timeout 20 --health-timeout 10
    th_recipe traefik
    assert_failure 1
    assert_line --index 0 "rolled-back:5.1.3+v3.6.17->5.1.2+v3.6.16"
    [ "$(th_http "$D" /version)" = 5.1.2+v3.6.16 ]
    ! jq -e --arg d "$D" 'select((.argv // .args // []) | tostring | (contains("undeploy") and contains($d)))' "$ABRA_DIR/.ccci-calls.jsonl" >/dev/null
}

@test "bootstrap: an app never deployed here is created (secrets, settings) and brought up at the newest release" {
    D=$(th_domain boot)
    th_track "$D"
    A=(--domain "$D" --recipe custom-html)
    run --separate-stderr ccci-reconcile custom-html "${A[@]}" --set TIMEOUT=60 --set LETS_ENCRYPT_ENV=
    assert_success
    assert_line --index 0 "bootstrapped:1.1.0+1.28.0"
    [ "$(th_http "$D" /version)" = 1.1.0+1.28.0 ]
    grep -qx 'TIMEOUT=60' "$(th_env_file "$D")"
    grep -qx 'LETS_ENCRYPT_ENV=' "$(th_env_file "$D")"
    [ "$(cat "$CCCI_STATE/custom-html/last_good")" = 1.1.0+1.28.0 ]
}

@test "held-major: an alert, and no undeploy, no snapshot, no churn" {
    touch "$SCRATCH/remake"
    th_release custom-html 2.0.0+2.0.0 --notes "Invasive." >/dev/null
    new_app custom-html 1.1.0+1.28.0
    updated=$(docker service inspect -f '{{.UpdatedAt}}' "$(th_stack "$D")_app")
    run --separate-stderr ccci-reconcile custom-html "${A[@]}"
    assert_success
    assert_line --index 0 "held-major:1.1.0+1.28.0->2.0.0+2.0.0"
    [ ! -e "$CCCI_STATE/custom-html/snapshot" ]
    [ "$(docker service inspect -f '{{.UpdatedAt}}' "$(th_stack "$D")_app")" = "$updated" ]
    ccci-alert list | jq -e 'select(.kind == "held-major") | .details.latest == "2.0.0+2.0.0"'
    th_recipe custom-html
}

@test "held-manual-migration: the notes stop the upgrade, with the matched phrase in the alert" {
    th_release custom-html 1.2.0+1.29.0 --notes "Manual migration required: move the files." >/dev/null
    new_app custom-html 1.1.0+1.28.0
    run --separate-stderr ccci-reconcile custom-html "${A[@]}"
    th_recipe custom-html
    assert_success
    assert_line --index 0 "held-manual-migration:1.1.0+1.28.0->1.2.0+1.29.0"
    ccci-alert list | jq -e 'select(.kind == "held-manual-migration") | .details.held[] | select(.version == "1.2.0+1.29.0") | .reasons[0].phrase == "manual migration"'
    [ "$(th_http "$D" /version)" = 1.1.0+1.28.0 ]
}

@test "a rollback that fails too: restore-failed, exit 3, journal kept; the next run finishes it" {
    new_app migrating 1.0.0+1.0
    before=$(content "$D")
    run --separate-stderr ccci-reconcile migrating "${A[@]}" --health-url "http://$D/never-healthy" --health-timeout 4 --deploy-timeout 40
    assert_failure 3
    assert_line --index 0 "restore-failed:1.2.0+1.2->1.0.0+1.0"
    [ -f "$CCCI_STATE/migrating/reconcile.json" ]
    ccci-alert list | jq -e 'select(.kind == "restore-failed") | .details.recovered == false'
    run --separate-stderr ccci-reconcile migrating "${A[@]}" --health-timeout 30 --deploy-timeout 40
    assert_failure 1
    assert_line --index 0 "rolled-back:1.2.0+1.2->1.0.0+1.0"
    [ ! -e "$CCCI_STATE/migrating/reconcile.json" ]
    [ "$(content "$D")" = "$before" ]
    [ "$(th_http "$D" /version)" = 1.0.0+1.0 ]
}

@test "kill -9 mid-upgrade, then a rerun converges to a healthy, consistent state" {
    new_app migrating 1.0.0+1.0
    before=$(content "$D")
    setsid ccci-reconcile migrating "${A[@]}" --health-timeout 15 --deploy-timeout 40 >/dev/null 2>&1 &
    pid=$!
    sleep 6
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    rc=0
    ccci-reconcile migrating "${A[@]}" --health-timeout 30 --deploy-timeout 40 >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
    [ "$rc" -le 1 ] || { cat "$SCRATCH/out" "$SCRATCH/err"; fail "rerun exited $rc"; }
    [ ! -e "$CCCI_STATE/migrating/reconcile.json" ]
    [ ! -e "$CCCI_STATE/migrating/journal.json" ]
    [ "$(th_http "$D" /version)" = 1.0.0+1.0 ]
    [ "$(content "$D")" = "$before" ]
    ccci-health --timeout 20 $CCCI_HEALTH_ARGS "http://$D/health" >/dev/null
}

@test "usage: a missing app, an unknown option" {
    run --separate-stderr ccci-reconcile
    assert_json_error ccci-reconcile 64
    run --separate-stderr ccci-reconcile custom-html --frobnicate
    assert_json_error ccci-reconcile 64
    run --separate-stderr ccci-reconcile ../etc
    assert_json_error ccci-reconcile 64
}
