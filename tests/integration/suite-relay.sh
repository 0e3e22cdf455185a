# The slirp network's outbound TCP through the relay (netns/redirect.c,
# netns/tcprelay.c): sourced by tests.sh; the w_ tests run in the net suite,
# inside the ubx-cli test host (nethosts.sh), whose server 10.77.0.1 (and
# fd77::1) serves big.bin and big.sha256 over HTTP (:8080, [fd77::1]:8081)
# and answers what it reads on :9000 with its "SHA256 BYTES".
#
# Proof of the path: the sandbox's own socket has a TCP window scale only
# when its peer is the kernel (the relay's listener); libslirp's TCP
# negotiates none.

# xfer.py up HOST | down HOST PORT: 8 MiB up to the sink or big.bin down,
# checked by SHA-256; prints "up ok wscale", "down ok no-wscale", ... or
# what went wrong.  xfer.py ready HOST PORT: waits (up to 10 s) until a
# connection there has the window scale, i.e. the redirect's rule is in
# (nobody waits for the kernel's commit: the command may start first).
write_xfer() {
	cat > xfer.py <<'EOF'
import hashlib, os, socket, sys, time

def scaled(s):
    return "wscale" if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[6] else "no-wscale"

def get(host, port, path):
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"GET /%s HTTP/1.0\r\nHost: x\r\n\r\n" % path.encode())
    data = b""
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        data += b
    return data.split(b"\r\n\r\n", 1)[1], scaled(s)

mode, host = sys.argv[1], sys.argv[2]
if mode == "ready":
    for _ in range(200):
        s = socket.create_connection((host, int(sys.argv[3])), timeout=10)
        if scaled(s) == "wscale":
            sys.exit(0)
        s.close()
        time.sleep(0.05)
    print("the relay's rule never came")
    sys.exit(1)
if mode == "up":
    data = os.urandom(8 << 20)
    s = socket.create_connection((host, 9000), timeout=30)
    ws = scaled(s)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = s.makefile().read().split()
    want = [hashlib.sha256(data).hexdigest(), str(len(data))]
    print("up", "ok" if reply == want else "BAD %s" % reply, ws)
else:
    body, ws = get(host, sys.argv[3], "big.bin")
    want = get(host, sys.argv[3], "big.sha256")[0].decode().strip()
    print("down", "ok" if hashlib.sha256(body).hexdigest() == want and len(body) == 8 << 20 else "BAD", ws)
EOF
}

w_relay_transfer_both_ways() {
	write_xfer || return 1
	local root out
	for root in "" --root; do
		out=$("$U" $root -- sh -c 'python3 xfer.py ready 10.77.0.1 8080
			python3 xfer.py up 10.77.0.1; python3 xfer.py down 10.77.0.1 8080
			python3 xfer.py up fd77::1; python3 xfer.py down fd77::1 8081' 2>&1)
		expect_eq "$out" "$(printf 'up ok wscale\ndown ok wscale\nup ok wscale\ndown ok wscale')" \
			"8 MiB each way over IPv4 and IPv6, through the relay ($root)" || return 1
	done
}

# The relay's listener, reached straight from inside, is no way out: the
# connection has no destination but the listener itself, and is reset.
w_relay_listener_is_no_way_out() {
	local root out
	for root in "" --root; do
		out=$("$U" $root -- python3 -c '
import socket, subprocess
ports = {l.split()[3].rsplit(":", 1)[1] for l in subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout.splitlines()}
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    for port in sorted(ports):
        s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(5)
        try:
            s.connect((addr, int(port))); s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            print(addr, "answered" if s.recv(100) else "closed")
        except OSError as e:
            print(addr, type(e).__name__)' 2>&1)
		expect_eq "$out" "$(printf '127.0.0.1 ConnectionResetError\n::1 ConnectionResetError')" \
			"the listeners on 127.0.0.1 and ::1, connected to directly ($root)" || return 1
	done
}

# The policy holds through the relay: the allowed name's port goes through
# (with the window scale), another port of its address is reset at once and
# logged, the metadata address fails to connect; the host's loopback too.
w_relay_policy() {
	write_xfer || return 1
	local root out
	for root in "" --root; do
		rm -f log
		out=$(ms "$U" $root --net-allow testhost.usbox.test:9000 --net-log log -- sh -c '
			python3 xfer.py ready testhost.usbox.test 9000
			python3 xfer.py up testhost.usbox.test
			curl --noproxy "*" -s -m 10 -o /dev/null http://10.77.0.1:8080/; echo "port=$?"
			curl --noproxy "*" -s -m 10 -o /dev/null "http://[fd77::1]:9000/"; echo "ip6=$?"
			curl -s -m 10 -o /dev/null http://169.254.169.254/; echo "metadata=$?"
			curl -s -m 10 -o /dev/null http://10.0.2.2:9000/; echo "gateway=$?"') || return 1
		expect_match "$out" "^up ok wscale
port=(7|55|56)
ip6=(7|55|56)
metadata=7
gateway=7
ms=[0-9]+$" "allowed through the relay; refused at once ($root)" &&
		[ "${out##*ms=}" -lt 5000 ] || fail "refusals took ${out##*ms=} ms" || return 1
		expect_match "$(refused log)" "^tcp\|10\.77\.0\.1\|8080\|testhost\.usbox\.test\|no rule for the name allows this port
tcp\|fd77::1\|9000\|-\|.*
tcp\|169\.254\.169\.254\|80\|-\|link-local.*
tcp\|10\.0\.2\.2\|9000\|-\|the gateway" "the log ($root)" || return 1
		expect_match "$(grep '"proto":"tcp"' log | grep '"allowed"')" '"dst":"10\.77\.0\.1","port":9000' \
			"the relayed connection is logged as allowed ($root)" || return 1
	done
}

# Root inside may delete the redirect's rule, or take its TCP off it
# (untracked: never NATed); its TCP then goes through libslirp, under the
# same policy.
w_relay_bypassed_by_root_still_policed() {
	write_xfer || return 1
	command -v nft >/dev/null || { echo "skip: nft not installed (Debian: nftables)"; return 77; }
	local how out
	for how in "nft delete table inet usbox" \
		"nft add table ip raw && nft add chain ip raw out { type filter hook output priority -300\; } && nft add rule ip raw out notrack"; do
		rm -f log
		out=$("$U" --root --cap-add NET_ADMIN --net-allow testhost.usbox.test:9000 --net-log log -- sh -c "
			for i in \$(seq 100); do nft list table inet usbox >/dev/null 2>&1 && break; sleep 0.05; done
			$how || echo 'nft failed'
			python3 xfer.py up testhost.usbox.test
			curl --noproxy '*' -s -m 10 -o /dev/null http://10.77.0.1:8080/; echo \"port=\$?\"
			curl -s -m 10 -o /dev/null http://10.0.2.2:9000/; echo \"gateway=\$?\"" 2>&1) || return 1
		expect_eq "$out" "$(printf 'up ok no-wscale\nport=7\ngateway=7')" \
			"off the redirect ($how): through libslirp, still policed" &&
		expect_match "$(refused log)" "^tcp\|10\.77\.0\.1\|8080\|testhost\.usbox\.test\|no rule for the name allows this port" \
			"the log ($how)" || return 1
	done
}

# Root inside aims the redirect at the caller's loopback: a rule of its own
# sends 127.0.0.1:PORT and [::1]:PORT to the relay's listener, so that the
# original destination is the loopback.  The relay refuses it as libslirp's
# path would (a loopback address is never reached, allow_host_loopback or
# not): nothing reaches the caller's listeners.
w_relay_root_cannot_aim_it_at_host_loopback() {
	command -v nft >/dev/null || { echo "skip: nft not installed (Debian: nftables)"; return 77; }
	write_listener || return 1
	python3 listen.py hits 127.0.0.1:18590 '[::1]:18590' &
	local srv=$! net out
	"$U" network rm rnet2 >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create --allow-host-loopback rnet2 >/dev/null || return 1
	trap 'kill $srv 2>/dev/null; "$U" network rm rnet2 >/dev/null 2>&1' RETURN
	wait_for_file hits.up || return 1
	for net in slirp slirp:allow_host_loopback rnet2; do # (rnet2: the network's helper relays)
		out=$("$U" --root --cap-add NET_ADMIN --net $net -- sh -c '
			p=$(ss -ltnH | awk "{print \$4}" | sed -n "s/^127\.0\.0\.1://p")
			nft add table inet evil && nft add chain inet evil out "{ type nat hook output priority -150; }" &&
				nft add rule inet evil out tcp dport 18590 redirect to :$p || echo "rule failed"
			python3 -c "
import socket
for fam, addr in ((socket.AF_INET, \"127.0.0.1\"), (socket.AF_INET6, \"::1\")):
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(5)
    try:
        s.connect((addr, 18590))  # accepted by the relay: the rule took it
        s.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\"); print(addr, \"answered\" if s.recv(100) else \"closed\")
    except OSError as e:
        print(addr, type(e).__name__)"' 2>&1)
		expect_eq "$out" "$(printf '127.0.0.1 ConnectionResetError\n::1 ConnectionResetError')" \
			"accepted by the relay, then reset ($net)" || return 1
	done
	sleep 0.5
	expect_eq "$(cat hits 2>/dev/null)" "" "what reached the caller's loopback listeners"
}

# A user network's uplink: each sandbox's outbound TCP is redirected in its
# own network namespace and relayed by the network's helper under the
# network's policy; what stays on the network (the other sandboxes) does
# not go through it.
w_relay_user_network() {
	write_xfer || return 1
	"$U" network rm rnet >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create --allow testhost.usbox.test:9000 --allow 10.77.0.1:8080 --log "$PWD/log" rnet >/dev/null ||
		return 1
	trap '"$U" network rm rnet >/dev/null 2>&1; kill $peer 2>/dev/null' RETURN
	"$U" --net rnet --name rpeer -- python3 -m http.server -b 0.0.0.0 8000 >/dev/null 2>&1 &
	local peer=$! root out
	for root in "" --root; do
		out=$(ms "$U" $root --net rnet -- sh -c '
			python3 xfer.py ready 10.77.0.1 8080
			python3 xfer.py up testhost.usbox.test; python3 xfer.py down 10.77.0.1 8080
			curl --noproxy "*" -s -m 10 -o /dev/null http://10.77.0.1:9001/; echo "port=$?"
			gw=$(ip route | awk "/default/ {print \$3}")
			curl -s -m 10 -o /dev/null http://$gw:9000/; echo "gateway=$?"
			for i in $(seq 50); do curl -s -m 2 -o /dev/null http://rpeer:8000/ && break; sleep 0.2; done
			echo "peer=$?"') || return 1
		expect_match "$out" "^up ok wscale
down ok wscale
port=(7|55|56)
gateway=7
peer=0
ms=[0-9]+$" "relayed by the network's helper, policed; the peer over the bridge ($root)" || return 1
		expect_match "$(refused log | sort -u)" "^tcp\|10\.77\.0\.1\|9001\|testhost\.usbox\.test\|no rule for the name allows this port
tcp\|10\.89\.[0-9]+\.1\|9000\|-\|the gateway" "the network's log (its helper keeps it open: both runs)" || return 1
	done
}

# usbox inspect of a running container shows its slirp network's counts: how
# TCP leaves, the connections relayed, the policy's decisions (as logged).
w_relay_inspect_counts() {
	trap 'ctr_cleanup rins1' RETURN
	write_xfer || return 1
	"$U" run -d --name rins1 --net-allow testhost.usbox.test:8080 -- sh -c '
		python3 xfer.py ready testhost.usbox.test 8080
		curl -s -m 10 -o /dev/null http://testhost.usbox.test:8080/hello.txt
		curl --noproxy "*" -s -m 10 -o /dev/null http://10.77.0.1:9001/; sleep 60' >/dev/null || return 1
	local out i
	for i in $(seq 50); do
		out=$(ctr_json 'd[0]["NetworkStats"]["TcpPath"], d[0]["NetworkStats"]["RelayedConnections"] > 0, d[0]["NetworkStats"]["EgressAllowed"] > 0, d[0]["NetworkStats"]["EgressRefused"]' \
			<<<"$("$U" inspect rins1)" 2>/dev/null)
		[ "$out" = "relay True True 1" ] && break
		sleep 0.2
	done
	expect_eq "$out" "relay True True 1" "inspect: relayed, allowed, one refusal"
}

# The rule redirects only a SYN: a connection that began through libslirp
# before the rule was in (the command may start first; nobody waits for the
# kernel's commit) keeps going when it comes.  Root inside replays the
# window: it takes the rule away, opens a connection, puts the same rule
# back, then uses the connection.
w_relay_rule_arriving_midstream_spares_open_connections() {
	command -v nft >/dev/null || { echo "skip: nft not installed (Debian: nftables)"; return 77; }
	local out
	out=$("$U" --root --cap-add NET_ADMIN -- sh -c '
		for i in $(seq 100); do nft list table inet usbox > /tmp/rule.nft 2>/dev/null && break; sleep 0.05; done
		nft delete table inet usbox || echo "no rule"
		python3 -c "
import socket, time
s = socket.create_connection((\"10.77.0.1\", 8080), timeout=10)
open(\"/tmp/open\", \"w\").close()
time.sleep(1)
s.sendall(b\"GET /hello.txt HTTP/1.0\\r\\n\\r\\n\")
data = b\"\"
while (b := s.recv(65536)): data += b
print(data.split(b\"\\r\\n\")[0].decode())" & p=$!
		for i in $(seq 100); do [ -e /tmp/open ] && break; sleep 0.02; done
		nft -f /tmp/rule.nft || echo "rule not back"
		wait $p' 2>&1)
	expect_match "$out" "^HTTP/1\.[01] 200" "a connection open when the rule came"
}
