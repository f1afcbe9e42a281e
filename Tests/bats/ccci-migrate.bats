#!/usr/bin/env bats
# ccci-migrate, and every command's answer on the previous system's state: a legacy state
# directory is built at test time the way the old system built it (GNU tar or Python tarfile over
# a sample tree, meta.json, the old canonical.json), then detected, migrated, refused or resumed.

load helpers

setup() { setup_scratch; }
teardown() { teardown_scratch; }

TOOLS=$REPO/Tests/archive/lib

# legacy_app APP [gnu|python] [record|no-record]: the old state of APP (Tests/testhost/legacy-state).
# Two volumes, made from trees under $SCRATCH/src/APP/<volume>: a sample tree with every node
# type GNU tar keeps, and a small one. Volumes are named as docker names them for
# warm-APP.ci.example.
legacy_app() {
    local app=$1 tool=${2:-gnu} record=${3:-record}
    local src=$SCRATCH/src/$app content=warm-${app}_ci_example_content db=warm-${app}_ci_example_db
    mkdir -p "$src/$db/sub"
    python3 "$TOOLS/make-sample-tree" "$src/$content" gnu
    printf 'row 1\nrow 2\n' >"$src/$db/rows"
    ln -s ../rows "$src/$db/sub/link"
    whole_seconds "$src/$db"
    LEGACY_RECORD=$([ "$record" = record ] && echo 1 || echo 0) \
        "$REPO/Tests/testhost/legacy-state" "$CCCI_STATE" "$app" "warm-$app.ci.example" "$tool" "$content=$src/$content" "$db=$src/$db"
}

# whole_seconds DIR: whole-second mtimes below DIR, which is all the old system's tars kept.
whole_seconds() {
    find "$1" -depth -exec touch -h -d @1780000000 {} +
}

# Every file below DIR with its SHA-256, and every directory: what "nothing changed" compares.
# The app's lock file is left out (taking the lock may create it).
state_listing() {
    (cd "$1" && find . -name lock -prune -o -printf '%p %y %m\n' | sort && find . -type f ! -name lock -exec sha256sum {} + | sort)
}

# The restored trees of APP (ccci-restore --into) equal the trees the old tars were made from.
assert_restores_original() {
    local app=$1 out=$SCRATCH/restored-$1
    run --separate-stderr ccci-restore "$app" --into "$out"
    assert_success
    echo "$output" | jq -e '.ok == true and (.volumes | length) == 2 and ([.volumes[].equal] | all)'
    for v in "$SCRATCH/src/$app"/*; do
        diff <("$TOOLS/tree-listing" "$v") <("$TOOLS/tree-listing" "$out/$(basename "$v")") || fail "restored $(basename "$v") differs"
    done
}

@test "on a legacy app has says a clean no (legacy-state); show, restore and snap refuse with legacy-state" {
    legacy_app custom-html
    before=$(state_listing "$CCCI_STATE")
    run --separate-stderr ccci-canon has custom-html --offline
    [ "$status" -eq 1 ]
    echo "$output" | jq -e '.has == false and .reason == "legacy-state"'
    # without --offline too: it answers before asking docker anything
    run --separate-stderr ccci-canon has custom-html
    [ "$status" -eq 1 ]
    for cmd in "ccci-canon show custom-html" "ccci-restore custom-html --verify" "ccci-restore custom-html --into $SCRATCH/drill" \
        "ccci-canon set-status custom-html quick"; do
        run --separate-stderr $cmd
        assert_json_error "${cmd%% *}" 65
        error_line | jq -e '.error.code == "legacy-state" and (.error.details.markers | index("canonical.json"))' >/dev/null || fail "$cmd: $(error_line)"
    done
    run --separate-stderr ccci-canon list
    assert_success
    echo "$output" | jq -e '.app == "custom-html" and .legacy == true and .code == "legacy-state"'
    mkdir -p "$SCRATCH/live/_data" && echo new >"$SCRATCH/live/_data/f"
    run --separate-stderr ccci-snap custom-html --offline --volume "warm-custom-html_ci_example_db=$SCRATCH/live/_data"
    assert_json_error ccci-snap 65
    error_line | jq -e '.error.code == "legacy-state"'
    [ "$(state_listing "$CCCI_STATE")" = "$before" ]
    [ ! -e "$SCRATCH/drill/warm-custom-html_ci_example_db" ]
}

@test "promote refuses to replace an unmigrated old snapshot, even without an old record" {
    legacy_app keycloak gnu no-record
    echo 10.7.9+26.6.2 >"$CCCI_STATE/keycloak/last_good"
    before=$(state_listing "$CCCI_STATE")
    mkdir -p "$SCRATCH/live/_data" && echo new >"$SCRATCH/live/_data/f"
    echo keycloak >"$SCRATCH/enrolled"
    run --separate-stderr ccci-promote --enrolled "$SCRATCH/enrolled" --offline --volume "warm-keycloak_ci_example_db=$SCRATCH/live/_data" \
        --domain warm-keycloak.ci.example <<<'{"app":"keycloak","mode":"cold","ref":null,"status":"pass","version":"10.8.0+26.7.0"}'
    assert_json_error ccci-promote 65
    error_line | jq -e '.error.code == "legacy-state"'
    [ "$(state_listing "$CCCI_STATE")" = "$before" ]
    # last_good has the same format in both systems: still readable
    run --separate-stderr ccci-canon last-good keycloak
    assert_success
    echo "$output" | jq -e '.last_good == "10.7.9+26.6.2"'
}

@test "reconcile refuses a legacy infra app before touching it (65 legacy-state), and goes ahead once migrated" {
    legacy_app keycloak gnu no-record
    echo 10.7.9+26.6.2 >"$CCCI_STATE/keycloak/last_good"
    before=$(state_listing "$CCCI_STATE/keycloak")
    # no docker here: the refusal comes before any question to it
    run --separate-stderr env CCCI_DOCKER=/nonexistent CCCI_ABRA=/nonexistent ccci-reconcile keycloak --domain warm-keycloak.ci.example
    assert_json_error ccci-reconcile 65
    error_line | jq -e '.error.code == "legacy-state"'
    [ "$(state_listing "$CCCI_STATE/keycloak")" = "$before" ]
    # the app is untouched, and a person is told
    ccci-alert list | jq -e 'select(.app == "keycloak") | .kind == "porcelain-failed" and .details.reason == "legacy-state"'
    ccci-migrate keycloak >/dev/null
    run --separate-stderr env CCCI_DOCKER=/nonexistent CCCI_ABRA=/nonexistent ccci-reconcile keycloak --domain warm-keycloak.ci.example
    [ "$status" -ne 65 ]
    ! error_line | jq -e '.error.code == "legacy-state"' >/dev/null
}

@test "the quick lane falls back to cold on a legacy canonical (exit 2, reason legacy-state)" {
    legacy_app custom-html
    run --separate-stderr ccci-quick custom-html --ref main --test true
    [ "$status" -eq 2 ]
    echo "$output" | tail -n 1 | jq -e '.reason == "legacy-state" and .promoted == false'
}

@test "a clean migration (GNU tar): has says yes and a restore drill reproduces the original trees" {
    legacy_app custom-html gnu
    run --separate-stderr ccci-migrate custom-html
    assert_success
    echo "$output" | jq -e '.app == "custom-html" and .action == "migrated" and .record == true and .version == "1.11.0+1.29.0" and (.volumes | length) == 2'
    run --separate-stderr ccci-canon has custom-html --offline
    assert_success
    echo "$output" | jq -e '.has == true and .record.commit == "8a02606" and .record.domain == "warm-custom-html.ci.example"'
    assert_restores_original custom-html
}

@test "a clean migration (Python tarfile) reproduces the original trees too" {
    legacy_app custom-html python
    run --separate-stderr ccci-migrate custom-html
    assert_success
    echo "$output" | jq -e '.action == "migrated"'
    run ccci-canon has custom-html --offline
    assert_success
    assert_restores_original custom-html
}

@test "the old files are kept byte for byte under legacy/, and the migration is in the history" {
    legacy_app custom-html
    old_tars=$(cd "$CCCI_STATE/custom-html/snapshot" && sha256sum meta.json volumes/*.tar)
    old_record=$(sha256sum <"$CCCI_STATE/custom-html/canonical.json")
    run --separate-stderr ccci-migrate custom-html
    assert_success
    [ "$(cd "$CCCI_STATE/custom-html/legacy/snapshot" && sha256sum meta.json volumes/*.tar)" = "$old_tars" ]
    [ "$(sha256sum <"$CCCI_STATE/custom-html/legacy/canonical.json")" = "$old_record" ]
    # each volume's legacy_sha256 is the old tar's, its sha256 our new archive's
    for v in $(echo "$output" | jq -r '.volumes[].name'); do
        [ "$(echo "$output" | jq -r --arg v "$v" '.volumes[] | select(.name == $v) | .legacy_sha256')" = \
          "$(sha256sum <"$CCCI_STATE/custom-html/legacy/snapshot/volumes/$v.tar" | cut -d' ' -f1)" ]
        [ "$(echo "$output" | jq -r --arg v "$v" '.volumes[] | select(.name == $v) | .sha256')" = \
          "$(sha256sum <"$CCCI_STATE/custom-html/snapshot/volumes/$v.tar" | cut -d' ' -f1)" ]
    done
    jq -e '.format == "ccci-snapshot/1"' "$CCCI_STATE/custom-html/snapshot/manifest.json"
    jq -e '.action == "migrated"' "$CCCI_STATE/custom-html/legacy/migration.json"
    run --separate-stderr ccci-canon history custom-html
    assert_success
    [ "${#lines[@]}" -eq 1 ]
    echo "$output" | jq -e --arg d "$(sha256sum <"$CCCI_STATE/custom-html/snapshot/manifest.json" | cut -d' ' -f1)" \
        '.event == "migrated" and .manifest_digest == $d and .legacy_record.commit == "8a02606" and .legacy_meta.version == "1.11.0+1.29.0"'
    [ -z "$(ls -A "$CCCI_STATE/custom-html" | grep '^\.' || true)" ]
}

@test "--dry-run reads every old archive and writes nothing" {
    legacy_app custom-html
    legacy_app keycloak gnu no-record
    mkdir -p "$CCCI_STATE/alerts"
    echo '{"attempted":"10.7.10+26.6.2","last_good":"10.7.9+26.6.2","recovered":true}' >"$CCCI_STATE/alerts/20260529T005510Z-keycloak-rollback.json"
    before=$(cd "$SCRATCH" && find . -printf '%p %y %m %s %T@\n' | sort)
    run --separate-stderr ccci-migrate --all --dry-run
    assert_success
    echo "$output" | jq -s -e 'map(select(.app)) | map(.action) == ["would-migrate", "would-migrate"]'
    echo "$output" | jq -s -e 'map(select(.scope == "alerts"))[0] | .action == "would-convert" and .converted == ["20260529T005510Z-keycloak-rollback"]'
    [ "$(cd "$SCRATCH" && find . -printf '%p %y %m %s %T@\n' | sort)" = "$before" ]
}

@test "--dry-run reports a corrupt old archive (65) and still writes nothing" {
    legacy_app custom-html
    truncate -s 1000 "$CCCI_STATE/custom-html/snapshot/volumes/warm-custom-html_ci_example_db.tar"
    before=$(cd "$SCRATCH" && find . -printf '%p %y %m %s %T@\n' | sort)
    run --separate-stderr ccci-migrate custom-html --dry-run
    assert_json_error ccci-migrate 65
    error_line | jq -e '.error.code == "corrupt-archive" and .error.details.volume == "warm-custom-html_ci_example_db"'
    [ "$(cd "$SCRATCH" && find . -printf '%p %y %m %s %T@\n' | sort)" = "$before" ]
}

@test "an already migrated app is a no-op" {
    legacy_app custom-html
    ccci-migrate custom-html >/dev/null
    before=$(state_listing "$CCCI_STATE")
    run --separate-stderr ccci-migrate custom-html
    assert_success
    echo "$output" | jq -e '.action == "already-migrated"'
    run --separate-stderr ccci-migrate --all
    assert_success
    echo "$output" | jq -s -e 'map(select(.app)) == [{"app": "custom-html", "action": "already-migrated"}]'
    [ "$(state_listing "$CCCI_STATE")" = "$before" ]
}

@test "a hostile old archive: that app is refused with nothing changed, the others are migrated (exit 65)" {
    legacy_app custom-html
    legacy_app bad
    python3 "$TOOLS/make-hostile" "$SCRATCH/hostile" >/dev/null
    # a symlink to /tmp, then a file through it: only extraction can tell
    cp "$SCRATCH/hostile/absolute-symlink-then-through.tar" "$CCCI_STATE/bad/snapshot/volumes/warm-bad_ci_example_db.tar"
    rm -f /tmp/ccci-pwned
    before=$(state_listing "$CCCI_STATE/bad")
    around=$(cd "$SCRATCH" && ls -A)
    run --separate-stderr ccci-migrate --all
    [ "$status" -eq 65 ]
    echo "$output" | jq -s -e 'map(select(.app == "bad"))[0] | .action == "refused" and .error.code == "hostile-archive" and .error.exit == 65'
    echo "$output" | jq -s -e 'map(select(.app == "custom-html"))[0].action == "migrated"'
    error_line | jq -e '.error.code == "not-migrated" and .error.details == [{"subject": "bad", "code": "hostile-archive", "exit": 65}]'
    [ "$(state_listing "$CCCI_STATE/bad")" = "$before" ]
    [ "$(cd "$SCRATCH" && ls -A)" = "$around" ]
    [ ! -e /tmp/ccci-pwned ]
    run ccci-canon has bad --offline
    [ "$status" -eq 1 ]
    run ccci-canon has custom-html --offline
    assert_success
}

@test "an old tar that leaves its root or a directory implied is migrated, flagged implied_directories" {
    python3 "$TOOLS/make-hostile" "$SCRATCH/hostile" >/dev/null
    for name in no-root-entry unnamed-directory; do
        rm -rf "$CCCI_STATE/h"
        mkdir -p "$CCCI_STATE/h/snapshot/volumes"
        echo '{"version":"1.0.0+1"}' >"$CCCI_STATE/h/snapshot/meta.json"
        cp "$SCRATCH/hostile/$name.tar" "$CCCI_STATE/h/snapshot/volumes/v.tar"
        run --separate-stderr ccci-migrate h
        assert_success
        echo "$output" | jq -e '.action == "migrated" and .volumes[0].implied_directories == true'
        run --separate-stderr ccci-restore h --verify
        assert_success
    done
}

@test "every case of the hostile and corrupt corpus is refused with its own code, the old files untouched" {
    python3 "$TOOLS/make-hostile" "$SCRATCH/hostile" >/dev/null
    mkdir -p "$CCCI_STATE/h/snapshot/volumes"
    echo '{"version":"1.0.0+1"}' >"$CCCI_STATE/h/snapshot/meta.json"
    n=0
    while read -r name want code; do
        [ "$name" = device-node ] && [ "$(id -u)" = 0 ] && continue  # root may restore device nodes
        # the previous system's tars may leave directories implied (tested apart, migrated with
        # implied_directories); our own snapshots may not
        case $name in no-root-entry | unnamed-directory) continue ;; esac
        cp "$SCRATCH/hostile/$name.tar" "$CCCI_STATE/h/snapshot/volumes/v.tar"
        before=$(state_listing "$SCRATCH")
        run --separate-stderr ccci-migrate h
        assert_json_error ccci-migrate "$want" || fail "$name"
        error_line | jq -e --arg c "$code" '.error.code == $c' >/dev/null || fail "$name: $(error_line)"
        [ "$(state_listing "$SCRATCH")" = "$before" ] || fail "$name: something changed"
        n=$((n + 1))
    done <"$SCRATCH/hostile/cases"
    [ "$n" -ge 40 ]
}

@test "an incomplete old snapshot (meta.json names a volume without its tar) is refused, untouched" {
    legacy_app custom-html
    rm "$CCCI_STATE/custom-html/snapshot/volumes/warm-custom-html_ci_example_db.tar"
    before=$(state_listing "$CCCI_STATE")
    run --separate-stderr ccci-migrate custom-html
    assert_json_error ccci-migrate 65
    error_line | jq -e '.error.code == "legacy-incomplete"'
    [ "$(state_listing "$CCCI_STATE")" = "$before" ]
}

@test "a crash after the old snapshot moved aside (pre-seeded): a re-run finishes, the old data intact" {
    legacy_app custom-html
    app=$CCCI_STATE/custom-html
    old=$(cd "$app/snapshot" && sha256sum meta.json volumes/*.tar)
    # what a kill between the move to legacy/ and the new snapshot's rename leaves
    mkdir -m 700 "$app/legacy" "$app/.snapshot.new-0123456789ab" "$app/.migrate-0123456789ab"
    mv "$app/snapshot" "$app/legacy/snapshot"
    mkdir -p "$app/.migrate-0123456789ab/x/ro" && echo partial >"$app/.migrate-0123456789ab/x/ro/f" && chmod 555 "$app/.migrate-0123456789ab/x/ro"
    run ccci-canon has custom-html --offline
    [ "$status" -eq 1 ]
    echo "$output" | jq -e '.reason == "legacy-state"'
    run --separate-stderr ccci-migrate --all
    assert_success
    echo "$output" | jq -s -e '.[0] | .app == "custom-html" and .action == "migrated" and .resumed == true'
    [ "$(cd "$app/legacy/snapshot" && sha256sum meta.json volumes/*.tar)" = "$old" ]
    [ -z "$(ls -A "$app" | grep '^\.' || true)" ]
    assert_restores_original custom-html
}

@test "a crash after the new snapshot but before the record (pre-seeded): a re-run finishes with one history line" {
    legacy_app custom-html
    app=$CCCI_STATE/custom-html
    cp "$app/canonical.json" "$SCRATCH/old-record"
    ccci-migrate custom-html >/dev/null
    cp "$SCRATCH/old-record" "$app/canonical.json"
    rm "$app/legacy/migration.json"
    run --separate-stderr ccci-migrate custom-html
    assert_success
    echo "$output" | jq -e '.action == "migrated" and .resumed == true'
    [ "$(ccci-canon history custom-html | jq -s 'map(select(.event == "migrated")) | length')" -eq 1 ]
    run ccci-canon has custom-html --offline
    assert_success
}

@test "kill -9 at random instants: the old data is always intact and a re-run always finishes" {
    for round in 1 2 3 4 5; do
        rm -rf "$CCCI_STATE" "$SCRATCH/src"
        legacy_app custom-html
        for i in $(seq 24); do head -c 262144 /dev/urandom >"$SCRATCH/src/custom-html/warm-custom-html_ci_example_db/blob$i"; done
        whole_seconds "$SCRATCH/src/custom-html/warm-custom-html_ci_example_db"
        tar --format=gnu -C "$SCRATCH/src/custom-html/warm-custom-html_ci_example_db" -cf "$CCCI_STATE/custom-html/snapshot/volumes/warm-custom-html_ci_example_db.tar" .
        old=$(cd "$CCCI_STATE/custom-html/snapshot/volumes" && sha256sum *.tar)
        ccci-migrate custom-html >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        # wherever the kill landed, the old tars are whole at snapshot/ or legacy/snapshot/
        where=snapshot
        [ -e "$CCCI_STATE/custom-html/snapshot/meta.json" ] || where=legacy/snapshot
        [ "$(cd "$CCCI_STATE/custom-html/$where/volumes" && sha256sum *.tar)" = "$old" ] || fail "round $round: old tars changed"
        run --separate-stderr ccci-migrate custom-html
        assert_success
        echo "$output" | jq -e '.action == "migrated" or .action == "already-migrated"'
        [ "$(cd "$CCCI_STATE/custom-html/legacy/snapshot/volumes" && sha256sum *.tar)" = "$old" ]
        run ccci-canon has custom-html --offline
        assert_success
    done
    assert_restores_original custom-html
}

@test "a mixed state directory: legacy apps migrated, ours untouched and not reported" {
    legacy_app custom-html
    legacy_app keycloak python no-record
    echo 10.7.9+26.6.2 >"$CCCI_STATE/keycloak/last_good"
    # ours: a snapshot taken by ccci-snap, and an infra app with only last_good
    sample_volumes
    ccci-snap app1 "${VOLS[@]}" --app-version 1.0.0+1.0 >/dev/null
    mkdir -p "$CCCI_STATE/traefik" && echo 5.1.1+v3.6.15 >"$CCCI_STATE/traefik/last_good"
    ours=$(state_listing "$CCCI_STATE/app1"; state_listing "$CCCI_STATE/traefik")
    run --separate-stderr ccci-migrate --all
    assert_success
    echo "$output" | jq -s -e 'map(select(.app)) | map({app, action, record}) == [{"app": "custom-html", "action": "migrated", "record": true}, {"app": "keycloak", "action": "migrated", "record": false}]'
    [ "$(state_listing "$CCCI_STATE/app1"; state_listing "$CCCI_STATE/traefik")" = "$ours" ]
    run --separate-stderr ccci-restore app1 --verify
    assert_success
    run --separate-stderr ccci-restore keycloak --verify
    assert_success
    echo "$output" | jq -e '.version == "1.11.0+1.29.0"'
    [ "$(ccci-canon last-good keycloak | jq -r .last_good)" = 10.7.9+26.6.2 ]
    assert_restores_original keycloak
    # naming an app that is ours is a no-op too
    run --separate-stderr ccci-migrate app1
    assert_success
    echo "$output" | jq -e '.action == "not-legacy"'
}

@test "before migration, ccci-alert ignores the old alerts instead of choking on them" {
    mkdir -p "$CCCI_STATE/alerts"
    old='{"attempted":"10.7.10+26.6.2","last_good":"10.7.9+26.6.2","recovered":true}'
    echo "$old" >"$CCCI_STATE/alerts/20260529T005510Z-keycloak-rollback.json"
    ccci-alert raise --app traefik --kind health-failed </dev/null >/dev/null
    run --separate-stderr ccci-alert list
    assert_success
    echo "$output" | jq -s -e 'map(.kind) == ["health-failed"]'
    run --separate-stderr ccci-alert relay --exec 'cat >/dev/null'
    assert_success
    [ "$(cat "$CCCI_STATE/alerts/20260529T005510Z-keycloak-rollback.json")" = "$old" ]
    [ -z "$(ls -A "$CCCI_STATE/alerts/archive" | grep -v traefik || true)" ]
    run --separate-stderr ccci-migrate --check --alerts
    [ "$status" -eq 1 ]
    echo "$output" | jq -e '.converted == ["20260529T005510Z-keycloak-rollback"]'
}

@test "old open alerts are converted (relayable by ccci-alert), seen/ is left alone" {
    mkdir -p "$CCCI_STATE/alerts/seen"
    echo '{"attempted":"10.7.10+26.6.2","last_good":"10.7.9+26.6.2","recovered":true}' >"$CCCI_STATE/alerts/20260529T005510Z-keycloak-rollback.json"
    echo '{"relayed":"long ago"}' >"$CCCI_STATE/alerts/seen/20260528T000000Z-traefik-rollback.json"
    seen=$(sha256sum <"$CCCI_STATE/alerts/seen/20260528T000000Z-traefik-rollback.json")
    run --separate-stderr ccci-migrate --alerts
    assert_success
    echo "$output" | jq -e '.scope == "alerts" and .action == "converted" and .converted == ["20260529T005510Z-keycloak-rollback"] and .seen_left == 1'
    run --separate-stderr ccci-alert list
    assert_success
    echo "$output" | jq -e '.id == "20260529T005510Z-keycloak-rollback" and .app == "keycloak" and .kind == "rollback" and .state == "open" and .details.attempted == "10.7.10+26.6.2"'
    run --separate-stderr ccci-alert relay --exec 'cat >/dev/null'
    assert_success
    [ -z "$(ls "$CCCI_STATE/alerts" | grep json || true)" ]
    [ "$(sha256sum <"$CCCI_STATE/alerts/seen/20260528T000000Z-traefik-rollback.json")" = "$seen" ]
    [ -f "$CCCI_STATE/alerts/legacy/20260529T005510Z-keycloak-rollback.json" ]
    run --separate-stderr ccci-migrate --alerts
    assert_success
    echo "$output" | jq -e '.action == "nothing"'
}

@test "the app's lock is honoured: --no-wait while it is held is 75 and nothing changes" {
    legacy_app custom-html
    before=$(state_listing "$CCCI_STATE")
    ccci-lock custom-html -- sleep 30 &
    holder=$!
    for _ in $(seq 50); do ccci-lock --no-wait custom-html -- true 2>/dev/null || break; sleep 0.1; done
    run --separate-stderr ccci-migrate custom-html --no-wait
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    assert_json_error ccci-migrate 75
    error_line | jq -e '.error.code == "locked"'
    [ "$(state_listing "$CCCI_STATE")" = "$before" ]
}

@test "bad usage: nothing named is 64, --all with APP is 64, an invalid name is 64, an unknown app is 66" {
    run --separate-stderr ccci-migrate
    assert_json_error ccci-migrate 64
    run --separate-stderr ccci-migrate --all custom-html
    assert_json_error ccci-migrate 64
    run --separate-stderr ccci-migrate ../etc
    assert_json_error ccci-migrate 64
    run --separate-stderr ccci-migrate nope
    assert_json_error ccci-migrate 66
    error_line | jq -e '.error.code == "no-app"'
    # several apps: a stream, the refused one reported in its line, then the summary
    legacy_app custom-html
    run --separate-stderr ccci-migrate nope custom-html
    [ "$status" -eq 66 ]
    echo "$output" | jq -s -e 'map({app, action}) == [{"app": "nope", "action": "refused"}, {"app": "custom-html", "action": "migrated"}]'
    error_line | jq -e '.error.code == "not-migrated" and .error.exit == 66'
    [ ! -e "$CCCI_STATE/nope" ]
}

@test "--check says which apps are still legacy (exit 1) without reading an archive, and 0 once migrated" {
    legacy_app custom-html
    : >"$CCCI_STATE/custom-html/snapshot/volumes/warm-custom-html_ci_example_db.tar"  # unreadable, and not read
    run --separate-stderr ccci-migrate --check custom-html
    [ "$status" -eq 1 ]
    echo "$output" | jq -e '.app == "custom-html" and .legacy == true and .migrated == false and .markers == ["snapshot/meta.json", "canonical.json"]'
    rm -rf "$CCCI_STATE" "$SCRATCH/src"
    legacy_app custom-html
    ccci-migrate custom-html >/dev/null
    run --separate-stderr ccci-migrate --check --all
    assert_success
    echo "$output" | jq -s -e '.[0] | .app == "custom-html" and .legacy == false and .migrated == true'
    echo "$output" | jq -s -e '.[1] | .scope == "alerts" and .action == "nothing"'
}
