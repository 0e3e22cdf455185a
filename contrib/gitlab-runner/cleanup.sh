#!/usr/bin/env bash
# cleanup_exec: the job's container and sources go; the cache stays.
# SPDX-License-Identifier: MIT
set -u
. "$(dirname "$0")/base.sh"
"$USBOX" rm -f "$name" >/dev/null 2>&1
rm -rf "$builds_dir"
exit 0
