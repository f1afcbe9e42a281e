#!/usr/bin/env bats
# abra app deploy of the stand-in against the real swarm: success, and every failure case of
# contracts/abra.md exits 1 with a FATA line.

load ../lib/testhost

setup_file() { testhost_setup_file --private custom-html broken crashloop; }
teardown() { testhost_teardown; }

@test "deploy converges, rewrites TYPE and serves the volume through the router" {
	run --separate-stderr th_new_app custom-html 1.0.0+1.27.0
	local domain=$output
	run abra app deploy "$domain" -n -o
	assert_success
	refute_output --partial FATA
	run grep '^TYPE=' "$(th_env_file "$domain")"
	assert_output "TYPE=custom-html:1.0.0+1.27.0"
	run th_http "$domain" /
	assert_output "custom-html content for $domain, seeded by 1.0.0+1.27.0"
	run th_http "$domain" /version
	assert_output "1.0.0+1.27.0"
	run docker service inspect -f "{{index .Spec.Labels \"coop-cloud.$(th_stack "$domain").version\"}}" "$(th_stack "$domain")_app"
	assert_output "1.0.0+1.27.0"
}

@test "deploy refuses an app that is already deployed without -f; -f upgrades and rewrites TYPE" {
	run --separate-stderr th_new_app custom-html 1.0.0+1.27.0
	local domain=$output
	abra app deploy "$domain" -n -o -c
	run abra app deploy "$domain" -n -o
	assert_failure 1
	assert_line --regexp '^FATA .*already deployed'
	run abra app deploy "$domain" 1.1.0+1.28.0 -f -n -o
	assert_success
	run grep '^TYPE=' "$(th_env_file "$domain")"
	assert_output "TYPE=custom-html:1.1.0+1.28.0"
	th_wait_code "$domain" /version 200
	run th_http "$domain" /version
	assert_output "1.1.0+1.28.0"
}

@test "deploy refuses an unknown app and an unknown version" {
	run abra app deploy "nope.$CCCI_BASE_DOMAIN" -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
	run --separate-stderr th_new_app custom-html
	run abra app deploy "$output" 7.7.7+7 -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
}

@test "deploy refuses uncommitted recipe changes without -C; -C deploys the working tree as chaos" {
	run --separate-stderr th_new_app custom-html
	local domain=$output repo=$ABRA_DIR/recipes/custom-html
	git -C "$repo" checkout -q main
	sed -i 's/APP_MODE=healthy/APP_MODE=healthy\n      - APP_EXTRA=pr-head/' "$repo/compose.yml"
	run abra app deploy "$domain" -n -o
	assert_failure 1
	assert_line --regexp '^FATA .*unstaged changes'
	run abra app deploy "$domain" -n -o -C
	assert_success
	run --separate-stderr abra app ls -S -m -n
	run jq -r --arg d "$domain" '.default.apps[] | select(.domain == $d) | "\(.chaos) \(.chaosVersion)"' <<<"$output"
	assert_output --regexp '^true [0-9a-f]{8}\+U$'
	run grep '^TYPE=' "$(th_env_file "$domain")"
	assert_output "TYPE=custom-html:1.1.0+1.28.0"
	run abra app deploy "$domain" 1.0.0+1.27.0 -n -o -C
	assert_failure 1
	th_recipe custom-html
}

@test "lint R014: recipe lint exits 0 with the verdict in its table; deploy refuses" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	th_release custom-html 1.2.0+1.28.0 --lightweight --notes "a lightweight tag"
	run abra recipe lint custom-html -n -o
	assert_success
	assert_line --regexp '^R014 .*error +❌'
	run abra app deploy "$domain" -n -o
	assert_failure 1
	assert_line --regexp '^FATA .*R014'
	th_recipe custom-html
	run abra recipe lint custom-html -n -o
	assert_line --regexp '^R014 .*error +✅'
}

@test "a version whose image does not exist: FATA deploy timed out, the stack stays deployed" {
	run --separate-stderr th_new_app broken
	local domain=$output
	th_set_env "$domain" TIMEOUT 5
	run abra app deploy "$domain" -n -o
	assert_failure 1
	assert_line --regexp '^FATA deploy timed out'
	run docker service ls -q --filter "label=com.docker.stack.namespace=$(th_stack "$domain")"
	refute_output ""
	run grep '^TYPE=' "$(th_env_file "$domain")"
	assert_output "TYPE=broken:1.0.1+1.0"
	run th_code "$domain" /
	assert_output 503
}

@test "a crash-looping version deploys (exit 0) but never serves" {
	run --separate-stderr th_new_app crashloop
	local domain=$output
	run abra app deploy "$domain" -n -o
	assert_success
	run th_code "$domain" /health
	assert_output --regexp '^50[23]$'
}

@test "-c skips the converge wait" {
	run --separate-stderr th_new_app broken
	local domain=$output
	run abra app deploy "$domain" -n -o -c
	assert_success
	run abra app deploy "$domain" 1.0.0+1.0 -f -n -o
	assert_success
	th_wait_code "$domain" /health 200
}

@test "deploy without the recipe's secrets fails with FATA" {
	th_recipe keycloak
	run --separate-stderr th_new_app keycloak
	run abra app deploy "$output" -n -o
	assert_failure 1
	assert_line --regexp '^FATA .*secret'
}

@test "stack names are the domain with dots as underscores, cut to 45 characters" {
	local domain
	domain=a-very-long-name-$RANDOM-for-a-stack.sub.domain.$CCCI_BASE_DOMAIN
	th_track "$domain"
	abra app new custom-html -s default -D "$domain" -n -o >/dev/null
	run abra app deploy "$domain" -n -o -c
	assert_success
	local stack=${domain//./_}
	run docker service ls --format '{{.Name}}' --filter "label=com.docker.stack.namespace=${stack:0:45}"
	assert_output "${stack:0:45}_app"
}
