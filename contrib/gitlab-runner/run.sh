#!/usr/bin/env bash
# run_exec SCRIPT STAGE: one stage's script, run in the job's container by
# bash when it has one, else sh; a failing script is the build's failure.
# SPDX-License-Identifier: MIT
set -u
. "$(dirname "$0")/base.sh"
script=${1:?usage: run.sh SCRIPT STAGE}
"$USBOX" exec -i "$name" sh -c 'if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh' <"$script"
status=$?
case $status in
0) exit 0 ;;
125) system_failure "usbox could not run stage ${2:-?} in $name" ;;
*) exit "${BUILD_FAILURE_EXIT_CODE:-1}" ;;
esac
