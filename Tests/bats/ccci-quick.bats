#!/usr/bin/env bats
# ccci-quick end to end on the test host: no canonical, pass (known-good byte-identical),
# fail (known-good restored and proven), a PR head that does not even come up.

load ../testhost/lib/testhost
load helpers
load porcelain

setup_file() { testhost_setup_file --private custom-html; }
setup() {
    porcelain_setup
    export CCCI_ENROLLED=$SCRATCH/enrolled
    echo custom-html >"$CCCI_ENROLLED"
}
teardown() {
    [ -e "$SCRATCH/remake" ] && th_recipe custom-html
    porcelain_teardown
}

# seed: a canonical of custom-html at 1.1.0 on a fresh domain, undeployed with its known-good
seed() {
    new_app custom-html 1.1.0+1.28.0
    ccci-app undeploy custom-html "${A[@]}" >/dev/null
    jq -n '{app:"custom-html",mode:"cold",ref:null,status:"pass",version:"1.1.0+1.28.0",run:"seed"}' |
        ccci-promote --domain "$D" >/dev/null
    known=$(th_http_volume)
}

# the canonical's volume content, read straight from docker's volume
th_http_volume() { cat "$(th_volume_path "$(th_stack "$D")_content")/index.html"; }

# the known-good: the record (but its status, which says whether the canonical is in use) and
# the snapshot, byte for byte
fingerprint() {
    (cd "$CCCI_STATE/custom-html" && jq -S 'del(.status, .updated_at)' canonical.json &&
        sha256sum snapshot/manifest.json snapshot/volumes/*.tar)
}
# where the shared recipe clone stands (branch and commit)
clone_head() { git -C "$ABRA_DIR/recipes/custom-html" rev-parse --abbrev-ref HEAD HEAD; }

@test "no canonical: says why, exits 2 (run cold instead), changes nothing" {
    run --separate-stderr ccci-quick custom-html --ref main --test true
    [ "$status" -eq 2 ]
    assert_line --index 0 "cold:custom-html (no-record)"
    echo "${lines[1]}" | jq -e '.promoted == false and .reason == "no-record"'
    [ -z "$(ls -A "$CCCI_STATE" 2>/dev/null | grep -v '^custom-html$' || true)" ]
    [ ! -e "$CCCI_STATE/custom-html/canonical.json" ]
}

@test "pass: tests run against the PR head; the record and snapshot stay byte-identical" {
    seed
    before=$(fingerprint)
    touch "$SCRATCH/remake"
    head=$(th_release custom-html --untagged --env APP_MODE=healthy)
    clone=$(clone_head)
    run --separate-stderr ccci-quick custom-html --ref "$head" --test 'test "$(curl -s --connect-to ::127.0.0.1:'"$router_port"' "$CCCI_APP_URL"version)" = 1.1.0+1.28.0'
    assert_success
    assert_line --index 0 "pass:custom-html@$head"
    echo "${lines[1]}" | jq -e '.mode == "quick" and .gates_merge == false and .status == "pass" and .exit == 0 and .known_good.action == "untouched"'
    [ "$(fingerprint)" = "$before" ]
    [ "$(ccci-canon show custom-html | jq -r .status)" = idle ]
    [ "$(clone_head)" = "$clone" ]
    [ "$(ccci-app status custom-html --domain "$D" | jq -r .deployed)" = false ]
}

@test "fail: the known-good data is restored and proven, the record and snapshot unchanged" {
    seed
    before=$(fingerprint)
    touch "$SCRATCH/remake"
    # the PR head migrates the volume's data at start-up (schema 2), then the tests fail
    head=$(th_release custom-html --untagged --schema 2)
    run --separate-stderr ccci-quick custom-html --ref "$head" --test 'exit 1'
    assert_failure 1
    assert_line --index 0 "fail:custom-html@$head"
    echo "${lines[1]}" | jq -e '.receipt.ok == true and .promoted == false'
    [ "$(th_http_volume)" = "$known" ]
    [ "$(cat "$(th_volume_path "$(th_stack "$D")_content")/schema")" = 1 ]
    [ "$(fingerprint)" = "$before" ]
    [ "$(ccci-canon show custom-html | jq -r .version)" = 1.1.0+1.28.0 ]
}

@test "a PR head that never comes up is a failure, restored" {
    seed
    touch "$SCRATCH/remake"
    head=$(th_release custom-html --untagged --broken)
    run --separate-stderr ccci-quick custom-html --ref "$head" --test true --deploy-timeout 15 --health-timeout 5
    assert_failure 1
    echo "${lines[1]}" | jq -e '.receipt.ok == true'
    [ "$(th_http_volume)" = "$known" ]
}

@test "usage: missing --ref or --test" {
    run --separate-stderr ccci-quick custom-html --test true
    assert_json_error ccci-quick 64
    run --separate-stderr ccci-quick custom-html --ref main
    assert_json_error ccci-quick 64
}
