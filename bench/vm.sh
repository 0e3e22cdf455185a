#!/usr/bin/env bash
# The cost of the cgroup path, measured where cgroup v2 limits work: in the
# test VM (software emulation, so absolute times are 10-50x a real machine's;
# compare the ratios).  Plain mode: a delegated subtree, no systemd; systemd
# mode: the D-Bus transient scope, next to `systemd-run --user --scope true`.
#   bench/vm.sh BUILD/usbox BUILD/bench/startup [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/users.sh"
runs=${3:-30}
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then ensure_user usbox-test 600000; user=usbox-test; fi
stage=$(mktemp -d /var/tmp/usbox-bench.XXXXXX) && chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$1" "$2" "$stage/"
echo "== VM, delegated subtree (cgroupfs path)"
"$here/../tests/vm/usbox-vm" --user "$user" -- "$stage/startup" -n "$runs" -c "$stage/usbox"
echo "== VM, real systemd (D-Bus transient scope)"
"$here/../tests/vm/usbox-vm" --user "$user" --systemd -- "$stage/startup" -n "$runs" -c -s "$stage/usbox"
