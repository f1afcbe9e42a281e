#!/usr/bin/env bats
# ccci-sweep end to end on the test host: skip when a run is in flight; infra first; one green
# and one red recipe; the green one promoted; de-enrolled warm data pruned; one JSON summary.

load ../testhost/lib/testhost
load helpers
load porcelain

setup_file() { testhost_setup_file --private custom-html twovol traefik; }
setup() {
    porcelain_setup
    # a base domain of this test alone, so the warm domains are ours
    export CCCI_BASE_DOMAIN
    CCCI_BASE_DOMAIN=$(th_domain sw)
    export CCCI_ENROLLED=$SCRATCH/enrolled
    printf 'custom-html\ntwovol\n' >"$CCCI_ENROLLED"
    th_track "warm-custom-html.$CCCI_BASE_DOMAIN"
    th_track "warm-twovol.$CCCI_BASE_DOMAIN"
}
teardown() { porcelain_teardown; }

@test "skips cleanly (exit 0) while a run is in flight" {
    ccci-lock twovol -- sleep 30 &
    holder=$!
    sleep 0.3
    run --separate-stderr ccci-sweep --test true
    kill -9 "$holder"
    assert_success
    echo "$output" | jq -e '.result == "skipped" and (.busy | test("twovol"))'
    [ ! -e "$CCCI_STATE/custom-html" ]
}

@test "infra first, then one green and one red recipe: green promoted, red reported, exit 1" {
    new_app traefik 5.1.1+v3.6.15
    echo "traefik --domain $D --stateless" >"$SCRATCH/infra"
    run --separate-stderr ccci-sweep --infra-file "$SCRATCH/infra" --test 'test "$CCCI_RECIPE" != twovol' --health-timeout 30
    assert_failure 1
    echo "$output" | jq -e '.infra[0].app == "traefik" and .infra[0].result == "upgraded:5.1.1+v3.6.15->5.1.2+v3.6.16"'
    echo "$output" | jq -e '.recipes[] | select(.recipe == "custom-html") | .status == "pass" and .promoted == true and .version == "1.1.0+1.28.0"'
    echo "$output" | jq -e '.recipes[] | select(.recipe == "twovol") | .status == "fail" and .promoted == false and .note == "cold run exit 1"'
    echo "$output" | jq -e '.failed == 1 and .result == "failed" and (.disk.state_kib >= 0)'
    ccci-canon has custom-html | jq -e '.has == true'
    [ ! -e "$CCCI_STATE/twovol/canonical.json" ]
    ccci-alert list | jq -e 'select(.kind == "sweep-failed") | .app == "sweep" and .details.failed == 1
        and (.details.recipes | map(.recipe)) == ["twovol"]'
    # the canonical is left data-warm: undeployed, volumes kept
    [ "$(ccci-app status custom-html | jq -r .deployed)" = false ]
    [ -n "$(docker volume ls -q --filter "label=com.docker.stack.namespace=$(th_stack "warm-custom-html.$CCCI_BASE_DOMAIN")")" ]
}

@test "a de-enrolled recipe's warm data is pruned (volumes by name, never a volume prune)" {
    run --separate-stderr ccci-sweep --test true --health-timeout 30
    assert_success
    ccci-canon has twovol | jq -e '.has == true'
    stack=$(th_stack "warm-twovol.$CCCI_BASE_DOMAIN")
    [ -n "$(docker volume ls -q --filter "label=com.docker.stack.namespace=$stack")" ]
    # an unrelated volume that a prune would take
    docker volume create "ccci-bystander-$$" >/dev/null
    echo custom-html >"$CCCI_ENROLLED"
    run --separate-stderr ccci-sweep --test true --health-timeout 30
    assert_success
    echo "$output" | jq -e '.pruned == ["twovol"]'
    [ ! -e "$CCCI_STATE/twovol" ]
    [ -z "$(docker volume ls -q --filter "label=com.docker.stack.namespace=$stack")" ]
    docker volume inspect "ccci-bystander-$$" >/dev/null
    docker volume rm "ccci-bystander-$$" >/dev/null
}

@test "usage: --test is required" {
    run --separate-stderr ccci-sweep
    assert_json_error ccci-sweep 64
}
