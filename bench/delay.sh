#!/usr/bin/env bash
# bench/delay - TCP throughput at real-world latency: a sandbox uploading to
# and downloading from a host behind a delay line (bench/delayline.c: this
# kernel has no sch_netem), side by side with no sandbox, slirp4netns and
# pasta (when installed).  usbox's outbound TCP goes through its relay
# (netns/tcprelay.c): kernel TCP on both legs.
#
#   bench/delay.sh BUILD/usbox BUILD/bench/delayline [SECONDS] [ONE_WAY_MS...]   (as root)
#
# Two network namespaces of our own, ubx-dly-c (10.78.0.2, where the user
# runs) and ubx-dly-s (10.78.0.1, iperf3 -s), joined by two TAPs and the
# delay line; nothing leaves the machine.  For each one-way delay (default
# 0, 5 and 25 ms: RTT 0, 10 and 50 ms) it prints the median of ROUNDS
# (default 3) interleaved single-stream iperf3 runs up (sandbox -> host) and
# down, in Gbit/s, and the ratio of each path to no sandbox.  DLY_CLI and
# DLY_SRV name the namespaces, BENCH_USER the user.  "usbox --net" is a
# user network's sandbox (network ubx-dly, made and removed here), whose
# uplink is the network's helper.  BASE=OTHER/usbox adds
# another usbox to compare with (e.g. one without the relay).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/users.sh"
U=$(readlink -f "${1:?usage: delay.sh BUILD/usbox BUILD/bench/delayline [SECONDS] [ONE_WAY_MS...]}")
DL=$(readlink -f "${2:?}")
T=${3:-5}
shift 3 2>/dev/null || shift $#
DELAYS=${*:-0 5 25}
ROUNDS=${ROUNDS:-3}
PATHS="plain usbox unet s4"
command -v pasta >/dev/null && PATHS+=" pasta" # (Debian 12's pasta stalls: it then reads "fail")
C=${DLY_CLI:-ubx-dly-c} S=${DLY_SRV:-ubx-dly-s} USER_=${BENCH_USER:-usbox-test} # names overridable: parallel runs

[ "$(id -u)" -eq 0 ] || { echo "bench/delay.sh needs root (network namespaces)" >&2; exit 1; }
stage=$(stage_dir) || exit 1
install -m 0755 "$U" "$stage/usbox"
if [ -n "${BASE:-}" ]; then # another usbox to compare with (e.g. main's)
	install -m 0755 "$BASE" "$stage/base" && PATHS="plain base usbox${PATHS#plain usbox}"
fi
pids=()
down() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -x "$stage/usbox" ] && as_user "$USER_" "$stage/usbox" network rm ubx-dly >/dev/null 2>&1 # its helper lives in $C
	ip netns del $C 2>/dev/null; ip netns del $S 2>/dev/null
}
trap 'down; rm -rf "$stage"' EXIT

# up ONE_WAY_MS: the two hosts and the delay line between them
up() {
	down; pids=()
	ip netns add $C && ip netns add $S || return 1
	"$DL" $C dly0 $S dly0 "$1" > "$stage/dl.out" 2>"$stage/dl.err" &
	pids+=($!)
	local i
	for i in $(seq 50); do grep -q ready "$stage/dl.out" 2>/dev/null && break; sleep 0.05; done
	ip -n $C link set lo up && ip -n $S link set lo up &&
	ip -n $C link set dly0 mtu 65520 up && ip -n $S link set dly0 mtu 65520 up &&
	ip -n $C addr add 10.78.0.2/24 dev dly0 && ip -n $S addr add 10.78.0.1/24 dev dly0 &&
	ip -n $C route add default via 10.78.0.1 || return 1 # (pasta copies the default route's interface)
	ip netns exec $S iperf3 -s >/dev/null 2>&1 &
	pids+=($!)
	for i in $(seq 50); do timeout 5 ip netns exec $C iperf3 -c 10.78.0.1 -n 1K >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "the delay line did not come up" >&2; return 1
}

# as the user in the client: PATH [-R] -> Gbit/s
run() {
	local how=$1; shift
	USBOX_NETNS=$C USBOX_ENV="U=$stage/usbox B=$stage/base T=$T HOW=$how" as_user "$USER_" bash -c '
		gbps() { python3 -c "import json,sys
try: print(\"%.2f\" % (json.load(sys.stdin)[\"end\"][\"sum_received\"][\"bits_per_second\"] / 1e9))
except Exception: print(\"fail\")"; }
		case $HOW in
		plain) timeout $((T + 15)) iperf3 -c 10.78.0.1 -t "$T" -J "$@" | gbps ;;
		usbox) timeout $((T + 15)) "$U" -- iperf3 -c 10.78.0.1 -t "$T" -J "$@" 2>/dev/null | gbps ;;
		unet)  "$U" network create ubx-dly >/dev/null 2>&1 # (once: then it exists)
		       timeout $((T + 15)) "$U" --net ubx-dly -- iperf3 -c 10.78.0.1 -t "$T" -J "$@" 2>/dev/null | gbps ;;
		base)  timeout $((T + 15)) "$B" -- iperf3 -c 10.78.0.1 -t "$T" -J "$@" 2>/dev/null | gbps ;;
		s4)    unshare -rn sleep 1000 & ns=$!; sleep 0.3
		       slirp4netns --configure --mtu=65520 --disable-host-loopback "$ns" tap0 >/dev/null 2>&1 & s4=$!; sleep 1
		       timeout $((T + 15)) nsenter -t "$ns" -U -n --preserve-credentials iperf3 -c 10.78.0.1 -t "$T" -J "$@" | gbps
		       kill $s4 $ns ;;
		pasta) timeout $((T + 15)) pasta --config-net --mtu 65520 -- iperf3 -c 10.78.0.1 -t "$T" -J "$@" 2>/dev/null | gbps ;;
		esac' bash "$@"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '/^[0-9.]+$/ {a[n++] = $1} END { print n ? a[int((n - 1) / 2)] : "fail" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-" }'; }

printf '%-8s %-12s %12s %8s %12s %8s\n' "RTT" "path" "up Gbit/s" "ratio" "down Gbit/s" "ratio"
for d in $DELAYS; do
	up "$d" || exit 1
	declare -A res=()
	for round in $(seq "$ROUNDS"); do # interleaved: the machine's speed drifts, every path sees the same drift
		for p in $PATHS; do
			res[$p.up]+=" $(run $p)"
			res[$p.down]+=" $(run $p -R)"
		done
	done
	pu=$(median <<<"${res[plain.up]}") pd=$(median <<<"${res[plain.down]}")
	for p in $PATHS; do
		u=$(median <<<"${res[$p.up]}") w=$(median <<<"${res[$p.down]}")
		name=$p; [ $p = s4 ] && name=slirp4netns; [ $p = plain ] && name="no sandbox"
		[ $p = usbox ] && name="usbox"; [ $p = base ] && name="usbox (BASE)"; [ $p = unet ] && name="usbox --net"
		printf '%-8s %-12s %12s %8s %12s %8s\n' "$((2 * d)) ms" "$name" "$u" "$(ratio "$u" "$pu")" "$w" "$(ratio "$w" "$pd")"
	done
	unset res
done
