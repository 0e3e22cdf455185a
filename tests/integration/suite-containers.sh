# Detached containers and their lifecycle (run -d, ps, logs, exec, stop,
# kill, wait, rm, inspect, attach), sourced by tests.sh.

ctr_data() { echo "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store/containers"; }
ctr_runtime() {
	if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ "$(stat -c %u "$XDG_RUNTIME_DIR" 2>/dev/null)" = "$me" ]; then
		echo "$XDG_RUNTIME_DIR/usbox/containers"
	else
		echo "/tmp/usbox-$me/containers"
	fi
}
# our containers' supervisors and inits (not zombies: PID 1 of the machine
# reaps a supervisor whose usbox run -d has returned, in its own time)
ctr_procs() { ps -u "$me" -o pid=,stat=,args= | awk '$2 !~ /Z/ && ($3 ~ /^usbox-monitor/ || $3 == "usbox-init") {print $1}' | sort; }
# expect_procs WANT: what ctr_procs says within 3 s (a supervisor ends after rm -f returns)
expect_procs() {
	local i
	for i in $(seq 30); do [ "$(ctr_procs)" == "$1" ] && return 0; sleep 0.1; done
	expect_eq "$(ctr_procs)" "$1" "no process left"
}
ctr_json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ctr_cleanup() { local c; for c in "$@"; do "$U" rm -f "$c" >/dev/null 2>&1; done; }

t_ctr_detached_server_ps_logs_exec_stop_rm() {
	fixtures || return 1
	"$U" load -q -i "$FIX/oci:latest" usbox-t-srv >/dev/null || return 1
	trap 'ctr_cleanup srv1; "$U" rmi -f usbox-t-srv >/dev/null 2>&1' RETURN
	local id out before
	before=$(ctr_procs)
	mkdir www && echo served > www/index.html
	id=$("$U" run -d --name srv1 -p 127.0.0.1:18431:8000 -e MARK=m1 -v "$PWD/www:/www:ro" --image usbox-t-srv \
		--entrypoint "" -- sh -c 'echo started; echo to-stderr >&2; exec busybox httpd -f -p 8000 -h /www') ||
		return 1
	expect_match "$id" '^[0-9a-f]{64}$' "run -d prints the id" || return 1
	for i in $(seq 50); do out=$(curl -s -m 1 http://127.0.0.1:18431/index.html) && break; sleep 0.1; done
	expect_eq "$out" served "the server answers through -p" || return 1
	out=$("$U" ps) || return 1
	expect_match "$out" "CONTAINER ID +IMAGE +COMMAND" "ps header" &&
	expect_match "$out" "${id:0:12} +usbox-t-srv(:latest)? +\"sh -c echo starte\.\.\.\" .* Up .*127.0.0.1:18431->8000/tcp +srv1" "ps row" &&
	expect_eq "$("$U" ps -q)" "${id:0:12}" "ps -q" &&
	expect_eq "$("$U" ps --format json | ctr_json 'd[0]["Names"], d[0]["State"], d[0]["Id"] == "'"$id"'"')" \
		"srv1 running True" "ps --format json" || return 1
	expect_eq "$("$U" logs srv1 2>/dev/null)" started "logs: stdout" &&
	expect_eq "$("$U" logs srv1 2>&1 >/dev/null)" to-stderr "logs: stderr apart" &&
	expect_match "$("$U" logs -t srv1 2>/dev/null)" '^20[0-9-]+T[0-9:.]+Z started$' "logs -t" || return 1
	# exec: status, identity, the same root, env, workdir
	out=$("$U" exec -e X=1 -w /etc srv1 sh -c 'id -u; pwd; echo $MARK$X; cat /www/index.html; hostname; cat /proc/1/comm') || return 1
	expect_eq "$out" "$(printf '1000\n/etc\nm11\nserved\nsrv1\nusbox-init')" "exec sees the container" &&
	expect_status 3 "$U" exec srv1 sh -c 'exit 3' &&
	expect_eq "$("$U" exec -u 0 srv1 id)" "uid=0(root) gid=0(root)" "exec -u 0: root's group from /etc/passwd" &&
	expect_eq "$("$U" exec srv1 cat /proc/self/status | awk '/^(NoNewPrivs|Seccomp):/ {print $2}' | tr '\n' ' ')" "1 2 " \
		"exec: no_new_privs and the filter" &&
	expect_eq "$(echo piped | "$U" exec -i srv1 cat)" piped "exec -i" &&
	expect_eq "$(echo piped | "$U" exec srv1 cat)" "" "exec without -i: no stdin" || return 1
	local t0=$SECONDS
	expect_eq "$("$U" stop -t 5 srv1)" srv1 "stop prints the name" &&
	[ $((SECONDS - t0)) -lt 4 ] || fail "stop took $((SECONDS - t0)) s: httpd ends on SIGTERM" || return 1
	expect_eq "$("$U" ps -q)" "" "stopped: not listed" &&
	expect_match "$("$U" ps -a)" "Exited \(143\).*srv1" "ps -a: exited, 128+SIGTERM" &&
	expect_eq "$("$U" inspect srv1 | ctr_json 'd[0]["State"]["Status"], d[0]["State"]["ExitCode"], d[0]["Config"]["process"]["args"][0]')" \
		"exited 143 sh" "inspect after the end" &&
	expect_status 125 "$U" exec srv1 true 2>/dev/null &&
	expect_eq "$("$U" exec srv1 true 2>&1)" "usbox: container srv1 is not running" "exec into a stopped one" &&
	expect_eq "$("$U" logs srv1 2>/dev/null)" started "logs after the end" || return 1
	expect_eq "$("$U" rm srv1)" srv1 "rm" &&
	[ ! -e "$(ctr_data)/$id" ] && [ ! -e "$(ctr_runtime)/$id" ] || fail "rm left the container's files" || return 1
	expect_procs "$before"
}

t_ctr_inspect_running() {
	trap 'ctr_cleanup ins1' RETURN
	"$U" run -d --name ins1 --net none -- sleep 60 >/dev/null || return 1
	local out
	out=$("$U" inspect ins1) || return 1
	expect_eq "$(ctr_json 'd[0]["State"]["Running"], d[0]["Name"], d[0]["Image"], d[0]["StorageDriver"], d[0]["Config"]["network"]["mode"]' <<<"$out")" \
		"True ins1 host none none" "inspect fields" || return 1
	local pid ns
	pid=$(ctr_json 'd[0]["State"]["Pid"]' <<<"$out")
	ns=$(ctr_json 'd[0]["Namespaces"]["pid"]' <<<"$out")
	expect_eq "$(readlink "/proc/$pid/ns/pid")" "$ns" "inspect: the init's pid namespace" &&
	expect_eq "$(cat "/proc/$pid/comm")" "usbox-init" "inspect: Pid is the init" &&
	expect_status 125 "$U" rm ins1 2>/dev/null &&
	expect_match "$("$U" rm ins1 2>&1)" "container ins1 is running: stop it first .* rm -f" "rm of a running one" &&
	expect_eq "$("$U" rm -f ins1)" ins1 "rm -f" &&
	expect_status 125 "$U" inspect ins1 2>/dev/null
}

t_ctr_run_d_failures_leave_nothing() {
	local before out
	before=$(ls "$(ctr_data)" 2>/dev/null)
	out=$("$U" run -d --name bad1 -- /nonexistent/cmd 2>&1)
	expect_eq "$?" 127 "not found: 127" &&
	expect_match "$out" "^usbox: /nonexistent/cmd: No such file or directory$" "message" &&
	expect_status 126 "$U" run -d --name bad1 -- /etc/passwd 2>/dev/null &&
	expect_status 125 "$U" run -d --name bad1 --uid x -- true 2>/dev/null &&
	expect_eq "$(ls "$(ctr_data)" 2>/dev/null)" "$before" "no container left" || return 1
	"$U" run -d --name dup1 -- sleep 30 >/dev/null || return 1
	trap 'ctr_cleanup dup1' RETURN
	expect_match "$("$U" run -d --name dup1 -- true 2>&1)" "name dup1 is in use by a running sandbox" "a name twice" &&
	expect_status 125 "$U" run -d -i -- cat 2>/dev/null
}

t_ctr_logs_follow_tail_rotation() {
	trap 'ctr_cleanup lg1 lg2' RETURN
	"$U" run -d --name lg1 --net none -- sh -c 'for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done; printf partial' >/dev/null || return 1
	local out
	out=$("$U" logs -f lg1) || return 1
	expect_eq "$out" "$(printf 'line1\nline2\nline3\nline4\nline5\npartial')" "logs -f follows to the end" &&
	expect_eq "$("$U" logs --tail 2 lg1)" "$(printf 'line5\npartial')" "--tail 2" &&
	expect_eq "$("$U" wait lg1)" 0 "wait" || return 1
	# 200 lines of 100 bytes: about 27 KB of records, rotated at 8k, 2 files kept
	"$U" run -d --name lg2 --net none --log-opt max-size=8k -- sh -c 'i=0; while [ $i -lt 200 ]; do printf "%099d\n" $i; i=$((i+1)); done' >/dev/null || return 1
	"$U" wait lg2 >/dev/null
	local dir
	dir=$(ctr_data)/$("$U" inspect lg2 | ctr_json 'd[0]["Id"]')
	[ -e "$dir/ctr.log.1" ] && [ ! -e "$dir/ctr.log.2" ] || fail "rotation: $(ls "$dir")" || return 1
	[ "$(stat -c %s "$dir/ctr.log")" -le 8192 ] && [ "$(stat -c %s "$dir/ctr.log.1")" -le 8192 ] || fail "a log file passed max-size" || return 1
	out=$("$U" logs lg2)
	expect_eq "$(tail -n1 <<<"$out")" "$(printf '%099d' 199)" "the newest line is kept" &&
	[ "$(wc -l <<<"$out")" -lt 200 ] || fail "nothing was rotated away"
}

t_ctr_kill_wait_signals() {
	trap 'ctr_cleanup kw1' RETURN
	"$U" run -d --name kw1 --net none -- sh -c 'trap "echo got-usr1" USR1; trap "echo got-alrm" ALRM; trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null || return 1
	sleep 0.3
	expect_eq "$("$U" kill -s USR1 kw1)" kw1 "kill -s USR1" &&
	"$U" kill --signal=SIGALRM kw1 >/dev/null && sleep 0.5 &&
	expect_eq "$("$U" logs kw1)" "$(printf 'got-usr1\ngot-alrm')" "signals reached the command" &&
	expect_match "$("$U" kill -s BOGUS kw1 2>&1)" "'BOGUS' is not a signal" "a bad signal" || return 1
	"$U" wait kw1 >wait.out &
	local w=$!
	sleep 0.2
	"$U" kill -s TERM kw1 >/dev/null
	wait $w
	expect_eq "$(cat wait.out)" 7 "wait prints the exit code" &&
	expect_match "$("$U" kill kw1 2>&1)" "container kw1 is not running" "kill a stopped one"
}

t_ctr_monitor_killed_and_reboot() {
	trap 'ctr_cleanup mk1 mk2' RETURN
	local before mon pid
	before=$(ctr_procs)
	"$U" run -d --name mk1 --net none -- sleep 60 >/dev/null || return 1
	mon=$("$U" inspect mk1 | ctr_json 'd[0]["State"]["MonitorPid"]')
	pid=$("$U" inspect mk1 | ctr_json 'd[0]["State"]["Pid"]')
	[ "$mon" -gt 1 ] && [ "$pid" -gt 1 ] || fail "inspect gave no pids" || return 1
	kill -9 "$mon"
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { fail "the container outlived its monitor"; return 1; }
	expect_match "$("$U" ps -a)" "Exited \(unknown\) +mk1" "ps -a after the monitor was killed" &&
	expect_eq "$("$U" rm mk1)" mk1 "rm cleans up" &&
	# a reboot: the runtime directory is gone, the supervisor too
	"$U" run -d --name mk2 --net none -- sleep 60 >/dev/null || return 1
	mon=$("$U" inspect mk2 | ctr_json 'd[0]["State"]["MonitorPid"]')
	kill -9 "$mon" && sleep 0.3 && rm -rf "$(ctr_runtime)"
	expect_match "$("$U" ps -a)" "Exited \(unknown\) +mk2" "after a reboot" &&
	expect_eq "$("$U" exec mk2 true 2>&1)" "usbox: container mk2 is not running" "exec after a reboot" &&
	expect_eq "$("$U" rm mk2)" mk2 "rm after a reboot" &&
	expect_procs "$before"
}

# A logout takes the runtime directory; a container that outlives it can
# still be reached (state.json keeps its pids) and removed.
t_ctr_runtime_dir_lost_while_running() {
	trap 'ctr_cleanup lo1' RETURN
	"$U" run -d --name lo1 --net none -- sleep 60 >/dev/null || return 1
	rm -rf "$(ctr_runtime)"
	expect_eq "$("$U" exec lo1 echo reached)" reached "exec" &&
	expect_match "$("$U" ps)" "Up .* lo1" "ps" &&
	expect_eq "$("$U" stop -t 1 lo1)" lo1 "stop" &&
	expect_match "$("$U" ps -a)" "Exited \(143\) .* lo1" "stopped"
}

t_ctr_exec_killed_midway() {
	trap 'ctr_cleanup ek1' RETURN
	"$U" run -d --name ek1 --net none -- sleep 60 >/dev/null || return 1
	# exec -d: the command outlives usbox exec, reaped by the init
	"$U" exec -d ek1 sh -c 'sleep 0.3; echo done > /tmp/d' || return 1
	sleep 1
	expect_eq "$("$U" exec ek1 cat /tmp/d)" done "exec -d" &&
	expect_eq "$("$U" exec ek1 sh -c 'ps -o stat= | grep -c Z')" 0 "no zombie" || return 1
	(exec "$U" exec ek1 sh -c 'echo $$ > /tmp/inner; exec sleep 30') &
	local ex=$!
	for i in $(seq 50); do "$U" exec ek1 test -s /tmp/inner && break; sleep 0.1; done
	kill -9 $ex
	wait $ex 2>/dev/null
	sleep 0.3
	# (a zombie until the machine's init reaps it: its parent was outside)
	expect_eq "$("$U" exec ek1 sh -c 'case $(cut -d" " -f3 /proc/$(cat /tmp/inner)/stat 2>/dev/null) in ""|Z) echo gone ;; *) echo alive ;; esac')" gone \
		"the exec'd command dies with usbox exec" &&
	expect_eq "$("$U" exec ek1 echo still)" still "the container lives on"
}

t_ctr_exec_tty_and_attach() {
	trap 'tm_stop; ctr_cleanup at1' RETURN
	"$U" run -d -t --name at1 --net none -- sh >/dev/null || return 1
	tm_start || return 1
	tm_send "$U exec -it at1 sh -c 'tty; stty size'"
	tm_wait '/dev/pts/[0-9]+' 10 && tm_wait '^30 100' 5 || return 1
	tm_send "$U attach at1"
	sleep 0.5
	tm_send "echo attached-\$((6*7))"
	tm_wait 'attached-42' 10 || return 1
	tm_keys C-p C-q
	tm_wait 'detached from at1' 5 || return 1
	expect_match "$("$U" ps)" "Up .* at1" "still running after detach" &&
	expect_match "$("$U" logs at1)" "attached-42" "the terminal's output is logged" || return 1
	tm_send "$U attach at1"
	sleep 0.5
	tm_send "exit 5"
	tm_send 'echo status=$?'
	tm_wait '^status=5' 10 || return 1
	expect_match "$("$U" attach at1 2>&1)" "not running" "attach to a stopped one"
}

t_ctr_twenty_in_parallel() {
	local before i ids
	before=$(ctr_procs)
	for i in $(seq 20); do "$U" run -d --name par$i --net none -- sleep 60 >/dev/null || echo "par$i: run -d exited $?" & done
	wait
	expect_eq "$("$U" ps --format json | ctr_json 'sorted(c["Names"] for c in d if c["Names"].startswith("par"))' )" \
		"$(python3 -c 'print(sorted("par%d" % i for i in range(1, 21)))')" "20 listed" ||
		{ "$U" ps -a; echo "supervisors and inits: $(ctr_procs | wc -l)"; "$U" logs par1; ctr_cleanup $(seq -f par%g 20); return 1; }
	for i in $(seq 20); do "$U" rm -f par$i >/dev/null & done
	wait
	expect_eq "$("$U" ps -a --format json | ctr_json 'len([c for c in d if c["Names"].startswith("par")])')" 0 "all removed" &&
	expect_procs "$before" &&
	expect_eq "$(ls "$(ctr_runtime)" 2>/dev/null)" "" "no runtime state left"
}

# A named foreground sandbox killed with SIGKILL leaves its record; its
# name is free again all the same (it was to go at its end).
t_ctr_foreground_killed_name_free() {
	("$U" --name fk1 --net none -- sh -c 'touch up; exec sleep 60' & echo $! > pid; wait) &
	wait_for_file up || return 1
	kill -9 "$(cat pid)"
	for i in $(seq 40); do pgrep -u "$me" -f "sleep 60" >/dev/null || break; sleep 0.05; done
	expect_eq "$("$U" --name fk1 --net none -- echo again)" again "the name again" &&
	expect_eq "$("$U" ps -a --format json | ctr_json 'len([c for c in d if c["Names"] == "fk1"])')" 0 "no record left"
}

t_ctr_foreground_named_is_reachable() {
	"$U" --name fg1 --net none -- sh -c 'echo $$ > /tmp/p; sleep 2' &
	local fg=$!
	for i in $(seq 50); do "$U" exec fg1 test -s /tmp/p 2>/dev/null && break; sleep 0.1; done
	expect_eq "$("$U" exec fg1 hostname)" fg1 "exec into a foreground sandbox" &&
	expect_match "$("$U" ps)" "host .* fg1" "ps lists it" || { kill $fg; return 1; }
	wait $fg
	expect_eq "$("$U" ps -a --format json | ctr_json 'len([c for c in d if c["Names"] == "fg1"])')" 0 \
		"a foreground host sandbox leaves no record"
}

# (net suite) A detached container on a user network, found by name from
# another; rm gives its address back.
w_ctr_detached_on_user_network() {
	"$U" network rm ctrnet >/dev/null 2>&1
	"$U" network create --subnet 10.91.7.0/24 ctrnet >/dev/null || return 1
	trap 'ctr_cleanup web7; "$U" network rm ctrnet >/dev/null 2>&1' RETURN
	mkdir -p www && echo "served detached" > www/d.txt
	"$U" run -d --net ctrnet --name web7 -- python3 -m http.server 8000 --directory "$PWD/www" >/dev/null || return 1
	local out i
	for i in $(seq 50); do out=$("$U" --net ctrnet -- curl -s -m 1 http://web7:8000/d.txt) && break; sleep 0.1; done
	expect_eq "$out" "served detached" "by name from another sandbox" &&
	expect_eq "$("$U" inspect web7 | ctr_json 'd[0]["IPAddress"]')" 10.91.7.3 "inspect: the address" &&
	expect_eq "$("$U" rm -f web7)" web7 "rm -f" || return 1
	expect_eq "$("$U" --net ctrnet -- sh -c 'grep -c web7 /etc/hosts')" 0 "its name is gone from the network" &&
	expect_match "$("$U" --net ctrnet -- ip -o -4 addr show eth0)" "inet 10\.91\.7\.3/24" "its address is given out again"
}

t_ctr_exec_net_host_and_root() {
	trap 'ctr_cleanup nh1' RETURN
	"$U" run -d --name nh1 --net host --root -- sleep 60 >/dev/null || return 1
	expect_eq "$("$U" exec nh1 sh -c 'readlink /proc/self/ns/net; id -u')" "$(readlink /proc/self/ns/net)
0" "exec into a --net host container, as its root" &&
	expect_eq "$("$U" exec nh1 awk '/^CapEff/ {print $2}' /proc/self/status)" 00000000800405fb "root's capabilities, as the command's"
}
