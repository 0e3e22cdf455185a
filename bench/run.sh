#!/usr/bin/env bash
# Runs bench/startup as an unprivileged user (as usbox-test when called as root).
#   bench/run.sh BUILD/usbox BUILD/bench/startup [-n RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/users.sh"
usbox=$(readlink -f "$1") startup=$(readlink -f "$2")
shift 2
if [ "$(id -u)" -ne 0 ]; then exec "$startup" "$@" "$usbox"; fi
ensure_user usbox-test 600000
stage=$(stage_dir)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$usbox" "$startup" "$stage/"
as_user usbox-test "$stage/startup" "$@" "$stage/usbox"
