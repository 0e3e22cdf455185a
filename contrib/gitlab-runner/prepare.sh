#!/usr/bin/env bash
# prepare_exec: the job's container, running `sleep` until cleanup; the job's
# image when CI_JOB_IMAGE names a local one (usbox images), else the host view.
# The builds and cache directories are bound at the same paths inside.
# SPDX-License-Identifier: MIT
set -eu
. "$(dirname "$0")/base.sh"
mkdir -p "$builds_dir" "$cache_dir" || system_failure "cannot make $builds_dir or $cache_dir"
"$USBOX" rm -f "$name" >/dev/null 2>&1 || true # a job retried on this runner
image=()
img=${CUSTOM_ENV_CI_JOB_IMAGE:-}
if [ -n "$img" ]; then
	if "$USBOX" image inspect "$img" >/dev/null 2>&1; then
		image=(--image "$img" --entrypoint "")
	else
		echo "usbox driver: image '$img' is not in usbox's store (usbox load/import it); using the host view" >&2
	fi
fi
# shellcheck disable=SC2086 # USBOX_GITLAB_OPTS: extra usbox options (limits, --net ...), split on blanks
"$USBOX" run -d --name "$name" ${USBOX_GITLAB_OPTS:-} -v "$builds_dir:$builds_dir" -v "$cache_dir:$cache_dir" \
	"${image[@]}" -- sleep 2147483647 >/dev/null || system_failure "cannot start the job's container"
