# The fault-injection world, shared by Tests/fault/matrix and Tests/bats/porcelain-faults.bats:
# a shim directory first on PATH (Tests/fault/shim under every ccci-* command and jq), recording
# stand-ins for the platform plumbing (Tests/fault/model-plumbing), the real ccci-gate, ccci-lock
# and ccci-alert, and the porcelain from bin/. Source it from bash; it needs the built commands
# on PATH. `fault_world` builds it once; `fresh` gives a case a new model host, state root and
# fault log, then runs setup_<story>; `run_<story>` runs the porcelain.
# shellcheck shell=bash disable=SC2034

fault_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fault_repo=$(cd "$fault_here/../.." && pwd)

# fault_world WORK: the shims, the stubs, the real commands and the recipe clones under WORK.
fault_world() {
work=$1
here=$fault_here repo=$fault_repo
shims=$work/shims stubs=$work/stubs
mkdir -p "$shims" "$stubs"
for c in ccci-app ccci-health ccci-snap ccci-restore ccci-canon ccci-promote; do ln -s "$here/model-plumbing" "$stubs/$c"; done
for c in ccci-app ccci-health ccci-snap ccci-restore ccci-canon ccci-promote ccci-gate ccci-lock ccci-alert ccci-migrate \
    ccci-reconcile ccci-quick ccci-advance ccci-sweep jq; do ln -s "$here/shim" "$shims/$c"; done
export FAULT_SHIMS=$shims
real=$work/real
mkdir -p "$real"
local c r d shim
shim=$(readlink -f "$here/shim")
for c in "$shims"/*; do
    c=${c##*/}
    r=''
    # the first NAME on PATH that is not a fault shim (a caller may already run under shims)
    local IFS=:
    for d in $stubs $repo/bin $PATH; do
        if [ -x "$d/$c" ] && [ "$(readlink -f "$d/$c")" != "$shim" ]; then r=$d/$c; break; fi
    done
    unset IFS
    [ -n "$r" ] || { echo "fault_world: '$c' is not on PATH (build first)" >&2; return 69; }
    ln -s "$r" "$real/$c"
done
export FAULT_REAL=$real
# The recipe clones the gate reads release notes from (shared by every case, never written).
export ABRA_DIR=$work/abra
for r in kc ch; do
    d=$ABRA_DIR/recipes/$r
    mkdir -p "$d/releaseNotes"
    echo "routine release" >"$d/releaseNotes/1.0.1+1.md"
    git -C "$d" init -q -b main && git -C "$d" add -A &&
        git -C "$d" -c user.name=t -c user.email=t@t commit -qm notes || return 70
    # every version the stories offer is an annotated release tag, as abra's lint wants
    for v in 1.0.0+1 1.0.1+1 1.1.0+1 2.0.0+1 2.1.0+1; do
        git -C "$d" -c user.name=t -c user.email=t@t tag -a "$v" -m "$v" || return 70
    done
done
export PATH="$shims:$stubs:$repo/bin:$PATH"
export CCCI_LOCK_WAIT=5 CCCI_KILL_GRACE=1 CCCI_HEALTH_SCHEME=http
unset CCCI_HEALTH_ARGS CCCI_HELD_LOCKS CCCI_RECONCILE_LOCKED CCCI_QUICK_LOCKED CCCI_ADVANCE_LOCKED
}

# fresh: a new model host, state root and fault dir for one case.
fresh() {
    : "${story:?set story first}"
    case_dir=$work/case
    rm -rf "$case_dir"
    mkdir -p "$case_dir/model" "$case_dir/state" "$case_dir/fault"
    export FAULT_MODEL=$case_dir/model FAULT_DIR=$case_dir/fault CCCI_STATE=$case_dir/state
    M=$FAULT_MODEL
    setup_"${story%%:*}"
}

# --- stories: setup_X builds the world, run_X runs the porcelain, check_X judges the end.
app=kc
infra_versions() { printf '%s\n' 1.0.0+1 1.0.1+1 >"$M/kc.versions"; echo kc >"$M/kc.recipe"; touch "$M/kc.exists"; echo 1.0.0+1 >"$M/kc.deployed"; echo orig >"$M/kc.data"; }
setup_reconcile() {
    infra_versions
    case $story in *:unhealthy) touch "$M/kc.unhealthy.1.0.1+1" ;; esac
    case $story in reconcile:unhealthy) touch "$M/kc.migrates.1.0.1+1" ;; esac
    case $story in *:bootstrap) rm -f "$M/kc.exists" "$M/kc.deployed" ;; esac
    case $story in *:undeployable) touch "$M/kc.undeployable.1.0.1+1" ;; esac
}
setup_stateless() { setup_reconcile; }
run_reconcile() { ccci-reconcile kc --health-timeout 1 --deploy-timeout 1; }
run_stateless() { ccci-reconcile kc --stateless --health-timeout 1 --deploy-timeout 1; }
canonical() {
    printf '%s\n' 1.0.0+1 1.1.0+1 >"$M/ch.versions"; echo ch >"$M/ch.recipe"; touch "$M/ch.exists" "$M/ch.ref.pr-1"
    echo orig >"$M/ch.data"; echo "1.0.0+1|orig" >"$M/ch.snap"
    "$FAULT_REAL/jq" -cn '{app: "ch", recipe: "ch", domain: "warm-ch.test.local", version: "1.0.0+1", status: "idle"}' >"$M/ch.record"
    echo ch >"$case_dir/enrolled"
    export CCCI_ENROLLED=$case_dir/enrolled
}
setup_quick() {
    canonical
    case $story in *:unhealthy) touch "$M/ch.unhealthy.ref:pr-1" "$M/ch.migrates.ref:pr-1" ;; esac
}
test_cmd() { case $story in *:red) echo false ;; *) echo true ;; esac; }
run_quick() { ccci-quick ch --ref pr-1 --test "$(test_cmd)" --health-timeout 1 --deploy-timeout 1; }
setup_advance() {
    canonical
    case $story in *:unhealthy) touch "$M/ch.unhealthy.1.1.0+1" "$M/ch.migrates.1.1.0+1" ;; esac
}
run_advance() { ccci-advance ch --to 1.1.0+1 --health-timeout 1 --deploy-timeout 1; }
setup_sweep() {
    setup_advance
    infra_versions
    printf '["kc","--health-timeout","1"]\n' >"$case_dir/infra"
}
run_sweep() { ccci-sweep --test "$(test_cmd)" --infra-file "$case_dir/infra" --health-timeout 1 --deploy-timeout 1; }

