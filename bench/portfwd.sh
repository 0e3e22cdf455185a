#!/usr/bin/env bash
# bench/portfwd - -p under request/response load: PostgreSQL's pgbench (TPC-B
# and select-only, several clients) and redis-benchmark (SET and GET, 50
# clients) against a server run directly, inside usbox behind -p, and inside
# pasta behind -t, in interleaved rounds; medians and the ratios to direct.
# A second table gives what the forwarder itself (usbox's supervisor, pasta)
# spent in CPU per transaction or request, in microseconds (medians).
#
#   bench/portfwd.sh BUILD/usbox [SECONDS] [ROUNDS] [OTHER/usbox]
#
# PG_CLIENTS (8) and REDIS_CLIENTS (50) set the clients at once.
# With OTHER/usbox (an older build, say), that one runs in the same rounds
# too.  As root it runs as $BENCH_USER (usbox-test by default, made when
# missing); as anyone else, as that user.  Needs PostgreSQL (initdb, postgres, pgbench,
# pg_isready) and redis (redis-server, redis-benchmark, redis-cli); pasta is
# optional (a stalled or failed pasta run prints "fail").  Each server starts
# and stops for every measurement: a round of four tests takes 2-5 minutes
# with SECONDS=5 on 2 vCPUs (longer with OTHER and pasta).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -eq 0 ]; then
	. "$here/../tests/users.sh"
	user=${BENCH_USER:-usbox-test}
	[ "$user" = usbox-test ] && ensure_user usbox-test 600000
	stage=$(mktemp -d /var/tmp/usbox-bench.XXXXXX) && chmod 0755 "$stage"   # not /tmp: private inside
	trap 'rm -rf "$stage"' EXIT
	install -m 0755 "$1" "$0" "$stage/"
	[ -n "${4:-}" ] && install -m 0755 "$4" "$stage/other"
	chown "$user" "$stage"
	as_user "$user" PG_CLIENTS="${PG_CLIENTS:-8}" REDIS_CLIENTS="${REDIS_CLIENTS:-50}" bash "$stage/portfwd.sh" "$stage/usbox" "${2:-10}" "${3:-3}" ${4:+"$stage/other"}
	exit $?
fi

U=$(readlink -f "$1") T=${2:-10} ROUNDS=${3:-3} OTHER=${4:+$(readlink -f "$4")}
PGC=${PG_CLIENTS:-8} RDC=${REDIS_CLIENTS:-50}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PATH=$PGBIN:$PATH
for t in initdb postgres pgbench pg_isready redis-server redis-benchmark redis-cli; do
	command -v $t >/dev/null || { echo "bench/portfwd: needs $t" >&2; exit 1; }
done
work=$(mktemp -d /var/tmp/usbox-pf.XXXXXX) || exit 1
cd "$work" || exit 1
trap 'kill $(jobs -p) 2>/dev/null; wait; cd /; rm -rf "$work"' EXIT
lim() { timeout $((T + 30)) "$@"; }
has_pasta=0; command -v pasta >/dev/null && has_pasta=1

# The servers, each on its own host port: direct, usbox -p, pasta -t.
PG="postgres -D $work/pg -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off"
PG+=" -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB -c max_connections=100"
RD="redis-server --bind 127.0.0.1 --save '' --appendonly no --protected-mode no"
initdb -D pg -A trust >/dev/null || exit 1
declare -A PORT=([direct]=15440 [usbox]=15441 [pasta]=15442 [other]=15443)
start() { # KIND SERVER(pg|redis): the server in the background, $! its pid
	local p=${PORT[$1]} cmd
	if [ "$2" = pg ]; then cmd="exec $PG -p 5432"; else cmd="exec $RD --port 5432"; fi
	case $1 in
	direct) sh -c "${cmd/5432/$p}" >/dev/null 2>&1 & ;;
	usbox) "$U" -p "$p:5432" -- sh -c "$cmd" >/dev/null 2>&1 & ;;
	other) "$OTHER" -p "$p:5432" -- sh -c "$cmd" >/dev/null 2>&1 & ;;
	# only the one port (not pasta's default of every port the host listens on); not as
	# root inside, which PostgreSQL refuses
	pasta) pasta --config-net -T none -U none -t "$p:5432" -- unshare --map-user="$(id -u)" --map-group="$(id -g)" \
		sh -c "$cmd" >/dev/null 2>&1 & ;;
	esac
	pid=$! server=$2 port=$p
	local i
	for i in $(seq 100); do
		if [ "$2" = pg ]; then pg_isready -q -h 127.0.0.1 -p "$p" -t 1 && return 0
		else [ "$(timeout 1 redis-cli -p "$p" ping 2>/dev/null)" = PONG ] && return 0; fi
		sleep 0.1
	done
	return 1
}
# By the server's own means: pasta leaves its command behind it.  Under pasta,
# PostgreSQL is PID 1 of a PID namespace of its own, which pg_ctl cannot
# signal: its fast shutdown (SIGINT) goes to pasta's child instead.
stop() {
	local i c
	if [ "$server" = pg ]; then
		pg_ctl stop -D "$work/pg" -m fast -w -t 20 >/dev/null 2>&1 ||
			for c in $(pgrep -P "$pid"); do kill -INT "$c"; done
	else timeout 5 redis-cli -p "$port" shutdown nosave >/dev/null 2>&1; fi
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}

# One measurement: KIND TEST -> a number (TPS or requests/s) or "fail"; the
# forwarder's CPU per transaction or request (microseconds) into $work/cpu.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
measure() {
	local kind=$1 test=$2 p=${PORT[$1]} out n=$((T * 40000)) t0 t1
	echo fail >"$work/cpu"
	start "$kind" "${test%%_*}" || { stop; echo fail; return; }
	t0=$(ticks "$pid")
	case $test in
	pg_*) out=$(lim pgbench -h 127.0.0.1 -p "$p" -n $([ "$test" = pg_select ] && echo -S) -c "$PGC" -j 2 -T "$T" postgres 2>/dev/null |
		awk '/^number of transactions actually processed/ {n = $NF} /^tps/ {print $3, n; exit}') ;;
	redis_set|redis_get) out=$(lim redis-benchmark -p "$p" -c "$RDC" -n $n -t "${test#redis_}" --csv \
		2>/dev/null | awk -F'"' -v n=$n 'NR > 1 && $4 {print $4, n; exit}') ;;
	esac
	t1=$(ticks "$pid")
	stop
	awk -v o="$out" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { split(o, a, " ")
		if (a[2] > 0) printf "%.1f\n", t * 1e6 / hz / a[2]; else print "fail" }' >"$work/cpu"
	echo "${out%% *}" | sed 's/^$/fail/'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '/^[0-9.]+$/ {a[n++] = $1} /fail/ {f++}
	END { if (!n) {print "fail"; exit} m = a[int((n - 1) / 2)]; print f ? m "(" f " failed)" : m }'; }

# The tables pgbench needs, once, into the data directory every server uses.
start direct pg && pgbench -i -q -s 4 -h 127.0.0.1 -p ${PORT[direct]} postgres >/dev/null 2>&1; stop
kinds="direct usbox"; [ -n "$OTHER" ] && kinds="$kinds other"; [ $has_pasta = 1 ] && kinds="$kinds pasta"
declare -A res cpu
for r in $(seq "$ROUNDS"); do   # interleaved: every kind sees the machine's drift
	for test in pg_tpcb pg_select redis_set redis_get; do
		for k in $kinds; do res[$test.$k]+="$(measure $k $test) " cpu[$test.$k]+="$(cat cpu) "; done
	done
done
ratio() { awk -v a="${1%%(*}" -v b="${2%%(*}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
head="$(printf '%-14s %10s' "$T s x $ROUNDS" direct)"
for k in $kinds; do [ $k = direct ] || head+="$(printf ' %10s %5s' "$k" ratio)"; done
echo "$head"
for test in pg_tpcb pg_select redis_set redis_get; do
	d=$(echo "${res[$test.direct]}" | median) line="$(printf '%-14s %10s' "$test" "$d")"
	for k in $kinds; do
		[ $k = direct ] && continue
		m=$(echo "${res[$test.$k]}" | median)
		line+="$(printf ' %10s %5s' "$m" "$(ratio "$m" "$d")")"
	done
	echo "$line"
	for k in $kinds; do echo "  $test $k: ${res[$test.$k]}" >&2; done
done
echo
line="$(printf '%-14s' "cpu us/req")"
for k in $kinds; do [ $k = direct ] || line+="$(printf ' %10s' "$k")"; done
echo "$line"
for test in pg_tpcb pg_select redis_set redis_get; do
	line="$(printf '%-14s' "$test")"
	for k in $kinds; do [ $k = direct ] || line+="$(printf ' %10s' "$(echo "${cpu[$test.$k]}" | median)")"; done
	echo "$line"
done
