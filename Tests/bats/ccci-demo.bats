#!/usr/bin/env bats
# The README's main job runs end to end on its own test host and tells the whole story.

load helpers

@test "the demo tells every part of the story and tears its host down" {
    export CCCI_DEMO_ROOT=/tmp/ccci-demo-bats CCCI_BIN=$BIN
    run --separate-stderr "$REPO/bin/ccci-demo"
    [ "$status" -eq 0 ] || { printf '%s\n' "$output" "$stderr" | tail -40; fail "demo exited $status"; }
    assert_output --partial '"promoted":true'
    assert_output --partial 'result: upgraded:10.7.1+26.6.2->10.7.9+26.6.2'
    assert_output --partial 'result: rolled-back:1.2.0+1.2->1.0.0+1.0'
    assert_output --partial 'the data came back intact'
    assert_output --partial '"held":[{"version":"11.0.0+27.0.0"'
    assert_output --partial 'result: upgraded:10.7.9+26.6.2->10.8.0+26.7.0'
    assert_output --partial 'byte-identical'
    assert_output --regexp 'result: fail:custom-html@[0-9a-f]+  \(exit 1\)'
    assert_output --partial '(unchanged); never promoted: false'
    assert_output --partial '"reason":"duplicate"'
    assert_output --partial 'has: {"has":false,"reason":"legacy-state"}'
    assert_output --partial '"action":"migrated"'
    assert_output --partial 'has: {"has":true,"version":"1.11.0+1.29.0"}'
    [ ! -e /tmp/ccci-demo-bats/dockerd.pid ]
    ! pgrep -f "data-root /tmp/ccci-demo-bats" >/dev/null
}
