# Shared set-up for the porcelain tests on the test host: a private ABRA_DIR, a private state
# root per test, health checks routed through the test host's router.

porcelain_setup() {
    setup_scratch
    router_port=${CCCI_ROUTER_URL##*:}
    export CCCI_HEALTH_SCHEME=http
    export CCCI_HEALTH_ARGS="--connect-to ::127.0.0.1:$router_port --interval 0.5 --max-interval 2"
    export CCCI_LOCK_WAIT=600
}

porcelain_teardown() {
    testhost_teardown
    teardown_scratch
}

# new_app RECIPE VERSION: a fresh app of RECIPE deployed at VERSION on a new domain; sets D and A
new_app() {
    D=$(th_domain "${1:0:6}")
    th_track "$D"
    A=(--domain "$D" --recipe "$1")
    ccci-app new "$1" "${A[@]}" --set TIMEOUT=20 >/dev/null
    ccci-app deploy "$1" "$2" "${A[@]}" --timeout 120 >/dev/null
}

# content DOMAIN: the app's volume content through the router
content() { th_http "$1" /; }

# fault_shims COMMAND...: the fault shim (Tests/fault/shim) in front of each COMMAND, for a few
# representative faults on the real swarm; set FAULT_SPEC on the call under test.
fault_shims() {
    export FAULT_DIR=$SCRATCH/fault FAULT_SHIMS=$SCRATCH/shims
    mkdir -p "$FAULT_DIR" "$FAULT_SHIMS"
    local c
    for c in "$@"; do ln -sf "$REPO/Tests/fault/shim" "$FAULT_SHIMS/$c"; done
    PATH=$FAULT_SHIMS:$PATH
}
