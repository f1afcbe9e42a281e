#!/usr/bin/env bats
# make install: the tree a non-NixOS host gets, and its units checked with systemd.

load helpers
load units

setup_file() {
    export INST=$BATS_FILE_TMPDIR/prefix
    install_prefix "$INST"
}

setup() { setup_scratch; }
teardown() { teardown_scratch; }

@test "make install with DESTDIR stages the whole tree, and the installed files name PREFIX, never DESTDIR" {
    run -0 make -s -C "$REPO" install PREFIX=/opt/ci-warm DESTDIR="$SCRATCH/stage" BUILDDIR="$BIN"
    root=$SCRATCH/stage/opt/ci-warm
    for c in $(commands) ccci-reconcile ccci-quick ccci-sweep ccci-lib.sh; do [ -f "$root/bin/$c" ] || fail "no bin/$c"; done
    for c in $(commands) ccci-reconcile ccci-quick ccci-sweep; do [ -x "$root/bin/$c" ] || fail "bin/$c not executable"; done
    # installed, every command and script answers --version (the scripts through the installed plumbing)
    for c in $(commands) ccci-reconcile ccci-quick ccci-sweep ccci-advance ccci-demo; do
        run -0 --separate-stderr env PATH="$root/bin:/usr/bin:/bin" "$c" --version
        [[ $output =~ ^"$c (ci-warm) "[0-9.]+" "[0-9a-z-]+$ ]] || fail "installed $c --version: $output"
    done
    for f in libexec/ci-warm/reconcile-app libexec/ci-warm/unit-failed; do [ -x "$root/$f" ] || fail "no $f"; done
    for u in ci-warm-reconcile@.service ci-warm-reconcile@.timer ci-warm-sweep.service ci-warm-sweep.timer \
        ci-warm-alert-relay.service ci-warm-alert-relay.path ci-warm-alert-relay.timer ci-warm-realm-reap.service \
        ci-warm-realm-reap.timer ci-warm-unit-failed@.service; do
        [ -f "$root/lib/systemd/system/$u" ] || fail "no unit $u"
    done
    [ -f "$root/lib/tmpfiles.d/ci-warm.conf" ]
    for e in ci-warm.env infra.jsonl enrolled; do [ -f "$root/share/doc/ci-warm/examples/$e" ] || fail "no example $e"; done
    [ -f "$root/share/doc/ci-warm/LICENSE" ]
    run grep -rl "$SCRATCH" "$root"
    assert_failure
    grep -qx 'ExecStart=/opt/ci-warm/libexec/ci-warm/reconcile-app %i' "$root/lib/systemd/system/ci-warm-reconcile@.service"
    grep -q '^\. "/opt/ci-warm/bin/ccci-lib.sh"' "$root/libexec/ci-warm/reconcile-app"
    ! grep -rq '@[a-z]*dir@\|@[A-Z_]*@' "$root/lib" "$root/libexec"
}

@test "make install renders a man page per command page with lowdown, and skips them with a message without it" {
    command -v lowdown >/dev/null || skip "lowdown is not installed (apt-get install lowdown)"
    for md in "$REPO"/docs/commands/*.md; do
        n=$(basename "$md" .md)
        [ -s "$INST/share/man/man1/$n.1" ] || fail "no man page for $n"
        grep -q "^\.TH \"$n\" \"1\"" "$INST/share/man/man1/$n.1" || fail "$n.1 has no title"
    done
    run -0 --separate-stderr make -s -C "$REPO" install PREFIX=/opt/ci-warm DESTDIR="$SCRATCH/stage" BUILDDIR="$BIN" LOWDOWN=/nonexistent/lowdown
    [[ $stderr == *"man pages skipped"* ]] || fail "$stderr"
    [ ! -d "$SCRATCH/stage/opt/ci-warm/share/man" ]
}

@test "make install refuses, saying why, when the commands were not built" {
    run --separate-stderr make -s -C "$REPO" install PREFIX=/opt/ci-warm DESTDIR="$SCRATCH/stage" BUILDDIR="$SCRATCH/nothing"
    assert_failure
    [[ $stderr == *"run make first"* ]] || fail "$stderr"
}

@test "the installed units pass systemd-analyze verify (their man pages found), each service reading ci-warm.env" {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
    cd "$INST/lib/systemd/system"
    MANPATH=$INST/share/man run systemd-analyze verify ./*.service ./*.timer ./*.path
    [ "$status" -eq 0 ] || fail "$output"
    refute_output --partial "Unknown"
    for u in ./*.service; do
        grep -qx 'EnvironmentFile=-/etc/ci-warm/ci-warm.env' "$u" || fail "$u has no EnvironmentFile="
    done
}

@test "every installed service scores 4.0 or better in systemd-analyze security --offline=yes" {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
    assert_exposure "$INST"/lib/systemd/system/*.service
}

@test "the installed units and the NixOS module's carry the same hardening" {
    command -v nix-instantiate >/dev/null || skip "nix-instantiate is not installed"
    mkdir -p "$SCRATCH/mod/stubs"
    ln -s "$INST" "$SCRATCH/mod/stubs/ci-warm"
    for p in abra docker-client jq curl git openssh coreutils util-linux gnused gnugrep gawk findutils systemd; do mkdir -p "$SCRATCH/mod/stubs/$p"; done
    render_module "$SCRATCH/mod" "import $REPO/nix/test/config.nix { }"
    # the keys: the shared blocks' and every [Service] key of the module's sweep that is not about the command
    keys=$( (sed -n 's/^\([A-Za-z]*\)=.*/\1/p' "$REPO"/packaging/systemd/*.conf
        sed -n '/^\[Service\]/,$s/^\([A-Za-z]*\)=.*/\1/p' "$SCRATCH/mod/units/ci-warm-sweep.service" |
            grep -vx 'Environment\|EnvironmentFile\|ExecStart\|ExecStartPre\|Type\|TimeoutStartSec\|SuccessExitStatus\|LoadCredential') | sort -u)
    [ "$(printf '%s\n' "$keys" | wc -l)" -gt 25 ] || fail "too few keys: $keys"
    # words KEY FILE: every value given to KEY in FILE, one word a line, sorted
    words() { sed -n "s/^$1=//p" "$2" | tr ' ' '\n' | sed '/^$/d' | sort -u; }
    for pair in ci-warm-sweep.service:ci-warm-sweep.service ci-warm-reconcile@.service:ci-warm-reconcile-keycloak.service \
        ci-warm-alert-relay.service:ci-warm-alert-relay.service ci-warm-realm-reap.service:ci-warm-realm-reap.service \
        ci-warm-unit-failed@.service:ci-warm-unit-failed@.service; do
        inst=$INST/lib/systemd/system/${pair%%:*} mod=$SCRATCH/mod/units/${pair#*:}
        for k in $keys; do
            [ "$(words "$k" "$inst")" = "$(words "$k" "$mod")" ] ||
                fail "${pair%%:*}: $k differs: installed '$(words "$k" "$inst" | tr '\n' ' ')' module '$(words "$k" "$mod" | tr '\n' ' ')'"
        done
    done
}

@test "reconcile-app passes an app's infra line to ccci-reconcile word for word, and refuses what it cannot read" {
    install_prefix "$SCRATCH/p"
    make_stubs "$SCRATCH"
    cp "$SCRATCH/printargs" "$SCRATCH/p/bin/ccci-reconcile"
    infra=$SCRATCH/infra.jsonl
    cp "$REPO/packaging/examples/infra.jsonl" "$infra"
    jq -cn '["odd", "--health-arg", "it'"'"'s \"quoted\" $HOME %n `x`", "--health-arg", "two  spaces", "--stateless"]' >>"$infra"
    for app in keycloak odd; do
        ARGV_OUT=$SCRATCH/argv CCCI_INFRA_FILE=$infra run -0 "$SCRATCH/p/libexec/ci-warm/reconcile-app" "$app" </dev/null
        want=$(jq -r --arg a "$app" 'select(.[0] == $a) | .[]' "$infra")
        [ "$(cat "$SCRATCH/argv")" = "$want" ] || fail "$app: $(cat "$SCRATCH/argv") wanted: $want"
    done
    CCCI_INFRA_FILE=$infra run --separate-stderr "$SCRATCH/p/libexec/ci-warm/reconcile-app" nosuch
    assert_json_error reconcile-app 66
    echo '["bad", 1]' >"$SCRATCH/bad.jsonl"
    CCCI_INFRA_FILE=$SCRATCH/bad.jsonl run --separate-stderr "$SCRATCH/p/libexec/ci-warm/reconcile-app" bad
    assert_json_error reconcile-app 65
    CCCI_INFRA_FILE=$infra run --separate-stderr "$SCRATCH/p/libexec/ci-warm/reconcile-app" '../x'
    assert_json_error reconcile-app 64
}

@test "the installed failure handler raises unit-failed for a template instance (its @ made -)" {
    assert_unit_failed_raises "$INST/lib/systemd/system/ci-warm-unit-failed@.service" \
        ci-warm-reconcile@keycloak.service ci-warm-reconcile-keycloak.service
}

@test "the license file is the one package.nix declares" {
    grep -q 'license = lib.licenses.gpl3Plus;' "$REPO/nix/package.nix"
    head -n 3 "$REPO/LICENSE" | grep -q 'GNU GENERAL PUBLIC LICENSE'
    head -n 3 "$REPO/LICENSE" | grep -q 'Version 3, 29 June 2007'
}

@test "the unit helpers pass shellcheck" {
    command -v shellcheck >/dev/null || skip "shellcheck is not installed"
    cd "$REPO"
    run shellcheck -s sh -x packaging/libexec/reconcile-app.in packaging/libexec/unit-failed.in
    [ "$status" -eq 0 ] || fail "$output"
}
