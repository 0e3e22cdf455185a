#!/usr/bin/env bash
# Images, side by side with podman (rootless, with runc: crun refuses a hybrid
# cgroup host), as an unprivileged user (usbox-test when run as root):
#   - load of a ~200 MB docker-archive: usbox load vs podman load
#   - start of a container: usbox run --rm --image vs usbox's host view vs
#     podman run --rm (bench/startup -I), and the same on fuse-overlayfs
#   - disk used by 10 kept containers of one image
# Runs are interleaved; medians are printed with the ratios.
#   bench/images.sh BUILD/usbox BUILD/bench/startup [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
usbox=$(readlink -f "$1") startup=$(readlink -f "$2") runs=${3:-5}
. "$here/lib.sh"
bench_as_user "$0" "$usbox" "$startup" "$runs"
command -v podman >/dev/null || { echo "bench/images: podman is missing (apt-get install podman runc)"; exit 1; }
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/usbox-bench-xdg-$(id -u)}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
conf=$(mktemp -d)
trap 'rm -rf "$conf" "$fix"' EXIT
printf '[engine]\nruntime="runc"\ncgroup_manager="cgroupfs"\nevents_logger="file"\n' >"$conf/containers.conf"
export CONTAINERS_CONF="$conf/containers.conf"
fix=$(mktemp -d /var/tmp/usbox-bench-fix.XXXXXX)
if [ -e "$here/make-fixtures.sh" ]; then bash "$here/make-fixtures.sh" "$fix" big; else bash "$here/../tests/images/make-fixtures.sh" "$fix" big; fi
pod() { podman "$@" 2>/dev/null | grep -v 'not a shared mount' || true; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
u=() p=()
for i in $(seq "$runs"); do
	"$usbox" rmi -f usbox-bench-big >/dev/null 2>&1 || true
	u+=("$(ms "$usbox" load -q -i "$fix/big-docker.tar" usbox-bench-big)")
	pod rmi -f docker.io/library/big:latest localhost/big:latest >/dev/null
	p+=("$(ms podman load -q -i "$fix/big-docker.tar")")
done
um=$(printf '%s\n' "${u[@]}" | median) pm=$(printf '%s\n' "${p[@]}" | median)
size=$(du -m "$fix/big-docker.tar" | cut -f1)
echo "load of a ${size} MB docker-archive, median of $runs: usbox ${um} ms, podman ${pm} ms, ratio $(awk "BEGIN {printf \"%.2f\", $um / $pm}")"
# disk: 10 kept containers of one 100 MB image (busybox and data), each writing 1 MB
store=${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store
"$usbox" rmi -f usbox-bench-big >/dev/null
mkdir "$fix/tree" && tar -xf "$fix/rootfs.tar" -C "$fix/tree" && head -c 100000000 /dev/urandom >"$fix/tree/data"
"$usbox" import -q "$fix/tree" usbox-bench-disk >/dev/null
for i in $(seq 10); do "$usbox" rm "usbox-bench-$i" >/dev/null 2>&1 || true; done
size_mb() { du -sm "$store" 2>/dev/null | cut -f1; } # (overlayfs's work/work is mode 0: not counted, empty)
before=$(size_mb)
for i in $(seq 10); do
	"$usbox" run --net none --image usbox-bench-disk --name "usbox-bench-$i" -- \
		sh -c 'head -c 1048576 /dev/zero > /written' >/dev/null
done
after=$(size_mb)
layers_mb=$(du -sm "$store/layers" 2>/dev/null | cut -f1) blobs_mb=$(du -sm "$store/blobs" 2>/dev/null | cut -f1)
records_kb=$(du -sk "$store/tar-split" 2>/dev/null | cut -f1)
echo "disk: the image's store ${before} MB (extracted layers ${layers_mb} MB, blobs ${blobs_mb} MB, tar-split records ${records_kb:-0} KB); with 10 containers (1 MB written each) ${after} MB"
for i in $(seq 10); do "$usbox" rm "usbox-bench-$i" >/dev/null; done
"$usbox" rmi -f usbox-bench-disk >/dev/null
# start-up
"$usbox" load -q -i "$fix/docker-archive.tar" usbox-bench-small >/dev/null
pod load -q -i "$fix/docker-archive.tar" >/dev/null
"$startup" -n "${STARTUP_RUNS:-40}" -I usbox-bench-small -P docker.io/library/busybox:latest "$usbox"
if command -v fuse-overlayfs >/dev/null; then # the fallback's cost: the same start on fuse-overlayfs
	echo "with USBOX_OVERLAY=fuse:"
	USBOX_OVERLAY=fuse "$startup" -n "${STARTUP_RUNS:-40}" -I usbox-bench-small "$usbox"
fi
"$usbox" rmi -f usbox-bench-small >/dev/null
pod rmi -f docker.io/library/big:latest docker.io/library/busybox:latest >/dev/null
