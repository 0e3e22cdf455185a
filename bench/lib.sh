# Sourced by the image and container benchmarks.
# SPDX-License-Identifier: MIT

# bench_as_user SCRIPT USBOX STARTUP RUNS: as root, stage SCRIPT with usbox,
# bench/startup and the test images' maker, run it as usbox-test (made with a
# subordinate range when missing) and exit with its status; as anyone else,
# return and let SCRIPT go on.
bench_as_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	local here stage
	here=$(cd "$(dirname "$1")" && pwd)
	. "$here/../tests/users.sh"
	ensure_user usbox-test 600000
	stage=$(mktemp -d /var/tmp/usbox-bench.XXXXXX) && chmod 0755 "$stage"
	install -m 0755 "$2" "$3" "$1" "$here/lib.sh" "$here/../tests/images/make-fixtures.sh" "$stage/"
	as_user usbox-test bash "$stage/$(basename "$1")" "$stage/usbox" "$stage/startup" "$4"
	local rc=$?
	rm -rf "$stage"
	exit $rc
}
