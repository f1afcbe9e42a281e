#!/usr/bin/env bats
# The NixOS module and the plain units: what can be checked without NixOS.

load helpers

setup() { setup_scratch; }
teardown() { teardown_scratch; }

@test "every nix file parses (nix-instantiate --parse)" {
    command -v nix-instantiate >/dev/null || skip "nix-instantiate is not installed (Tests/deps installs nix-bin)"
    for f in "$REPO"/nix/*.nix; do
        run nix-instantiate --parse "$f"
        [ "$status" -eq 0 ] || fail "$f: $output"
    done
}

@test "the module declares the units, hardening and options the issue asks for" {
    m=$REPO/nix/module.nix
    for want in ci-warm-sweep ci-warm-reconcile- ci-warm-alert-relay 'Persistent = true' RandomizedDelaySec \
        TimeoutStartSec 'ProtectSystem = "strict"' ReadWritePaths 'PrivateTmp = true' 'NoNewPrivileges = true' \
        PathChanged tmpfiles 0700 baseDomain enrolled infra testCommand alertRelay stateDir; do
        grep -q -- "$want" "$m" || fail "module.nix lacks $want"
    done
}

@test "the rendered plain units pass systemd-analyze verify" {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
    run "$REPO/nix/render-units" "$BIN" "$SCRATCH/units"
    assert_success
    # the porcelain must sit beside the plumbing for ExecStart to resolve
    for p in ccci-reconcile ccci-sweep; do [ -x "$BIN/$p" ] || ln -s "$REPO/bin/$p" "$SCRATCH/units/$p"; done
    run systemd-analyze verify "$SCRATCH"/units/*.service "$SCRATCH"/units/*.timer "$SCRATCH"/units/*.path
    [ "$status" -eq 0 ] || fail "$output"
    refute_output --partial "Unknown"
    grep -qx "Persistent=true" "$SCRATCH/units/ci-warm-sweep.timer"
    grep -qx "PathChanged=/var/lib/ci-warm/alerts" "$SCRATCH/units/ci-warm-alert-relay.path"
}
