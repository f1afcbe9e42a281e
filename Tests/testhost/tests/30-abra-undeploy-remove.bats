#!/usr/bin/env bats
# abra app undeploy / app remove: the moby #29293 race, volumes kept on undeploy, removed on remove.

load ../lib/testhost

setup_file() { testhost_setup_file --private custom-html twovol keycloak; }
teardown() { testhost_teardown; }

@test "undeploy returns while the stack's containers still exist; they go away later" {
	run --separate-stderr th_new_app custom-html
	local domain=$output stack
	stack=$(th_stack "$domain")
	abra app deploy "$domain" -n -o >/dev/null
	run abra app undeploy "$domain" -n
	assert_success
	# right after: no service any more, but the container is still there (docker stack rm
	# does not wait for swarm to remove tasks)
	run docker service ls -q --filter "label=com.docker.stack.namespace=$stack"
	assert_output ""
	run th_containers "$stack"
	refute_output 0
	th_wait_gone "$stack" 60
	run th_containers "$stack"
	assert_output 0
}

@test "undeploy of an app that is not deployed fails with FATA" {
	run --separate-stderr th_new_app custom-html
	run abra app undeploy "$output" -n
	assert_failure 1
	assert_line --regexp '^FATA '
}

@test "volumes survive undeploy, the data comes back on redeploy, and die on remove" {
	run --separate-stderr th_new_app twovol
	local domain=$output stack
	stack=$(th_stack "$domain")
	abra app deploy "$domain" -n -o >/dev/null
	th_wait_code "$domain" /content/index.html 200
	echo "marker $domain" >"$(th_volume_path "${stack}_content")/marker.txt"
	echo "db row 1" >"$(th_volume_path "${stack}_db")/rows.txt"
	abra app undeploy "$domain" -n >/dev/null
	th_wait_gone "$stack"
	run docker volume ls -q --filter "label=com.docker.stack.namespace=$stack"
	assert_line "${stack}_content"
	assert_line "${stack}_db"
	abra app deploy "$domain" -n -o >/dev/null
	th_wait_code "$domain" /content/marker.txt 200
	run th_http "$domain" /content/marker.txt
	assert_output "marker $domain"
	run th_http "$domain" /db/rows.txt
	assert_output "db row 1"
	abra app undeploy "$domain" -n >/dev/null
	th_wait_gone "$stack"
	run abra app remove "$domain" -f -n
	assert_success
	run docker volume ls -q --filter "label=com.docker.stack.namespace=$stack"
	assert_output ""
	assert [ ! -e "$(th_env_file "$domain")" ]
}

@test "remove is refused while deployed" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	abra app deploy "$domain" -n -o -c >/dev/null
	run abra app remove "$domain" -f -n
	assert_failure 1
	assert_line --regexp '^FATA .*still deployed'
	assert [ -e "$(th_env_file "$domain")" ]
}

@test "remove right after undeploy fails while containers still hold the volume" {
	run --separate-stderr th_new_app custom-html
	local domain=$output stack
	stack=$(th_stack "$domain")
	abra app deploy "$domain" -n -o >/dev/null
	abra app undeploy "$domain" -n >/dev/null
	run abra app remove "$domain" -f -n
	assert_failure 1
	assert_line --regexp '^FATA .*in use'
	assert [ -e "$(th_env_file "$domain")" ]
	th_wait_gone "$stack"
	run abra app remove "$domain" -f -n
	assert_success
}

@test "remove deletes the app's secrets and env file" {
	run --separate-stderr th_new_app keycloak -S
	local domain=$output stack
	stack=$(th_stack "$domain")
	run docker secret ls --format '{{.Name}}'
	assert_line "${stack}_admin_password_v1"
	run abra app remove "$domain" -f -n
	assert_success
	run docker secret ls --format '{{.Name}}'
	refute_output --partial "${stack}_admin_password_v1"
	assert [ ! -e "$(th_env_file "$domain")" ]
}
