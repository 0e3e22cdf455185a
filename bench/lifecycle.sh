#!/usr/bin/env bash
# Detached containers, side by side, as an unprivileged user (usbox-test when
# run as root):
#   - usbox exec NAME true vs a fresh usbox --net none -- true vs podman exec
#     (bench/startup -E, interleaved, medians)
#   - the supervisor's RSS with --net none and with --net slirp
#   - 100 idle detached containers: their supervisors' and inits' RSS in all,
#     and how long the 100th took to start
#   bench/lifecycle.sh BUILD/usbox BUILD/bench/startup [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
usbox=$(readlink -f "$1") startup=$(readlink -f "$2") runs=${3:-200}
. "$here/lib.sh"
bench_as_user "$0" "$usbox" "$startup" "$runs"
export USBOX_HOLDER_IDLE=30
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/usbox-bench-xdg-$(id -u)}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; } # shared pages divided among their users
field() { "$usbox" inspect "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['State']['$2'])"; }
cleanup() { "$usbox" rm -f usbox-bench-exec usbox-bench-slirp >/dev/null 2>&1 || true
	for i in $(seq 100); do echo "usbox-bench-idle$i"; done | xargs "$usbox" rm -f >/dev/null 2>&1 || true
	command -v podman >/dev/null && podman rm -f -t 0 usbox-bench-pod >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
cd /tmp # (a working directory usbox does not share: one line on stderr, said once)
"$usbox" run -d --name usbox-bench-exec --net none -- sleep 100000 >/dev/null
pod=()
if command -v podman >/dev/null; then
	conf=$(mktemp -d) fix=$(mktemp -d /var/tmp/usbox-bench-fix.XXXXXX)
	printf '[engine]\nruntime="runc"\ncgroup_manager="cgroupfs"\nevents_logger="file"\n' >"$conf/containers.conf"
	export CONTAINERS_CONF="$conf/containers.conf"
	if [ -e "$here/make-fixtures.sh" ]; then bash "$here/make-fixtures.sh" "$fix"; else bash "$here/../tests/images/make-fixtures.sh" "$fix"; fi
	podman load -q -i "$fix/docker-archive.tar" >/dev/null 2>&1
	podman run -d --name usbox-bench-pod --network=none --entrypoint "" busybox:latest sleep 100000 >/dev/null 2>&1 &&
		pod=(-Q usbox-bench-pod)
fi
"$startup" -n "$runs" -E usbox-bench-exec "${pod[@]}" "$usbox"
echo
"$usbox" run -d --name usbox-bench-slirp -- sleep 100000 >/dev/null 2>&1
m1=$(field usbox-bench-exec MonitorPid) m2=$(field usbox-bench-slirp MonitorPid) i1=$(field usbox-bench-exec Pid)
echo "supervisor RSS (PSS): --net none $(rss_kb "$m1") kB ($(pss_kb "$m1") kB)," \
	"--net slirp $(rss_kb "$m2") kB ($(pss_kb "$m2") kB); the init $(rss_kb "$i1") kB ($(pss_kb "$i1") kB)"
s=$(date +%s%N)
for i in $(seq 99); do "$usbox" run -d --name "usbox-bench-idle$i" --net none -- sleep 100000 >/dev/null 2>&1; done
m=$(date +%s%N)
"$usbox" run -d --name usbox-bench-idle100 --net none -- sleep 100000 >/dev/null 2>&1
e=$(date +%s%N)
total=0 pss=0
for i in $(seq 100); do
	for p in "$(field "usbox-bench-idle$i" MonitorPid)" "$(field "usbox-bench-idle$i" Pid)"; do
		total=$((total + $(rss_kb "$p"))) pss=$((pss + $(pss_kb "$p")))
	done
done
echo "100 idle detached containers: supervisors and inits RSS $((total / 1024)) MB summed, PSS $((pss / 1024)) MB;" \
	"the first 99 started in $(((m - s) / 1000000)) ms, the 100th in $(((e - m) / 1000000)) ms"
