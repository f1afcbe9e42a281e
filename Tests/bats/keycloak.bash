# The Keycloak stand-in for a test file: started once per file, reset before each test.
#   setup_file: keycloak_start        teardown_file: keycloak_stop        setup: keycloak_env

STANDIN=$BATS_TEST_DIRNAME/../keycloak/keycloak-standin

# keycloak_start: the stand-in on a free loopback port, its admin password in $KC_DIR (0600).
keycloak_start() {
    KC_DIR=$(mktemp -d)
    export KC_DIR
    printf 'kc-%s\n' "$RANDOM$RANDOM" >"$KC_DIR/admin-password"
    chmod 600 "$KC_DIR/admin-password"
    "$STANDIN" --admin-password-file "$KC_DIR/admin-password" --port-file "$KC_DIR/port" 3>&- >/dev/null 2>&1 &
    echo $! >"$KC_DIR/pid"
    for _ in $(seq 100); do [ -f "$KC_DIR/port" ] && break; sleep 0.05; done
    [ -f "$KC_DIR/port" ]
}

# keycloak_stop: stopped by its pid, its directory removed.
keycloak_stop() {
    kill "$(cat "$KC_DIR/pid")" 2>/dev/null || true
    rm -rf "$KC_DIR"
}

# keycloak_env: KC, CCCI_KEYCLOAK_URL and the admin password file for the commands; a clean realm set.
keycloak_env() {
    KC=http://127.0.0.1:$(cat "$KC_DIR/port")
    export CCCI_KEYCLOAK_URL=$KC CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE=$KC_DIR/admin-password
    curl -sf -X POST "$KC/_standin/reset"
}
