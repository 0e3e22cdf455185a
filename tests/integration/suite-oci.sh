# usbox-oci, the OCI runtime command line: driven by rootless podman (through
# conmon) as an engine drives its runtime, and called directly as runc would
# be.  Sourced by tests.sh; the t_ tests run as the test user.

# oci_setup: usbox-oci beside the staged usbox, a podman of the test's own
# (storage and run directories in the test's directory, usbox-oci as its
# runtime, JSON logs as for crun) and a busybox image imported into it.
oci_setup() {
	mkdir -p bin rootfs/bin rootfs/etc rootfs/tmp && ln -sf "$U" bin/usbox-oci || return 1
	OCI=$PWD/bin/usbox-oci
	printf '[engine]\nruntime_supports_json = ["crun", "runc", "usbox-oci"]\n' >containers.conf
	export CONTAINERS_CONF=$PWD/containers.conf
	PR=$(mktemp -d /tmp/uo-pr.XXXXXX) || return 1 # podman: at most 50 characters
	P=(podman --root "$PWD/ps" --runroot "$PR" --storage-driver vfs --cgroup-manager cgroupfs
	   --events-backend file --runtime "$OCI")
	cp /bin/busybox rootfs/bin/ && for c in sh cat echo id ls ps sleep touch grep pwd tty stty mkdir httpd; do
		ln -sf busybox "rootfs/bin/$c"; done
	tar -C rootfs -cf bb.tar . && "${P[@]}" import -q bb.tar localhost/bb:t >/dev/null ||
		{ fail "podman import"; return 1; }
}

oci_cleanup() {
	"${P[@]}" rm -af -t 0 >/dev/null 2>&1
	podman unshare rm -rf "$PWD/ps" "$PR" 2>/dev/null
	[ -z "$(ls -A "${XDG_RUNTIME_DIR:-/tmp/podman-run-$me}/usbox-oci" 2>/dev/null)" ] ||
		fail "usbox-oci's state is left behind: $(ls "${XDG_RUNTIME_DIR:-/tmp/podman-run-$me}/usbox-oci")"
}

t_oci_podman_run() {
	oci_setup || return 1
	local out other
	out=$("${P[@]}" run --rm --network none -e FOO=bar -w /tmp -u 1000:1000 localhost/bb:t \
		sh -c 'echo $FOO; pwd; id -u; id -g') &&
	expect_eq "$out" "$(printf 'bar\n/tmp\n1000\n1000')" "env, workdir and user" &&
	expect_status 3 "${P[@]}" run --rm --network none localhost/bb:t sh -c 'exit 3' &&
	expect_status 127 "${P[@]}" run --rm --network none localhost/bb:t nosuchcommand 2>/dev/null &&
	expect_eq "$("${P[@]}" run --rm --network none --read-only localhost/bb:t sh -c 'touch /x 2>/dev/null; echo $?')" \
		1 "--read-only" &&
	expect_match "$("${P[@]}" run --rm --network none --cap-drop all localhost/bb:t grep CapEff /proc/self/status)" \
		'CapEff:[[:space:]]+0+$' "--cap-drop all" || { oci_cleanup; return 1; }
	# the same capabilities, identity and sysctls as under runc (crun refuses hybrid cgroup hosts)
	other=$(podman --root "$PWD/ps" --runroot "$PR" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file --runtime runc run --rm --network none localhost/bb:t \
		sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status; id; cat /proc/sys/net/ipv4/ping_group_range') &&
	out=$("${P[@]}" run --rm --network none localhost/bb:t \
		sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status; id; cat /proc/sys/net/ipv4/ping_group_range') &&
	expect_eq "$out" "$other" "what the process sees, beside runc"
	local r=$?
	oci_cleanup && return $r
}

t_oci_podman_detached() {
	oci_setup || return 1
	local r=1
	"${P[@]}" run -d --name c1 --network none localhost/bb:t sh -c 'echo started; exec sleep 100' >/dev/null &&
	expect_match "$("${P[@]}" ps --format '{{.Names}} {{.Status}}')" '^c1 Up' "ps" &&
	expect_eq "$("${P[@]}" exec c1 sh -c 'echo $$; ps -o pid,comm | grep -c sleep')" "$(printf '2\n1')" \
		"exec: in the container's pid namespace, beside its PID 1" &&
	expect_eq "$(echo piped | "${P[@]}" exec -i c1 sh -c 'cat; exit 7'; echo "rc=$?")" "$(printf 'piped\nrc=7')" \
		"exec -i: stdin and the exit status" &&
	expect_status 127 "${P[@]}" exec c1 nosuchcommand 2>/dev/null &&
	expect_eq "$("${P[@]}" logs c1)" started "logs" &&
	"${P[@]}" stop -t 2 c1 >/dev/null &&
	expect_match "$("${P[@]}" ps -a --format '{{.Names}} {{.Status}}')" '^c1 Exited \(137\)' "stopped: SIGTERM to a PID 1 without a handler, then SIGKILL" &&
	"${P[@]}" rm c1 >/dev/null && r=0
	oci_cleanup && return $r
}

t_oci_podman_tty() {
	oci_setup || return 1
	tm_start || return 1
	tm_send "CONTAINERS_CONF=$CONTAINERS_CONF ${P[*]} run -it --rm --network none localhost/bb:t sh; echo EXITED=\$?"
	local r=1
	tm_wait '/ #' 20 && tm_send 'tty; stty size; echo $((6*7)); exit 5' && tm_wait 'EXITED=5' 10 &&
	expect_match "$(tm_screen)" $'/dev/pts/0\n30 100\n42\n' "a terminal of its own, the window's size" && r=0
	[ $r -eq 0 ] || tm_screen
	tm_stop
	oci_cleanup && return $r
}

t_oci_podman_port() {
	oci_setup || return 1
	local port=$((20000 + RANDOM % 20000)) i out=""
	"${P[@]}" run -d --name w1 -p "127.0.0.1:$port:8080" localhost/bb:t \
		sh -c 'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www' >/dev/null ||
		{ oci_cleanup; return 1; }
	for i in $(seq 50); do out=$(curl -s --max-time 2 "http://127.0.0.1:$port/") && [ -n "$out" ] && break; sleep 0.2; done
	expect_eq "$out" served "-p to a server in the container (the engine's network namespace, joined by path)"
	local r=$?
	oci_cleanup && return $r
}

# The runc command line itself, rootless, with a bundle of the test's own.
oci_bundle() {
	mkdir -p b/rootfs/bin b/rootfs/etc b/rootfs/tmp && cp /bin/busybox b/rootfs/bin/ &&
	for c in sh sleep echo id cat; do ln -sf busybox "b/rootfs/bin/$c"; done &&
	rm -f b/config.json && (cd b && "$OCI" spec --rootless) &&
	python3 - "$@" <<'EOF'
import json, sys
c = json.load(open("b/config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = sys.argv[1:]
json.dump(c, open("b/config.json", "w"))
EOF
}

t_oci_cli_lifecycle() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sleep 100 || return 1
	local R=(--root "$PWD/state")
	"$OCI" "${R[@]}" create --bundle b --pid-file "$PWD/pid" c1 </dev/null >/dev/null 2>&1 || return 1
	oci_lifecycle "${R[@]}"
	local r=$?
	[ $r -eq 0 ] || "$OCI" "${R[@]}" delete --force c1
	return $r
}

oci_lifecycle() {
	local R=("$@") st pid eff
	pid=$(cat pid)
	st=$("$OCI" "${R[@]}" state c1) && expect_match "$st" '"status":"created"' "created" &&
	expect_match "$st" "\"pid\":$pid" "the pid file names the process" &&
	expect_eq "$(cat /proc/"$pid"/comm)" usbox-init "created: the process waits, before start" &&
	"$OCI" "${R[@]}" start c1 && expect_match "$("$OCI" "${R[@]}" state c1)" '"status":"running"' "running" &&
	expect_status 1 "$OCI" "${R[@]}" start c1 2>/dev/null &&
	expect_status 1 "$OCI" "${R[@]}" delete c1 2>/dev/null &&
	expect_match "$("$OCI" "${R[@]}" list)" "c1[[:space:]]+$pid[[:space:]]+running" "list" &&
	expect_eq "$("$OCI" "${R[@]}" ps --format json c1)" "[$pid]" "ps" &&
	expect_eq "$("$OCI" "${R[@]}" exec c1 sh -c 'echo $$; exit 4'; echo "rc=$?")" "$(printf '2\nrc=4')" "exec" &&
	eff=$("$OCI" "${R[@]}" exec --cap CAP_SYS_TIME c1 cat /proc/self/status | awk '/^CapEff/ {print $2}') &&
	expect_eq "$(( 0x$eff >> 25 & 1 ))" 1 "exec --cap CAP_SYS_TIME: effective ($eff)" &&
	"$OCI" "${R[@]}" kill c1 KILL && sleep 0.3 &&
	expect_match "$("$OCI" "${R[@]}" state c1)" '"status":"stopped"' "stopped" &&
	expect_status 1 "$OCI" "${R[@]}" kill c1 2>/dev/null &&
	"$OCI" "${R[@]}" delete c1 && expect_eq "$(ls -A state)" "" "delete leaves nothing" &&
	expect_status 0 "$OCI" "${R[@]}" delete --force c1 &&
	expect_match "$("$OCI" --version)" $'^usbox-oci version [0-9.]+\nspec: 1\\.2\\.0' "--version" &&
	"$OCI" features | python3 -c 'import json,sys; f=json.load(sys.stdin); assert "user" in f["linux"]["namespaces"]'
}

t_oci_cli_run_and_errors() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sh -c 'echo hi; exit 3' || return 1
	local R=(--root "$PWD/state") err
	expect_eq "$("$OCI" "${R[@]}" run --bundle b r1; echo "rc=$?")" "$(printf 'hi\nrc=3')" "run: output and status" &&
	expect_eq "$(ls -A state)" "" "run removes its container" || return 1
	python3 -c 'import json; c=json.load(open("b/config.json")); c["process"]["user"]["uidd"]=1; json.dump(c, open("b/config.json","w"))'
	err=$("$OCI" "${R[@]}" --log "$PWD/log" --log-format json create --bundle b r2 2>&1)
	expect_eq "$?" 1 "a bad config: exit status" &&
	expect_eq "$err" 'usbox-oci: config.json: process.user.uidd: unknown field' "named" &&
	python3 -c 'import json; l=json.loads(open("log").readline()); assert l["level"]=="error" and "uidd" in l["msg"], l' &&
	expect_eq "$(ls -A state)" "" "nothing left behind" &&
	expect_status 1 "$OCI" "${R[@]}" state ../x 2>/dev/null &&
	expect_status 1 "$OCI" "${R[@]}" state nosuch 2>/dev/null
}

# A filter that refuses openat2 (an allowlist older than it), installed before
# the working directory is entered (no noNewPrivileges): runc's chdir() then.
t_oci_cli_filter_without_openat2() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sh -c 'pwd; exit 5' || return 1
	python3 - <<'PY' || return 1
import json
c = json.load(open("b/config.json"))
c["process"]["cwd"] = "/tmp"
c["process"]["noNewPrivileges"] = False
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [{"names": ["openat2"], "action": "SCMP_ACT_ERRNO"}]}
json.dump(c, open("b/config.json", "w"))
PY
	expect_eq "$("$OCI" --root "$PWD/state" run --bundle b f1 2>&1; echo "rc=$?")" "$(printf '/tmp\nrc=5')" \
		"the working directory entered, the command run" || return 1
	# one that refuses getcwd: openat2's word stands; one that refuses both: no way to check, refused
	oci_refuse_calls() {
		python3 - "$@" <<'PY'
import json, sys
c = json.load(open("b/config.json"))
c["process"]["args"] = ["echo", "hi"]
c["linux"]["seccomp"]["syscalls"] = [{"names": sys.argv[1:], "action": "SCMP_ACT_ERRNO"}]
json.dump(c, open("b/config.json", "w"))
PY
	}
	oci_refuse_calls getcwd && expect_eq "$("$OCI" --root "$PWD/state" run --bundle b f2 2>&1; echo "rc=$?")" \
		"$(printf 'hi\nrc=0')" "a filter refusing getcwd" &&
	oci_refuse_calls getcwd openat2 &&
	expect_match "$("$OCI" --root "$PWD/state" run --bundle b f3 2>&1; echo "rc=$?")" \
		$'working directory /tmp: not inside the sandbox.*\nrc=1' "refusing both: refused"
}

# The file systems usbox makes are named as config.json's sources name them
# (runtime-tools' runtimetest matches each mount's source in mountinfo).
t_oci_cli_mount_sources() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle cat /proc/self/mountinfo || return 1
	local out
	out=$("$OCI" --root "$PWD/state" run --bundle b m1 | awk '{for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 2)}')
	expect_match "$out" $'(^|\n)/proc proc proc(\n|$)' "/proc" &&
	expect_match "$out" $'(^|\n)/dev tmpfs tmpfs(\n|$)' "/dev" &&
	expect_match "$out" $'(^|\n)/dev/pts devpts devpts(\n|$)' "/dev/pts" &&
	expect_match "$out" $'(^|\n)/dev/shm tmpfs shm(\n|$)' "/dev/shm" &&
	expect_match "$out" $'(^|\n)/dev/mqueue mqueue mqueue(\n|$)' "/dev/mqueue" &&
	expect_match "$out" $'\n/dev/mqueue [^\n]*\n(.*\n)?/sys ' "in the config's order: /dev/mqueue before /sys"
}

# The config's mounts in its order, after usbox's own /dev: a bind over
# /dev/shm and a tmpfs over /dev/mqueue lie on top of usbox's; a tmpfs over
# the parent of an earlier bind hides it (as the runtime spec orders them).
t_oci_cli_mount_order() {
	mkdir -p bin shm-src hidden && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && echo marker >shm-src/m &&
		oci_bundle sh -c 'cat /dev/shm/m; ls -A /mnt/a; echo ---; cat /proc/self/mountinfo' || return 1
	python3 - "$PWD" <<'PY' || return 1
import json, sys
c = json.load(open("b/config.json"))
c["mounts"] += [{"destination": "/dev/shm", "type": "bind", "source": sys.argv[1] + "/shm-src", "options": ["rbind"]},
                {"destination": "/dev/mqueue", "type": "tmpfs", "source": "mq", "options": ["size=4k"]},
                {"destination": "/mnt/a/b", "type": "bind", "source": sys.argv[1] + "/hidden", "options": ["rbind"]},
                {"destination": "/mnt/a", "type": "tmpfs", "source": "over", "options": ["size=4k"]}]
json.dump(c, open("b/config.json", "w"))
PY
	local out info
	out=$("$OCI" --root "$PWD/state" run --bundle b o1 2>&1) || { fail "run: $out"; return 1; }
	info=$(sed '1,/^---$/d' <<<"$out")
	expect_eq "$(sed '/^---$/,$d' <<<"$out")" marker "the bind over /dev/shm is seen, /mnt/a/b is hidden by /mnt/a" &&
	expect_eq "$(awk '{for (i = 7; $i != "-"; i++); fs[$1] = $(i + 1); dst[$1] = $5; parent[$1] = $2}
		END {for (m in dst) if (dst[m] ~ /^\/dev\/(shm|mqueue)$/ && dst[parent[m]] == dst[m]) print dst[m], fs[parent[m]], "<", fs[m]}' <<<"$info" | sort | tr '\n' ';')" \
		"/dev/mqueue mqueue < tmpfs;/dev/shm tmpfs < $(findmnt -n -o FSTYPE -T "$PWD/shm-src");" "each on top of usbox's"
}

# Hooks: prestart and createRuntime at create (the state on stdin), poststart
# after start, poststop after delete, in order; a poststart that fails is a
# warning and the next still runs; a prestart that fails fails create, and
# leaves nothing behind.
oci_hooks_config() {
	python3 - "$PWD/out" "$1" <<'PY'
import json, sys
out, pre = sys.argv[1], sys.argv[2]
c = json.load(open("b/config.json"))
hook = lambda script: {"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/bin:/bin", "OUT=" + out]}
c["hooks"] = {"prestart": [hook(pre)], "createRuntime": [hook('echo createRuntime >> "$OUT"')],
              "poststart": [hook("echo broken; exit 3"), hook('echo poststart >> "$OUT"')],
              "poststop": [hook('echo poststop >> "$OUT"')]}
json.dump(c, open("b/config.json", "w"))
PY
}

t_oci_cli_hooks() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sleep 100 || return 1
	oci_hooks_config 'cat > "$OUT.state"; echo prestart >> "$OUT"' || return 1
	local R=(--root "$PWD/state") err pid
	"$OCI" "${R[@]}" create --bundle b --pid-file "$PWD/pid" h1 </dev/null >/dev/null || return 1
	pid=$(cat pid)
	expect_eq "$(cat out)" "$(printf 'prestart\ncreateRuntime')" "create: prestart, then createRuntime" &&
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert (s["id"], s["status"], s["pid"]) == ("h1", "created", int(sys.argv[2])), s' \
		out.state "$pid" || { fail "the state on stdin: $(cat out.state)"; "$OCI" "${R[@]}" delete --force h1; return 1; }
	err=$("$OCI" "${R[@]}" start h1 2>&1)
	expect_eq "$?" 0 "start: a poststart hook that fails is a warning" &&
	expect_eq "$err" 'usbox-oci: warning: poststart hook /bin/sh: exit status 3: broken' "named" &&
	expect_eq "$(tail -1 out)" poststart "the next poststart hook ran" &&
	"$OCI" "${R[@]}" delete --force h1 && expect_eq "$(tail -1 out)" poststop "delete: poststop" &&
	expect_eq "$(ls -A state)" "" "delete leaves nothing" || return 1
	oci_hooks_config 'echo no; exit 1' || return 1
	err=$("$OCI" "${R[@]}" create --bundle b h2 </dev/null 2>&1)
	expect_eq "$?" 1 "create: a prestart hook that fails fails it" &&
	expect_eq "$err" 'usbox-oci: prestart hook /bin/sh: exit status 1: no' "named" &&
	expect_eq "$(ls -A state)" "" "nothing left behind"
}

# createContainer and startContainer: in the container's namespaces, after
# createRuntime and before the program; createContainer's path is the
# runtime's (a script the container does not have), startContainer's the
# container's; each gets the state; the hook joined holds no descriptor of
# the host's (only its state, output and a sealed copy of itself); a failing
# createContainer fails create, a failing startContainer fails start.
oci_container_hooks_config() {
	cat >hook.sh <<'SH' && chmod 755 hook.sh || return 1
#!/bin/sh
cat > /tmp/cc.state
echo "createContainer $(hostname) $(test -e /bin/busybox && echo container-root)" >> /tmp/order
for f in /proc/$$/fd/*; do readlink "$f"; done | grep -v "^/proc/" > /tmp/cc.fds
exit ${CC_EXIT:-0}
SH
	python3 - "$PWD/hook.sh" "$PWD/b/rootfs/tmp/order" "$@" <<'PY'
import json, sys
hook, order, cc_exit, sc_exit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
c = json.load(open("b/config.json"))
c["root"]["readonly"] = False
c["hostname"] = "inside"
c["process"]["args"] = ["sh", "-c", "echo process >> /tmp/order; sleep 100"]
sh = lambda s, env=[]: {"path": "/bin/sh", "args": ["sh", "-c", s], "env": env}
c["hooks"] = {"createRuntime": [sh("echo createRuntime $(hostname) >> " + order)],
              "createContainer": [{"path": hook, "env": ["CC_EXIT=" + cc_exit]}],
              "startContainer": [sh("cat > /tmp/sc.state; echo startContainer $(hostname) >> /tmp/order; exit " + sc_exit)]}
json.dump(c, open("b/config.json", "w"))
PY
}

oci_container_hooks() {
	local R=(--root "$PWD/state") err pid r=1
	oci_container_hooks_config 0 0 || return 1
	"$OCI" "${R[@]}" create --bundle b --pid-file "$PWD/pid" k1 </dev/null >/dev/null || return 1
	pid=$(cat pid)
	"$OCI" "${R[@]}" start k1 && sleep 0.3 &&
	expect_eq "$(cat b/rootfs/tmp/order)" "$(printf 'createRuntime %s
createContainer inside container-root
startContainer inside
process' "$(hostname)")" \
		"createRuntime here, createContainer and startContainer inside, in order, then the program" &&
	python3 -c 'import json,sys
for f in sys.argv[2:]:
    s = json.load(open(f)); assert (s["id"], s["status"], s["pid"]) == ("k1", "created", int(sys.argv[1])), s' \
		"$pid" b/rootfs/tmp/cc.state b/rootfs/tmp/sc.state &&
	expect_eq "$(grep -v '^/memfd:usbox-hook' b/rootfs/tmp/cc.fds)" "" "createContainer holds only its own memfds" &&
	expect_match "$(sort -u b/rootfs/tmp/cc.fds | tr '\n' ' ')" '^/memfd:usbox-hook \(deleted\) /memfd:usbox-hook-output \(deleted\) /memfd:usbox-hook-state \(deleted\) $' \
		"its state, its output, the sealed copy (read by sh)" && r=0
	"$OCI" "${R[@]}" delete --force k1
	[ $r -eq 0 ] || return 1
	rm -f b/rootfs/tmp/order && oci_container_hooks_config 2 0 || return 1
	err=$("$OCI" "${R[@]}" create --bundle b k2 </dev/null 2>&1)
	expect_eq "$?/$err" "1/usbox-oci: createContainer hook $PWD/hook.sh: exit status 2" "a failing createContainer fails create" &&
	expect_eq "$(ls -A state)" "" "nothing left behind" &&
	oci_container_hooks_config 0 5 && "$OCI" "${R[@]}" create --bundle b k3 </dev/null >/dev/null 2>&1 &&
	err=$("$OCI" "${R[@]}" start k3 2>&1)
	expect_eq "$?" 1 "a failing startContainer fails start" &&
	expect_match "$err" "startContainer hooks" "said" &&
	expect_eq "$(tail -1 b/rootfs/tmp/order)" "startContainer inside" "the program did not run" &&
	expect_match "$("$OCI" "${R[@]}" state k3)" '"status":"stopped"' "the container stopped"
	r=$?
	"$OCI" "${R[@]}" delete --force k3
	return $r
}

t_oci_cli_container_hooks() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle true && oci_container_hooks
}

# linux.rootfsPropagation: the container's / (after pivot_root) gets it;
# nothing is asked of the host's tree.
t_oci_cli_root_propagation() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle cat /proc/self/mountinfo || return 1
	local p out got=""
	for p in shared rslave private unbindable; do
		python3 -c 'import json,sys; c=json.load(open("b/config.json")); c["linux"]["rootfsPropagation"]=sys.argv[1]; json.dump(c, open("b/config.json","w"))' "$p"
		out=$("$OCI" --root "$PWD/state" run --bundle b "p-$p" 2>&1) || { fail "$p: $out"; return 1; }
		got+="$p:$(awk '$5 == "/" {for (i = 7; $i != "-"; i++) printf " %s", $i}' <<<"$out" | sed 's/[0-9]//g');"
	done
	expect_eq "$got" "shared: shared:;rslave: master:;private:;unbindable: unbindable;" "/ as asked"
	python3 -c 'import json; c=json.load(open("b/config.json")); c["linux"]["rootfsPropagation"]="bogus"; json.dump(c, open("b/config.json","w"))'
	expect_eq "$("$OCI" --root "$PWD/state" run --bundle b p-x 2>&1; echo "rc=$?")" \
		"$(printf 'usbox-oci: config.json: linux.rootfsPropagation: "bogus" is not [r]shared, [r]slave, [r]private or [r]unbindable\nrc=1')" \
		"an unknown value refused"
}

# oci_watch_join_bundle: a bundle whose process watches its pid namespace for
# joining processes (tests/escape/attempts watch-join) until ctl/stop exists.
oci_watch_join_bundle() {
	[ -x "${HELPERS:-}/attempts" ] || { fail "tests/escape/attempts not built"; return 1; }
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle /bin/attempts watch-join 120 /ctl/stop &&
		cp "$HELPERS/attempts" b/rootfs/bin/ && ln -sf busybox b/rootfs/bin/true && ln -sfn usr/lib b/rootfs/lib &&
		ln -sfn usr/lib64 b/rootfs/lib64 || return 1
	mkdir -p ctl && python3 - <<'PY'
import json, os
c = json.load(open("b/config.json"))
c["mounts"] += [{"destination": d, "type": "bind", "source": d, "options": ["rbind", "ro"]} for d in ("/usr/lib", "/usr/lib64")]
c["mounts"].append({"destination": "/ctl", "type": "bind", "source": os.path.abspath("ctl"), "options": ["rbind"]})
json.dump(c, open("b/config.json", "w"))
PY
}

# A process of the container watches for `usbox-oci exec` joining it and, before
# it executes its command (a long PATH to search makes that last), tries to
# ptrace it and to open its /proc/PID/exe, cwd, root, fd and mem: refused
# (it is not dumpable until it executes), for every one it caught.
t_oci_cli_exec_not_reachable() {
	oci_watch_join_bundle || return 1
	local R=(--root "$PWD/state") path i n=0 r=1
	path="$(printf '/n/%d:' $(seq 10000))/bin"
	"$OCI" "${R[@]}" create --bundle b w1 </dev/null >out 2>err && "$OCI" "${R[@]}" start w1 || return 1
	sleep 0.3
	for i in $(seq 12); do "$OCI" "${R[@]}" exec --env "PATH=$path" w1 true 2>>exec-err && n=$((n + 1)); done
	touch ctl/stop
	for i in $(seq 50); do [[ $("$OCI" "${R[@]}" state w1) == *'"status":"stopped"'* ]] && break; sleep 0.2; done
	expect_eq "$((n >= 10))" 1 "the execs ran: $n of 12 ($(sort exec-err | uniq -c); the watcher: $(cat out err))" && expect_match "$(cat out)" '^(EPERM|EACCES)$' "refused" &&
	expect_match "$(cat err)" '(^|\n)[1-9][0-9]* caught while joining' "caught joining at least once" && r=0
	"$OCI" "${R[@]}" delete --force w1
	return $r
}

# linux.devices rootless: a node the host has is bound (mknod fails in a user
# namespace), one it has not is refused by name; a fifo is made.
oci_devices_config() {
	python3 - "$@" <<'PY'
import json, sys
c = json.load(open("b/config.json"))
c["process"]["args"] = ["sh", "-c", "ls -ln /dev/net/tun /dev/q/fifo"]
c["linux"]["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": int(sys.argv[1]), "fileMode": 0o620,
                          "uid": 0, "gid": 0}, {"path": "/dev/q/fifo", "type": "p", "fileMode": 0o600}]
if len(sys.argv) > 2:
    c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]
    c["process"]["user"] = {"uid": 0, "gid": 0}
    c["linux"]["devices"][0]["uid"], c["linux"]["devices"][0]["gid"] = 7, 8
    for k in ("uidMappings", "gidMappings"):
        c["linux"].pop(k, None)
json.dump(c, open("b/config.json", "w"))
PY
}

t_oci_cli_devices() {
	[ -c /dev/net/tun ] || { skip "no /dev/net/tun"; return; }
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle true && oci_devices_config 200 || return 1
	local out
	out=$("$OCI" --root "$PWD/state" run --bundle b d1 2>&1)
	expect_match "$out" $'^crw-rw-rw- +1 +[0-9]+ +[0-9]+ +10, +200 ' "the host's node, bound" &&
	expect_match "$out" $'\nprw------- ' "a fifo, made" && oci_devices_config 211 &&
	expect_eq "$("$OCI" --root "$PWD/state" run --bundle b d2 2>&1)" \
		"usbox-oci: device /dev/net/tun: cannot be made in a user namespace, and the host has no such node to bind" \
		"no such node on the host: refused" && expect_eq "$(ls -A state)" "" "nothing left behind"
}

# oci_resources JSON: set linux.resources of b/config.json to JSON.
oci_resources() {
	python3 - "$1" <<'PY'
import json, sys
c = json.load(open("b/config.json"))
c["linux"]["resources"] = json.loads(sys.argv[1])
json.dump(c, open("b/config.json", "w"))
PY
}

# Where memory, cpu and pids are bound to cgroup v1 (a hybrid host): limits
# are refused saying so, nothing is left behind, a container without limits
# runs without a cgroup (and the log says so), and what needs one is refused.
# Refusals of linux.resources that do not depend on the host.
oci_resources_refused() {
	local err
	oci_resources '{"unified": {"cgroup.procs": "1"}}' &&
	err=$("$OCI" "${R[@]}" create --bundle b c1 2>&1 </dev/null)
	expect_eq "$?/$err" "1/usbox-oci: config.json: linux.resources.unified.cgroup.procs: not a cgroup v2 controller file (CONTROLLER.NAME)" \
		"a unified key outside the controllers' files is refused by name" || return 1
	oci_resources '{"memory": {"limit": 67108864, "swap": 1000}}' &&
	expect_match "$("$OCI" "${R[@]}" create --bundle b c1 2>&1 </dev/null)" 'memory.swap: less than memory.limit' \
		"swap below the limit" && expect_eq "$(ls -A state 2>/dev/null)" "" "nothing left behind"
}

t_oci_cgroup_limits_on_v1_host() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sleep 100 || return 1
	local R=(--root "$PWD/state") err
	# on a cgroup v2 host (the VM) the limits themselves are tests/vm's
	grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null && { oci_resources_refused; return; }
	oci_resources '{"memory": {"limit": 67108864}, "pids": {"limit": 20}}' || return 1
	err=$("$OCI" "${R[@]}" create --bundle b c1 2>&1 </dev/null)
	expect_eq "$?" 1 "limits on a v1 host: exit status" &&
	expect_match "$err" 'linux.resources asks for limits \(memory pids\), and this host has no cgroup v2 controller memory' \
		"the error names the limits and the missing v2 controller" &&
	expect_eq "$(ls -A state)" "" "nothing left behind" || return 1
	err=$("$OCI" "${R[@]}" --systemd-cgroup create --bundle b c1 2>&1 </dev/null)
	expect_eq "$?" 1 "with --systemd-cgroup too" && expect_match "$err" 'no cgroup v2 controller' "named" || return 1
	oci_resources_refused || return 1
	oci_resources '{"memory": {"limit": -1}, "cpu": {"shares": 1024}, "devices": []}' &&
	"$OCI" "${R[@]}" --log "$PWD/log" create --bundle b c1 </dev/null >/dev/null 2>&1 || { fail "create without limits"; return 1; }
	local r=1
	expect_match "$(cat log)" 'running without a cgroup of the container.s own: this host has no cgroup v2 controller' \
		"no limits, no cgroup: the log says so" &&
	"$OCI" "${R[@]}" start c1 && err=$("$OCI" "${R[@]}" pause c1 2>&1)
	expect_eq "$?" 1 "pause without a cgroup" && expect_match "$err" "has no cgroup of its own" "pause: why" &&
	expect_match "$(echo '{"pids": {"limit": 5}}' | "$OCI" "${R[@]}" update --resources - c1 2>&1)" \
		"cannot update container c1: it has no cgroup" "update without a cgroup" &&
	expect_match "$("$OCI" "${R[@]}" state c1)" '"status":"running"' "still running" &&
	"$OCI" features | python3 -c 'import json,sys; c=json.load(sys.stdin)["linux"]["cgroup"]; assert c["v2"] and not c["v1"], c' &&
	r=0
	"$OCI" "${R[@]}" delete --force c1
	[ -z "$(ls -A state)" ] || { fail "state left behind"; r=1; }
	return $r
}

# ---- as root (tests.sh root): containerd's runc shim, the path Kubernetes takes

# ctd_up: a containerd of the test's own (its socket, root and state here) and
# a docker-archive of a busybox root file system imported into it.
ctd_up() {
	mkdir -p bin rootfs/bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci || return 1
	CTD=$(mktemp -d /tmp/uo-ctd.XXXXXX) && chmod 711 "$CTD" || return 1 # (as containerd's own: a mapped root passes)
	printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s/c.sock"\n' \
		"$CTD" "$CTD" "$CTD" >"$CTD/config.toml"
	# (ctr run --uidmap drops --runc-binary: its shim finds "runc" on containerd's PATH, which is usbox-oci here)
	mkdir -p "$CTD/bin" && printf '#!/bin/sh\nexec %s "$@"\n' "$OCI" >"$CTD/bin/runc" && chmod 755 "$CTD/bin/runc" &&
	PATH=$CTD/bin:$PATH containerd --config "$CTD/config.toml" >"$CTD/log" 2>&1 &
	CTD_PID=$!
	C=(ctr -a "$CTD/c.sock")
	cp /bin/busybox rootfs/bin/ && for c in sh cat echo id ls ps sleep; do ln -sf busybox "rootfs/bin/$c"; done
	tar -C rootfs -cf bb.tar . || return 1
	local P=(podman --root "$PWD/ps" --runroot "$CTD/pr" --storage-driver vfs --events-backend file)
	"${P[@]}" import -q bb.tar localhost/bb:t >/dev/null && "${P[@]}" save -q --format docker-archive -o bb-docker.tar localhost/bb:t ||
		{ fail "a docker-archive"; return 1; }
	local i
	for i in $(seq 50); do [ -S "$CTD/c.sock" ] && break; sleep 0.1; done
	"${C[@]}" image import bb-docker.tar >/dev/null || { fail "ctr image import: $(tail -3 "$CTD/log")"; return 1; }
}

ctd_down() {
	"${C[@]}" task kill -s KILL c2 >/dev/null 2>&1; "${C[@]}" task rm c2 >/dev/null 2>&1; "${C[@]}" c rm c2 >/dev/null 2>&1
	kill "$CTD_PID" 2>/dev/null; wait "$CTD_PID" 2>/dev/null
	umount -R "$CTD"/* 2>/dev/null; rm -rf "$CTD" "$PWD/ps"
}

r_oci_containerd() {
	ctd_up || { ctd_down; return 1; }
	local out r=1
	out=$("${C[@]}" run --rm --runc-binary "$OCI" localhost/bb:t c1 sh -c 'echo hi; id -u; readlink /proc/self/ns/user; exit 3')
	expect_eq "$?" 3 "ctr run: the exit status" &&
	expect_eq "$out" "$(printf 'hi\n0\n%s' "$(readlink /proc/self/ns/user)")" "as root, no user namespace of its own" &&
	"${C[@]}" run -d --runc-binary "$OCI" localhost/bb:t c2 sleep 100 >/dev/null &&
	out=$("${C[@]}" task exec --exec-id e1 c2 sh -c 'echo $$; exit 4') ; expect_eq "$?/$out" "4/2" "task exec" &&
	expect_match "$("${C[@]}" task ps c2)" "^PID" "task ps" &&
	"${C[@]}" task kill -s KILL c2 && sleep 0.5 &&
	expect_match "$("${C[@]}" task ls)" 'c2[[:space:]]+[0-9]+[[:space:]]+STOPPED' "task kill" &&
	out=$("${C[@]}" run --rm --uidmap 0:1000000:65536 --gidmap 0:1000000:65536 \
		localhost/bb:t c3 sh -c 'cat /proc/self/uid_map; id -u') &&
	expect_match "$out" $'^ +0 +1000000 +65536\n0$' "--uidmap: a user namespace with the config's map" && r=0
	ctd_down
	return $r
}

# As root: the bundle's container without a user namespace of its own.
oci_root_namespaces() {
	python3 - <<'PY'
import json
c = json.load(open("b/config.json"))
c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]
for k in ("uidMappings", "gidMappings"):
    c["linux"].pop(k, None)
json.dump(c, open("b/config.json", "w"))
PY
}

r_oci_root_cli() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sleep 100 || return 1
	oci_root_namespaces || return 1
	local R=(--root "$PWD/state") pid r=1
	"$OCI" "${R[@]}" create --bundle b --pid-file "$PWD/pid" c1 </dev/null >/dev/null 2>&1 || return 1
	pid=$(cat pid)
	expect_eq "$(readlink /proc/"$pid"/ns/user)" "$(readlink /proc/self/ns/user)" "no user namespace: the host's" &&
	expect_eq "$(awk '/^Uid/ {print $2}' /proc/"$pid"/status)" 0 "root" &&
	[ "$(readlink /proc/"$pid"/ns/net)" != "$(readlink /proc/self/ns/net)" ] &&
	"$OCI" "${R[@]}" start c1 && expect_eq "$("$OCI" "${R[@]}" exec c1 cat /proc/net/dev | grep -c :)" 1 \
		"a network namespace of its own: loopback only" && r=0
	"$OCI" "${R[@]}" delete --force c1
	[ -z "$(ls -A state)" ] || { fail "state left behind"; r=1; }
	return $r
}

# What the creator holds does not reach the container: no descriptor beyond
# stdio, not its working directory; the state is the caller's alone.
t_oci_cli_nothing_leaks() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci &&
		oci_bundle sh -c 'ls /proc/self/fd | tr "\n" " "; readlink /proc/self/cwd' || return 1
	local out here=$PWD
	out=$(cd /tmp && exec 7</etc/passwd 8>/dev/null && "$OCI" --root "$here/state" run --bundle "$here/b" l1) ||
		{ fail "run: $out"; return 1; }
	expect_eq "$out" "0 1 2 3 /" "only stdio (and ls's own directory), in the container's /" &&
	oci_bundle sh -c 'cat <&3; ls /proc/self/fd | tr "\n" " "' && echo preserved >kept &&
	expect_eq "$("$OCI" --root "$PWD/state" run --preserve-fds 1 --bundle b l3 3<kept 4</etc/passwd)" "preserved
0 1 2 3 4 " "--preserve-fds 1: fd 3 and nothing above it (4 is ls's own)" &&
	mkdir -p state2 && "$OCI" --root "$PWD/state2/r" create --bundle b l2 </dev/null >/dev/null 2>&1 &&
	expect_eq "$(stat -c %a state2/r state2/r/l2)" "$(printf '700\n700')" "the state root and the container's directory: 0700"
	local r=$?
	"$OCI" --root "$PWD/state2/r" delete --force l2
	return $r
}

# A user other than root gets the config's bounding set, not the whole one.
r_oci_user_bounding_set() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle cat /proc/self/status || return 1
	python3 - <<'PY' || return 1
import json
c = json.load(open("b/config.json"))
c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]
for k in ("uidMappings", "gidMappings"):
    c["linux"].pop(k, None)
c["process"]["user"] = {"uid": 10, "gid": 10}
c["process"]["capabilities"] = {k: ["CAP_KILL", "CAP_CHOWN"] for k in ("bounding", "permitted", "effective")}
json.dump(c, open("b/config.json", "w"))
PY
	local out
	out=$("$OCI" --root "$PWD/state" run --bundle b u1) || { fail "run: $out"; return 1; }
	expect_match "$out" $'\nUid:\t10\t' "uid 10" &&
	expect_match "$out" $'\nCapBnd:\t0000000000000021\n' "the bounding set: CAP_CHOWN and CAP_KILL"
}

# A hostname goes into a uts namespace joined by path (as runc does it).
r_oci_join_uts_hostname() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle cat /proc/sys/kernel/hostname || return 1
	unshare -u sleep 100 &
	local holder=$! out r=1
	sleep 0.2
	python3 - "/proc/$holder/ns/uts" <<'PY' || { kill $holder; return 1; }
import json, sys
c = json.load(open("b/config.json"))
c["linux"]["namespaces"] = [{"type": "mount"}, {"type": "pid"}, {"type": "uts", "path": sys.argv[1]}]
for k in ("uidMappings", "gidMappings"):
    c["linux"].pop(k, None)
c["hostname"] = "joined"
json.dump(c, open("b/config.json", "w"))
PY
	out=$("$OCI" --root "$PWD/state" run --bundle b j1 2>&1) && expect_eq "$out" joined "inside" &&
	expect_eq "$(nsenter -t $holder -u cat /proc/sys/kernel/hostname)" joined "the joined namespace's" &&
	[ "$(cat /proc/sys/kernel/hostname)" != joined ] && r=0
	kill $holder; wait $holder 2>/dev/null
	return $r
}

# linux.devices as root: nodes made with the config's numbers, mode and owner.
r_oci_devices() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle true && oci_devices_config 211 root ||
		return 1
	local out
	out=$("$OCI" --root "$PWD/state" run --bundle b d1 2>&1)
	expect_match "$out" $'^crw--w---- +1 +7 +8 +10, +211 ' "made: c 10:211, 0620, 7:8" &&
	expect_match "$out" $'\nprw------- ' "a fifo, made"
}

t_oci_cli_hostname_and_domainname() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci &&
		oci_bundle cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname || return 1
	python3 -c 'import json; c=json.load(open("b/config.json")); c["hostname"]="h1"; c["domainname"]="d1.test"; json.dump(c, open("b/config.json","w"))'
	expect_eq "$("$OCI" --root "$PWD/state" run --bundle b h1)" "$(printf 'h1\nd1.test')" "the uts namespace's names"
}

# As root, without a user namespace: the same hooks.
r_oci_container_hooks() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle true || return 1
	oci_root_namespaces || return 1
	oci_container_hooks
}

# oci_join_config NAMESPACES_JSON [MAP_HOST_ID]: linux.namespaces set (the
# hostname dropped without a uts namespace), and the id maps dropped (or one
# range of 65536 from MAP_HOST_ID).
oci_join_config() {
	python3 - "$@" <<'PY'
import json, sys
c = json.load(open("b/config.json"))
c["linux"]["namespaces"] = json.loads(sys.argv[1])
if "uts" not in [n["type"] for n in c["linux"]["namespaces"]]:
    c.pop("hostname", None)
for k in ("uidMappings", "gidMappings"):
    c["linux"].pop(k, None)
    if len(sys.argv) > 2:
        c["linux"][k] = [{"containerID": 0, "hostID": int(sys.argv[2]), "size": 65536}]
json.dump(c, open("b/config.json", "w"))
PY
}

# Rootless: joining a user and a mount namespace of the caller's own by
# path (an unshare'd holder): the container is in both, its maps are the
# joined ones (spec --rootless's maps are the same, so accepted); its hooks
# run but createContainer (refused by name); other maps,
# a bad path and a mount namespace with a new user namespace are refused
# by name, with nothing left behind.
t_oci_cli_join_user_and_mount() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci &&
		oci_bundle sh -c 'for n in user mnt pid; do readlink /proc/self/ns/$n; done; cat /proc/self/uid_map; id -u' ||
		return 1
	unshare -r -m sleep 100 &
	local h=$! out r=1 R=(--root "$PWD/state")
	sleep 0.2
	python3 - "$h" <<'PY' || { kill $h; return 1; }
import json, sys
c = json.load(open("b/config.json"))
c["linux"]["namespaces"] = [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
                            {"type": "mount", "path": "/proc/%s/ns/mnt" % sys.argv[1]},
                            {"type": "user", "path": "/proc/%s/ns/user" % sys.argv[1]}]
json.dump(c, open("b/config.json", "w"))
PY
	out=$("$OCI" "${R[@]}" run --bundle "$PWD/b" j1 2>&1) || fail "run: $out"
	expect_eq "$(sed 3d <<<"$out")" "$(readlink /proc/$h/ns/user /proc/$h/ns/mnt)
$(cat /proc/$h/uid_map)
0" "the holder's user and mount namespaces, the joined maps, root" &&
	expect_match "$(sed -n 3p <<<"$out")" '^pid:\[[0-9]+\]$' "a pid namespace" &&
	[ "$(sed -n 3p <<<"$out")" != "$(readlink /proc/self/ns/pid)" ] &&
	# start sees the program run (its process is not dumpable until then) and
	# runs poststart; createContainer would need to join that process: refused.
	# (A new mount namespace: j1 made the holder's root its own.)
	python3 - "$PWD" <<'PY' &&
import json, sys
c = json.load(open("b/config.json"))
c["linux"]["namespaces"][3] = {"type": "mount"}
c["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo poststart >%s/hook.out" % sys.argv[1]]}],
              "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 0"]}]}
json.dump(c, open("b/config.json", "w"))
PY
	"$OCI" "${R[@]}" create --bundle "$PWD/b" j6 </dev/null >/dev/null && "$OCI" "${R[@]}" start j6 &&
	expect_eq "$(cat hook.out)" poststart "poststart, startContainer" && "$OCI" "${R[@]}" delete --force j6 &&
	python3 -c 'import json; c=json.load(open("b/config.json")); c["hooks"]={"createContainer": [{"path": "/bin/true"}]}; json.dump(c, open("b/config.json","w"))' &&
	expect_eq "$("$OCI" "${R[@]}" run --bundle "$PWD/b" j7 2>&1; echo "rc=$?")" "usbox-oci: hooks.createContainer: not run by a rootless usbox-oci in a user namespace joined by path (linux.namespaces)
rc=1" "createContainer refused" &&
	python3 -c 'import json; c=json.load(open("b/config.json")); c.pop("hooks"); c["linux"]["uidMappings"][0]["hostID"]+=1; json.dump(c, open("b/config.json","w"))' &&
	expect_eq "$("$OCI" "${R[@]}" run --bundle "$PWD/b" j2 2>&1; echo "rc=$?")" "usbox-oci: linux.uidMappings: not the maps of the user namespace joined by linux.namespaces (give one or the other)
rc=1" "other maps with a joined user namespace" &&
	oci_join_config '[{"type": "pid"}, {"type": "mount"}, {"type": "user", "path": "/nonexistent/ns"}]' &&
	expect_eq "$("$OCI" "${R[@]}" run --bundle "$PWD/b" j3 2>&1; echo "rc=$?")" "usbox-oci: linux.namespaces: /nonexistent/ns: No such file or directory
rc=1" "a bad path" &&
	oci_join_config '[{"type": "pid"}, {"type": "mount"}, {"type": "user", "path": "'"/proc/$h/ns/net"'"}]' &&
	expect_eq "$("$OCI" "${R[@]}" run --bundle "$PWD/b" j4 2>&1; echo "rc=$?")" "usbox-oci: linux.namespaces: /proc/$h/ns/net is not a user namespace, or it is the caller's own
rc=1" "not a user namespace" &&
	oci_join_config '[{"type": "pid"}, {"type": "mount", "path": "'"/proc/$h/ns/mnt"'"}, {"type": "user"}]' $(id -u) &&
	expect_eq "$("$OCI" "${R[@]}" run --bundle "$PWD/b" j5 2>&1; echo "rc=$?")" "usbox-oci: config.json: linux.namespaces: a mount namespace joined by path needs the user namespace that owns it (joined by path too), not a new one
rc=1" "a joined mount namespace with a new user namespace" &&
	expect_eq "$(ls -A state)" "" "nothing left behind" && r=0
	kill $h; wait $h 2>/dev/null
	return $r
}

# Escape: namespaces the caller does not own cannot be joined (the host's
# mount and user namespaces, through /proc/1), and nothing is left behind.
t_oci_cli_join_not_owned() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle true || return 1
	local R=(--root "$PWD/state") ns
	for ns in '[{"type": "pid"}, {"type": "mount", "path": "/proc/1/ns/mnt"}]' \
		'[{"type": "pid"}, {"type": "mount"}, {"type": "user", "path": "/proc/1/ns/user"}]'; do
		oci_join_config "$ns" &&
		expect_match "$("$OCI" "${R[@]}" run --bundle "$PWD/b" n1 2>&1; echo "rc=$?")" \
			$'^usbox-oci: linux.namespaces: (join the [a-z]+ namespace )?/proc/1/ns/[a-z]+: (Permission denied|Operation not permitted)\nrc=1$' \
			"refused: $ns" || return 1
	done
	expect_eq "$(ls -A state)" "" "nothing left behind"
}

# Escape: a container that shares its user and pid namespaces with another
# (as a pod's containers may) cannot ptrace, or open /proc/PID/{exe,cwd,root,
# fd,mem} of, the joining container's process before that one executes its
# command (it holds the host's fds until then).  The watcher runs in the
# first container; the second is created (and waits) five times.
t_oci_cli_join_not_reachable() {
	oci_watch_join_bundle || return 1
	local R=(--root "$PWD/state") i pid n=0 r=1
	"$OCI" "${R[@]}" create --bundle b --pid-file "$PWD/pid" w1 </dev/null >out 2>err && "$OCI" "${R[@]}" start w1 || return 1
	pid=$(cat pid)
	cp -a b b2 && (cd b2 && python3 - "$pid" <<'PY') || { "$OCI" "${R[@]}" delete --force w1; return 1; }
import json, sys
c = json.load(open("config.json"))
c["process"]["args"] = ["true"]
c["linux"]["namespaces"] = [{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}] + [
    {"type": t, "path": "/proc/%s/ns/%s" % (sys.argv[1], t)} for t in ("user", "pid")]
json.dump(c, open("config.json", "w"))
PY
	for i in 1 2 3 4 5; do
		"$OCI" "${R[@]}" create --bundle b2 j$i </dev/null >/dev/null 2>>join-err && n=$((n + 1)) && sleep 0.5
		"$OCI" "${R[@]}" delete --force j$i 2>/dev/null
	done
	touch ctl/stop
	for i in $(seq 50); do [[ $("$OCI" "${R[@]}" state w1) == *'"status":"stopped"'* ]] && break; sleep 0.2; done
	expect_eq "$n" 5 "the joining containers were created ($(cat join-err))" &&
	expect_match "$(cat out)" '^(EPERM|EACCES)$' "refused (the watcher: $(cat out err))" &&
	expect_match "$(cat err)" '(^|\n)[1-9][0-9]* caught while joining' "caught joining at least once" && r=0
	"$OCI" "${R[@]}" delete --force w1
	return $r
}

# As root: a container joins another's user namespace (made with a map of
# its own), and a mount namespace (an unshare'd holder's, no user namespace):
# runtime-tools' linux_ns_path does the latter.  A user namespace the caller
# does not own (root's, persisted on a file) cannot be joined by nobody.
r_oci_join_user_and_mount() {
	local t
	t=$(mktemp -d /tmp/uo-j.XXXXXX) && chmod 755 "$t" && cd "$t" || return 1 # root's home: not for uid 300000
	oci_join_as_root
	local r=$?
	cd / && rm -rf "$t"
	return $r
}

oci_join_as_root() {
	mkdir -p bin && ln -sf "$U" bin/usbox-oci && OCI=$PWD/bin/usbox-oci && oci_bundle sleep 100 || return 1
	local R=(--root "$PWD/state") pid h out r=1
	oci_join_config '[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}]' 300000 &&
		chown -R 300000:300000 b/rootfs &&
		"$OCI" "${R[@]}" create --bundle b --pid-file "$PWD/pid" c1 </dev/null >/dev/null 2>&1 || return 1
	pid=$(cat pid)
	unshare -m --propagation private sleep 100 &
	h=$!
	sleep 0.2
	python3 -c 'import json; c=json.load(open("b/config.json")); c["process"]["args"]=["sh","-c","readlink /proc/self/ns/user; readlink /proc/self/ns/mnt; cat /proc/self/uid_map; id -u"]; json.dump(c, open("b/config.json","w"))' &&
	oci_join_config '[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user", "path": "'"/proc/$pid/ns/user"'"}]' &&
	out=$("$OCI" "${R[@]}" run --bundle b c2 2>&1) &&
	expect_match "$out" "^$(readlink /proc/$pid/ns/user | sed 's/[][]/\\&/g')
mnt:\\[[0-9]+\\]
 +0 +300000 +65536
0\$" "c1's user namespace, its maps, root" &&
	[ "$(echo "$out" | sed -n 2p)" != "$(readlink /proc/$pid/ns/mnt)" ] &&
	oci_join_config '[{"type": "pid"}, {"type": "mount", "path": "'"/proc/$h/ns/mnt"'"}]' &&
	expect_eq "$("$OCI" "${R[@]}" run --bundle b c3 2>&1 | sed -n 2p)" "$(readlink /proc/$h/ns/mnt)" "the holder's mount namespace" &&
	# nobody, given an open fd of c1's user namespace, reopens it by
	# /proc/self/fd/3 but cannot join it
	local d
	d=$(mktemp -d /tmp/uo-nb.XXXXXX) && chmod 755 "$d" && cp -a b "$d/" && ln -s "$U" "$d/usbox-oci" &&
	mkdir -m 777 "$d/st" && (cd "$d" && oci_join_config '[{"type": "pid"}, {"type": "mount"}, {"type": "user", "path": "/proc/self/fd/3"}]') &&
	expect_eq "$(cd "$d" && setpriv --reuid=65534 --regid=65534 --clear-groups "$d/usbox-oci" --root "$d/st/r" \
		run --bundle b n1 3<"/proc/$pid/ns/user" 2>&1; echo "rc=$?")" \
		"usbox-oci: linux.namespaces: join the user namespace /proc/self/fd/3: Operation not permitted
rc=1" "nobody cannot join root's user namespace" &&
	expect_eq "$(ls -A "$d/st/r" 2>/dev/null)" "" "nothing left behind" && r=0
	rm -rf "$d"
	kill $h; wait $h 2>/dev/null
	"$OCI" "${R[@]}" delete --force c1
	[ -z "$(ls -A state)" ] || { fail "state left behind"; r=1; }
	return $r
}
