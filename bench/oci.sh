#!/usr/bin/env bash
# usbox-oci beside runc and crun, as an unprivileged user (usbox-test when run
# as root), interleaved rounds, medians:
#   - podman run --rm --network=none IMG true, with --runtime usbox-oci / runc / crun
#   - a bundle's create + start + delete, through each runtime's own command line
#     (the bundle's config.json from `runc spec --rootless`, the process `true`)
# A runtime that fails here (crun refuses hybrid cgroup hosts) is reported, not timed.
#   bench/oci.sh BUILD/usbox BUILD/bench/startup [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
usbox=$(readlink -f "$1") startup=$(readlink -f "$2") runs=${3:-20}
. "$here/lib.sh"
bench_as_user "$0" "$usbox" "$startup" "$runs"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/usbox-bench-xdg-$(id -u)}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
work=$(mktemp -d /tmp/usbox-bench-oci.XXXXXX)
pr=$(mktemp -d /tmp/ubo-pr.XXXXXX)
P=(podman --root "$work/ps" --runroot "$pr" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
cleanup() { "${P[@]}" rm -af -t 0 >/dev/null 2>&1; podman unshare rm -rf "$work" "$pr"; }
trap cleanup EXIT
mkdir -p "$work/bin" "$work/rootfs/bin" && ln -s "$usbox" "$work/bin/usbox-oci"
cp /bin/busybox "$work/rootfs/bin/" && ln -s busybox "$work/rootfs/bin/true" && ln -s busybox "$work/rootfs/bin/sh"
tar -C "$work/rootfs" -cf "$work/bb.tar" . && "${P[@]}" import -q "$work/bb.tar" localhost/bb:bench >/dev/null
mkdir -p "$work/bundle" && mv "$work/rootfs" "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec --rootless && python3 -c '
import json; c = json.load(open("config.json")); c["process"]["terminal"] = False; c["process"]["args"] = ["true"]
json.dump(c, open("config.json", "w"))')

python3 - "$runs" "$work" "$pr" <<'EOF'
import os, statistics, subprocess, sys, time
runs, work, pr = int(sys.argv[1]), sys.argv[2], sys.argv[3]
oci = os.path.join(work, "bin", "usbox-oci")
podman = ["podman", "--root", work + "/ps", "--runroot", pr, "--storage-driver", "vfs",
          "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
runtimes = {"usbox-oci": oci, "runc": "runc", "crun": "crun"}

errlog = open(os.path.join(work, "stderr"), "w+")

def timed(cmds):
    # (stderr to a file, not a pipe: a created container keeps its creator's stdio)
    t = time.perf_counter()
    for c in cmds:
        errlog.seek(0)
        errlog.truncate()
        r = subprocess.run(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog)
        if r.returncode:
            errlog.seek(0)
            raise RuntimeError(errlog.read().strip().splitlines()[-1:] or [f"exit {r.returncode}"])
    return (time.perf_counter() - t) * 1000

def podman_run(rt):
    return [podman + ["--runtime", rt, "run", "--rm", "--network=none", "localhost/bb:bench", "true"]]

def bundle(rt, name):
    root = ["--root", os.path.join(work, "state-" + os.path.basename(rt))]
    b = os.path.join(work, "bundle")
    return [[rt] + root + ["create", "--bundle", b, name], [rt] + root + ["start", name],
            [rt] + root + ["delete", "--force", name]]

def measure(title, make):
    ok = {}
    for name, rt in runtimes.items():
        try:
            timed(make(rt, 0))
            ok[name] = []
        except RuntimeError as e:
            print(f"  {name}: fails here: {e}")
    for i in range(runs):
        for name in ok:
            ok[name].append(timed(make(runtimes[name], i + 1)))
    print(title)
    base = statistics.median(ok["runc"]) if "runc" in ok else None
    for name, v in ok.items():
        m = statistics.median(v)
        ratio = f", {m / base:.2f}x runc" if base else ""
        print(f"  {name:10s} median {m:7.1f} ms (min {min(v):.1f}, max {max(v):.1f}, n={len(v)}){ratio}")

measure("podman run --rm --network=none IMG true", lambda rt, i: podman_run(rt))
measure("create + start + delete of a bundle (the runtime alone)", lambda rt, i: bundle(rt, f"b{i}"))
EOF
