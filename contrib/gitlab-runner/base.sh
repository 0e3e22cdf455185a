# Sourced by the driver's stages: names and places of one job.
# SPDX-License-Identifier: MIT
USBOX=${USBOX:-usbox}
base=${USBOX_GITLAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/usbox-gitlab}
job=${CUSTOM_ENV_CI_JOB_ID:?not run by GitLab Runner (no CUSTOM_ENV_CI_JOB_ID)}
name="gitlab-r${CUSTOM_ENV_CI_RUNNER_ID:-0}-p${CUSTOM_ENV_CI_PROJECT_ID:-0}-c${CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID:-0}-j$job"
builds_dir="$base/builds/$name"
cache_dir="$base/cache/p${CUSTOM_ENV_CI_PROJECT_ID:-0}"

# system_failure MESSAGE: the runner's "system failure" (not the job's fault)
system_failure() {
	echo "usbox driver: $*" >&2
	exit "${SYSTEM_FAILURE_EXIT_CODE:-1}"
}
