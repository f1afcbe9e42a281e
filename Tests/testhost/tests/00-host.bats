#!/usr/bin/env bats
# The host itself: up prints its settings, reuses what runs, env exports them, router answers.

load ../lib/testhost

setup_file() { testhost_setup_file; }

@test "up prints one JSON object with the documented fields" {
	run --separate-stderr "$TESTHOST_DIR/up"
	assert_success
	local json=$output
	for field in docker_host path abra_dir router_url server base_domain root docker_volume_root; do
		run jq -e --arg f "$field" 'has($f) and (.[$f] | tostring | length > 0)' <<<"$json"
		assert_success
	done
}

@test "up reuses the running engine and router, well under 10 s" {
	local before after start
	before=$(jq -c '[.dockerd_pid, .router_pid]' "$CCCI_TESTHOST_ROOT/testhost.json")
	start=$SECONDS
	run --separate-stderr "$TESTHOST_DIR/up"
	assert_success
	((SECONDS - start < 10))
	after=$(jq -c '[.dockerd_pid, .router_pid]' <<<"$output")
	assert_equal "$after" "$before"
}

@test "env exports what a test needs and puts the abra stand-in first on PATH" {
	run --separate-stderr "$TESTHOST_DIR/env"
	assert_success
	for var in DOCKER_HOST PATH ABRA_DIR CCCI_ROUTER_URL CCCI_BASE_DOMAIN CCCI_TESTHOST_ROOT; do
		assert_line --regexp "^export $var="
	done
	eval "$output"
	assert_equal "$(command -v abra)" "$TESTHOST_DIR/bin/abra"
}

@test "the engine is a single-node swarm manager with the base image" {
	run docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Driver}}'
	assert_success
	assert_output "active true vfs"
	run docker image inspect localhost/ccci/busybox:1
	assert_success
}

@test "the router answers 404 for a host nobody serves" {
	run th_code "nobody-$RANDOM.$CCCI_BASE_DOMAIN" /
	assert_output 404
}

@test "the router lists its routes as JSON" {
	run curl -fsS "$CCCI_ROUTER_URL/_router/routes"
	assert_success
	run jq -e '.routes | type == "array"' <<<"$output"
	assert_success
}

@test "up fails with a clear message when the engine does not come up" {
	local root fake
	root=$(mktemp -d /tmp/ccci-fail.XXXXXX)
	fake=$BATS_TEST_TMPDIR/fakebin
	mkdir -p "$fake"
	printf '#!/bin/sh\necho "dockerd: cannot start (test)" >&2\nexit 1\n' >"$fake/dockerd"
	chmod +x "$fake/dockerd"
	PATH=$fake:$PATH CCCI_TESTHOST_ROOT=$root run --separate-stderr "$TESTHOST_DIR/up"
	assert_failure 1
	assert_output ""
	# shellcheck disable=SC2154
	[[ $stderr == *"the docker engine did not come up"* ]]
	[[ $stderr == *"dockerd: cannot start (test)"* ]]
	CCCI_TESTHOST_ROOT=$root "$TESTHOST_DIR/down" --purge 2>/dev/null
	rm -rf "$root"
}
