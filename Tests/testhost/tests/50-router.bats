#!/usr/bin/env bats
# The traefik stand-in: routes by Host from swarm service labels, 404/502/503 like traefik,
# static routes (ROOT/routes.d) for backends that are not swarm services.

load ../lib/testhost

setup_file() { testhost_setup_file --private custom-html; }

setup() {
	ROUTE_FILES=()
	BACKEND_PID=
}

teardown() {
	local f
	for f in "${ROUTE_FILES[@]+"${ROUTE_FILES[@]}"}"; do rm -f "$f"; done
	[[ -n $BACKEND_PID ]] && kill "$BACKEND_PID" 2>/dev/null
	testhost_teardown
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# static_route HOST BACKEND [STACK]
static_route() {
	local f=$CCCI_TESTHOST_ROOT/routes.d/test-$BATS_TEST_NUMBER-$$.json
	jq -n --arg h "$1" --arg b "$2" --arg s "${3:-}" \
		'{host: $h, backend: $b} + (if $s == "" then {} else {stack: $s} end)' >"$f"
	ROUTE_FILES+=("$f")
	sleep 1.2 # the router rebuilds its table at most every second
}

# backend DIR: busybox httpd serving DIR on a free port (sets BACKEND_PORT, BACKEND_PID)
backend() {
	BACKEND_PORT=$(free_port)
	busybox httpd -f -p "127.0.0.1:$BACKEND_PORT" -h "$1" </dev/null >/dev/null 2>&1 &
	BACKEND_PID=$!
}

@test "routes by Host header and as a plain HTTP proxy; the route goes away after undeploy" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	abra app deploy "$domain" -n -o >/dev/null
	run th_http "$domain" /version
	assert_output 1.1.0+1.28.0
	run curl -sS -x "$CCCI_ROUTER_URL" "http://$domain/version"
	assert_output 1.1.0+1.28.0
	run curl -sS "$CCCI_ROUTER_URL/_router/routes"
	run jq -r --arg d "$domain" '.routes[] | select(.host == $d) | .kind' <<<"$output"
	assert_output label
	abra app undeploy "$domain" -n >/dev/null
	th_wait_code "$domain" / 404 10
}

@test "503 when the service has no running task" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	abra app deploy "$domain" -n -o >/dev/null
	docker service scale -d "$(th_stack "$domain")_app=0" >/dev/null
	th_wait_code "$domain" / 503 20
}

@test "502 when the backend refuses the connection" {
	local host port
	host=$(th_domain static)
	port=$(free_port)
	static_route "$host" "http://127.0.0.1:$port"
	run th_code "$host" /
	assert_output 502
}

@test "a static route proxies to a host process, path intact" {
	local host dir=$BATS_TEST_TMPDIR/www
	host=$(th_domain static)
	mkdir -p "$dir/realms"
	echo '{"realm":"master"}' >"$dir/realms/master"
	backend "$dir"
	static_route "$host" "http://127.0.0.1:$BACKEND_PORT"
	run th_http "$host" /realms/master
	assert_output '{"realm":"master"}'
}

@test "a static route tied to a stack answers 503 unless the stack runs, and wins over labels" {
	run --separate-stderr th_new_app custom-html
	local domain=$output dir=$BATS_TEST_TMPDIR/www
	mkdir -p "$dir"
	echo "from the host process" >"$dir/index.html"
	backend "$dir"
	static_route "$domain" "http://127.0.0.1:$BACKEND_PORT" "$(th_stack "$domain")"
	run th_code "$domain" /
	assert_output 503
	abra app deploy "$domain" -n -o >/dev/null
	th_wait_code "$domain" / 200 10
	run th_http "$domain" /
	assert_output "from the host process"
}
