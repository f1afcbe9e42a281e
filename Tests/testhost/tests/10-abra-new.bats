#!/usr/bin/env bats
# abra app new / app ls / recipe commands of the stand-in, against contracts/abra.md.

load ../lib/testhost

setup_file() { testhost_setup_file --private custom-html keycloak; }
teardown() { testhost_teardown; }

@test "app new writes the env file from .env.sample, pinned to the latest version" {
	run --separate-stderr th_new_app custom-html
	assert_success
	local domain=$output f
	f=$(th_env_file "$domain")
	run grep -E '^(TYPE|DOMAIN|PORT|TIMEOUT)=' "$f"
	assert_line "TYPE=custom-html:1.1.0+1.28.0"
	assert_line "DOMAIN=$domain"
	assert_line --regexp '^PORT=[0-9]+$'
	assert_line "TIMEOUT=20"
	assert_equal "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" '\n'
}

@test "app new with a version pins that version" {
	run --separate-stderr th_new_app custom-html 1.0.0+1.27.0
	assert_success
	run grep '^TYPE=' "$(th_env_file "$output")"
	assert_output "TYPE=custom-html:1.0.0+1.27.0"
}

@test "app new refuses an existing app, an unknown recipe, server, version or no domain (FATA, exit 1)" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	run abra app new custom-html -s default -D "$domain" -n -o
	assert_failure 1
	assert_line --regexp '^FATA .*already exists'
	run abra app new no-such-recipe -s default -D "$(th_domain)" -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
	run abra app new custom-html -s no-such-server -D "$(th_domain)" -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
	run abra app new custom-html 9.9.9+9 -s default -D "$(th_domain)" -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
	run abra app new custom-html -s default -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
}

@test "FATA lines go to stdout, nothing to stderr" {
	run --separate-stderr abra app deploy "no-such-app.$CCCI_BASE_DOMAIN" -n -o
	assert_failure 1
	assert_line --regexp '^FATA '
	# shellcheck disable=SC2154
	assert_equal "$stderr" ""
}

@test "app new never glues a line onto a .env.sample without a trailing newline" {
	printf 'TYPE=custom-html\nDOMAIN=x\n# last comment, no newline' >"$ABRA_DIR/recipes/custom-html/.env.sample"
	(cd "$ABRA_DIR/recipes/custom-html" && git commit -qam "no trailing newline" && git tag -a -m x 1.2.0+1.28.0)
	run --separate-stderr th_new_app custom-html
	assert_success
	run cat "$(th_env_file "$output")"
	assert_line "# last comment, no newline"
	th_recipe custom-html
}

@test "app new -S generates the recipe's secrets as <stack>_<secret>_<version>" {
	run --separate-stderr th_new_app keycloak -S
	assert_success
	local domain=$output
	run docker secret ls --format '{{.Name}}'
	assert_line "$(th_stack "$domain")_admin_password_v1"
}

@test "app ls -S -m has the documented shape, every app field a string" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	run --separate-stderr abra app ls -S -m -n
	assert_success
	run jq -e --arg d "$domain" '
		.default.apps | map(select(.domain == $d)) | .[0]
		| (keys == (["appName","chaos","chaosVersion","domain","recipe","server","status","upgrade","version"]))
		  and ([.[] | type] | unique == ["string"])
		  and .status == "undeployed" and .recipe == "custom-html" and .server == "default"' <<<"$output"
	assert_success
	run jq -e '.default | has("apps") and has("appCount")' <<<"$(abra app ls -S -m -n)"
	assert_success
}

@test "app ls -m without -S leaves status and version empty" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	run --separate-stderr abra app ls -m -n
	run jq -e --arg d "$domain" '.default.apps[] | select(.domain == $d) | .status == "" and .version == ""' <<<"$output"
	assert_success
}

@test "recipe versions -m prints one JSON array per version; tags are annotated with release notes" {
	run --separate-stderr abra recipe versions custom-html -m -n -o
	assert_success
	assert_equal "${#lines[@]}" 3
	run jq -e -s 'map(.[0].version) == ["1.0.0+1.27.0","1.0.1+1.27.0","1.1.0+1.28.0"]' <<<"$output"
	assert_success
	run git -C "$ABRA_DIR/recipes/custom-html" for-each-ref refs/tags --format '%(objecttype)'
	refute_output --partial commit
	run git -C "$ABRA_DIR/recipes/custom-html" show 1.1.0+1.28.0:releaseNotes/1.1.0+1.28.0.md
	assert_success
}

@test "recipe fetch is a no-op offline; unknown recipes fail" {
	run abra recipe fetch custom-html -n
	assert_success
	run abra recipe fetch no-such-recipe -n
	assert_failure 1
	assert_line --regexp '^FATA '
}

@test "without -o a recipe whose origin is unreachable fails to fetch" {
	git -C "$ABRA_DIR/recipes/custom-html" remote add origin "$BATS_TEST_TMPDIR/nowhere.git"
	run abra app new custom-html -s default -D "$(th_domain)" -n
	assert_failure 1
	assert_line --regexp '^FATA unable to fetch'
	run --separate-stderr th_new_app custom-html -o
	assert_success
	th_recipe custom-html
}

@test "a call without -n cannot prompt and fails" {
	run --separate-stderr th_new_app custom-html
	local domain=$output
	run abra app remove "$domain" </dev/null
	assert_failure 1
	assert_line --regexp '^FATA '
}

@test "every call is logged to ABRA_DIR/.ccci-calls.jsonl" {
	abra app ls -n >/dev/null
	run jq -e -s 'last | .argv == ["app","ls","-n"] and .exit == 0' "$ABRA_DIR/.ccci-calls.jsonl"
	assert_success
}

@test "CCCI_ABRA_NEEDS_TTY=1 fails without a terminal and works under script -qec" {
	CCCI_ABRA_NEEDS_TTY=1 run abra app ls -n
	assert_failure 1
	assert_output "FATA inappropriate ioctl for device"
	CCCI_ABRA_NEEDS_TTY=1 run script -qec "abra app ls -n" /dev/null
	assert_success
	assert_line --partial SERVER
}
