#!/usr/bin/env bats
# Done means: a host of its own comes up, an app is created, deployed, read through the router,
# undeployed (the race observed), removed, and the host is torn down with nothing left running.

load ../lib/testhost

setup_file() {
	E2E_ROOT=$(mktemp -d /tmp/ccci-e2e.XXXXXX)
	export E2E_ROOT
}

teardown_file() {
	CCCI_TESTHOST_ROOT=$E2E_ROOT "$TESTHOST_DIR/down" --purge 2>/dev/null || true
	rm -rf "$E2E_ROOT"
}

# running PID: the process exists and is not a zombie (this machine's init reaps lazily)
running() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z ]]
}

@test "up, app new, deploy, read over HTTP via the router, undeploy with the race, remove, down" {
	export CCCI_TESTHOST_ROOT=$E2E_ROOT
	local start=$SECONDS json
	run --separate-stderr "$TESTHOST_DIR/up"
	assert_success
	json=$output
	echo "# first up took $((SECONDS - start)) s" >&3
	((SECONDS - start < 60))
	eval "$("$TESTHOST_DIR/env" 2>/dev/null)"
	assert_equal "$DOCKER_HOST" "$(jq -r .docker_host <<<"$json")"
	assert_equal "$ABRA_DIR" "$E2E_ROOT/abra"

	local domain stack
	domain=$(th_domain e2e)
	stack=$(th_stack "$domain")
	run abra app new custom-html -s "$CCCI_TESTHOST_SERVER" -D "$domain" -n -o
	assert_success
	run abra app deploy "$domain" -n -o
	assert_success
	run th_http "$domain" /
	assert_output "custom-html content for $domain, seeded by 1.1.0+1.28.0"

	run abra app undeploy "$domain" -n
	assert_success
	run th_containers "$stack"
	refute_output 0
	th_wait_gone "$stack" 60

	run abra app remove "$domain" -f -n
	assert_success
	run docker volume ls -q --filter "label=com.docker.stack.namespace=$stack"
	assert_output ""

	local dockerd_pid router_pid
	dockerd_pid=$(jq -r .dockerd_pid <<<"$json")
	router_pid=$(jq -r .router_pid <<<"$json")
	run "$TESTHOST_DIR/down" --purge
	assert_success
	refute running "$dockerd_pid"
	refute running "$router_pid"
	local pid left=()
	for pid in $(grep -lsF -- "$E2E_ROOT" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		running "$pid" && left+=("$pid")
	done
	assert_equal "${left[*]}" ""
	assert [ ! -e "$E2E_ROOT" ]
}
