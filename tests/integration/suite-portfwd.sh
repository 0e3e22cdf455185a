# -p under load: many clients with request/response traffic checked byte for
# byte, a flood bounded by the descriptors, and the end of a sandbox (attached
# and detached) while its forwarded ports are busy.  Sourced by tests.sh; the
# w_ tests run in the net suite (a network namespace of their own, so the
# ports are private).

# pfload.py server ADDR PORT: answers every byte with its XOR 0x5a (so an
#   answer cannot be the client's own bytes looped back), one thread a client.
# pfload.py clients HOST PORT N ROUNDS [HOLD]: N clients at once, each ROUNDS
#   round trips of random sizes (1 byte to 70 kB) checked byte for byte, then
#   a half-close and the server's EOF; HOLD seconds kept open before that.
#   Prints "ok N" or what went wrong.
# pfload.py forever HOST PORT N: N clients doing round trips until the
#   connection ends; prints how many ended with an EOF or a reset, none hung.
write_pfload() {
	cat > pfload.py <<'EOF'
import random, socket, sys, threading, time
XOR = bytes(b ^ 0x5A for b in range(256))
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def serve():
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(1024)
    open("up", "w").close()
    def one(c):
        with c:
            while (b := c.recv(65536)):
                c.sendall(b.translate(XOR))
    while True:
        threading.Thread(target=one, args=(s.accept()[0],), daemon=True).start()

def round_trip(s, msg):
    s.sendall(msg)
    got = bytearray()
    while len(got) < len(msg):
        b = s.recv(len(msg) - len(got))
        if not b:
            raise Exception("EOF after %d of %d bytes" % (len(got), len(msg)))
        got += b
    if bytes(got) != msg.translate(XOR):
        raise Exception("wrong bytes")

def client(i, rounds, hold, bad):
    rnd = random.Random(i)
    try:
        s = socket.create_connection((host, port), timeout=60)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(rounds):
            round_trip(s, rnd.randbytes(rnd.choice((1, 2, 17, 100, 300, 1400, 4000, 16384, 70000))))
        time.sleep(hold)
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise Exception("bytes after the end")
        s.close()
    except Exception as e:
        bad.append("client %d: %s" % (i, e))

def forever(i, ends):
    try:
        s = socket.create_connection((host, port), timeout=30)
        while True:
            round_trip(s, b"x" * random.choice((1, 100, 5000)))
    except socket.timeout:
        ends.append("hung")
    except Exception:
        ends.append("ended")

if mode == "server":
    serve()
n = int(sys.argv[4])
out = []
if mode == "clients":
    rounds, hold = int(sys.argv[5]), float(sys.argv[6]) if len(sys.argv) > 6 else 0
    ts = [threading.Thread(target=client, args=(i, rounds, hold, out)) for i in range(n)]
else:
    ts = [threading.Thread(target=forever, args=(i, out)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
if mode == "clients":
    print("ok %d" % n if not out else "%d failed: %s" % (len(out), "; ".join(out[:3])))
else:
    print(" ".join("%s %d" % (k, out.count(k)) for k in ("ended", "hung") if out.count(k)))
EOF
}

# wait_pf PORT: until something answers on 127.0.0.1:PORT through -p.
wait_pf() {
	local i
	for i in $(seq 100); do
		python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1); s.sendall(b"a"); sys.exit(s.recv(1) != b";")' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing answers on port $1"
}

# Both ways a TCP port can reach the server: relayed, and direct (the
# default where the kernel has Landlock's network rules).
w_port_forward_many_clients_round_trips() {
	local h
	for h in relay direct; do
		[ "$h" = direct ] && ! direct_ports_here && continue
		pf_round_trips "$h" || return 1
	done
}

# direct_ports_here: whether usbox doctor says -p can be direct here.
direct_ports_here() {
	"$U" doctor --json 2>/dev/null | python3 -c 'import json,sys
sys.exit(0 if any(c["id"] == "direct_ports" and c["status"] == "ok" for c in json.load(sys.stdin)["checks"]) else 1)'
}

pf_round_trips() {
	write_pfload
	"$U" --port-handler "$1" -p 18640:7000 -p 18641:7001 -- sh -c 'python3 pfload.py server 127.0.0.1 7000 & python3 pfload.py server ::1 7001' &
	local pid=$! r=1
	# 50 clients over IPv4, and 20 over IPv6 to a server on ::1 alone, at once
	if wait_pf 18640; then
		python3 pfload.py clients ::1 18641 20 100 >six &
		expect_eq "$(python3 pfload.py clients 127.0.0.1 18640 50 200)" "ok 50" "$1: 50 clients, 200 round trips each" &&
		wait $! && expect_eq "$(cat six)" "ok 20" "$1: 20 clients over IPv6 to a server on ::1" && r=0
	fi
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	return $r
}

# With RLIMIT_NOFILE at 256, usbox relays 32 connections at once (a quarter of
# the descriptors, two each); the rest wait in the backlog and are served in
# turn, and the supervisor's descriptors stay bounded.
# most_fds PID CLIENTS: the most descriptors PID held while CLIENTS (a
# child of ours) ran; waits for CLIENTS.
most_fds() {
	local fds most=0
	while kill -0 "$2" 2>/dev/null; do
		fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
		[ "$fds" -gt "$most" ] && most=$fds
		sleep 0.05
	done
	wait "$2"
	echo "$most"
}

w_port_forward_flood_is_bounded() {
	write_pfload
	(ulimit -n 256 && exec "$U" --port-handler relay -p 18642:7000 -- python3 pfload.py server 127.0.0.1 7000) &
	local pid=$! most out
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_pf 18642 || return 1
	python3 pfload.py clients 127.0.0.1 18642 120 3 0.5 >out &
	most=$(most_fds $pid $!)
	expect_eq "$(cat out)" "ok 120" "120 clients, 32 at a time" &&
	{ [ "$most" -gt 40 ] && [ "$most" -le $((2 * 32 + 8 + 30)) ]; } ||
		fail "the supervisor held $most descriptors at most (want more than 40, at most 102)" || return 1
	kill -TERM $pid
	wait $pid
	expect_eq "$?" 143 "the sandbox ends on SIGTERM after the flood"
}

# Under the usual soft RLIMIT_NOFILE (1024; 256 here) with a higher hard one,
# the supervisor raises its own soft limit once the command runs, so that 150
# clients are relayed at once (not 32, the rest waiting in the backlog until
# one ends), while the command keeps the soft limit it was given.
w_port_forward_past_the_soft_fd_limit() {
	[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 2048 ] || skip "hard RLIMIT_NOFILE below 2048"
	write_pfload
	(ulimit -Sn 256 && exec "$U" --port-handler relay -p 18645:7000 -- sh -c 'ulimit -Sn >lim; exec python3 pfload.py server 127.0.0.1 7000') &
	local pid=$! most
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_pf 18645 || return 1
	python3 pfload.py clients 127.0.0.1 18645 150 2 3 >out &
	most=$(most_fds $pid $!)
	expect_eq "$(cat out)" "ok 150" "150 clients" &&
	expect_eq "$(cat lim)" 256 "the command's soft limit" &&
	{ [ "$most" -gt 300 ] || fail "the supervisor held $most descriptors at most: not 150 connections at once"; }
}

# The sandbox ends while 30 clients are busy: usbox exits with the command's
# status at once, every client sees its connection end (none hangs), nothing
# is left listening.  Run against the ASan build, this is also the check that
# the relay thread is gone before what it uses is freed.
w_port_forward_ends_under_load() {
	write_pfload
	"$U" -p 18643:7000 -- sh -c 'python3 pfload.py server 127.0.0.1 7000 & sleep 3; exit 7' &
	local pid=$!
	wait_pf 18643 || return 1
	python3 pfload.py forever 127.0.0.1 18643 30 >out &
	local cl=$!
	wait $pid
	expect_eq "$?" 7 "usbox's status" || return 1
	wait $cl
	expect_eq "$(cat out)" "ended 30" "every client's connection ended" &&
	! ss -ltn | grep -q ':18643 ' || fail "port still bound"
}

# The same for a detached container: stopped while its port is busy.
w_port_forward_detached_stops_under_load() {
	write_pfload
	"$U" rm -f pfd1 >/dev/null 2>&1
	"$U" run -d --name pfd1 -p 18644:7000 -- python3 pfload.py server 127.0.0.1 7000 >/dev/null || return 1
	trap '"$U" rm -f pfd1 >/dev/null 2>&1' RETURN
	wait_pf 18644 || return 1
	python3 pfload.py forever 127.0.0.1 18644 30 >out &
	local cl=$!
	sleep 1
	"$U" stop -t 2 pfd1 >/dev/null || fail "stop" || return 1
	wait $cl
	expect_eq "$(cat out)" "ended 30" "every client's connection ended" &&
	! ss -ltn | grep -q ':18644 ' || fail "port still bound"
}

# ---------------------------------------------------------------- direct ports
# With direct ports (--port-handler direct, the default where the kernel has
# Landlock's network rules), the server inside is given usbox's host
# listener at its bind(): it accepts the host's connections itself and sees
# the real client.  tests/escape/run.sh tries to misuse those sockets.

# no_direct_here: where the kernel cannot have direct ports (no Landlock
# network rules: Debian 12's 6.1), what a direct test can check is that they
# are refused cleanly when asked for (125, one line saying why); -p relays.
no_direct_here() {
	local err
	err=$("$U" --port-handler direct -p 18659:7000 -- true 2>&1)
	expect_eq "$?" 125 "--port-handler direct on a kernel without direct ports" &&
	expect_match "$err" "^usbox: --port-handler direct: direct ports need [^
]*relay works everywhere\)$" "one line saying why"
}

# pfpeer.py serve ADDR PORT [restart]: a server on ADDR (":: dual" for [::]
#   taking IPv4 too) that answers each client with "PEERIP PEERPORT LPORT"
#   (LPORT: its listener's own port, the HOST port when it took usbox's
#   listener); "restart": after each client, closes its listener and binds
#   anew.  Touches "up" once bound.
# pfpeer.py ask HOST PORT: asks (retrying for 10 s) and prints "same LPORT"
#   when the server saw this very socket's address and port, else
#   "other PEERIP PEERPORT LPORT".
write_pfpeer() {
	cat > pfpeer.py <<'PY'
import socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
unmap = lambda ip: ip[7:] if ip.startswith("::ffff:") else ip

def listener():
    dual = host == ":: dual"
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if dual:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::" if dual else host, port)); s.listen(64)
    return s

if mode == "serve":
    s = listener()
    open("up", "w").close()
    while True:
        c, peer = s.accept()
        c.sendall(("%s %d %d\n" % (unmap(peer[0]), peer[1], s.getsockname()[1])).encode()); c.close()
        if sys.argv[4:] == ["restart"]:
            s.close(); s = listener()
else:
    end = time.time() + 10
    while True:
        try:
            c = socket.create_connection((host, port), timeout=5)
            me = c.getsockname()
            got = c.recv(200).decode().split()
            if len(got) == 3:
                break
        except OSError:
            pass
        if time.time() > end:
            print("no answer"); sys.exit(0)
        time.sleep(0.1)
    same = got[0] == unmap(me[0]) and int(got[1]) == me[1]
    print("same %s" % got[2] if same else "other " + " ".join(got))
PY
}

# The server sees each client's own address and port, over loopback and the
# host's address, and its listener has the host's port: it took usbox's.
w_port_forward_direct_sees_the_client() {
	direct_ports_here || { no_direct_here; return; }
	write_pfpeer
	"$U" -p 18650:7000 -- python3 pfpeer.py serve 0.0.0.0 7000 &
	local pid=$!
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_for_file up || return 1
	expect_eq "$(python3 pfpeer.py ask 127.0.0.1 18650)" "same 18650" "a client on 127.0.0.1" &&
	expect_eq "$(python3 pfpeer.py ask 10.77.0.2 18650)" "same 18650" "a client on the host's address"
}

# --port-handler relay: usbox relays, as before (the server's listener is its
# own, on the sandbox's port, and the client it sees is usbox's socket).
w_port_forward_relay_flag_still_relays() {
	write_pfpeer
	"$U" --port-handler relay -p 18651:7000 -- python3 pfpeer.py serve 0.0.0.0 7000 &
	local pid=$!
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_for_file up || return 1
	expect_match "$(python3 pfpeer.py ask 127.0.0.1 18651)" "^other [0-9.]+ [0-9]+ 7000$" "relayed over IPv4" &&
	expect_match "$(python3 pfpeer.py ask ::1 18651)" "^other [0-9.]+ [0-9]+ 7000$" "relayed over IPv6"
}

# Servers bound otherwise: only [::] taking IPv4 too, only 127.0.0.1, and one
# that closes its listener after each client and binds again - each reached
# over IPv4 and IPv6 (the last one three times), and direct over the family
# it bound (the other may be relayed to it).
w_port_forward_direct_other_binds_and_a_restart() {
	direct_ports_here || { no_direct_here; return; }
	write_pfpeer
	"$U" -p 18652:7001 -p 18653:7002 -p 18654:7003 -- sh -c \
		'python3 pfpeer.py serve ":: dual" 7001 & python3 pfpeer.py serve 127.0.0.1 7002 &
		python3 pfpeer.py serve 0.0.0.0 7003 restart & wait' &
	local pid=$! out
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_for_file up || return 1
	sleep 0.5 # (all three bound)
	out=$(for hp in 18652 18653 18654 18654 18654; do for a in 127.0.0.1 ::1; do
		python3 pfpeer.py ask $a $hp | sed "s/^/$hp $a: /"; done; done)
	local any="(same|other [^ ]+ [0-9]+)" want
	want="18652 127.0.0.1: $any 18652
18652 ::1: same 18652
18653 127.0.0.1: same 18653
18653 ::1: $any 18653"
	for _ in 1 2 3; do want+="
18654 127.0.0.1: same 18654
18654 ::1: $any 18654"; done
	expect_match "$out" "^$want$" "[::] dual-stack, 127.0.0.1 alone, a restarted server"
}

# `usbox exec` into a detached container with direct ports: what it starts
# still connects out (the supervisor's connect for it), over TCP, a
# non-blocking TCP connect, and a unix socket; the server is still direct.
w_port_forward_direct_exec_connects_out() {
	direct_ports_here || { no_direct_here; return; }
	write_pfpeer
	"$U" rm -f pfx1 >/dev/null 2>&1
	"$U" run -d --name pfx1 -p 18655:7000 -- python3 pfpeer.py serve 0.0.0.0 7000 >/dev/null || return 1
	trap '"$U" rm -f pfx1 >/dev/null 2>&1' RETURN
	expect_eq "$(python3 pfpeer.py ask 127.0.0.1 18655)" "same 18655" "the detached server is direct" &&
	expect_eq "$("$U" exec pfx1 curl -s -m 10 http://10.77.0.1:8080/hello.txt)" "hello from the test host" \
		"curl from usbox exec" &&
	expect_eq "$("$U" exec pfx1 python3 -c '
import select, socket
s = socket.socket(); s.setblocking(False)
print(s.connect_ex(("10.77.0.1", 8080)) in (0, 115), end=" ")
select.select([], [s], [], 10); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), end=" ")
u = socket.socket(socket.AF_UNIX); u.bind("/tmp/u.sock"); u.listen(1)
v = socket.socket(socket.AF_UNIX); v.connect("/tmp/u.sock"); print("unix ok")')" "True 0 unix ok" \
		"a non-blocking connect and a unix socket from usbox exec"
}

# Where direct ports cannot be (not usbox's own seccomp filter), asking for
# them fails before anything starts: 125, one line naming the flag.
w_port_forward_direct_refused_where_impossible() {
	local err
	err=$("$U" --port-handler direct --seccomp unconfined -p 18656:7000 -- true 2>&1)
	expect_eq "$?" 125 "--port-handler direct --seccomp unconfined" &&
	expect_match "$err" "^usbox: --port-handler direct: [^
]+$" "one line naming the flag" &&
	expect_status 125 "$U" --port-handler bogus -p 18656:7000 -- true 2>/dev/null &&
	expect_eq "$("$U" --port-handler relay --seccomp unconfined -p 18656:7000 -- echo relayed 2>&1)" relayed \
		"relay with --seccomp unconfined"
}

# Inside a sandbox with direct ports, ordinary clients still work: curl, a
# non-blocking connect, a unix socket, the interfaces' ioctls (the supervisor
# makes them: on a host socket they would tell the host's); and blocking
# connects that hang (to a listener whose backlog is full) do not hold up
# another connect, blocking or not, even 300 at once (the supervisor makes
# each of them).
w_port_forward_direct_outbound_still_works() {
	direct_ports_here || { no_direct_here; return; }
	local t0=$SECONDS
	"$U" -p 18657:7000 -- python3 -c '
import select, socket, subprocess, threading, time
l = socket.socket(); l.bind(("0.0.0.0", 7000)); print("direct" if l.getsockname()[1] == 18657 else "relay", end=" ")
print(subprocess.run(["curl", "-s", "-m", "10", "http://10.77.0.1:8080/hello.txt"], capture_output=True, text=True).stdout.strip(), end=" | ")
s = socket.socket(); s.setblocking(False); s.connect_ex(("10.77.0.1", 8080))
select.select([], [s], [], 10); print("nonblocking", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), end=" | ")
u = socket.socket(socket.AF_UNIX); u.bind("/tmp/u.sock"); u.listen(1)
v = socket.socket(socket.AF_UNIX); v.connect("/tmp/u.sock"); print("unix ok", end=" | ")
import array, fcntl, struct
buf = array.array("B", bytes(40 * 16)) # 16 struct ifreq (40 bytes)
n = struct.unpack("iL", fcntl.ioctl(s.fileno(), 0x8912, struct.pack("iL", len(buf), buf.buffer_info()[0])))[0]
names = [bytes(buf[i:i + 16]).split(b"\0")[0].decode() for i in range(0, n, 40)]
print("ifconf", "lo" in names and len(names), "lo", socket.if_nametoindex("lo"), end=" | ")
full = socket.socket(); full.bind(("127.0.0.1", 7999)); full.listen(0) # never accepts: SYNs past one are dropped
def hang():
    try: socket.socket().connect(("127.0.0.1", 7999)) # (blocking)
    except OSError: pass
for _ in range(300): threading.Thread(target=hang, daemon=True).start()
time.sleep(1)
n, done = threading.active_count() - 1, []
def probe(blocking):
    c = socket.socket()
    if not blocking: c.settimeout(5)
    c.connect(("10.77.0.1", 8080)); c.close(); done.append(blocking)
for b in (False, True):
    p = threading.Thread(target=probe, args=(b,), daemon=True); p.start(); p.join(2)
print("beside %d hanging: %s" % (n, "fast" if done == [False, True] else "STALLED (%s)" % done))' >out 2>&1
	local rc=$? took=$((SECONDS - t0))
	expect_match "$(cat out)" "^direct hello from the test host \| nonblocking 0 \| unix ok \| ifconf 2 lo 1 \| beside [0-9]{3} hanging: fast$" \
		"clients inside (usbox ended after $took s)" &&
	expect_eq "$rc" 0 "usbox's status" &&
	{ [ "$took" -lt 30 ] || fail "usbox took $took s to end"; }
}
