#!/usr/bin/env bash
# Runs the unit-test binaries given as arguments; check prints each suite's line.
set -u
# check's 4 s a test is too short for the tests that unpack archives or make
# namespaces on a loaded 2-core machine; a hang still ends.
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
failed=0
for t in "$@"; do
	"$t" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || { echo "unit tests: $failed suite(s) failed" >&2; exit 1; }
