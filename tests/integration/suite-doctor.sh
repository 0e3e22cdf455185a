# SPDX-License-Identifier: MIT
# `usbox doctor` (sourced by tests.sh): its report against what usbox really
# does on this host, and under conditions made real here: no_new_privs
# (setpriv), newuidmap out of reach (PATH), a user without a range (the
# nosub suite), leftover state.  The --json form is parsed with python3, as a
# CI runner would.  (tests/vm/tests.sh covers cgroup v2, delegation,
# systemd and user.max_user_namespaces=0.)

# doctor_json ENV...: `usbox doctor --json` (under `env ENV...`) into
# doctor.json, its exit status into doctor.rc; fails on anything that is not
# the documented form (docs/doctor.md).
doctor_json() {
	env "$@" "$U" doctor --json >doctor.json 2>doctor.err
	echo $? >doctor.rc
	/usr/bin/python3 - doctor.json "$(cat doctor.rc)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
ids = ["kernel", "container", "userns", "apparmor", "no_new_privs", "subids", "subid_source", "newuidmap",
       "id_map", "cgroup_v2", "cgroup_self", "systemd_user", "linger", "limits", "tun", "libslirp", "tcp_relay", "direct_ports", "overlayfs",
       "fuse_overlayfs", "seccomp", "holder", "networks", "stale"]
assert r["version"] == 1, r["version"]
assert [c["id"] for c in r["checks"]] == ids, [c["id"] for c in r["checks"]]
for c in r["checks"]:
    assert set(c) == {"id", "name", "status", "required", "value", "message", "fix"}, c
    assert c["status"] in ("ok", "warn", "fail"), c
    assert c["message"], c
    assert c["status"] == "ok" or c["fix"] or c["id"] in ("id_map", "overlayfs") or "see " in c["message"], c
usable = not any(c["required"] and c["status"] == "fail" for c in r["checks"])
assert r["usable"] == usable and rc == (0 if usable else 1), (r["usable"], usable, rc)
PY
}

# check ID FIELD: that field of check ID in doctor.json.
check() {
	/usr/bin/python3 -c 'import json, sys
print(next(c for c in json.load(open("doctor.json"))["checks"] if c["id"] == sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

t_doctor_json_matches_this_host() {
	doctor_json || return 1
	# usbox runs with its defaults here (the suite needs that): doctor says so.
	"$U" -- true || return 1
	expect_eq "$(cat doctor.rc)" 0 "exit status where usbox -- true works" &&
	expect_eq "$(check kernel value)" "$(uname -r)" "kernel" &&
	expect_eq "$(check userns status)" ok "user namespaces" &&
	expect_eq "$(check no_new_privs status)/$(check no_new_privs value)" ok/0 "no_new_privs" &&
	expect_eq "$(check subids status)/$(check subids value)" ok/65536 "subordinate ids" &&
	expect_eq "$(check newuidmap status)" ok "newuidmap" &&
	expect_eq "$(check id_map status)/$(check id_map value)" ok/65537 "a real map of 65537 ids" &&
	expect_eq "$(check tun status)/$(check overlayfs status)/$(check seccomp status)" ok/ok/ok "tun, overlayfs, seccomp" &&
	expect_match "$(check libslirp value)" '^[0-9]+\.[0-9]+' "libslirp's version" || return 1
	# The limits line says what --mem really does here (on a hybrid host it
	# fails, with the fix).
	if "$U" --mem 64M -- true 2>limits.err; then
		expect_eq "$(check limits status)" ok "limits, where --mem works"
	else
		expect_eq "$(check limits status)" fail "limits, where --mem is refused" &&
		expect_match "$(check limits fix)" "systemd.unified_cgroup_hierarchy=1|enable-linger|Delegate=|--cgroup-parent" "the fix" &&
		expect_match "$(cat limits.err)" "usbox doctor: limits\)\$" "usbox's refusal points at the doctor"
	fi
}

t_doctor_hybrid_host_limits_fail_with_fix() {
	local mnt
	mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	doctor_json || return 1
	if [ -n "$mnt" ] && grep -qw memory "$mnt/cgroup.controllers"; then # a unified host (the VM)
		expect_eq "$(check cgroup_v2 status)/$(check cgroup_v2 value)" ok/unified "cgroup v2 (unified host)"
		return
	fi
	expect_eq "$(check cgroup_v2 status)/$(check cgroup_v2 value)" fail/hybrid "cgroup v2" &&
	expect_eq "$(check limits status)" fail "limits" &&
	expect_match "$(check limits fix)" "^boot with systemd\.unified_cgroup_hierarchy=1" "limits fix" &&
	expect_eq "$(check limits required)" False "limits are not needed by the defaults" &&
	expect_eq "$(cat doctor.rc)" 0 "exit status"
}

t_doctor_text_one_line_per_check() {
	local out n
	out=$("$U" doctor) || return 1
	n=$(grep -cE '^(ok|warn|fail) ' <<<"$out")
	doctor_json || return 1
	expect_eq "$n" "$(/usr/bin/python3 -c 'import json; print(len(json.load(open("doctor.json"))["checks"]))')" "lines" &&
	expect_eq "$(grep -cE '^ +fix: ' <<<"$out")" \
		"$(/usr/bin/python3 -c 'import json; print(sum(1 for c in json.load(open("doctor.json"))["checks"] if c["status"] != "ok" and c["fix"]))')" \
		"fix lines" &&
	expect_eq "$(tail -n1 <<<"$out")" "usbox can run here with its defaults." "verdict"
}

t_doctor_no_new_privs() {
	doctor_json setpriv --no-new-privs || return 1
	expect_eq "$(check no_new_privs status)/$(check no_new_privs value)" fail/1 "no_new_privs" &&
	expect_match "$(check no_new_privs fix)" "NoNewPrivileges" "its fix" &&
	expect_eq "$(check id_map status)" fail "id map" &&
	expect_match "$(check id_map message)" "^newuidmap failed: .*no_new_privs is set" "the helper's own refusal" &&
	expect_eq "$(cat doctor.rc)" 0 "usbox still runs (one id)" || return 1
	# usbox's own warning points at the same check (a state directory of its
	# own, so that no running holder spares it the helpers)
	local err
	mkdir -m 0700 rt || return 1
	err=$(XDG_RUNTIME_DIR=$PWD/rt setpriv --no-new-privs "$U" -- true 2>&1) || { echo "$err"; return 1; }
	expect_match "$err" "^usbox: warning: newuidmap failed: .*\(usbox doctor: id map\)\$" "usbox's warning"
}

t_doctor_newuidmap_out_of_reach() {
	doctor_json PATH=/nonexistent || return 1
	expect_eq "$(check newuidmap status)" fail "newuidmap" &&
	expect_match "$(check newuidmap message)" "^newuidmap is not on PATH \(/nonexistent\)" "message" &&
	expect_match "$(check newuidmap fix)" "PATH" "fix" &&
	expect_eq "$(check id_map status)" fail "id map" || return 1
	local err
	err=$(PATH=/nonexistent "$U" -- /bin/true 2>&1) || return 1
	expect_match "$err" "^usbox: warning: newuidmap not found .*\(usbox doctor: newuidmap\)\$" "usbox's warning"
}

t_doctor_holder_and_stale_state() {
	local state=/tmp/usbox-$(id -u)
	[ -z "${XDG_RUNTIME_DIR:-}" ] || state=$XDG_RUNTIME_DIR/usbox
	"$U" -- sh -c 'touch started; sleep 60' &
	local pid=$! i
	for i in $(seq 100); do [ -e started ] && break; sleep 0.05; done
	doctor_json || { kill $pid; wait $pid; return 1; }
	local hp comm
	hp=$(check holder value)
	# (read while the sandbox still holds the holder: idle, it leaves in 1 s)
	comm=$(cat /proc/"$hp"/comm 2>/dev/null)
	kill $pid; wait $pid 2>/dev/null
	expect_eq "$(check holder status)" ok "holder" &&
	expect_match "$hp" '^[0-9]+$' "the holder's pid" &&
	expect_eq "$comm" usbox-holder "the process it names" || return 1
	# state of a network that no longer exists
	# (the holder may have left, idle, with the directory, or leave between the
	# two: make it as usbox would, 0700; once it holds ours, it stays)
	for i in 1 2 3; do
		install -d -m 0700 "$state" && mkdir -m 0700 "$state/net-tdocgone" 2>/dev/null && break
	done
	[ -d "$state/net-tdocgone" ] || fail "could not make $state/net-tdocgone" || return 1
	doctor_json || return 1
	expect_eq "$(check stale status)" warn "stale state" &&
	expect_eq "$(check stale fix)" "rm -rf $state/net-tdocgone" "its fix" || { rm -rf "$state/net-tdocgone"; return 1; }
	rm -rf "$state/net-tdocgone"
	doctor_json || return 1
	expect_eq "$(check stale status)" ok "once removed"
}

# Inside a sandbox (seccomp refuses new namespaces) usbox cannot run: the
# doctor says so, exits 1, and names the outer usbox.
t_doctor_inside_a_sandbox() {
	doctor_json "$U" -v "$U:$U:ro" -- || return 1
	expect_eq "$(cat doctor.rc)" 1 "exit status" &&
	expect_eq "$(check container value)/$(check container status)" usbox/warn "container" &&
	expect_eq "$(check userns status)" fail "user namespaces" &&
	expect_match "$(check userns fix)" "--nested" "fix" || return 1
	# and usbox really cannot run there
	expect_status 125 "$U" -v "$U:$U:ro" -- "$U" -- true 2>/dev/null
}

t_doctor_usage() {
	local err
	err=$("$U" doctor --bogus 2>&1)
	expect_eq "$?" 125 "exit status" &&
	expect_eq "$err" "usbox: doctor: unknown argument '--bogus' (usage: usbox doctor [--json])" "message" &&
	expect_match "$("$U" doctor --help)" "^Usage: usbox doctor \[--json\]" "--help"
}

# ---------------------------------------------------------------- no range
n_doctor_no_range() {
	doctor_json || return 1
	expect_eq "$(check subids status)" fail "subordinate ids" &&
	expect_match "$(check subids message)" "^no subordinate uid range for $(id -un) \(uid $(id -u)\) in /etc/subuid" "message" &&
	expect_match "$(check subids fix)" "^sudo usermod --add-subuids [0-9]+-[0-9]+ --add-subgids [0-9]+-[0-9]+ $(id -un)\$" "fix" &&
	expect_eq "$(check id_map status)" fail "id map" &&
	expect_eq "$(cat doctor.rc)" 0 "usbox runs (one id)" || return 1
	# the range it proposes overlaps no one's
	/usr/bin/python3 - "$(check subids fix)" <<'PY' || return 1
import re, sys
a, b = map(int, re.search(r"--add-subuids (\d+)-(\d+)", sys.argv[1]).groups())
assert b - a + 1 == 65536, (a, b)
for f in ("/etc/subuid", "/etc/subgid"):
    for line in open(f):
        p = line.strip().split(":")
        if len(p) == 3 and p[1].isdigit() and p[2].isdigit():
            s, n = int(p[1]), int(p[2])
            assert s + n <= a or s > b, (f, line, a, b)
PY
	expect_match "$("$U" -- true 2>&1)" "usbox doctor: subordinate ids\)\$" "usbox's warning points at the doctor"
}
