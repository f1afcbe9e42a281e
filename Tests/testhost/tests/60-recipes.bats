#!/usr/bin/env bats
# recipes/make and recipes/release: test recipes as real git repositories with annotated tags.

load ../lib/testhost

setup_file() { testhost_setup_file --private; }

repo() { printf '%s/recipes/%s\n' "$ABRA_DIR" "$1"; }

@test "make builds every recipe as a git repo with annotated release tags, notes, compose.yml and .env.sample" {
	run th_recipe --all
	assert_success
	local r
	for r in $("$TESTHOST_DIR/recipes/make" --list); do
		assert [ -f "$(repo "$r")/compose.yml" ]
		assert [ -f "$(repo "$r")/.env.sample" ]
		run git -C "$(repo "$r")" for-each-ref refs/tags --format '%(objecttype) %(refname:short)'
		refute_output ""
		refute_line --regexp '^commit '
		local v
		for v in $(git -C "$(repo "$r")" tag); do
			[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+\+.+$ ]]
			git -C "$(repo "$r")" cat-file -e "$v:releaseNotes/$v.md"
		done
	done
}

@test "make gives a fresh copy: local tags and changes are gone" {
	th_recipe custom-html
	th_release custom-html 9.0.0+9 --notes "major"
	echo dirt >>"$(repo custom-html)/compose.yml"
	th_recipe custom-html
	run git -C "$(repo custom-html)" tag
	refute_line 9.0.0+9
	run git -C "$(repo custom-html)" status --porcelain
	assert_output ""
}

@test "release adds an annotated tag on main with its notes, the version label bumped" {
	th_recipe custom-html
	run th_release custom-html 1.2.0+1.29.0 --notes "Needs a manual migration: run the thing."
	assert_success
	assert_output --regexp '^[0-9a-f]{40}$'
	run git -C "$(repo custom-html)" cat-file -t 1.2.0+1.29.0
	assert_output tag
	run git -C "$(repo custom-html)" show 1.2.0+1.29.0:releaseNotes/1.2.0+1.29.0.md
	assert_output "Needs a manual migration: run the thing."
	run git -C "$(repo custom-html)" show 1.2.0+1.29.0:compose.yml
	assert_line --partial 'coop-cloud.${STACK_NAME}.version=1.2.0+1.29.0'
	assert_line --partial 'APP_VERSION=1.2.0+1.29.0'
}

@test "release stages broken, crash-looping and migrating versions" {
	th_recipe custom-html
	th_release custom-html 1.1.1+1.28.0 --broken
	th_release custom-html 1.1.2+1.28.0 --mode crashloop
	th_release custom-html 1.1.3+1.28.0 --schema 2 --env APP_START_DELAY=0
	run git -C "$(repo custom-html)" show 1.1.1+1.28.0:compose.yml
	assert_line --partial 'image: localhost/ccci/missing:1'
	run git -C "$(repo custom-html)" show 1.1.2+1.28.0:compose.yml
	assert_line --partial 'APP_MODE=crashloop'
	run git -C "$(repo custom-html)" show 1.1.3+1.28.0:compose.yml
	assert_line --partial 'APP_SCHEMA=2'
}

@test "release --lightweight, --untagged, --at and --legacy-notes" {
	th_recipe custom-html
	th_release custom-html 1.2.0+1.28.0 --lightweight
	run git -C "$(repo custom-html)" cat-file -t 1.2.0+1.28.0
	assert_output commit
	run th_release custom-html --untagged --mode crashloop
	assert_success
	assert_equal "$(git -C "$(repo custom-html)" rev-parse HEAD)" "$output"
	run git -C "$(repo custom-html)" tag --points-at HEAD
	assert_output ""
	th_release custom-html 1.0.9+1.27.0 --at 1.0.0+1.27.0
	assert_equal "$(git -C "$(repo custom-html)" rev-parse '1.0.9+1.27.0^{commit}')" \
		"$(git -C "$(repo custom-html)" rev-parse '1.0.0+1.27.0^{commit}')"
	th_release custom-html 1.3.0+1.30.0 --legacy-notes "old style"
	run git -C "$(repo custom-html)" show 1.3.0+1.30.0:release/1.3.0+1.30.0
	assert_output "old style"
}

@test "release refuses a dirty tree, an existing tag and unknown options" {
	th_recipe custom-html
	run th_release custom-html 1.0.0+1.27.0
	assert_failure
	run th_release custom-html 1.5.0+1 --frobnicate
	assert_failure
	echo dirt >>"$(repo custom-html)/README.md"
	run th_release custom-html 1.5.0+1
	assert_failure
	th_recipe custom-html
}
