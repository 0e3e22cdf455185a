# The egress policy (--net-allow, --net-log, network create --allow): sourced
# by tests.sh; the w_ tests run in the net suite, inside the ubx-cli test host
# (nethosts.sh): 10.77.0.1 serves HTTP on :8080 and [fd77::1]:8081, a UDP echo
# on :9999, and DNS answering testhost.usbox.test (and every name below it)
# with 10.77.0.1.  Every test runs as the user and as root inside (--root), and
# the raw-frame ones with CAP_NET_RAW: the policy holds outside the sandbox.

HELLO="hello from the test host"
# curl's status for a TCP connection the policy refuses: 7 when the SYN is
# answered with a RST (libslirp's path), 56 (or 7, when the RST comes
# first; 55 when the reset meets curl's request, as on Linux 6.1) when the
# relay (netns/tcprelay.c) accepted it inside and resets it.
REFUSED_TCP="(7|55|56)"

# probe.py MODE ARGS: one network attempt from inside, printing what came of it.
#   udp DST PORT    a datagram from a connected socket: "echo:..", an errno name, or "timeout"
#   icmp DST        an echo request on a raw socket: "prohibited", "reply" or "none"
#   dns NAME        an A query straight to the resolver in /etc/resolv.conf: "rcode=N ADDR..."
#   syn DST PORT    a TCP SYN in an Ethernet frame on eth0: "synack", "rst" or "none"
write_probe() {
	cat > probe.py <<'EOF'
import errno, random, socket, struct, subprocess, sys, time
mode, args = sys.argv[1], sys.argv[2:]

def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def udp(dst, port):
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((dst, int(port)))
    try:
        s.send(b"ping")
        print(s.recv(100).decode())
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))

def icmp(dst):
    v6 = ":" in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    ident = random.getrandbits(16)
    hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, 1) + b"probe"
    if not v6:
        hdr = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    s.sendto(hdr, (dst, 0))
    s.settimeout(0.2)
    end = time.time() + 2
    while time.time() < end:
        try:
            data, _ = s.recvfrom(1500)
        except socket.timeout:
            continue
        icmph = data if v6 else data[(data[0] & 15) * 4:]
        if (icmph[0], icmph[1]) in ((3, 13), (1, 1)):
            print("prohibited"); return
        if icmph[0] in (0, 129):
            print("reply"); return
    print("none")

def dns(name):
    server = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, (server, 53))
    r = s.recv(4096)
    an, off = struct.unpack("!H", r[6:8])[0], len(q)
    addrs = []
    for _ in range(an):
        while r[off] and r[off] < 0xc0:
            off += r[off] + 1
        off += 2 if r[off] >= 0xc0 else 1
        typ, _, _, rdlen = struct.unpack("!HHIH", r[off:off + 10])
        if typ == 1:
            addrs.append(socket.inet_ntoa(r[off + 10:off + 14]))
        off += 10 + rdlen
    print("rcode=%d" % (r[3] & 15), *addrs)

def ip(*a):
    return subprocess.run(["ip"] + list(a), capture_output=True, text=True).stdout.split()

def syn(dst, port):
    link = ip("-o", "link", "show", "eth0")
    me = bytes.fromhex(link[link.index("link/ether") + 1].replace(":", ""))
    gw = ip("-4", "route", "show", "default")[2]
    for _ in range(50):
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"", (gw, 9))
        n = ip("-4", "neigh", "show", gw)
        if "lladdr" in n:
            gwmac = bytes.fromhex(n[n.index("lladdr") + 1].replace(":", "")); break
        time.sleep(0.05)
    src = socket.inet_aton(ip("-4", "-o", "addr", "show", "eth0")[3].split("/")[0])
    d, port, sport = socket.inet_aton(dst), int(port), random.randint(20000, 60000)
    tcp = struct.pack("!HHIIBBHHH", sport, port, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(src + d + struct.pack("!xBH", 6, len(tcp)) + tcp)) + tcp[18:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, random.getrandbits(16), 0x4000, 64, 6, 0, src, d)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind(("eth0", 0))
    s.send(gwmac + me + b"\x08\x00" + h + tcp)
    s.settimeout(0.2)
    end = time.time() + 2
    while time.time() < end:
        try:
            f = s.recv(65600)
        except socket.timeout:
            continue
        if f[6:12] != me and f[23] == 6 and struct.unpack("!HH", f[34:38]) == (port, sport):
            flags = f[47]
            print("rst" if flags & 4 else "synack" if flags & 0x12 == 0x12 else "flags=%x" % flags); return
    print("none")

{"udp": udp, "icmp": icmp, "dns": dns, "syn": syn}[mode](*args)
EOF
}

# ms CMD...: runs CMD, printing how many milliseconds it took after its output.
ms() {
	local t0=$(date +%s%N)
	"$@"
	echo "ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
}

# refused LOG: the refused lines in LOG (checked to be JSON with every field).
refused() {
	python3 - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert {"time", "proto", "dst", "port", "name", "verdict", "why"} <= o.keys(), line
    if o["verdict"] == "refused":
        print(o["proto"], o["dst"], o["port"], o["name"] or "-", o["why"], sep="|")
EOF
}

w_egress_allowed_name_reaches_test_host() {
	local root
	for root in "" --root; do
		expect_eq "$("$U" $root --net-allow testhost.usbox.test:8080 -- curl --noproxy '*' -s -m 10 \
			http://testhost.usbox.test:8080/hello.txt)" "$HELLO" "by an allowed name ($root)" || return 1
		expect_eq "$("$U" $root --net-allow '*.usbox.test' -- curl -s -m 10 http://x.testhost.usbox.test:8080/hello.txt)" \
			"$HELLO" "under *.usbox.test ($root)" || return 1
	done
}

w_egress_other_names_do_not_resolve() {
	write_probe || return 1
	# (the test host's DNS answers every name below testhost.usbox.test)
	expect_match "$("$U" -- getent hosts x.testhost.usbox.test)" "^10\.77\.0\.1 " "control: without a policy" || return 1
	local root out
	for root in "" --root; do
		out=$(ms "$U" $root --net-allow testhost.usbox.test -- sh -c 'getent hosts x.testhost.usbox.test; echo "rc=$?"
			python3 probe.py dns x.testhost.usbox.test; python3 probe.py dns testhost.usbox.test') || return 1
		expect_match "$out" "rc=2" "getent: not found ($root)" &&
		expect_match "$out" "rcode=3
rcode=0 10\.77\.0\.1" "NXDOMAIN for the name not allowed, the answer for the one allowed ($root)" || return 1
		expect_eq "$("$U" $root --net-allow '*.testhost.usbox.test' -- python3 probe.py dns testhost.usbox.test)" \
			"rcode=3" "*.DOMAIN does not allow DOMAIN itself ($root)" || return 1
	done
}

w_egress_refused_address_fails_fast() {
	local root out
	for root in "" --root; do
		out=$(ms "$U" $root --net-allow testhost.usbox.test:8080 -- sh -c '
			curl --noproxy "*" -s -m 10 -o /dev/null http://10.77.0.1:8080/; echo "ip=$?"
			curl --noproxy "*" -s -m 10 -o /dev/null "http://[fd77::1]:8081/"; echo "ip6=$?"
			getent hosts testhost.usbox.test >/dev/null
			curl --noproxy "*" -s -m 10 http://10.77.0.1:8080/hello.txt; echo "learned=$?"
			curl --noproxy "*" -s -m 10 -o /dev/null http://10.77.0.1:9999/; echo "port=$?"') || return 1
		expect_match "$out" "ip=$REFUSED_TCP" "by IP before the name resolved: refused ($root)" &&
		expect_match "$out" "ip6=$REFUSED_TCP" "IPv6 by IP: refused ($root)" &&
		expect_match "$out" "$HELLO
learned=0" "by IP once the allowed name resolved to it ($root)" &&
		expect_match "$out" "port=$REFUSED_TCP" "another port of that address ($root)" || return 1
		out=$(ms "$U" $root --net-allow testhost.usbox.test:8080 -- curl --noproxy '*' -s -m 10 http://10.77.0.1:8080/)
		expect_match "$out" "^ms=[0-9]+$" "curl's output" || return 1
		[ "${out#ms=}" -lt 1000 ] || fail "a refused connection took ${out#ms=} ms (with the sandbox's start), not under a second ($root)" || return 1
	done
}

w_egress_udp_dropped() {
	write_probe || return 1
	expect_eq "$("$U" -- python3 probe.py udp 10.77.0.1 9999)" "echo:ping" "control: without a policy" || return 1
	local root
	for root in "" --root; do
		expect_eq "$("$U" $root --net-allow testhost.usbox.test -- sh -c 'getent hosts testhost.usbox.test >/dev/null
			python3 probe.py udp 10.77.0.1 9999')" "echo:ping" "to a port the name allows ($root)" &&
		expect_eq "$("$U" $root --net-allow testhost.usbox.test:8080 --net-log log -- sh -c 'getent hosts testhost.usbox.test >/dev/null
			python3 probe.py udp 10.77.0.1 9999')" "EHOSTUNREACH" "refused at once ($root)" &&
		expect_eq "$(refused log)" "udp|10.77.0.1|9999|testhost.usbox.test|no rule for the name allows this port" "the log ($root)" ||
			return 1
		rm -f log
	done
}

w_egress_icmp_refused() {
	write_probe || return 1
	local out
	out=$("$U" --root --cap-add NET_RAW --net-allow testhost.usbox.test:8080 --net-log log -- sh -c '
		python3 probe.py icmp 10.77.0.1; python3 probe.py icmp 169.254.169.254; python3 probe.py icmp fd77::1') || return 1
	expect_eq "$out" "$(printf 'prohibited\nprohibited\nprohibited')" "echo requests answered 'prohibited'" &&
	expect_eq "$(refused log | cut -d'|' -f1-2)" "$(printf 'icmp|10.77.0.1\nicmp|169.254.169.254\nicmp|fd77::1')" "the log"
}

w_egress_protected_under_broad_allow() {
	python3 -m http.server 18510 --bind 127.0.0.1 >/dev/null 2>&1 &
	local srv=$!
	python3 -m http.server 18511 --bind 10.77.0.2 >/dev/null 2>&1 &
	local srv2=$!
	trap 'kill $srv $srv2 2>/dev/null' RETURN
	local i root out
	for i in $(seq 100); do curl -s -m 1 -o /dev/null http://127.0.0.1:18510/ && curl -s -m 1 -o /dev/null http://10.77.0.2:18511/ && break; sleep 0.1; done
	expect_eq "$("$U" --net slirp:allow_host_loopback -- curl -s -m 5 -o /dev/null -w '%{http_code}' http://10.0.2.2:18510/)" 200 \
		"control: the host's loopback with allow_host_loopback" || return 1
	for root in "" --root; do
		rm -f log
		out=$("$U" $root --net slirp:allow_host_loopback --net-allow 0.0.0.0/0,::/0 --net-log log -- sh -c '
			curl -s -m 5 -o /dev/null http://10.77.0.1:8080/; echo "broad=$?"
			curl -s -m 5 -o /dev/null http://169.254.169.254/; echo "metadata=$?"
			curl -s -m 5 -o /dev/null http://10.0.2.2:18510/; echo "loopback=$?"
			curl -s -m 5 -o /dev/null http://10.77.0.2:18511/; echo "own=$?"') || return 1
		expect_match "$out" "^broad=0
metadata=7
loopback=$REFUSED_TCP
own=$REFUSED_TCP$" "under 0.0.0.0/0 and ::/0 ($root)" &&
		expect_match "$(refused log)" "^tcp\|169\.254\.169\.254\|80\|-\|link-local.*
tcp\|10\.0\.2\.2\|18510\|-\|the gateway.*
tcp\|10\.77\.0\.2\|18511\|-\|one of the host's own addresses" "the log ($root)" || return 1
		# Listed explicitly, they are reached.
		out=$("$U" $root --net slirp:allow_host_loopback --net-allow 0.0.0.0/0,10.0.2.2:18510,10.77.0.2 -- sh -c '
			curl -s -m 5 -o /dev/null -w "%{http_code} " http://10.0.2.2:18510/
			curl -s -m 5 -o /dev/null -w "%{http_code}" http://10.77.0.2:18511/')
		expect_eq "$out" "200 200" "listed explicitly ($root)" || return 1
	done
}

w_egress_log_one_line_per_refusal() {
	local out
	"$U" --net-allow testhost.usbox.test:8080 --net-log log -- sh -c '
		for p in 81 82 83; do curl --noproxy "*" -s -m 5 -o /dev/null http://10.77.0.1:$p/; done
		getent hosts not.allowed.test; curl -s -m 5 -o /dev/null http://testhost.usbox.test:8080/hello.txt'
	out=$(refused log) || return 1
	expect_eq "$(grep -c '^tcp' <<<"$out")" 3 "one line per refused connection" &&
	expect_match "$out" "tcp\|10\.77\.0\.1\|81\|-\|no rule allows this address" "a refused connection's line" &&
	expect_match "$out" "dns\|10\.0\.2\.3\|53\|not\.allowed\.test\|no rule allows this name" "a refused name's line" &&
	expect_eq "$(grep -c '"verdict":"allowed"' log)" 3 "allowed: the name's two questions and the connection" &&
	expect_match "$(grep '"proto":"tcp"' log | grep allowed)" '"dst":"10\.77\.0\.1","port":8080,"name":"testhost\.usbox\.test"' \
		"the allowed connection names its name"
}

w_egress_cidr_and_ports() {
	local root out
	for root in "" --root; do
		out=$("$U" $root --net-allow 10.77.0.0/24:8000-8100,'[fd77::/64]:8081' -- sh -c '
			curl --noproxy "*" -s -m 5 http://10.77.0.1:8080/hello.txt; echo "v4=$?"
			curl --noproxy "*" -s -m 5 "http://[fd77::1]:8081/hello.txt"; echo "v6=$?"
			curl --noproxy "*" -s -m 5 -o /dev/null http://10.77.0.1:9999/; echo "outside=$?"
			getent hosts testhost.usbox.test; echo "name=$?"') || return 1
		expect_match "$out" "^$HELLO
v4=0
$HELLO
v6=0
outside=$REFUSED_TCP
name=2$" "CIDRs with port ranges ($root)" || return 1
	done
}

# Root inside with CAP_NET_RAW writes whatever frames it likes; the policy
# holds on them all, outside the sandbox.
w_egress_raw_frames_obey() {
	write_probe || return 1
	local out
	out=$("$U" --root --cap-add NET_RAW --net-allow testhost.usbox.test:8080 -- sh -c '
		python3 probe.py syn 10.77.0.1 8080; python3 probe.py syn 10.77.0.1 8080
		getent hosts testhost.usbox.test >/dev/null; python3 probe.py syn 10.77.0.1 8080
		python3 probe.py syn 10.77.0.1 8081; python3 probe.py dns x.testhost.usbox.test') || return 1
	expect_eq "$out" "$(printf 'rst\nrst\nsynack\nrst\nrcode=3')" \
		"raw SYNs: refused until the name resolved, then only its port; raw DNS: NXDOMAIN"
}

w_egress_user_network() {
	"$U" network rm pnet >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create --allow testhost.usbox.test:8080 --allow 10.77.0.1:9999 --log "$PWD/log" pnet >/dev/null || return 1
	trap '"$U" network rm pnet >/dev/null 2>&1' RETURN
	write_probe || return 1
	expect_match "$(cat "$HOME/.local/share/usbox/networks/pnet")" "allow=testhost\.usbox\.test:8080,10\.77\.0\.1:9999" \
		"the definition" || return 1
	local root out
	for root in "" --root; do
		out=$("$U" $root --net pnet -- sh -c '
			curl -s -m 10 http://testhost.usbox.test:8080/hello.txt; echo "name=$?"
			getent hosts x.testhost.usbox.test; echo "other=$?"
			curl --noproxy "*" -s -m 10 -o /dev/null "http://[fd77::1]:8081/"; echo "ip6=$?"
			python3 probe.py udp 10.77.0.1 9999; python3 probe.py udp 10.77.0.1 9998') || return 1
		# ip6: refused by libslirp (7) or, once the redirect's rule is in, by the relay (reset: 55/56)
		expect_match "$out" "^$HELLO
name=0
other=2
ip6=(7|55|56)
echo:ping
EHOSTUNREACH\$" "on the user network ($root)" ||
			return 1
	done
	expect_match "$(refused log)" "^dns\|10\.89\.[0-9]+\.2\|53\|x\.testhost\.usbox\.test\|" "the network's log" &&
	expect_status 125 "$U" network create --allow 'bad name' pnet2 2>/dev/null &&
	expect_status 125 "$U" --net pnet --net-allow 10.0.0.1 -- true 2>/dev/null
}

# The policy is on egress; -p comes in through sockets of the sandbox's own.
w_egress_leaves_port_forwarding_alone() {
	mkdir -p www && echo "served under a policy" > www/p.txt
	"$U" --net-allow testhost.usbox.test:8080 -p 18620:8000 -- sh -c \
		'python3 -m http.server 8000 --bind 127.0.0.1 --directory www >/dev/null 2>&1 & touch up; sleep 10' &
	local pid=$! i
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_for_file up || return 1
	for i in $(seq 50); do curl -s -m 1 -o /dev/null http://127.0.0.1:18620/ && break; sleep 0.1; done
	expect_eq "$(curl -s -m 5 http://127.0.0.1:18620/p.txt)" "served under a policy" "through -p"
}

w_egress_options_refused() {
	expect_eq "$("$U" --net-allow 'no_such..name' -- true 2>&1)" \
		"usbox: --net-allow: 'no_such..name' is not a destination (HOST, *.DOMAIN, IP or CIDR, with :PORT or :LOW-HIGH; IPv6 with a port in brackets)" \
		"a bad name" &&
	expect_status 125 "$U" --net-allow 10.0.0.1/8 -- true 2>/dev/null &&
	expect_status 125 "$U" --net-allow 10.0.0.1:0 -- true 2>/dev/null &&
	expect_status 125 "$U" --net-allow 10.0.0.1:90-80 -- true 2>/dev/null &&
	expect_status 125 "$U" --net none --net-allow 10.0.0.1 -- true 2>/dev/null &&
	expect_status 125 "$U" --net host --net-allow 10.0.0.1 -- true 2>/dev/null &&
	expect_status 125 "$U" --net-log log -- true 2>/dev/null &&
	expect_status 125 "$U" --net-allow 10.0.0.1 --net-log /nonexistent/dir/log -- true 2>/dev/null
}

# ---------------------------------------------------------------- -p and IPv6

w_port_forward_ipv6_and_a_server_on_loopback6() {
	mkdir -p www && echo "served on ::1 inside" > www/six.txt
	"$U" -p 18610:8000 -p '[::1]:18611:8000' -- sh -c \
		'python3 -m http.server 8000 --bind ::1 --directory www >/dev/null 2>&1 & touch up; sleep 10' &
	local pid=$! i out
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_for_file up || return 1
	for i in $(seq 50); do curl -s -m 1 -o /dev/null 'http://[::1]:18610/' && break; sleep 0.1; done
	out=$(for url in http://127.0.0.1:18610 'http://[::1]:18610' 'http://[fd77::2]:18610' 'http://[::1]:18611'; do
		curl -s -m 5 "$url/six.txt" | sed "s|^|$url |"; done)
	expect_eq "$out" "$(printf '%s served on ::1 inside\n' http://127.0.0.1:18610 'http://[::1]:18610' 'http://[fd77::2]:18610' \
		'http://[::1]:18611')" "over IPv4 and IPv6, to a server on ::1 alone" &&
	expect_status 7 curl -s -m 5 -o /dev/null http://127.0.0.1:18611/ &&
	expect_match "$(ss -ltnH 'sport = :18610' | awk '{print $4}' | sort | tr '\n' ' ')" '^\*:18610 \[::\]:18610 $|^0\.0\.0\.0:18610 \[::\]:18610 $' \
		"bound on 0.0.0.0 and [::]"
}

w_port_forward_udp_over_ipv6() {
	"$U" -p 18710:9000/udp -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 9000)); open("up", "w")
for _ in range(2):
    data, peer = s.recvfrom(100); s.sendto(b"inside:" + data, peer)' &
	local pid=$!
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' RETURN
	wait_for_file up || return 1
	expect_eq "$(python3 -c '
import socket
for fam, addr in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(fam == socket.AF_INET6 and b"six" or b"four", (addr, 18710)); print(s.recvfrom(100)[0].decode())')" \
		"$(printf 'inside:six\ninside:four')" "UDP through -p over IPv6 and IPv4"
}
