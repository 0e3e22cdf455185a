# Helpers for tests.sh: a test is a function t_NAME that returns non-zero (or
# calls fail) when something is wrong; its output is shown only on failure.
passed=0 failed=0 skipped=0
failures=()

fail() { echo "FAIL: $*"; return 1; }

# expect_eq GOT WANT WHAT
expect_eq() {
	[ "$1" == "$2" ] || { echo "FAIL: $3: got '$1', want '$2'"; return 1; }
}

# expect_match GOT REGEX WHAT
expect_match() {
	[[ $1 =~ $2 ]] || { echo "FAIL: $3: '$1' does not match /$2/"; return 1; }
}

# expect_status WANT CMD... : runs CMD, compares its exit status
expect_status() {
	local want=$1
	shift
	"$@"
	local got=$?
	[ "$got" -eq "$want" ] || { echo "FAIL: '$*' exited $got, want $want"; return 1; }
}

skip() { echo "SKIP: $*"; return 77; }

run_tests() {
	local t out rc
	for t in $(declare -F | awk '{print $3}' | grep "^$1" | grep -E -- "${ONLY:-.}"); do
		mkdir -p "$work/$t"
		out=$(cd "$work/$t" && "$t" 2>&1)
		rc=$?
		case $rc in
		0) passed=$((passed + 1)); echo "ok   ${t#?_}" ;;
		77) skipped=$((skipped + 1)); echo "skip ${t#?_}: $(tail -n1 <<<"$out")" ;;
		*) failed=$((failed + 1)); failures+=("${t#?_}"); echo "FAIL ${t#?_}"; sed 's/^/     | /' <<<"$out" | tail -n 25 ;;
		esac
	done
}

summary() {
	[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && { [ "$skipped" -eq 0 ] || [ -z "${USBOX_MUST_WORK:-}" ]; }
}

# ---- a real terminal, through tmux (one private server per test)
tm_start() { # start a shell in a 100x30 pane, in the current directory
	TM="tmux -L usbox-test-$$-$RANDOM -f /dev/null"
	$TM new-session -d -x 100 -y 30 "env PS1='host\$ ' bash --norc --noprofile" || return 1
	tm_wait 'host\$' 5
}
tm_send() { $TM send-keys -l -- "$1" && $TM send-keys Enter; }
tm_keys() { $TM send-keys "$@"; }
tm_screen() { $TM capture-pane -p -S -200; }
tm_wait() { # REGEX SECONDS: wait until the pane matches REGEX
	local i
	for i in $(seq $(( ${2:-5} * 20 ))); do
		tm_screen | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	echo "FAIL: the terminal never showed /$1/; it shows:"
	tm_screen | grep -v '^$' | tail -n 15
	return 1
}
tm_stop() { $TM kill-server 2>/dev/null; }
