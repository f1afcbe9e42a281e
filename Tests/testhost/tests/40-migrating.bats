#!/usr/bin/env bats
# The migrating recipe really changes its volume's data on upgrade, so a rollback needs the data.

load ../lib/testhost

setup_file() { testhost_setup_file --private migrating; }
teardown() { testhost_teardown; }

@test "an upgrade migrates the volume; the old version refuses the new data; restored data brings it back" {
	run --separate-stderr th_new_app migrating 1.0.0+1.0
	local domain=$output stack vol saved=$BATS_TEST_TMPDIR/saved
	stack=$(th_stack "$domain")
	abra app deploy "$domain" -n -o >/dev/null
	th_wait_code "$domain" /content/schema 200
	run th_http "$domain" /content/schema
	assert_output 1
	vol=$(th_volume_path "${stack}_content")

	# a known-good copy of the volume, taken while undeployed
	abra app undeploy "$domain" -n >/dev/null
	th_wait_gone "$stack"
	cp -a "$vol/." "$saved"

	run abra app deploy "$domain" 1.1.0+1.1 -n -o
	assert_success
	run th_http "$domain" /content/schema
	assert_output 2
	run th_http "$domain" /
	assert_line "migrated to schema 2 by 1.1.0+1.1"
	run cat "$vol/schema"
	assert_output 2

	# a version-only rollback: 1.0.0 will not start on schema-2 data
	abra app undeploy "$domain" -n >/dev/null
	th_wait_gone "$stack"
	th_set_env "$domain" TIMEOUT 8
	run abra app deploy "$domain" 1.0.0+1.0 -n -o
	assert_failure 1
	assert_line --regexp '^FATA deploy (timed out|failed)'
	run docker service logs "${stack}_app"
	assert_output --partial "refusing to start"

	# restore the data, then the old version serves the old content again
	abra app undeploy "$domain" -n >/dev/null
	th_wait_gone "$stack"
	find "$vol" -mindepth 1 -delete
	cp -a "$saved/." "$vol"
	run abra app deploy "$domain" 1.0.0+1.0 -n -o
	assert_success
	run th_http "$domain" /content/schema
	assert_output 1
	run th_http "$domain" /
	refute_output --partial migrated
}

@test "1.2.0 converts the data and then crash-loops: deployed, unhealthy, data changed" {
	run --separate-stderr th_new_app migrating 1.1.0+1.1
	local domain=$output stack
	stack=$(th_stack "$domain")
	abra app deploy "$domain" -n -o >/dev/null
	th_wait_code "$domain" /content/schema 200
	run abra app deploy "$domain" 1.2.0+1.2 -f -n -o
	assert_success
	run th_code "$domain" /health
	assert_output --regexp '^50[23]$'
	run cat "$(th_volume_path "${stack}_content")/schema"
	assert_output 3
}
