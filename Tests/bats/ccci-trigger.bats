#!/usr/bin/env bats
# ccci-trigger: the strict comment grammar and webhook events.

load helpers

setup() { setup_scratch; }
teardown() { teardown_scratch; }

trigger_text() {
    printf '%s' "$1" >"$SCRATCH/comment"
    run --separate-stderr ccci-trigger <"$SCRATCH/comment"
}

@test "!testme is a cold trigger" {
    trigger_text '!testme'
    assert_success
    echo "$output" | jq -e '.trigger == true and .mode == "cold"'
}

@test "!testme --quick is a quick trigger, surrounding whitespace allowed" {
    trigger_text $'  \n!testme --quick\r\n'
    assert_success
    echo "$output" | jq -e '.trigger == true and .mode == "quick"'
}

@test "near misses are not triggers (exit 1, reason given)" {
    for c in '!testmexyz' '!testme foo' '!testme  --quick' 'please !testme' '!testme --quick extra' \
        '`!testme`' $'```\n!testme\n```' '> !testme' '!TESTME' '!testme --quickx' ''; do
        trigger_text "$c"
        [ "$status" -eq 1 ] || fail "'$c' exited $status"
        echo "$output" | jq -e '.trigger == false and .mode == null and .reason == "not-a-command"' >/dev/null || fail "'$c'"
    done
}

@test "a GitHub pull-request comment event triggers with id, PR and author" {
    run --separate-stderr ccci-trigger --event <"$FIXTURES/webhooks/github-created-pr.json"
    assert_success
    echo "$output" | jq -e '.mode == "quick" and .comment_id == 2503417765 and .pr == 42 and .author == "bob" and .forge == "github"'
}

@test "a Gitea/Forgejo pull-request comment event triggers" {
    run --separate-stderr ccci-trigger --event <"$FIXTURES/webhooks/gitea-created-pr.json"
    assert_success
    echo "$output" | jq -e '.mode == "cold" and .comment_id == 30412 and .pr == 17 and .forge == "gitea"'
}

@test "edits, bots, plain issues and quoted commands never trigger" {
    for f in github-edited:edited github-bot:bot-author github-issue-not-pr:not-a-pull-request \
        github-quoted:not-a-command gitea-issue-not-pr:not-a-pull-request; do
        run --separate-stderr ccci-trigger --event <"$FIXTURES/webhooks/${f%%:*}.json"
        [ "$status" -eq 1 ] || fail "${f%%:*} exited $status"
        echo "$output" | jq -e --arg r "${f##*:}" '.reason == $r' >/dev/null || fail "${f%%:*}: $output"
    done
}

@test "listed authors (the CI's own bot) are ignored, from the flag or the environment" {
    run --separate-stderr ccci-trigger --event --ignore-authors ccci-bot,other <"$FIXTURES/webhooks/gitea-ci-bot.json"
    assert_failure 1
    echo "$output" | jq -e '.reason == "ignored-author"'
    CCCI_TRIGGER_IGNORE_AUTHORS=ccci-bot run --separate-stderr ccci-trigger --event <"$FIXTURES/webhooks/gitea-ci-bot.json"
    assert_failure 1
}

@test "a redelivered webhook is a duplicate, not a second run" {
    run --separate-stderr ccci-trigger --event --record <"$FIXTURES/webhooks/github-created-pr.json"
    assert_success
    run --separate-stderr ccci-trigger --event --record <"$FIXTURES/webhooks/github-created-pr.json"
    assert_failure 1
    echo "$output" | jq -e '.reason == "duplicate"'
    [ -f "$CCCI_STATE/triggers/github-2503417765" ]
    [ "$(stat -c %a "$CCCI_STATE")" = 700 ]
}

@test "eight concurrent deliveries of one comment start exactly one run" {
    for i in 1 2 3 4 5 6 7 8; do
        (rc=0; ccci-trigger --event --record <"$FIXTURES/webhooks/gitea-created-pr.json" >/dev/null 2>&1 || rc=$?; echo "$rc" >"$SCRATCH/rc.$i") &
    done
    wait
    [ "$(cat "$SCRATCH"/rc.* | grep -c '^0$')" -eq 1 ]
    [ "$(cat "$SCRATCH"/rc.* | grep -c '^1$')" -eq 7 ]
}

@test "a non-comment event is a clean no" {
    echo '{"action":"opened","number":1,"pull_request":{"id":1}}' >"$SCRATCH/pr.json"
    run --separate-stderr ccci-trigger --event <"$SCRATCH/pr.json"
    assert_failure 1
    echo "$output" | jq -e '.reason == "not-a-comment-event"'
}

@test "bad input: invalid JSON is 65, a malformed comment event is 65" {
    echo '{"action":' >"$SCRATCH/bad.json"
    run --separate-stderr ccci-trigger --event <"$SCRATCH/bad.json"
    assert_json_error ccci-trigger 65
    echo '{"action":"created","issue":{"number":1},"comment":{"body":"!testme"}}' >"$SCRATCH/noid.json"
    run --separate-stderr ccci-trigger --event <"$SCRATCH/noid.json"
    assert_json_error ccci-trigger 65
}

@test "usage: --record without --event" {
    trigger_text '!testme'
    run --separate-stderr ccci-trigger --record <"$SCRATCH/comment"
    assert_json_error ccci-trigger 64
}

@test "an answer that cannot be written records nothing (74), so the redelivery triggers" {
    for sink in '>&-' '>/dev/full'; do
        rm -rf "$CCCI_STATE"
        run --separate-stderr sh -c "ccci-trigger --event --record <\"\$1\" $sink" sh "$FIXTURES/webhooks/github-created-pr.json"
        [ "$status" -eq 74 ] || fail "$sink: exit $status"
        error_line | jq -e '.error.exit == 74 and .error.code == "io"'
        [ ! -e "$CCCI_STATE/triggers/github-2503417765" ]
        run --separate-stderr ccci-trigger --event --record <"$FIXTURES/webhooks/github-created-pr.json"
        assert_success
        echo "$output" | jq -e '.trigger == true'
    done
}

@test "--ignore-authors ignores case and empty entries, as forges compare logins" {
    for list in CCCI-BOT ' Ccci-Bot ,' ',ccci-bot,,'; do
        run --separate-stderr ccci-trigger --event --ignore-authors "$list" <"$FIXTURES/webhooks/gitea-ci-bot.json"
        assert_failure 1
        echo "$output" | jq -e '.reason == "ignored-author"'
    done
    run --separate-stderr ccci-trigger --event --ignore-authors ',' <"$FIXTURES/webhooks/gitea-ci-bot.json"
    assert_success
}

@test "an empty or blank login is 65, as the page says" {
    for login in '""' '"  "' '"a\nb"'; do
        jq --argjson l "$login" '.comment.user.login = $l' "$FIXTURES/webhooks/github-created-pr.json" >"$SCRATCH/p.json"
        run --separate-stderr ccci-trigger --event <"$SCRATCH/p.json"
        assert_json_error ccci-trigger 65
    done
}

@test "a deleted comment, and any other action, give documented reasons" {
    for a in deleted:deleted edited:edited pinned:not-created 'x;rm -rf /:not-created'; do
        jq --arg a "${a%%:*}" '.action = $a' "$FIXTURES/webhooks/github-created-pr.json" >"$SCRATCH/p.json"
        run --separate-stderr ccci-trigger --event <"$SCRATCH/p.json"
        assert_failure 1
        echo "$output" | jq -e --arg r "${a##*:}" '.reason == $r'
    done
}

@test "a symlinked triggers/ is 73 (not 66), a device as the state directory too, nothing recorded" {
    mkdir -p "$CCCI_STATE" "$SCRATCH/elsewhere"
    ln -s "$SCRATCH/elsewhere" "$CCCI_STATE/triggers"
    run --separate-stderr ccci-trigger --event --record <"$FIXTURES/webhooks/github-created-pr.json"
    assert_json_error ccci-trigger 73
    [ -z "$(ls -A "$SCRATCH/elsewhere")" ]
    run --separate-stderr ccci-trigger --event --record --state /dev/full <"$FIXTURES/webhooks/github-created-pr.json"
    assert_json_error ccci-trigger 73
}

@test "with --record, a comment that is not a trigger writes nothing, not even the state directory" {
    for f in github-edited github-bot github-quoted github-issue-not-pr; do
        run --separate-stderr ccci-trigger --event --record <"$FIXTURES/webhooks/$f.json"
        assert_failure 1
    done
    [ ! -e "$CCCI_STATE" ]
}
