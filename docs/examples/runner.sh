#!/bin/sh
# runner.sh: a worked example of the CI runner's side of ci-warm, in POSIX sh, using only
# ci-warm's commands (and jq). It takes one pull-request comment webhook on stdin and, if it asks
# for a run, runs it and prints the result record for the bot. See docs/integration.md.
#
# On a real host the first half (trigger) lives in the webhook bridge and the second half (run)
# in the build step it starts; both halves are shown here in one file. The bridge resolves the
# PR's head commit from the forge's API (an issue_comment payload does not carry it) and passes
# it as REF.
#
#   REF=<PR head commit> COLD='<cold run>' QUICK='<quick tests>' [SSO_PARENT=<realm parent>] \
#   [BOT_LOGIN=<the CI's own account>] [RECIPE=<recipe>] runner.sh < webhook.json
#
# stdout: the trigger's answer when it is not a trigger, else the result record.
# Exit: 0 no run needed, or the run passed; 1 the run failed; ccci-run's and ccci-trigger's
# codes otherwise (75: no run slot in time, retry; 64+: a failure, see docs/exit-codes.md).
set -u

: "${REF:?the PR head commit}" "${COLD:?the cold run command}" "${QUICK:?the quick tests command}"

# 1. Webhook -> trigger (recorded: a redelivery of the same comment is a duplicate, not a run).
rc=0
if [ -n "${BOT_LOGIN:-}" ]; then
    answer=$(ccci-trigger --event --record --ignore-authors "$BOT_LOGIN") || rc=$?
else
    answer=$(ccci-trigger --event --record) || rc=$?
fi
case $rc in
0) ;;
1) printf '%s\n' "$answer"; exit 0 ;;     # not a trigger: edited, a bot, not a PR, duplicate, ...
*) exit "$rc" ;;                          # bad payload (65) or state not writable (73/74/77)
esac

# 2. Mode -> build parameters.
mode=$(printf '%s' "$answer" | jq -r .mode)                 # cold | quick
pr=$(printf '%s' "$answer" | jq -r .pr)
repository=$(printf '%s' "$answer" | jq -r .repository)
comment=$(printf '%s' "$answer" | jq -r .comment_id)
recipe=${RECIPE:-${repository#*/}}                           # coop-cloud/<recipe>

# 3. The run: slot, realm or co-deploy, quick or cold (with the fallback), record, realm
#    deleted, slot released. ccci-run prints the record; the bot reads it (or the file).
rc=0
record=$(ccci-run "$recipe" --mode "$mode" --ref "$REF" --run "pr$pr-c$comment" --pr "$pr" \
    --repository "$repository" ${SSO_PARENT:+--sso "$SSO_PARENT"} --cold "$COLD" --test "$QUICK") || rc=$?
case $rc in
0 | 1 | 3) printf '%s\n' "$record" ;;    # pass | fail | fail with the known-good in trouble (alerted)
75) echo "runner: no run slot free: retry the build later" >&2 ;;
*) echo "runner: the run failed to run (exit $rc): see the error line above" >&2 ;;
esac
exit "$rc"
