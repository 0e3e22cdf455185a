# The GitLab Runner custom-executor driver (contrib/gitlab-runner), driven
# the way the runner drives it: config_exec, prepare_exec, run_exec SCRIPT
# STAGE for each stage, cleanup_exec, with the job's variables as CUSTOM_ENV_*
# and the failure codes in the environment.  Sourced by tests.sh.

# gl STAGE-SCRIPT ARGS...: one call of the driver with the runner's environment
gl() {
	local s=$1
	shift
	env USBOX="$U" USBOX_GITLAB_DIR="$work/gitlab" BUILD_FAILURE_EXIT_CODE=17 SYSTEM_FAILURE_EXIT_CODE=18 \
		CUSTOM_ENV_CI_JOB_ID="$GL_JOB" CUSTOM_ENV_CI_RUNNER_ID=3 CUSTOM_ENV_CI_PROJECT_ID=42 \
		CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID=0 CUSTOM_ENV_CI_JOB_IMAGE="${GL_IMAGE:-}" \
		CUSTOM_ENV_CI_PROJECT_DIR=ignored bash "$(dirname "$U")/gitlab-runner/$s.sh" "$@"
}

# A stage's script as the runner writes one: a shell script in a file of its own.
gl_script() { printf '#!/usr/bin/env bash\nset -eo pipefail\n%s\n' "$1" >"$work/stage.sh"; echo "$work/stage.sh"; }

gl_job() { # the stages of one job; $1: what the step checks about its root
	local cfg builds cache out
	cfg=$(gl config) || return 1
	builds=$(python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["builds_dir"]); assert c["driver"]["name"] == "usbox"' <<<"$cfg") &&
	cache=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["cache_dir"])' <<<"$cfg") || { fail "config_exec: $cfg"; return 1; }
	gl prepare || { fail "prepare_exec"; return 1; }
	gl run "$(gl_script 'echo prepared')" prepare_script >/dev/null &&
	gl run "$(gl_script "mkdir -p $builds/proj && echo source > $builds/proj/file")" get_sources &&
	gl run "$(gl_script "test -f $cache/c && echo restored || true")" restore_cache >/dev/null || { fail "early stages"; return 1; }
	out=$(gl run "$(gl_script "cd $builds/proj; cat file; $1; echo cached > $cache/c")" step_script) || { fail "step_script"; return 1; }
	expect_eq "$out" "$(printf 'source\nok')" "step_script's output" &&
	gl run "$(gl_script 'true')" after_script && gl run "$(gl_script 'true')" archive_cache || return 1
	expect_status 17 gl run "$(gl_script 'echo failing; exit 3')" step_build >/dev/null || return 1
	expect_match "$("$U" ps --format json | python3 -c 'import json,sys; print([c["Names"] for c in json.load(sys.stdin)])')" \
		"gitlab-r3-p42-c0-j$GL_JOB" "the job's container runs between stages" || return 1
	gl cleanup || return 1
	expect_eq "$("$U" ps -a --format json | python3 -c 'import json,sys; print(len([c for c in json.load(sys.stdin) if c["Names"].startswith("gitlab-")]))')" 0 \
		"cleanup_exec removes the container" &&
	[ ! -e "$builds" ] && [ -e "$cache/c" ] || fail "cleanup: the builds go, the cache stays"
}

t_ci_gitlab_runner_host_view() {
	GL_JOB=101 GL_IMAGE='' gl_job 'test -d /usr/bin && echo ok'
}

t_ci_gitlab_runner_image() {
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-ci:1 >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-ci:1 >/dev/null 2>&1' RETURN
	GL_JOB=102 GL_IMAGE=usbox-t-ci:1 gl_job 'test -e /bin/busybox && ! test -e /usr/bin/python3 && echo ok' || return 1
	# an image not in the store: the host view, said on stderr
	expect_match "$(GL_JOB=103 GL_IMAGE=nosuch:9 gl prepare 2>&1)" "image 'nosuch:9' is not in usbox's store" "unknown image" &&
	GL_JOB=103 gl cleanup
}
