#!/usr/bin/env bash
# bench/net - usbox's network side by side with slirp4netns, pasta and the
# plain paths, in one run, between test hosts in network namespaces of our own
# (tests/integration/nethosts.sh): nothing leaves the machine.
#
#   bench/net.sh BUILD/usbox BUILD/bench/startup [SECONDS]     (as root)
#
# Prints iperf3 throughput (Gbit/s) sandbox -> test host and host -> sandbox
# through port forwarding, 1 and 4 streams; TCP request/response round trips;
# TCP connection set-up with and without an egress policy;
# the network helper's RSS; and start-up with the network against without.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --inner ]; then shift; inner=1; else inner=0; fi

# ------------------------------------------------------------ as the user, in ubx-cli
if [ "$inner" = 1 ]; then
	U=$1 T=$2 STARTUP=$3 ROUNDS=${4:-3}
	lim() { timeout $((T + 15)) "$@"; }   # a stalled run counts as "fail", never hangs the bench
	gbps() { python3 -c 'import json,sys
try:
    d = json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("fail")'; }
	RR="python3 $(dirname "$0")/rr.py 10.77.0.1 7777"
	rss_of() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
	wait_port() { local i; for i in $(seq 100); do ss -ltn | grep -q ":$1 " && return 0; sleep 0.05; done; }

	# slirp4netns: a user+net namespace, the helper attached, an API socket for port forwarding
	d=$(mktemp -d); unshare -rn sleep 1000 & ns=$!; sleep 0.3
	slirp4netns --configure --mtu=65520 --disable-host-loopback --api-socket "$d/api" "$ns" tap0 >/dev/null 2>&1 & s4=$!
	sleep 1
	S4X=(nsenter -t "$ns" -U -n --preserve-credentials)   # run inside slirp4netns's namespace
	s4x() { "${S4X[@]}" "$@"; }
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":15302,\"guest_port\":5201}}"); s.shutdown(socket.SHUT_WR); s.recv(1000)' "$d/api"

	# A user network: out through its helper's uplink, and sandbox to sandbox over the bridge.
	"$U" network rm benchnet >/dev/null 2>&1; "$U" network create benchnet >/dev/null
	"$U" --net benchnet --name srv -- sh -c 'iperf3 -s >/dev/null & python3 -c "
import socket, threading
s = socket.socket(); s.bind((\"0.0.0.0\", 7777)); s.listen()
def echo(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (b := c.recv(4096)): c.sendall(b)
while True: threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()"' & unet_srv=$!
	sleep 1
	out_unet() { lim "$U" --net benchnet -- iperf3 -c 10.77.0.1 -t "$T" "$@" -J | gbps; }
	s2s_unet() { lim "$U" --net benchnet -- iperf3 -c srv -t "$T" "$@" -J | gbps; }
	out_usbox() { lim "$U" -- iperf3 -c 10.77.0.1 -t "$T" "$@" -J | gbps; }
	out_s4() { lim "${S4X[@]}" iperf3 -c 10.77.0.1 -t "$T" "$@" -J | gbps; }
	out_pasta() { lim pasta --config-net -- iperf3 -c 10.77.0.1 -t "$T" "$@" -J 2>/dev/null | gbps; }
	in_usbox() { "$U" -p 15301:5201 -- iperf3 -s -1 >/dev/null & local p=$!; wait_port 15301; sleep 0.3; lim iperf3 -c 127.0.0.1 -p 15301 -t "$T" "$@" -J | gbps; kill $p 2>/dev/null; wait $p; }
	in_s4() { s4x iperf3 -s -1 >/dev/null & local p=$!; sleep 0.5; lim iperf3 -c 127.0.0.1 -p 15302 -t "$T" "$@" -J | gbps; kill $p 2>/dev/null; wait $p; }
	in_pasta() { pasta --config-net -t 15303:5201 -- iperf3 -s -1 >/dev/null 2>&1 & local p=$!; wait_port 15303; sleep 0.5; lim iperf3 -c 127.0.0.1 -p 15303 -t "$T" "$@" -J | gbps; kill $p 2>/dev/null; wait $p; }
	ceil() { lim iperf3 -c 127.0.0.1 -p 5202 -t "$T" "$@" -J | gbps; }
	veth() { lim iperf3 -c 10.77.0.1 -t "$T" "$@" -J | gbps; }
	# median of the runs that finished; "(k failed)" when some stalled or failed
	median() { tr ' ' '\n' | grep . | sort -g | awk '/^[0-9.]+$/ {a[n++] = $1} /fail/ {f++}
		END { if (!n) {print "fail"; exit} m = a[int((n - 1) / 2)]; print f ? m "(" f " failed)" : m }'; }
	# Interleaved rounds: the machine's speed drifts, so every tool sees the same drift.
	declare -A res
	tools="ceil veth out_usbox out_s4 out_pasta in_usbox in_s4 in_pasta out_unet s2s_unet"
	for round in $(seq "$ROUNDS"); do
		for t in $tools; do
			res[$t.1]+=" $($t)"
			res[$t.4]+=" $($t -P 4)"
		done
	done
	"$U" -- iperf3 -c 10.77.0.1 -t "$T" -J > "$d/u1" & up=$!; sleep $((T / 2)); usbox_rss=$(rss_of "$up"); wait $up
	s4x iperf3 -c 10.77.0.1 -t "$T" -J > "$d/s1" & sp=$!; sleep $((T / 2)); s4_rss=$(rss_of "$s4"); wait $sp
	lim pasta --config-net -- iperf3 -c 10.77.0.1 -t "$T" -J > "$d/p1" 2>/dev/null & pp=$!; sleep $((T / 2)); pasta_rss=$(rss_of "$(pgrep -n -x pasta)"); wait $pp
	"$U" --net benchnet -- iperf3 -c 10.77.0.1 -t "$T" -J > "$d/n1" & np=$!; sleep $((T / 2)); unet_rss=$(rss_of "$(pgrep -n -f '^usbox-net benchnet')"); wait $np
	printf '%-44s %10s %10s\n' "throughput, Gbit/s (median of $ROUNDS x $T s)" "1 stream" "4 streams"
	row() { printf '%-44s %10s %10s\n' "$1" "$(median <<<"${res[$2.1]}")" "$(median <<<"${res[$2.4]}")"; }
	row "loopback (ceiling)" ceil
	row "veth, no sandbox" veth
	row "out: usbox slirp" out_usbox
	row "out: slirp4netns --mtu 65520" out_s4
	row "out: pasta --config-net" out_pasta
	row "in (-p): usbox, splice forwarder" in_usbox
	row "in (-p): slirp4netns add_hostfwd" in_s4
	row "in (-p): pasta -t" in_pasta
	row "user network: out through its uplink" out_unet
	row "user network: sandbox to sandbox (veth)" s2s_unet
	echo "single-stream outbound runs: usbox${res[out_usbox.1]}; slirp4netns${res[out_s4.1]}; pasta${res[out_pasta.1]}"
	echo
	printf '%-44s %10s\n' "TCP request/response round trip, µs" "median"
	printf '%-44s %10s\n' "veth, no sandbox" "$($RR)"
	printf '%-44s %10s\n' "usbox slirp" "$("$U" -- $RR)"
	printf '%-44s %10s\n' "slirp4netns" "$(s4x $RR)"
	printf '%-44s %10s\n' "pasta" "$(lim pasta --config-net -- $RR 2>/dev/null)"
	printf '%-44s %10s\n' "usbox user network, out through its uplink" "$("$U" --net benchnet -- $RR)"
	printf '%-44s %10s\n' "usbox user network, sandbox to sandbox" "$("$U" --net benchnet -- python3 "$(dirname "$0")/rr.py" srv 7777)"
	echo
	CONN="python3 $(dirname "$0")/rr.py 10.77.0.1 7777 300 connect"
	printf '%-44s %10s\n' "TCP connection set-up + 1 round trip, µs" "median"
	for round in $(seq "$ROUNDS"); do # interleaved
		res[c.veth]+=" $($CONN)"
		res[c.usbox]+=" $("$U" -- $CONN)"
		res[c.allow]+=" $("$U" --net-allow 10.77.0.1:7777 -- $CONN)"
		res[c.direct]+=" $("$U" -p 15399:1 -- $CONN)"
		res[c.unet]+=" $("$U" --net benchnet -- $CONN)"
	done
	printf '%-44s %10s\n' "veth, no sandbox" "$(median <<<"${res[c.veth]}")"
	printf '%-44s %10s\n' "usbox slirp (the relay)" "$(median <<<"${res[c.usbox]}")"
	printf '%-44s %10s\n' "usbox slirp --net-allow 10.77.0.1:7777" "$(median <<<"${res[c.allow]}")"
	printf '%-44s %10s\n' "usbox slirp -p (direct: usbox makes each connect)" "$(median <<<"${res[c.direct]}")"
	printf '%-44s %10s\n' "usbox user network (its helper's relay)" "$(median <<<"${res[c.unet]}")"
	echo
	printf '%-44s %10s\n' "network helper RSS during a transfer, MB" ""
	printf '%-44s %10s\n' "usbox (the supervisor runs libslirp)" "$usbox_rss"
	printf '%-44s %10s\n' "slirp4netns" "$s4_rss"
	printf '%-44s %10s\n' "pasta" "$pasta_rss"
	printf '%-44s %10s\n' "usbox-net (a user network's helper)" "$unet_rss"
	kill "$s4" "$ns" "$unet_srv" 2>/dev/null; wait "$unet_srv" 2>/dev/null; rm -rf "$d"
	echo
	"$STARTUP" -n 100 -N -u benchnet "$U"
	"$U" network rm benchnet >/dev/null
	exit 0
fi

# ------------------------------------------------------------ as root: test hosts, then the user part
. "$here/../tests/users.sh"
. "$here/../tests/integration/nethosts.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench/net.sh makes test hosts with ip netns: run it as root" >&2; exit 1; }
for t in iperf3 slirp4netns pasta; do command -v $t >/dev/null || { echo "needs $t (apt-get install iperf3 slirp4netns passt)" >&2; exit 1; }; done
ensure_user usbox-test 600000
stage=$(mktemp -d /var/tmp/usbox-bench.XXXXXX) && chmod 0755 "$stage"   # not /tmp: private inside the sandbox
trap 'nethosts_down; rm -rf "$stage"' EXIT
install -m 0755 "$1" "$2" "$0" "$here/rr.py" "$stage/"
nethosts_up || exit 1
ip -n $NET_CLI route add default via 10.77.0.1   # pasta wants a default route to copy
ip netns exec $NET_SRV iperf3 -s -B 10.77.0.1 >/dev/null 2>&1 & net_pids+=($!)
ip netns exec $NET_CLI iperf3 -s -B 127.0.0.1 -p 5202 >/dev/null 2>&1 & net_pids+=($!)
ip netns exec $NET_SRV python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.77.0.1", 7777)); s.listen()
def echo(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (b := c.recv(4096)): c.sendall(b)
while True: threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()' & net_pids+=($!)
sleep 0.5
USBOX_NETNS=$NET_CLI as_user usbox-test bash "$stage/net.sh" --inner "$stage/usbox" "${3:-4}" "$stage/startup" "${ROUNDS:-3}"
