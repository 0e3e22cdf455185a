#!/usr/bin/env bash
# cgroup v2 tests in throw-away VMs (this host may bind memory/cpu/pids to
# cgroup v1 and run no systemd).  As root it runs them as `usbox-test`.
#   tests/vm/run.sh BUILD/usbox [HELPER...]     (HELPERs as for tests/integration/run.sh)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../users.sh"
bin=$(readlink -f "${1:?usage: run.sh PATH/TO/usbox [HELPER...]}")
shift
must_work=${USBOX_MUST_WORK:-${CI:+1}}
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	ensure_user usbox-test 600000 || exit 1
	user=usbox-test
fi
for tool in qemu-system-x86_64 busybox; do
	command -v $tool >/dev/null && continue
	[ -n "$must_work" ] && { echo "FAIL: $tool is missing for the VM tests"; exit 1; }
	echo "SKIP: the VM tests need $tool"; exit 77
done
# Not under /tmp: the guest mounts a fresh tmpfs there.
stage=$(mktemp -d /var/tmp/usbox-vm.XXXXXX) && chmod 0755 "$stage" || exit 1
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$here/tests.sh" "$here/../integration/lib.sh" "$stage/"
vm() { "$here/usbox-vm" --user "$user" -e USBOX="$stage/usbox" -e USBOX_MUST_WORK="$must_work" "$@"; }
status=0
echo "== VM: delegated user@.service subtree, no systemd"
vm -- bash "$stage/tests.sh" plain || status=1
echo "== VM: starting cgroup not delegated to the user"
vm --delegate nobody -- bash "$stage/tests.sh" nobody || status=1
echo "== VM: real systemd, transient scope over D-Bus"
if [ "$(id -u)" -eq 0 ]; then
	vm --systemd -- bash "$stage/tests.sh" systemd || status=1
elif [ -n "$must_work" ]; then
	echo "FAIL: the --systemd VM mode needs root"; status=1
else
	echo "SKIP: the --systemd VM mode boots the host's systemd and needs root (CI runs it)"
fi
echo "== VM: usbox doctor with user.max_user_namespaces=0"
if [ "$(id -u)" -eq 0 ]; then
	vm --root -e USBOX_VM_USER="$user" -- bash "$stage/tests.sh" userns0 || status=1
else
	echo "SKIP: changing user.max_user_namespaces in the VM needs root (CI runs it)"
fi
# The guest boots Debian 12's kernel, which users run and which may be older
# than this host's: the whole integration suite again, there (as root, so it
# makes its users and test hosts).  Skipped when not root.
if [ "$(id -u)" -eq 0 ] && [ -n "${USBOX_VM_INTEGRATION:-1}" ] && [ "${USBOX_VM_INTEGRATION:-1}" != 0 ]; then
	kver=$("$here/usbox-vm" --root -- uname -r 2>/dev/null)
	echo "== VM: the integration suite on kernel $kver"
	"$here/usbox-vm" --root -m 2048 -t 1200 -e CI="${CI:-}" -e USBOX_MUST_WORK="$must_work" -- \
		"$here/../integration/run.sh" "$bin" "$@" || status=1
fi
exit $status
