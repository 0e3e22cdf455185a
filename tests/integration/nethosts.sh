# Sourced by run.sh (as root): two test hosts in network namespaces of our own,
# and nothing else: traffic never leaves them.
#   ubx-cli  10.77.0.2/24  where usbox runs (as the test user); a stub resolver
#            on 127.0.0.53 (like systemd-resolved) forwarding to the server
#   ubx-srv  10.77.0.1/24  HTTP on :8080 (serving hello.txt), UDP echo on :9999,
#            DNS on :53 answering testhost.usbox.test = 10.77.0.1;
#            fd77::1/64 with HTTP on [fd77::1]:8081 (the client is fd77::2);
#            big.bin (8 MiB) and its big.sha256 over HTTP; on :9000 (IPv4 and
#            IPv6) a sink that answers what it read until EOF with its
#            "SHA256 BYTES"
NET_CLI=${NET_CLI:-ubx-cli} NET_SRV=${NET_SRV:-ubx-srv} # overridable: parallel runs on one machine
net_pids=()

nethosts_down() {
	local p
	for p in "${net_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del $NET_CLI 2>/dev/null
	ip netns del $NET_SRV 2>/dev/null
	rm -rf "/etc/netns/$NET_CLI" "${net_www:-/nonexistent}"
}

nethosts_up() {
	nethosts_down
	ip netns add $NET_CLI && ip netns add $NET_SRV &&
	ip link add ubx-v0 netns $NET_CLI type veth peer name ubx-v1 netns $NET_SRV &&
	ip -n $NET_CLI addr add 10.77.0.2/24 dev ubx-v0 && ip -n $NET_SRV addr add 10.77.0.1/24 dev ubx-v1 &&
	ip -n $NET_CLI link set ubx-v0 up && ip -n $NET_SRV link set ubx-v1 up &&
	ip -n $NET_CLI link set lo up && ip -n $NET_SRV link set lo up &&
	ip -n $NET_CLI addr add fd77::2/64 dev ubx-v0 nodad && ip -n $NET_SRV addr add fd77::1/64 dev ubx-v1 nodad || return 1
	net_www=$(mktemp -d /tmp/usbox-www.XXXXXX) && chmod 755 "$net_www" && echo "hello from the test host" > "$net_www/hello.txt" &&
	head -c 8M /dev/urandom > "$net_www/big.bin" && (cd "$net_www" && sha256sum big.bin | cut -d' ' -f1 > big.sha256) &&
	chmod 644 "$net_www"/* || return 1
	ip netns exec $NET_SRV python3 -m http.server 8080 --bind 10.77.0.1 --directory "$net_www" >/dev/null 2>&1 &
	net_pids+=($!)
	ip netns exec $NET_SRV python3 -m http.server 8081 --bind fd77::1 --directory "$net_www" >/dev/null 2>&1 &
	net_pids+=($!)
	ip netns exec $NET_SRV python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 9999))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(b"echo:" + data, peer)' &
	net_pids+=($!)
	ip netns exec $NET_SRV python3 -c '
import hashlib, socket, threading
def sink(c):
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b); n += len(b)
    c.sendall(("%s %d\n" % (h.hexdigest(), n)).encode()); c.close()
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 9000)); s.listen(64)
    while True:
        threading.Thread(target=sink, args=(s.accept()[0],), daemon=True).start()
threading.Thread(target=serve, args=(socket.AF_INET6, "fd77::1"), daemon=True).start()
serve(socket.AF_INET, "10.77.0.1")' &
	net_pids+=($!)
	ip netns exec $NET_SRV dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=10.77.0.1 --except-interface=lo --address=/testhost.usbox.test/10.77.0.1 \
		--pid-file= --user=root 2>/dev/null &
	net_pids+=($!)
	ip netns exec $NET_CLI dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=127.0.0.53 --server=10.77.0.1 --pid-file= --user=root 2>/dev/null &
	net_pids+=($!)
	mkdir -p "/etc/netns/$NET_CLI" && echo "nameserver 127.0.0.53" > "/etc/netns/$NET_CLI/resolv.conf"
	local i
	for i in $(seq 50); do
		ip netns exec $NET_CLI curl -s -m 1 -o /dev/null http://10.77.0.1:8080/hello.txt &&
			ip netns exec $NET_CLI curl -s -m 1 -o /dev/null 'http://[fd77::1]:8081/hello.txt' &&
			ip netns exec $NET_CLI bash -c '</dev/tcp/10.77.0.1/9000 && </dev/tcp/fd77::1/9000' 2>/dev/null && return 0
		sleep 0.1
	done
	echo "the test hosts did not come up" >&2
	return 1
}
