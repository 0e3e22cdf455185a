#!/usr/bin/env bash
# Runs the unit-test binaries given as arguments; check prints each suite's line.
set -u
failed=0
for t in "$@"; do
	"$t" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || { echo "unit tests: $failed suite(s) failed" >&2; exit 1; }
