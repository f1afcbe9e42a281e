# shellcheck shell=bash disable=SC2034
# common.sh: paths and process checks shared by up, down and env (sourced, bash).
#
# Everything the test host owns lives under one root (default /tmp/ccci-testhost; keep it
# short: dockerd, containerd and swarm put unix sockets under it, and those are limited to
# 108 bytes):
#
#   ROOT/docker.sock  dockerd.pid  dockerd.log  daemon.json   the engine
#   ROOT/data/                    dockerd --data-root (images, volumes, swarm state)
#   ROOT/exec/                    dockerd --exec-root (containerd socket, runtime state)
#   ROOT/router.pid  router.log  router.port  routes.d/       the traefik stand-in
#   ROOT/abra/                    ABRA_DIR for the abra stand-in (servers/, recipes/)
#   ROOT/testhost.json            the settings `up` printed last
#
# A pid file is trusted only when /proc/PID/cmdline still names this root, so a recycled pid
# is never signalled.

TH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TH_ROOT=${CCCI_TESTHOST_ROOT:-/tmp/ccci-testhost}
TH_ROOT=${TH_ROOT%/}
TH_SOCK=$TH_ROOT/docker.sock
TH_DOCKER_HOST=unix://$TH_SOCK
TH_SERVER=${CCCI_TESTHOST_SERVER:-default}
TH_BASE_DOMAIN=${CCCI_TESTHOST_BASE_DOMAIN:-test.local}
TH_IMAGE=localhost/ccci/busybox:1
# one cgroup parent per root: `down` finds every container process through it
TH_CGROUP=ccci-testhost-$(printf '%s' "$TH_ROOT" | sha256sum | cut -c1-8)

th_log() { printf 'testhost: %s\n' "$*" >&2; }
th_die() { printf 'testhost: %s\n' "$*" >&2; exit 1; }

# th_docker ARGS...: the system docker CLI, pointed at our engine
th_docker() { DOCKER_HOST=$TH_DOCKER_HOST "${CCCI_DOCKER:-docker}" "$@"; }

# th_pid_alive PID WORD: true if PID runs, is not a zombie, and its argv holds WORD
th_pid_alive() {
	local pid=$1 word=$2 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ $state != Z && $state != X ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$word"
}

# th_pidfile_alive FILE WORD: print the pid in FILE if th_pid_alive
th_pidfile_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	th_pid_alive "$pid" "$2" || return 1
	printf '%s\n' "$pid"
}

# th_wait_gone PID SECONDS: wait for PID to exit (or become a zombie)
th_wait_gone() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		th_pid_alive "$pid" "" || return 0
		sleep 0.1
	done
	return 1
}

# th_stop PID WORD: SIGTERM, wait up to 30 s, then SIGKILL; only if PID still is ours
th_stop() {
	local pid=$1 word=$2
	th_pid_alive "$pid" "$word" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	th_wait_gone "$pid" "${3:-30}" && return 0
	th_log "pid $pid ignored SIGTERM; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	th_wait_gone "$pid" 5 || th_log "pid $pid survived SIGKILL"
}

th_check_root() {
	[[ $TH_ROOT == /* ]] || th_die "CCCI_TESTHOST_ROOT must be an absolute path: '$TH_ROOT'"
	# longest socket under the root: exec/containerd/containerd.sock.ttrpc
	((${#TH_ROOT} + 40 <= 107)) || th_die "root '$TH_ROOT' is too long for unix socket paths (max $((107 - 40)) bytes)"
}
