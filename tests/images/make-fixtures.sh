#!/usr/bin/env bash
# make-fixtures.sh OUTDIR [big] - test images, made locally (no network) from
# Debian's busybox-static with independent tools (GNU tar, umoci, skopeo):
#
#   rootfs.tar, rootfs.tar.gz  a busybox root file system; home/user/owned is
#                              owned by 1000:1000, everything else by 0:0
#   oci/                       an OCI layout made by umoci, tags:
#                                base    no layer
#                                l1      + the rootfs (umoci raw add-layer)
#                                l2      + etc/deleteme deleted, etc/added added
#                                          (umoci unpack --rootless / repack: a whiteout)
#                                l3      + opt/app opaque, holding only c
#                                          (a layer with .wh..wh..opq)
#                                latest  l3 with Env, Entrypoint, Cmd, WorkingDir,
#                                        User, ports, volume, label, stop signal
#   oci-archive.tar            latest alone, as an oci-archive (skopeo)
#   docker-archive.tar         latest alone, as a docker-archive (skopeo),
#                              named busybox:latest; .gz: the same, gzipped
#   oci-zstd/                  latest with zstd layers (skopeo), tag latest
#
# With "big": big-oci/ (one ~200 MB layer of files from /usr/lib, umoci) and
# big-docker.tar (skopeo), for measuring.  Prints nothing but errors.
set -eu
out=${1:?usage: make-fixtures.sh OUTDIR [big]}
big=${2:-}
for t in busybox umoci skopeo tar gzip; do
	command -v "$t" >/dev/null || { echo "make-fixtures: $t is missing (tests/install-deps.sh)" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
# skopeo wants a policy; use an insecure one of our own, never the system's
policy="$work/policy.json"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
sk() { skopeo --policy "$policy" --insecure-policy "$@" >/dev/null; }
tarc() { tar --numeric-owner --sort=name --mtime=@1700000000 --format=pax --pax-option=delete=atime,delete=ctime "$@"; }

# --- the root file system ------------------------------------------------------
root="$work/rootfs"
mkdir -p "$root"/{bin,etc,home/user,opt/app,tmp,root}
cp "$(command -v busybox)" "$root/bin/busybox"
for app in sh ls cat echo true false id env pwd mkdir rm stat sleep test; do
	ln -s busybox "$root/bin/$app"
done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' >"$root/etc/group"
echo hello >"$root/etc/motd"
echo "delete me" >"$root/etc/deleteme"
echo a >"$root/opt/app/a"
echo b >"$root/opt/app/b"
echo mine >"$root/home/user/owned"
chmod 1777 "$root/tmp"
# everything 0:0 but home/user/owned (1000:1000), whoever runs this
(cd "$root" && tarc --owner=0 --group=0 -cf "$out/rootfs.tar" --exclude=./home/user/owned .)
(cd "$root" && tarc --owner=1000 --group=1000 -rf "$out/rootfs.tar" ./home/user/owned)
gzip -n -c "$out/rootfs.tar" >"$out/rootfs.tar.gz"

# --- the OCI layout, layer by layer --------------------------------------------
oci="$out/oci"
rm -rf "$oci"
umoci init --layout "$oci"
umoci new --image "$oci:base"
umoci raw add-layer --image "$oci:base" --tag l1 "$out/rootfs.tar"
umoci unpack --rootless --image "$oci:l1" "$work/bundle" >/dev/null
rm "$work/bundle/rootfs/etc/deleteme"
echo added >"$work/bundle/rootfs/etc/added"
umoci repack --image "$oci:l2" "$work/bundle" >/dev/null
mkdir -p "$work/opq/opt/app"
: >"$work/opq/opt/app/.wh..wh..opq"
echo c >"$work/opq/opt/app/c"
(cd "$work/opq" && tarc --owner=0 --group=0 -cf "$work/opaque.tar" .)
umoci raw add-layer --image "$oci:l2" --tag l3 "$work/opaque.tar"
umoci config --image "$oci:l3" --tag latest \
	--config.env "PATH=/bin" --config.env "GREETING=hello world" \
	--config.entrypoint /bin/sh --config.entrypoint -c \
	--config.cmd "echo \$GREETING" \
	--config.workingdir /home/user --config.user 1000:1000 \
	--config.exposedports 8080/tcp --config.volume /data \
	--config.label org.example.test=yes --config.stopsignal SIGTERM
umoci gc --layout "$oci"

# --- the same image through skopeo ---------------------------------------------
rm -f "$out/oci-archive.tar" "$out/docker-archive.tar" "$out/docker-archive.tar.gz"
sk copy "oci:$oci:latest" "oci-archive:$out/oci-archive.tar:latest"
sk copy "oci:$oci:latest" "docker-archive:$out/docker-archive.tar:busybox:latest"
gzip -n -c "$out/docker-archive.tar" >"$out/docker-archive.tar.gz"
rm -rf "$out/oci-zstd"
sk copy --dest-compress-format zstd --dest-compress "oci:$oci:latest" "oci:$out/oci-zstd:latest"

# --- big: ~200 MB in one layer, for measuring ------------------------------------
if [ "$big" = big ]; then
	find /usr/lib -xdev -type f -size -20M -printf '%s %P\n' 2>/dev/null | sort -k2 |
		awk '{ t += $1; print $2; if (t > 200 * 1024 * 1024) exit }' >"$work/list"
	(cd /usr/lib && tarc --owner=0 --group=0 -cf "$work/big.tar" -T "$work/list")
	rm -rf "$out/big-oci" "$out/big-docker.tar"
	umoci init --layout "$out/big-oci"
	umoci new --image "$out/big-oci:latest"
	umoci raw add-layer --image "$out/big-oci:latest" "$work/big.tar"
	sk copy "oci:$out/big-oci:latest" "docker-archive:$out/big-docker.tar:big:latest"
fi
