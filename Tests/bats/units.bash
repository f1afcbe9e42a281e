# Shared by nix.bats and install.bats: installed trees, stub packages, rendered units, and the
# checks both kinds of unit must pass.

# install_prefix DIR: `make install PREFIX=DIR` of the built commands (no DESTDIR: the units'
# paths are real). ccci-doctor lands with another change; until then a placeholder stands in so
# systemd-analyze verify can resolve ExecStartPre=.
install_prefix() {
    make -s -C "$REPO" install PREFIX="$1" BUILDDIR="$BIN" >/dev/null 2>&1 || make -C "$REPO" install PREFIX="$1" BUILDDIR="$BIN"
    if [ ! -e "$1/bin/ccci-doctor" ]; then
        printf '#!/bin/sh\necho "ccci-doctor: placeholder installed by the tests" >&2\n' >"$1/bin/ccci-doctor"
        chmod 0755 "$1/bin/ccci-doctor"
    fi
}

# make_stubs DIR: DIR/stubs/<package> for every package the module puts on PATH (ci-warm: a
# real install; abra: a stub; the rest: links to this host's tools), and DIR/printargs, which
# writes its argv one word a line to $ARGV_OUT and its stdin to $ARGV_OUT.stdin.
make_stubs() {
    local s=$1/stubs t
    install_prefix "$s/ci-warm"
    mkdir -p "$s/abra/bin"
    printf '#!/bin/sh\necho "abra stub $*"\n' >"$s/abra/bin/abra"
    chmod 0755 "$s/abra/bin/abra"
    link() { # PACKAGE TOOL
        mkdir -p "$s/$1/bin"
        t=$(command -v "$2") || t=/bin/false
        ln -sf "$t" "$s/$1/bin/$2"
    }
    link docker-client docker; link jq jq; link curl curl; link git git; link openssh ssh
    link coreutils cat; link coreutils date; link coreutils sync; link coreutils mv
    link util-linux flock; link gnused sed; link gnugrep grep; link gawk awk; link findutils find
    link systemd journalctl; link systemd systemctl
    cat >"$1/printargs" <<'SH'
#!/bin/sh
: >"$ARGV_OUT"
for a; do printf '%s\n' "$a" >>"$ARGV_OUT"; done
cat >"$ARGV_OUT.stdin"
SH
    chmod 0755 "$1/printargs"
}

# render_module DIR CONFIG-EXPR: the stub evaluation of nix/module.nix with DIR/stubs, its JSON
# in DIR/eval.json, the units in DIR/units, the generated scripts and files in DIR/gen.
render_module() {
    mkdir -p "$1/units" "$1/gen"
    nix-instantiate --eval --strict --json "$REPO/nix/test/eval.nix" \
        --argstr stubs "$1/stubs" --argstr out "$1/gen" --arg config "$2" >"$1/eval.json"
    jq -r '.units | keys[]' "$1/eval.json" | while IFS= read -r u; do
        jq -r --arg u "$u" '.units[$u]' "$1/eval.json" >"$1/units/$u"
    done
    jq -r '.files | keys[]' "$1/eval.json" | while IFS= read -r f; do
        jq -j --arg f "$f" '.files[$f].text' "$1/eval.json" >"$f"
        [ "$(jq --arg f "$f" '.files[$f].executable' "$1/eval.json")" = true ] && chmod 0755 "$f"
    done
}

# assert_exposure UNIT-FILE...: systemd-analyze security --offline=yes rates each at most 4.0.
assert_exposure() {
    local u score
    for u in "$@"; do
        score=$(systemd-analyze security --offline=yes "$u" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        [ -n "$score" ] || fail "$u: no score"
        echo "# $(basename "$u"): $score" >&3
        awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }' || fail "$u: exposure $score > 4.0"
    done
}

# unit_failed_supported: does this ccci-alert know the unit-failed kind (another change adds it)?
unit_failed_supported() {
    CCCI_STATE=$SCRATCH/probe-state ccci-alert raise --app probe --kind unit-failed </dev/null >/dev/null 2>&1
}

# assert_unit_failed_raises HANDLER-UNIT FAILED-UNIT APP: run the handler's ExecStart as systemd
# would for FAILED-UNIT (%i, the MONITOR_* variables), with a journalctl stub, and find the
# unit-failed alert for APP with the unit's name and its journal tail.
assert_unit_failed_raises() {
    local cmd
    cmd=$(sed -n 's/^ExecStart=//p' "$1")
    cmd=${cmd%% %i}
    [ -x "$cmd" ] || fail "$1: ExecStart $cmd is not executable"
    unit_failed_supported || skip "this ccci-alert has no unit-failed kind yet (it comes with the alert change in this round)"
    mkdir -p "$SCRATCH/jbin"
    cat >"$SCRATCH/jbin/journalctl" <<'SH'
#!/bin/sh
case " $* " in *" _SYSTEMD_INVOCATION_ID=0123abcd "*) ;; *) exit 1 ;; esac
printf 'ccci-sweep: starting\n{"error":{"prog":"ccci-sweep","code":"unavailable","exit":69,"message":"abra is not on PATH"}}\n'
SH
    chmod 0755 "$SCRATCH/jbin/journalctl"
    PATH=$SCRATCH/jbin:$PATH MONITOR_SERVICE_RESULT=exit-code MONITOR_EXIT_CODE=exited MONITOR_EXIT_STATUS=69 \
        MONITOR_INVOCATION_ID=0123abcd run -0 "$cmd" "$2" </dev/null
    run -0 ccci-alert list
    jq -se --arg app "$3" --arg unit "$2" 'map(select(.kind == "unit-failed" and .app == $app)) | length == 1 and
        (.[0].details.unit == $unit) and (.[0].details.exit_status == "69") and
        (.[0].details.journal | length == 2 and (.[1] | contains("abra is not on PATH")))' <<<"$output"
}
