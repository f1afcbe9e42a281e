# shellcheck shell=bash
# testhost.bash: bats helpers for tests that run on the ci-warm test host.
#
#   load "$BATS_TEST_DIRNAME/../lib/testhost"      (or the path from Tests/testhost)
#
#   setup_file()    { testhost_setup_file; }           # up (or reuse) + exports, once per file
#   setup_file()    { testhost_setup_file --private custom-html; }   # + a private ABRA_DIR
#   teardown()      { testhost_teardown; }             # removes the apps th_new_app made
#
# testhost_setup_file exports what `Tests/testhost/env` prints (DOCKER_HOST, PATH with the abra
# stand-in first, ABRA_DIR, CCCI_ROUTER_URL, CCCI_BASE_DOMAIN, CCCI_TESTHOST_*). With
# --private RECIPE..., ABRA_DIR becomes a fresh directory of this test file holding its own
# copies of those recipes, so tests that tag or dirty a recipe never disturb anyone else
# sharing the host. Loads bats-support and bats-assert (Debian's /usr/lib/bats).

TESTHOST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TESTHOST_DIR
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

testhost_setup_file() {
	local exports
	exports=$("$TESTHOST_DIR/env") || return 1
	eval "$exports"
	if [[ ${1:-} == --private ]]; then
		shift
		testhost_private_abra_dir "$@"
	fi
}

# testhost_private_abra_dir RECIPE...: a fresh ABRA_DIR for this test file (exported)
testhost_private_abra_dir() {
	local dir=$BATS_FILE_TMPDIR/abra server=${CCCI_TESTHOST_SERVER:-default}
	rm -rf "$dir"
	mkdir -p "$dir/servers/$server" "$dir/recipes"
	printf '%s\n' "$DOCKER_HOST" >"$dir/servers/$server/.docker_host"
	export ABRA_DIR=$dir
	(($#)) && "$TESTHOST_DIR/recipes/make" --abra-dir "$dir" "$@"
	return 0
}

# th_recipe RECIPE...: fresh copies of test recipes in $ABRA_DIR (see recipes/make)
th_recipe() { "$TESTHOST_DIR/recipes/make" --abra-dir "$ABRA_DIR" "$@"; }

# th_release RECIPE VERSION [options]: a new release of a recipe in $ABRA_DIR (recipes/release)
th_release() { "$TESTHOST_DIR/recipes/release" --abra-dir "$ABRA_DIR" "$@"; }

# th_domain [PREFIX]: a domain no other test uses
th_domain() {
	printf '%s-%s.%s\n' "${1:-t}" "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')" "${CCCI_BASE_DOMAIN:-test.local}"
}

# th_stack DOMAIN: the stack name abra gives DOMAIN
th_stack() { local s=${1//./_}; printf '%s\n' "${s:0:45}"; }

# th_env_file DOMAIN: the app's env file
th_env_file() { printf '%s/servers/%s/%s.env\n' "$ABRA_DIR" "${CCCI_TESTHOST_SERVER:-default}" "$1"; }

# th_set_env DOMAIN KEY VALUE: set KEY=VALUE in the app's env file
th_set_env() {
	local f
	f=$(th_env_file "$1")
	if grep -q "^$2=" "$f"; then
		sed -i "s|^$2=.*|$2=$3|" "$f"
	else
		printf '%s=%s\n' "$2" "$3" >>"$f"
	fi
}

# th_track DOMAIN: remove this app (stack, volumes, secrets, env file) in testhost_teardown
th_track() { printf '%s\n' "$1" >>"$BATS_TEST_TMPDIR/.th-apps"; }

# th_new_app RECIPE [VERSION] [abra flags...]: `abra app new` on a fresh domain; prints it
th_new_app() {
	local recipe=$1 domain
	shift
	domain=$(th_domain "${recipe:0:10}")
	th_track "$domain"
	abra app new "$recipe" "$@" -s "${CCCI_TESTHOST_SERVER:-default}" -D "$domain" -n >&2 || return 1
	printf '%s\n' "$domain"
}

# th_http DOMAIN [PATH] [curl args...]: the body of DOMAIN's PATH through the router
th_http() {
	local domain=$1 path=${2:-/}
	shift $(($# < 2 ? $# : 2))
	curl -sS --max-time 10 -H "Host: $domain" "$@" "$CCCI_ROUTER_URL$path"
}

# th_code DOMAIN [PATH]: the HTTP status of DOMAIN's PATH through the router
th_code() { th_http "$1" "${2:-/}" -o /dev/null -w '%{http_code}'; }

# th_wait_code DOMAIN PATH CODE [SECONDS]: until the router answers CODE (default 30 s)
th_wait_code() {
	local i code
	for ((i = 0; i < ${4:-30} * 4; i++)); do
		code=$(th_code "$1" "$2")
		[[ $code == "$3" ]] && return 0
		sleep 0.25
	done
	echo "th_wait_code: $1$2 still answers $code, not $3" >&2
	return 1
}

# th_containers STACK: how many containers carry the stack's label
th_containers() {
	docker ps -aq --filter "label=com.docker.stack.namespace=$1" | wc -l
}

# th_wait_gone STACK [SECONDS]: until no service, container or network carries the stack label
th_wait_gone() {
	local i
	for ((i = 0; i < ${2:-60} * 4; i++)); do
		if [[ -z $(docker service ls -q --filter "label=com.docker.stack.namespace=$1") &&
			-z $(docker ps -aq --filter "label=com.docker.stack.namespace=$1") &&
			-z $(docker network ls -q --filter "label=com.docker.stack.namespace=$1") ]]; then
			return 0
		fi
		sleep 0.25
	done
	echo "th_wait_gone: stack $1 still has objects" >&2
	return 1
}

# th_volume_path VOLUME: where docker keeps the volume's data
th_volume_path() { docker volume inspect -f '{{.Mountpoint}}' "$1"; }

# th_cleanup_app DOMAIN: remove an app without abra (for teardown): stack, containers,
# volumes, secrets and env file, whatever state it is in
th_cleanup_app() {
	local domain=$1 stack i
	stack=$(th_stack "$domain")
	docker stack rm "$stack" >/dev/null 2>&1 || true
	for ((i = 0; i < 40; i++)); do
		[[ -z $(docker service ls -q --filter "label=com.docker.stack.namespace=$stack") ]] && break
		sleep 0.25
	done
	docker ps -aq --filter "label=com.docker.stack.namespace=$stack" | xargs -r docker rm -f >/dev/null 2>&1 || true
	for ((i = 0; i < 40; i++)); do
		docker volume ls -q --filter "label=com.docker.stack.namespace=$stack" |
			xargs -r docker volume rm >/dev/null 2>&1 || true
		[[ -z $(docker volume ls -q --filter "label=com.docker.stack.namespace=$stack") ]] && break
		docker ps -aq --filter "label=com.docker.stack.namespace=$stack" | xargs -r docker rm -f >/dev/null 2>&1 || true
		sleep 0.25
	done
	docker secret ls --format '{{.Name}}' | grep "^${stack}_" | xargs -r docker secret rm >/dev/null 2>&1 || true
	rm -f "$(th_env_file "$domain")"
}

testhost_teardown() {
	local domain
	[[ -f $BATS_TEST_TMPDIR/.th-apps ]] || return 0
	while read -r domain; do
		th_cleanup_app "$domain"
	done <"$BATS_TEST_TMPDIR/.th-apps"
	rm -f "$BATS_TEST_TMPDIR/.th-apps"
}
