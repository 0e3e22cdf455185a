#!/usr/bin/env bash
# Integration tests: run the real usbox binary as an unprivileged user.
#
#   tests/integration/run.sh BUILD/usbox
#
# As root (CI), it creates `usbox-test` (with one subordinate id range) and
# `usbox-nosub` (without), copies the binary and tests to a directory those
# users can read, and runs the suite as them.  As a normal user, it runs the
# suite as you (you need a range in /etc/subuid and /etc/subgid); the tests
# that need a second user are skipped then.
# Hosts without unprivileged user namespaces skip everything (exit 77), unless
# USBOX_MUST_WORK=1 or CI is set: then that is a failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$(readlink -f "${1:?usage: run.sh PATH/TO/usbox [HELPER...]}")
shift
must_work=${USBOX_MUST_WORK:-${CI:+1}}

skip_or_fail() {
	if [ -n "$must_work" ]; then echo "FAIL: $*" >&2; exit 1; fi
	echo "SKIP: $*" >&2; exit 77
}

. "$here/../users.sh"
. "$here/nethosts.sh"

stage=$(stage_dir) || exit 1
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/usbox"
install -m 0755 "$here/tests.sh" "$here/lib.sh" "$here/../images/make-fixtures.sh" "$stage/"
for f in "$here"/suite-*.sh; do [ -e "$f" ] && install -m 0755 "$f" "$stage/"; done
# the CI-runner driver (suite-ci.sh drives it as GitLab Runner would)
mkdir -m 0755 "$stage/gitlab-runner" && install -m 0755 "$here"/../../contrib/gitlab-runner/*.sh "$stage/gitlab-runner/"
mkdir -m 0755 "$stage/helpers"
for h in "$@"; do install -m 0755 "$h" "$stage/helpers/"; done

run_as() { # USER SUITE
	USBOX_ENV="USBOX=$stage/usbox HELPERS=$stage/helpers USBOX_MUST_WORK=$must_work" \
		as_user "$1" bash "$stage/tests.sh" "$2"
}

# The escape suite (tests/escape/run.sh), run by the user it is given (as
# root, with a /run/user/UID as a login would make it, for its duration).
mkdir -m 0755 "$stage/escape" && install -m 0755 "$here/../escape/run.sh" "$stage/escape/"
run_escape() { # [USER]
	local rt made='' rc
	if [ ! -x "$stage/helpers/attempts" ]; then
		[ -n "$must_work" ] && { echo "FAIL: escape: no attempts helper given (make check-integration builds it)"; return 1; }
		echo "SKIP: escape: no attempts helper given (make check-integration builds it)"
		return 0
	fi
	if [ -z "${1:-}" ]; then
		USBOX_MUST_WORK=$must_work bash "$stage/escape/run.sh" "$stage/usbox" "$stage/helpers/attempts"
	else
		rt=/run/user/$(id -u "$1")
		[ -e "$rt" ] || { install -d -m 0700 -o "$1" -g "$1" "$rt" && made=1; }
		USBOX_ENV="USBOX_MUST_WORK=$must_work" as_user "$1" bash "$stage/escape/run.sh" "$stage/usbox" "$stage/helpers/attempts"
	fi
	rc=$?
	[ -n "$made" ] && rm -rf "$rt"
	[ "$rc" -eq 77 ] && rc=0 # (it said why)
	return $rc
}

# In the test VM (tests/vm) the root file system is an overlay over 9p, on
# which overlayfs cannot put a container's upper layer nor user xattrs: give
# the test users' homes (where the image store lives) an ext4 of their own,
# as a real machine has.
vm_homes() {
	[ -n "${USBOX_VM:-}" ] || return 0
	case $(stat -f -c %T /home) in ext2/ext3|xfs|btrfs) return 0 ;; esac
	modprobe loop 2>/dev/null
	truncate -s 2G /var/tmp/usbox-homes.img && mkfs.ext4 -q -F /var/tmp/usbox-homes.img &&
		mount -o loop /var/tmp/usbox-homes.img /home ||
		skip_or_fail "cannot give the VM's test users an ext4 home"
}

if [ "$(id -u)" -eq 0 ]; then
	command -v newuidmap >/dev/null || skip_or_fail "newuidmap missing (install uidmap)"
	vm_homes
	ensure_user usbox-test 600000
	ensure_user usbox-nosub ""
	run_as usbox-test main
	main=$?
	run_as usbox-nosub nosub
	nosub=$?
	# The network suite: usbox as the test user inside the client test host.
	if nethosts_up; then
		USBOX_ENV="USBOX=$stage/usbox USBOX_MUST_WORK=$must_work" USBOX_NETNS=$NET_CLI \
			as_user usbox-test bash "$stage/tests.sh" net
		net=$?
		# Escape attempts, in the client test host too (its loopback listeners are the test host's).
		USBOX_NETNS=$NET_CLI run_escape usbox-test
		escape=$?
	else
		net=1 escape=1
	fi
	nethosts_down
	# What engines run as root (containerd's shim) drive usbox-oci as root.
	USBOX="$stage/usbox" HELPERS="$stage/helpers" USBOX_MUST_WORK="$must_work" bash "$stage/tests.sh" root
	root=$?
	# The TAP is persistent (cheap to close), so its network namespace must
	# still be freed: the kernel's count of network namespaces must not grow
	# with the number of sandboxes run.
	ns_count() { awk '$1 == "net_namespace" {print $2}' /proc/slabinfo; }
	before=$(ns_count)
	# (slab counts drift by a few dozen with caching; a leak adds one a sandbox)
	# Half on a user network: its helper's namespace goes when it idles out
	# (USBOX_HOLDER_IDLE=1), each sandbox's with the sandbox.
	USBOX_ENV="USBOX=$stage/usbox USBOX_HOLDER_IDLE=1" as_user usbox-test bash -c '"$USBOX" network rm slabnet >/dev/null 2>&1
		"$USBOX" network create slabnet >/dev/null || exit 1
		for i in $(seq 40); do "$USBOX" -- true && "$USBOX" --net slabnet -- true || exit 1; done
		sleep 2; "$USBOX" network rm slabnet >/dev/null' || net=1
	sleep 3
	after=$(ns_count)
	if [ -n "$before" ] && [ $((after - before)) -lt 40 ]; then
		echo "ok   network namespaces, TAPs and veths freed ($before -> $after after 80 sandboxes, 40 on a user network)"
	else
		echo "FAIL network namespaces leak: $before -> $after after 80 sandboxes (40 on a user network)"; net=1
	fi
else
	USBOX="$stage/usbox" HELPERS="$stage/helpers" USBOX_MUST_WORK="$must_work" bash "$stage/tests.sh" main
	main=$?
	run_escape
	escape=$?
	nosub=0 net=0 root=0
	echo "SKIP: the tests as root (containerd) need root"
	echo "SKIP: the single-map fallback tests need root to create a user without a subordinate range"
	echo "SKIP: the network tests need root to create their test hosts (ip netns)"
fi
[ "$main" -eq 77 ] && exit 77
[ "$main" -eq 0 ] && [ "$nosub" -eq 0 ] && [ "$net" -eq 0 ] && [ "$escape" -eq 0 ] && [ "$root" -eq 0 ]
