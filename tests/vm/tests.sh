#!/usr/bin/env bash
# cgroup v2 tests, run inside the VM (tests/vm/usbox-vm) as the unprivileged
# user by tests/vm/run.sh.
#   tests.sh plain      usbox in a delegated user@UID.service subtree, no systemd
#   tests.sh nobody     the starting cgroup is not delegated to the user
#   tests.sh systemd    real systemd: a transient scope over D-Bus
#   tests.sh userns0    as root: usbox doctor with user.max_user_namespaces=0
set -u
. "$(dirname "$0")/lib.sh"
U=${USBOX:?}
work=$(mktemp -d "$HOME/usbox-vm-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
export USBOX_HOLDER_IDLE=1
app=$(dirname "${USBOX_CGROUP:-/nonexistent/x}")   # .../user@UID.service/app.slice

usbox_cgroups() { find /sys/fs/cgroup -type d -name 'usbox-[0-9]*' 2>/dev/null; }

t_oom_kill_reported() {
	local err rc
	err=$("$U" --mem 64M -- python3 -c 'b = bytearray(200 << 20); print("survived")' 2>&1)
	rc=$?
	expect_eq "$rc" 137 "exit status" &&
	expect_match "$err" "usbox: sandbox killed: out of memory \(limit 64M\)" "message" &&
	expect_eq "$(usbox_cgroups)" "" "cgroups left"
}

t_fork_bomb_contained() {
	local out rc
	out=$("$U" --pids 64 --stats=json -- bash -c 'bomb() { bomb | bomb & }; bomb 2>/dev/null; sleep 4; exit 0' 2>&1)
	rc=$?
	expect_eq "$rc" 0 "exit status" || return 1
	local peak
	peak=$(sed -n 's/.*"pids_peak": \([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$peak" ] && [ "$peak" -le 64 ] && [ "$peak" -ge 32 ] || fail "pids peak '$peak' (want 32..64): $out" || return 1
	sleep 0.3
	! pgrep -u "$(id -u)" -f 'bomb' >/dev/null || fail "fork bomb processes left: $(pgrep -af bomb)" || return 1
	expect_eq "$(usbox_cgroups)" "" "cgroups left"
}

t_cpu_quota_holds() {
	local out usec t0 t1 ratio
	t0=$(date +%s%N)
	out=$("$U" --cpus 0.5 --stats=json -- sh -c 'timeout 5 sh -c "while :; do :; done"; true' 2>&1) || { echo "$out"; return 1; }
	t1=$(date +%s%N)
	usec=$(sed -n 's/.*"cpu_usec": \([0-9]*\).*/\1/p' <<<"$out")
	# CPU time over the 5 s the loop ran: 0.5 ± 20 %
	ratio=$(( usec / 50000 ))   # percent of one CPU over 5 s
	echo "cpu: ${usec} µs in 5 s (${ratio}% of a CPU; wall $(( (t1 - t0) / 1000000 )) ms)"
	[ "$ratio" -ge 40 ] && [ "$ratio" -le 60 ] || fail "CPU use ${ratio}% with --cpus 0.5 (want 40..60%)"
}

t_limits_written() {
	local out
	out=$("$U" --mem 100M --mem-high 90M --mem-swap 0 --pids 33 --cpus 1.5 --cpu-weight 50 --cpuset-cpus 0 -- \
		sh -c 'cd /sys/fs/cgroup && cat memory.max memory.high memory.swap.max pids.max cpu.max cpu.weight cpuset.cpus; cat /proc/self/cgroup') || return 1
	expect_eq "$out" "$(printf '104857600\n94371840\n0\n33\n150000 100000\n50\n0\n0::/')" "limits seen inside"
}

t_nothing_left_after_kill9() {
	"$U" --mem 64M -- sh -c 'touch started; exec sleep 100' &
	local pid=$! i
	for i in $(seq 100); do [ -e started ] && break; sleep 0.05; done
	[ -d "$app/usbox-$pid" ] || fail "no cgroup $app/usbox-$pid while running" || return 1
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	sleep 0.5
	pgrep -x sleep >/dev/null && { fail "sandbox survived usbox's SIGKILL"; return; }
	"$U" --mem 64M -- true || return 1
	expect_eq "$(usbox_cgroups)" "" "cgroups left after the next run"
}

# The VM boots Debian 12's kernel (6.1): what users run, older than the host's.
# A detached container's cgroup holds what usbox exec starts in it.
ctr_field() { "$U" inspect "$1" | python3 -c "import json,sys; d=json.load(sys.stdin)[0]; print($2)"; }

t_exec_counts_against_pids() {
	"$U" run -d --name vmp --pids 40 --net none -- sleep 1000 >/dev/null || return 1
	local cg out
	cg=$(ctr_field vmp 'd["CgroupPath"]')
	[ -d "$cg" ] || { fail "no cgroup: '$cg'"; "$U" rm -f vmp >/dev/null; return 1; }
	expect_eq "$("$U" exec vmp cat /proc/self/cgroup)" "0::/" "exec runs in the container's cgroup" || { "$U" rm -f vmp >/dev/null; return 1; }
	out=$("$U" exec vmp bash -c 'n=0; for i in $(seq 100); do sleep 3 2>/dev/null & done 2>/dev/null; cat /sys/fs/cgroup/pids.current; wait' 2>/dev/null)
	local peak
	peak=$(cat "$cg/pids.peak" 2>/dev/null || echo 0)
	[ "$peak" -le 40 ] && [ "$peak" -ge 30 ] || fail "pids.peak $peak with --pids 40 (exec'd processes count)" || { "$U" rm -f vmp >/dev/null; return 1; }
	expect_eq "$("$U" rm -f vmp)" vmp "rm -f" &&
	expect_eq "$(usbox_cgroups)" "" "cgroups left"
}

t_exec_memory_counts() {
	"$U" run -d --name vmm --mem 64M --net none -- sleep 1000 >/dev/null || return 1
	local rc
	"$U" exec vmm python3 -c 'b = bytearray(200 << 20); print("survived")' >/dev/null 2>&1
	rc=$?
	expect_eq "$rc" 137 "exec'd process over the container's --mem is OOM-killed" || { "$U" rm -f vmm >/dev/null; return 1; }
	# memory.oom.group: the whole container went
	expect_match "$("$U" ps -a)" "Exited \(137\) .* vmm" "the container ended by the OOM killer" &&
	expect_eq "$(ctr_field vmm 'd["State"]["OOMKilled"]')" True "inspect: OOMKilled" &&
	expect_eq "$("$U" rm vmm)" vmm "rm" || return 1
	# a killed supervisor leaves its cgroup; rm takes it away
	"$U" run -d --name vmk --mem 64M --net none -- sleep 1000 >/dev/null || return 1
	local mon
	mon=$(ctr_field vmk 'd["State"]["MonitorPid"]')
	[ "$mon" -gt 1 ] && kill -9 "$mon"
	sleep 1
	[ -n "$(usbox_cgroups)" ] || echo "(the supervisor's end removed the cgroup itself)"
	expect_eq "$("$U" rm vmk)" vmk "rm after the supervisor was killed" &&
	expect_eq "$(usbox_cgroups)" "" "cgroups left"
}

t_default_network_on_this_kernel() {
	local out
	out=$("$U" -- sh -c 'cat /etc/resolv.conf; ls -A /tmp | wc -l; ip -o -4 addr show eth0') || return 1
	expect_match "$out" "^nameserver 10\.0\.2\.3" "resolv.conf" &&
	expect_match "$out" $'\n0\n' "/tmp empty" &&
	expect_match "$out" "inet 10\.0\.2\.100/24" "eth0"
}

t_no_limits_no_cgroup() {
	expect_eq "$("$U" -- cat /proc/self/cgroup)" "0::/" "cgroup namespace root" &&
	expect_eq "$(usbox_cgroups)" "" "cgroups made without limits"
}

t_bad_limits() {
	expect_status 125 "$U" --mem lots -- true 2>/dev/null &&
	expect_status 125 "$U" --cpus 0 -- true 2>/dev/null &&
	expect_status 125 "$U" --pids -1 -- true 2>/dev/null &&
	expect_status 125 "$U" --cgroup-parent /sys/fs/cgroup/init.scope --mem 64M -- true 2>/dev/null &&
	expect_eq "$(usbox_cgroups)" "" "cgroups left"
}

t_cgroup_parent() {
	local parent="$app/ci-runner"
	mkdir "$parent" && echo "+memory +pids" > "$parent/cgroup.subtree_control" || return 1
	local out
	out=$("$U" --cgroup-parent "$parent" --pids 10 -- cat /sys/fs/cgroup/pids.max)
	expect_eq "$out" 10 "pids.max under --cgroup-parent" &&
	expect_eq "$(ls -d "$parent"/*/ 2>/dev/null)" "" "left under the parent" &&
	rmdir "$parent"
}

# ---------------------------------------------------------------- not delegated
n_limit_without_delegation_fails() {
	local err
	err=$("$U" --mem 64M -- true 2>&1)
	expect_eq "$?" 125 "exit status" &&
	expect_match "$err" "^usbox: limits need a cgroup v2 subtree you own" "message" &&
	expect_eq "$(wc -l <<<"$err")" 1 "one line" &&
	expect_eq "$("$U" -- echo runs)" runs "without limits"
}

# ---------------------------------------------------------------- systemd
s_transient_scope_over_dbus() {
	[ -S "$XDG_RUNTIME_DIR/bus" ] || { fail "no user bus at $XDG_RUNTIME_DIR/bus"; return; }
	local out
	out=$("$U" --mem 64M --pids 50 -- sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; touch started; sleep 1' &
		for i in $(seq 100); do [ -e started ] && break; sleep 0.05; done
		systemctl --user list-units --type=scope --no-legend --plain 'usbox-[0-9]*.scope' | awk '{print $1}'
		wait) || return 1
	expect_match "$out" "67108864" "memory.max" && expect_match "$out" "50" "pids.max" &&
	expect_match "$out" "usbox-[0-9]+\.scope" "a transient usbox scope while running" || return 1
	sleep 0.5
	expect_eq "$(systemctl --user list-units --type=scope --all --no-legend --plain 'usbox-[0-9]*.scope')" "" "scopes after exit" &&
	expect_eq "$(usbox_cgroups)" "" "cgroups left"
}

s_detached_container_in_its_scope() {
	"$U" run -d --name vms --mem 64M --net none -- sleep 1000 >/dev/null || return 1
	local scope
	scope=$(systemctl --user list-units --type=scope --no-legend --plain 'usbox-[0-9]*.scope' | awk '{print $1}')
	expect_match "$scope" "usbox-[0-9]+\.scope" "a scope for the detached container" &&
	expect_eq "$("$U" exec vms cat /proc/self/cgroup /sys/fs/cgroup/memory.max | tr '\n' ' ')" "0::/ 67108864 " \
		"exec joins the container's cgroup in the scope" || { "$U" rm -f vms >/dev/null; return 1; }
	expect_eq "$("$U" rm -f vms)" vms "rm -f" && sleep 0.5 &&
	expect_eq "$(systemctl --user list-units --type=scope --all --no-legend --plain 'usbox-[0-9]*.scope')" "" "scopes after rm"
}

s_oom_under_systemd() {
	local err
	err=$("$U" --mem 64M -- python3 -c 'b = bytearray(200 << 20)' 2>&1)
	expect_eq "$?" 137 "exit status" && expect_match "$err" "out of memory \(limit 64M\)" "message"
}

# The user's systemd would run anything outside the sandbox for whoever
# reaches its socket; a read-only view alone does not stop connect().
s_session_bus_out_of_reach() {
	local mark=/tmp/usbox-escaped.$$
	rm -f "$mark"
	systemd-run --user --wait -q touch "$mark" && [ -e "$mark" ] ||
		{ fail "control: systemd-run --user does not work outside"; return; }
	rm -f "$mark"
	"$U" -- systemd-run --user --wait -q touch "$mark" 2>/dev/null
	[ ! -e "$mark" ] || { rm -f "$mark"; fail "a command inside ran a unit outside through the session bus"; return; }
	expect_eq "$("$U" -- sh -c 'ls -A "$XDG_RUNTIME_DIR" | wc -l')" 0 "the runtime directory is empty inside"
}

# ---------------------------------------------------------------- usbox-oci
# oci_tools: usbox-oci beside usbox and a busybox bundle in ./b running "$@".
oci_tools() {
	mkdir -p bin b/rootfs/bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci || return 1
	cp /bin/busybox b/rootfs/bin/ && for c in sh sleep cat head tr seq; do ln -sf busybox "b/rootfs/bin/$c"; done
	(cd b && "$OCI" spec --rootless) && python3 - "$@" <<'PY'
import json, sys
c = json.load(open("b/config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = sys.argv[1:]
c["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 30}}
json.dump(c, open("b/config.json", "w"))
PY
}

# The runc command line on a delegated subtree: cgroupsPath a directory.
t_oci_cgroupfs_path() {
	oci_tools sleep 100 || return 1
	local cg=$app/oci-c1 R=(--root "$PWD/state") r=1
	python3 - "${cg#/sys/fs/cgroup}" <<'PY' || return 1
import json, sys
c = json.load(open("b/config.json")); c["linux"]["cgroupsPath"] = sys.argv[1]; json.dump(c, open("b/config.json", "w"))
PY
	"$OCI" "${R[@]}" create --bundle b c1 </dev/null || return 1
	"$OCI" "${R[@]}" start c1 &&
	expect_eq "$(cat "$cg/memory.max" "$cg/pids.max" | tr '\n' ' ')" "67108864 30 " "limits written" &&
	expect_eq "$(cat "$cg/cgroup.procs")" "$("$OCI" "${R[@]}" ps --format json c1 | tr -d '[]')" "ps: cgroup.procs" &&
	expect_eq "$("$OCI" "${R[@]}" exec c1 cat /proc/self/cgroup)" "0::${cg#/sys/fs/cgroup}" "exec: in the container's cgroup" &&
	! "$OCI" "${R[@]}" exec c1 sh -c 'echo max >/sys/fs/cgroup/memory.max' 2>/dev/null &&
	! "$OCI" "${R[@]}" exec c1 sh -c "echo max >/sys/fs/cgroup${cg#/sys/fs/cgroup}/memory.max" 2>/dev/null &&
	expect_eq "$(cat "$cg/memory.max")" 67108864 "the container cannot raise its own limit" &&
	"$OCI" "${R[@]}" kill --all c1 KILL && sleep 0.5 &&
	expect_match "$("$OCI" "${R[@]}" state c1)" '"status":"stopped"' "kill --all" &&
	"$OCI" "${R[@]}" delete c1 && [ ! -e "$cg" ] && r=0
	[ $r -eq 0 ] || { "$OCI" "${R[@]}" delete --force c1; fail "cgroup or state left: $(ls -d "$cg" state/* 2>&1)"; }
	return $r
}

# With --systemd-cgroup: a transient scope; update, pause and resume.
s_oci_update_pause_resume() {
	oci_tools sh -c 'while :; do sleep 0.1; done' || return 1
	python3 -c '
import json; c = json.load(open("b/config.json")); c["linux"]["cgroupsPath"] = "app.slice:uo:c1"; json.dump(c, open("b/config.json", "w"))'
	local R=(--root "$PWD/state" --systemd-cgroup) r=1 cg
	"$OCI" "${R[@]}" create --bundle b c1 </dev/null && "$OCI" "${R[@]}" start c1 || return 1
	cg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cgroup"])' state/c1/state.json)
	expect_match "$cg" '/app\.slice/uo-c1\.scope$' "the scope uo-c1.scope in app.slice" &&
	expect_eq "$(cat "$cg/memory.max")" 67108864 "memory.max" &&
	echo '{"memory": {"limit": 134217728}, "pids": {"limit": 40}, "cpu": {"quota": 50000, "period": 100000}}' |
		"$OCI" "${R[@]}" update --resources - c1 &&
	expect_eq "$(cat "$cg/memory.max" "$cg/pids.max" "$cg/cpu.max" | tr '\n' ' ')" "134217728 40 50000 100000 " "update" &&
	"$OCI" "${R[@]}" pause c1 && expect_match "$("$OCI" "${R[@]}" state c1)" '"status":"paused"' "paused" &&
	expect_match "$(cat "$cg/cgroup.events")" "frozen 1" "frozen" &&
	"$OCI" "${R[@]}" resume c1 && expect_match "$("$OCI" "${R[@]}" state c1)" '"status":"running"' "resumed" &&
	expect_match "$(echo '{"unified": {"cgroup.kill": "1"}}' | "$OCI" "${R[@]}" update --resources - c1 2>&1)" \
		'not a cgroup v2 controller file' "update: core files refused" && r=0
	"$OCI" "${R[@]}" delete --force c1 && sleep 0.5
	[ ! -e "$cg" ] || { fail "the scope's cgroup is left: $cg"; r=1; }
	[ "$(systemctl --user is-active uo-c1.scope)" != active ] || { fail "the scope is still active after delete"; r=1; }
	return $r
}

# Rootless podman with its systemd cgroup manager and usbox-oci as runtime.
s_oci_podman_memory_pids() {
	oci_tools true || return 1
	tar -C b/rootfs -cf bb.tar . || return 1
	local pr rc P
	pr=$(mktemp -d /tmp/uo-pr.XXXXXX) || return 1 # podman: at most 50 characters
	P=(podman --root "$PWD/ps" --runroot "$pr" --storage-driver vfs --cgroup-manager systemd
		--events-backend file --runtime "$OCI")
	{ "${P[@]}" import -q bb.tar localhost/bb:t >/dev/null || fail "podman import"; } && oci_podman_limits
	rc=$?
	"${P[@]}" unshare rm -rf "$PWD/ps" "$pr" 2>/dev/null
	return $rc
}

# oci_podman_limits: --memory and --pids-limit through "${P[@]}" (podman).
oci_podman_limits() {
	local out rc
	out=$("${P[@]}" run --rm --memory 32m localhost/bb:t sh -c 'cat /sys/fs/cgroup/memory.max; x=$(head -c 150000000 /dev/zero | tr "\0" a); echo survived' 2>&1)
	rc=$?
	expect_eq "$rc" 137 "--memory 32m: a process past it is OOM-killed ($out)" &&
	expect_match "$out" '^33554432' "memory.max inside" && { [[ $out != *survived* ]] || fail "survived: $out"; } ||
		return 1
	out=$("${P[@]}" run --rm --pids-limit 10 localhost/bb:t sh -c 'cat /sys/fs/cgroup/pids.max; for i in $(seq 20); do sleep 3 & done 2>&1; wait' 2>&1)
	expect_match "$out" '^10' "pids.max inside" && expect_match "$out" "can't fork" "--pids-limit: fork beyond it fails" || return 1
	return 0
}

# ---------------------------------------------------------------- usbox doctor
# doctor_json [CMD...]: `usbox doctor --json` (run through CMD) into
# doctor.json, its exit status into doctor.rc.  check ID FIELD: a field.
doctor_json() {
	"$@" "$U" doctor --json >"$work/doctor.json"
	echo $? >"$work/doctor.rc"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/doctor.json"
}
check() {
	python3 -c 'import json, sys
print(next(c for c in json.load(open(sys.argv[1]))["checks"] if c["id"] == sys.argv[2])[sys.argv[3]])' \
		"$work/doctor.json" "$1" "$2"
}

t_doctor_delegated_subtree() {
	doctor_json || return 1
	expect_eq "$(check cgroup_v2 status)/$(check cgroup_v2 value)" ok/unified "cgroup v2" &&
	expect_eq "$(check limits status)" ok "limits: $(check limits message)" &&
	expect_match "$(check limits value)" "cpu.*memory.*pids" "controllers delegated" &&
	expect_match "$(check limits message)" "under .*/app\.slice" "a delegated cgroup, no systemd" &&
	expect_eq "$(check systemd_user status)" ok "no systemd: nothing to warn of" &&
	expect_eq "$(cat "$work/doctor.rc")" 0 "exit status" &&
	expect_eq "$(usbox_cgroups)" "" "cgroups left by the doctor"
}

n_doctor_not_delegated() {
	doctor_json || return 1
	expect_eq "$(check cgroup_v2 status)" ok "cgroup v2" &&
	expect_eq "$(check limits status)" fail "limits" &&
	expect_match "$(check limits message)" "a cgroup v2 subtree you own" "usbox's own reason" &&
	expect_match "$(check limits fix)" "--cgroup-parent" "fix" &&
	expect_eq "$(cat "$work/doctor.rc")" 0 "exit status (limits are optional)" &&
	expect_match "$("$U" --mem 64M -- true 2>&1)" "usbox doctor: limits\)\$" "usbox's refusal points at the doctor"
}

s_doctor_systemd_scope() {
	doctor_json || return 1
	expect_eq "$(check systemd_user status)/$(check systemd_user value)" "ok/$XDG_RUNTIME_DIR/bus" "user manager" &&
	expect_eq "$(check limits status)" ok "limits: $(check limits message)" &&
	expect_match "$(check limits message)" "in the systemd scope usbox-[0-9]+\.scope" "a transient scope" &&
	expect_match "$(check limits value)" "memory.*pids" "controllers delegated" &&
	expect_eq "$(check linger status)/$(check linger value)" ok/yes "linger" || return 1
	sleep 0.5
	expect_eq "$(systemctl --user list-units --type=scope --all --no-legend --plain 'usbox-[0-9]*.scope')" "" "scopes left"
}

# As root (tests.sh userns0): user.max_user_namespaces=0, then the doctor as
# the test user $USBOX_VM_USER.
u_doctor_max_user_namespaces_zero() {
	local user=${USBOX_VM_USER:?} old
	old=$(sysctl -n user.max_user_namespaces) && sysctl -q -w user.max_user_namespaces=0 || return 1
	as() { (cd /tmp && setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$(getent passwd "$user" | cut -d: -f6)" \
		PATH=/usr/local/bin:/usr/bin:/bin "$@"); }
	doctor_json as
	local err rc
	err=$(as "$U" -- true 2>&1)
	rc=$?
	sysctl -q -w user.max_user_namespaces="$old"
	expect_eq "$(check userns status)/$(check userns value)" fail/0 "user namespaces" &&
	expect_match "$(check userns message)" "^user\.max_user_namespaces is 0" "message" &&
	expect_match "$(check userns fix)" "user\.max_user_namespaces=15000 \| sudo tee /etc/sysctl\.d/" "fix" &&
	expect_eq "$(cat "$work/doctor.rc")" 1 "exit status" &&
	expect_eq "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["usable"])' "$work/doctor.json")" False "usable" &&
	expect_eq "$rc" 125 "usbox -- true" &&
	expect_match "$err" "\(usbox doctor: user namespaces\)\$" "usbox's error points at the doctor"
}

case ${1:-plain} in
plain) run_tests t_ ;;
nobody) run_tests n_ ;;
systemd) run_tests s_ ;;
userns0) run_tests u_ ;;
esac
summary
