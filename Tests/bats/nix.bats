#!/usr/bin/env bats
# The NixOS module, evaluated here without nixpkgs (nix/test/eval.nix: a stub of lib and the
# module system, and NixOS's way of writing units), its units rendered to files and checked
# with systemd. `nix flake check` runs the same configuration through real NixOS (nix/check.nix).

load helpers
load units

setup_file() {
    command -v nix-instantiate >/dev/null || return 0
    export MOD=$BATS_FILE_TMPDIR/module
    make_stubs "$MOD"
    render_module "$MOD" "import $REPO/nix/test/config.nix { probe = \"$MOD/printargs\"; }"
}

setup() {
    command -v nix-instantiate >/dev/null || skip "nix-instantiate is not installed (Tests/deps installs nix-bin)"
    setup_scratch
}
teardown() { teardown_scratch; }

# eval_module CONFIG-EXPR: the stub evaluation's JSON in $output.
eval_module() {
    run --separate-stderr nix-instantiate --eval --strict --json "$REPO/nix/test/eval.nix" \
        --argstr stubs "$MOD/stubs" --argstr out "$SCRATCH/gen" --arg config "$1"
}

@test "every nix file parses (nix-instantiate --parse)" {
    for f in "$REPO"/nix/*.nix "$REPO"/nix/test/*.nix "$REPO/flake.nix"; do
        run nix-instantiate --parse "$f"
        [ "$status" -eq 0 ] || fail "$f: $output"
    done
}

@test "the module evaluates with every option set, no assertion failing, and declares every unit" {
    [ "$(jq -c .assertions "$MOD/eval.json")" = "[]" ] || fail "$(jq .assertions "$MOD/eval.json")"
    for u in ci-warm-reconcile-keycloak.service ci-warm-reconcile-keycloak.timer ci-warm-reconcile-traefik.service \
        ci-warm-reconcile-traefik.timer ci-warm-sweep.service ci-warm-sweep.timer ci-warm-alert-relay.service \
        ci-warm-alert-relay.path ci-warm-alert-relay.timer ci-warm-realm-reap.service ci-warm-realm-reap.timer \
        ci-warm-unit-failed@.service; do
        [ -f "$MOD/units/$u" ] || fail "no $u"
    done
    jq -e '.tmpfiles == ["d /var/lib/ci-warm 0700 root root -", "d /var/lib/ci-warm/alerts 0700 root root -"]' "$MOD/eval.json"
    grep -qx 'StateDirectory=ci-warm' "$MOD/units/ci-warm-sweep.service"
}

@test "the module's units pass systemd-analyze verify" {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
    cd "$MOD/units"
    run systemd-analyze verify --man=no ./*.service ./*.timer ./*.path
    [ "$status" -eq 0 ] || fail "$output"
    refute_output --partial "Unknown"
}

@test "every service of the module scores 4.0 or better in systemd-analyze security --offline=yes" {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
    assert_exposure "$MOD"/units/*.service
    # what the hardening must not take away: restores write setuid files, chown and set file capabilities
    for u in ci-warm-sweep ci-warm-reconcile-keycloak; do
        grep -qx 'RestrictSUIDSGID=false' "$MOD/units/$u.service"
        grep -qx 'CapabilityBoundingSet=CAP_SETFCAP' "$MOD/units/$u.service"
        grep -qx 'ReadWritePaths=-/var/lib/docker/volumes' "$MOD/units/$u.service"
    done
    grep -qx 'RestrictSUIDSGID=true' "$MOD/units/ci-warm-alert-relay.service"
    grep -qx 'CapabilityBoundingSet=' "$MOD/units/ci-warm-alert-relay.service"
}

@test "a rendered unit's PATH finds abra, jq, curl and every tool the commands call, and nothing else" {
    for u in "$MOD"/units/*.service; do
        path=$(sed -n 's/^Environment="PATH=\(.*\)"$/\1/p' "$u")
        [ -n "$path" ] || fail "$u has no PATH"
        case ":$path:" in *:/usr/bin:* | *:/bin:*) fail "$u: PATH reaches the host's /usr/bin: $path" ;; esac
        for tool in abra jq curl docker git ssh flock sed grep awk find journalctl ccci-alert ccci-reconcile; do
            found=$(PATH=$path command -v "$tool") || fail "$u: $tool is not on PATH $path"
            case $found in "$MOD"/stubs/*) ;; *) fail "$u: $tool found outside the unit's packages: $found" ;; esac
        done
    done
}

@test "the relay command's arguments reach it intact, the alert's JSON on its stdin, curl on PATH" {
    ccci-alert raise --app keycloak --kind rollback --message "rolled back" </dev/null >/dev/null
    relay=$(sed -n 's/^ExecStart=//p' "$MOD/units/ci-warm-alert-relay.service")
    path=$(sed -n 's/^Environment="PATH=\(.*\)"$/\1/p' "$MOD/units/ci-warm-alert-relay.service")
    ARGV_OUT=$SCRATCH/argv PATH=$path run -0 /bin/sh "$relay"
    jq -e '.relayed == true' <<<"$output"
    want=$(nix-instantiate --eval --strict --json -E "(import $REPO/nix/test/config.nix { }).services.ci-warm.alertRelay.command" | jq -r '.[1:][]')
    [ "$(cat "$SCRATCH/argv")" = "$want" ] || fail "argv: $(cat "$SCRATCH/argv") wanted: $want"
    jq -e '.app == "keycloak" and .kind == "rollback"' "$SCRATCH/argv.stdin"
    # the relay's PATH holds curl (the issue's example failed with 127)
    PATH=$path command -v curl
}

@test "a quoted health argument reaches ccci-reconcile intact through the infra file (JSON Lines argv)" {
    infra=$(sed -n 's/^Environment="CCCI_INFRA_FILE=\(.*\)"$/\1/p' "$MOD/units/ci-warm-reconcile-keycloak.service")
    # every line is a JSON array of strings, APP first
    run -0 jq -e 'type == "array" and all(.[]; type == "string")' "$infra"
    jq -se 'map(select(.[0] == "keycloak")) | .[0] | index("--health-arg") != null' "$infra"
    # the unit's command, with a ccci-reconcile that prints its argv
    exec_start=$(sed -n 's/^ExecStart=//p' "$MOD/units/ci-warm-reconcile-keycloak.service")
    [ "$exec_start" = "$MOD/stubs/ci-warm/libexec/ci-warm/reconcile-app keycloak" ]
    install_prefix "$SCRATCH/p"
    cp "$MOD/printargs" "$SCRATCH/p/bin/ccci-reconcile"
    ARGV_OUT=$SCRATCH/argv CCCI_INFRA_FILE=$infra run -0 "$SCRATCH/p/libexec/ci-warm/reconcile-app" keycloak </dev/null
    want=$(jq -r 'select(.[0] == "keycloak") | .[]' "$infra")
    [ "$(cat "$SCRATCH/argv")" = "$want" ] || fail "argv: $(cat "$SCRATCH/argv") wanted: $want"
    grep -qxF -- "realm=\"master\" it's \$HOME %n" "$SCRATCH/argv"
    grep -qxF -- "--health-arg" "$SCRATCH/argv"
}

@test "the real ccci-reconcile accepts the argv the module writes for it (it stops later, at abra, not at usage)" {
    infra=$(sed -n 's/^Environment="CCCI_INFRA_FILE=\(.*\)"$/\1/p' "$MOD/units/ci-warm-reconcile-keycloak.service")
    exec_start=$(sed -n 's/^ExecStart=//p' "$MOD/units/ci-warm-reconcile-keycloak.service")
    mkdir -p "$SCRATCH/abra"
    CCCI_INFRA_FILE=$infra ABRA_DIR=$SCRATCH/abra CCCI_BASE_DOMAIN=ci.example.org CCCI_ABRA=/nonexistent/abra \
        run --separate-stderr $exec_start </dev/null
    [ "$status" -ne 0 ] && [ "$status" -ne 64 ] || fail "exit $status: $stderr"
    ! grep -q '"code":"usage"' <<<"$stderr"
    grep -q '"prog":"ccci-app"' <<<"$stderr"
}

@test "the realm reaper's command is one the real ccci-realm accepts (it stops later, at docker, not at usage)" {
    script=$(sed -n 's/^ExecStart=//p' "$MOD/units/ci-warm-realm-reap.service")
    grep -q -- '--live-from-docker' "$script"
    printf 'secret\n' >"$SCRATCH/pw"
    CCCI_KEYCLOAK_URL=https://127.0.0.1:9 CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE=$SCRATCH/pw CCCI_DOCKER=/bin/false \
        run --separate-stderr /bin/sh "$script" </dev/null
    [ "$status" -eq 69 ] || fail "exit $status: $stderr"
    grep -q '"code":"docker-failed"' <<<"$stderr"
}

@test "the sweep's test command reaches ccci-sweep as one shell-quoted --test word that sh splits back into the argv" {
    script=$(sed -n 's/^ExecStart=//p' "$MOD/units/ci-warm-sweep.service")
    sed "s|$MOD/stubs/ci-warm/bin/ccci-sweep|$MOD/printargs|" "$script" >"$SCRATCH/sweep"
    ARGV_OUT=$SCRATCH/argv run -0 sh "$SCRATCH/sweep" </dev/null
    [ "$(sed -n 1p "$SCRATCH/argv")" = --test ]
    test_line=$(sed -n 2p "$SCRATCH/argv")
    ARGV_OUT=$SCRATCH/argv2 sh -c "$MOD/printargs $test_line" </dev/null
    want=$(nix-instantiate --eval --strict --json -E "(import $REPO/nix/test/config.nix { }).services.ci-warm.sweep.testCommand" | jq -r '.[]')
    [ "$(cat "$SCRATCH/argv2")" = "$want" ] || fail "test argv: $(cat "$SCRATCH/argv2") wanted: $want"
    # The run pool's cap and how long a recipe waits for a slot follow the options.
    [ "$(sed -n '3,6p' "$SCRATCH/argv" | tr '\n' ' ')" = "--slots 1 --slot-wait 3600 " ]
}

@test "every unit alerts on its own failure: OnFailure= names the unit-failed handler, whose command raises unit-failed" {
    for u in "$MOD"/units/*.service; do
        case $u in */ci-warm-unit-failed@.service) continue ;; esac
        grep -qx 'OnFailure=ci-warm-unit-failed@%n.service' "$u" || fail "$u has no OnFailure="
    done
    ! grep -q '^OnFailure=' "$MOD/units/ci-warm-unit-failed@.service"
    assert_unit_failed_raises "$MOD/units/ci-warm-unit-failed@.service" ci-warm-sweep.service ci-warm-sweep.service
}

@test "no reconcile blocks boot or a switch: no restart on change, started by a timer after boot and nightly, lock wait < timeout" {
    jq -e '.restartIfChanged | to_entries | all(.value == false)' "$MOD/eval.json"
    jq -e '.wantedBy | to_entries | all(.value | index("multi-user.target") == null)' "$MOD/eval.json"
    for app in keycloak traefik; do
        t=$MOD/units/ci-warm-reconcile-$app.timer
        grep -qx 'OnBootSec=5min' "$t"
        grep -q '^OnCalendar=' "$t"
        u=$MOD/units/ci-warm-reconcile-$app.service
        wait=$(sed -n 's/^Environment="CCCI_LOCK_WAIT=\(.*\)"$/\1/p' "$u")
        timeout=$(sed -n 's/^TimeoutStartSec=//p' "$u")
        [ "$wait" -lt "$timeout" ] || fail "$u: lock wait $wait >= timeout $timeout"
    done
    eval_module "import $REPO/nix/test/config.nix { } // { services.ci-warm = (import $REPO/nix/test/config.nix { }).services.ci-warm // { reconcile.lockWaitSec = 3600; }; }"
    assert_success
    jq -e '.assertions | any(test("lockWaitSec"))' <<<"$output"
}

@test "secrets come from files through LoadCredential=, never from unit text or argv" {
    grep -qx 'LoadCredential=keycloak-admin:/run/keys/keycloak-admin' "$MOD/units/ci-warm-realm-reap.service"
    grep -qx 'LoadCredential=keycloak-admin:/run/keys/keycloak-admin' "$MOD/units/ci-warm-sweep.service"
    grep -qx 'Environment="CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE=%d/keycloak-admin"' "$MOD/units/ci-warm-realm-reap.service"
    ! grep -q 'CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE' "$MOD/units/ci-warm-alert-relay.service"
    grep -qx 'LoadCredential=webhook:/run/keys/ci-warm-webhook' "$MOD/units/ci-warm-alert-relay.service"
    # the credentials' paths appear nowhere else: not in a command, not in the environment
    run grep -rl -e /run/keys "$MOD/gen"
    assert_failure
    [ "$(grep -h /run/keys "$MOD"/units/* | grep -vc '^LoadCredential=')" -eq 0 ]
    # a secret file inside the store is refused at evaluation
    eval_module "import $REPO/nix/test/config.nix { } // { services.ci-warm = (import $REPO/nix/test/config.nix { }).services.ci-warm // { keycloak.adminPasswordFile = \"/nix/store/x-password\"; }; }"
    assert_failure
    [[ $stderr == *adminPasswordFile* ]] || fail "$stderr"
}

@test "docker assertions: live-restore with swarm, autoPrune --volumes, each saying what to set" {
    base="(import $REPO/nix/test/config.nix { })"
    eval_module "$base // { virtualisation.docker = { enable = true; liveRestore = true; }; }"
    assert_success
    jq -e '.assertions | any(contains("virtualisation.docker.liveRestore = false"))' <<<"$output"
    eval_module "$base // { virtualisation.docker = { enable = true; liveRestore = false; autoPrune = { enable = true; flags = [ \"--all\" \"--volumes\" ]; }; }; }"
    assert_success
    jq -e '.assertions | any(contains("remove --volumes"))' <<<"$output"
    eval_module "$base // { virtualisation.docker = { enable = true; liveRestore = false; autoPrune = { enable = true; flags = [ \"--filter=until=168h\" ]; }; }; }"
    assert_success
    jq -e '.assertions == []' <<<"$output"
}

@test "option types: names and runtime paths are validated at evaluation" {
    base="(import $REPO/nix/test/config.nix { })"
    for bad in 'enrolled = [ "../etc" ];' 'enrolled = [ "Custom" ];' 'stateDir = "/srv/ci-warm";' 'abraDir = "relative/abra";' \
        'infra.keycloak.recipe = "a..b";'; do
        eval_module "$base // { services.ci-warm = $base.services.ci-warm // { $bad }; }"
        [ "$status" -ne 0 ] || fail "accepted: $bad"
    done
    # an app name is refused: by its recipe's type (the default) or by the assertion
    eval_module "$base // { services.ci-warm = $base.services.ci-warm // { infra.\"Bad_App\" = { }; }; }"
    [ "$status" -ne 0 ] || jq -e '.assertions | any(contains("Bad_App"))' <<<"$output"
    eval_module "$base // { services.ci-warm = $base.services.ci-warm // { infra.\"Bad_App\".recipe = \"keycloak\"; }; }"
    assert_success
    jq -e '.assertions | any(contains("Bad_App"))' <<<"$output"
    # runtime paths stay strings: nothing under /var/lib or /root is copied into the store
    grep -q 'ReadWritePaths=-/var/lib/docker/volumes' "$MOD/units/ci-warm-sweep.service"
    grep -q 'abraPackage = mkPackageOption pkgs "abra"' "$REPO/nix/module.nix"
    ! grep -n 'types\.path' "$REPO/nix/module.nix"
}

@test "the doctor runs before the sweep, warn-only by default and blocking when asked" {
    grep -qx "ExecStartPre=-$MOD/stubs/ci-warm/bin/ccci-doctor" "$MOD/units/ci-warm-sweep.service"
    base="(import $REPO/nix/test/config.nix { })"
    eval_module "$base // { services.ci-warm = $base.services.ci-warm // { sweep = $base.services.ci-warm.sweep // { doctor.blocking = true; }; }; }"
    assert_success
    jq -r '.units["ci-warm-sweep.service"]' <<<"$output" | grep -qx "ExecStartPre=$MOD/stubs/ci-warm/bin/ccci-doctor"
}

@test "the flake exposes packages.default, nixosModules.default (with its package) and a module check per system" {
    run -0 --separate-stderr nix-instantiate --eval --strict --json "$REPO/nix/test/flake-shape.nix"
    jq -e '.outputs == ["checks", "nixosModules", "packages"]' <<<"$output"
    jq -e '.packages | to_entries | all(.value.package | endswith("/nix/package.nix"))' <<<"$output"
    jq -e '.packages["x86_64-linux"].system == "x86_64-linux"' <<<"$output"
    # --version's commit: the flake's revision, 12 hex digits
    jq -e '.packages | all(.commit == "0123456789ab")' <<<"$output"
    jq -e --arg m "$REPO/nix/module.nix" '.imports == [$m]' <<<"$output"
    # the module's package is the flake's build for the host's system
    jq -e '.package.system == "aarch64-linux"' <<<"$output"
    jq -e '.checks | to_entries | all(.value == ["module"])' <<<"$output"
}

@test "the package's version is Package.swift's and its build gets the commit as CCCI_COMMIT" {
    run -0 --separate-stderr nix-instantiate --eval --strict --json -E "
      let drv = import $REPO/nix/package.nix {
        lib.cleanSource = x: x; stdenv.mkDerivation = a: a; commit = \"0123456789ab\";
        swift = null; swiftpm = null; makeWrapper = null; lowdown = null; jq = null; curl = null; git = null;
        docker-client = null; coreutils = null; util-linux = null; gnused = null; gawk = null;
      }; in { inherit (drv) version CCCI_COMMIT; }"
    version=$(sed -n 's/^let version = "\(.*\)"$/\1/p' "$REPO/Package.swift")
    jq -e --arg v "$version" '.version == $v and .CCCI_COMMIT == "0123456789ab"' <<<"$output"
}
