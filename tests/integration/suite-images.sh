# Images, more: fuse-overlayfs, save's progress.  Sourced by tests.sh (its
# helpers, $U, $work and fixtures() are there).

store_dir() { echo "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store"; }

# No fuse-overlayfs of ours runs and no FUSE mount is left here.
no_fuse_left() {
	local i
	for i in $(seq 40); do pgrep -u "$me" -x fuse-overlayfs >/dev/null || break; sleep 0.05; done
	! pgrep -u "$me" -x fuse-overlayfs >/dev/null || fail "fuse-overlayfs still runs: $(pgrep -u "$me" -a -x fuse-overlayfs)" || return 1
	! grep -q fuse-overlayfs /proc/self/mountinfo || fail "a FUSE mount is left: $(grep fuse-overlayfs /proc/self/mountinfo)"
}

# A PATH with newuidmap and newgidmap (the id maps need them) but no fuse-overlayfs.
path_without_fuse() {
	mkdir -p nofuse && local t
	for t in newuidmap newgidmap; do
		command -v "$t" >/dev/null && ln -sf "$(command -v "$t")" "nofuse/$t"
	done
	echo "$PWD/nofuse"
}

# USBOX_OVERLAY=fuse: fuse-overlayfs serves the root, outside the sandbox's
# sight; whiteouts and opaque directories of the image hold, and no notice
# is printed (it was asked for).
t_image_fuse_overlay_run() {
	command -v fuse-overlayfs >/dev/null || { skip "fuse-overlayfs not installed"; return; }
	[ -c /dev/fuse ] || { skip "no /dev/fuse"; return; }
	fixtures || return 1
	"$U" load -q -i "$FIX/oci:latest" usbox-t-fuse >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-fuse >/dev/null 2>&1' RETURN
	local out before
	before=$(ls "$(store_dir)/containers" | wc -l)
	out=$(USBOX_OVERLAY=fuse "$U" run --rm --net none --image usbox-t-fuse --entrypoint "" -- sh -c \
		'awk "\$2 == \"/\" {print \$3}" /proc/mounts; ls /etc/deleteme 2>&1; ls /opt/app; echo w > /tmp/w && cat /tmp/w; id -u
		 cat /proc/[0-9]*/comm | grep -c fuse; true' 2>err) || { cat err; return 1; }
	expect_eq "$out" "$(printf 'fuse.fuse-overlayfs\nls: /etc/deleteme: No such file or directory\nc\nw\n1000\n0')" \
		"inside (the root, a whiteout, an opaque directory, a write, the image's user, no daemon in sight)" || return 1
	expect_eq "$(cat err)" "" "stderr (fuse-overlayfs was asked for: no notice)" || return 1
	expect_eq "$(ls "$(store_dir)/containers" | wc -l)" "$before" "--rm leaves no container" &&
	no_fuse_left
}

# A kept container on fuse-overlayfs: its writes land in its upper layer, its
# record names the driver, and commit and export read its layer right
# (fuse-overlayfs marks opaque directories its own way).
t_image_fuse_overlay_commit_export() {
	command -v fuse-overlayfs >/dev/null || { skip "fuse-overlayfs not installed"; return; }
	fixtures || return 1
	"$U" load -q -i "$FIX/oci:latest" usbox-t-fuse2 >/dev/null || return 1
	trap '"$U" rm c-usbox-fuse >/dev/null 2>&1; "$U" rmi -f usbox-t-fuse2 usbox-t-fuse2c >/dev/null 2>&1' RETURN
	USBOX_OVERLAY=fuse "$U" run --net none --image usbox-t-fuse2 --name c-usbox-fuse -u 0 --entrypoint "" -- sh -c \
		'echo made > /made; rm /etc/motd; rm -rf /opt/app; mkdir /opt/app; echo n > /opt/app/new' || return 1
	local rec
	rec=$(grep -l '"name":"c-usbox-fuse"' "$(store_dir)"/containers/*/container.json) || { fail "no record"; return 1; }
	expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["driver"])' "$rec")" fuse-overlayfs \
		"the record's driver" || return 1
	expect_eq "$(cat "$(dirname "$rec")/upper/made")" made "the write, in the container's upper layer" || return 1
	no_fuse_left || return 1
	"$U" commit c-usbox-fuse usbox-t-fuse2c >/dev/null || return 1
	expect_eq "$("$U" run --rm --net none --image usbox-t-fuse2c -u 0 --entrypoint "" -- sh -c 'cat /made; ls /etc/motd 2>&1; ls -A /opt/app')" \
		"$(printf 'made\nls: /etc/motd: No such file or directory\nnew')" \
		"the committed layer (kernel overlayfs): a file, a whiteout, an opaque directory" || return 1
	"$U" export c-usbox-fuse -o exported.tar || return 1
	expect_eq "$(tar -tf exported.tar 2>/dev/null | grep -E '^(\./)?(made|etc/motd|opt/app/.+)$' | sed 's|^\./||' | sort | tr '\n' ' ')" \
		"made opt/app/new " "export: the merged root" &&
	no_fuse_left
}

# fuse-overlayfs asked for but not installed: one line, 125, nothing left.
t_image_fuse_overlay_missing() {
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-nofuse >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-nofuse >/dev/null 2>&1' RETURN
	local before out
	before=$(store_list)
	out=$(PATH=$(path_without_fuse) USBOX_OVERLAY=fuse "$U" run --rm --net none --image usbox-t-nofuse -- true 2>&1)
	expect_eq "$?:$out" "125:usbox: fuse-overlayfs is not installed (the package fuse-overlayfs has it)" "the error" &&
	expect_eq "$(store_list)" "$before" "the store after" &&
	no_fuse_left
}

# A fuse-overlayfs that fails: its own last line, 125, nothing left; one that
# is killed (here with usbox's whole process group, as `timeout` does) takes
# the sandbox down, not the other way round; a daemon in a session of its
# own is not hit by the terminal's signals.
t_image_fuse_overlay_daemon_fails() {
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-badfuse >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-badfuse >/dev/null 2>&1' RETURN
	local dir before out
	dir=$(path_without_fuse)
	printf '#!/bin/sh\necho "unknown argument ignored: lazytime" >&2\necho "fake: cannot serve" >&2\nexit 3\n' >"$dir/fuse-overlayfs"
	chmod +x "$dir/fuse-overlayfs"
	before=$(store_list)
	out=$(PATH=$dir USBOX_OVERLAY=fuse "$U" run --rm --net none --image usbox-t-badfuse -- true 2>&1)
	expect_eq "$?:$out" "125:usbox: fuse-overlayfs: fake: cannot serve" "a daemon that fails" &&
	expect_eq "$(store_list)" "$before" "the store after" &&
	no_fuse_left
}

# usbox killed with SIGKILL: fuse-overlayfs ends with it.
t_image_fuse_overlay_usbox_killed() {
	command -v fuse-overlayfs >/dev/null || { skip "fuse-overlayfs not installed"; return; }
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-killfuse >/dev/null || return 1
	local pid i c before
	before=$(ls "$(store_dir)/containers")
	trap 'for c in $(ls "$(store_dir)/containers"); do grep -qx "$c" <<<"$before" || "$U" rm "$c" >/dev/null 2>&1; done
	      "$U" rmi -f usbox-t-killfuse >/dev/null 2>&1' RETURN
	USBOX_OVERLAY=fuse "$U" run --rm --net none --image usbox-t-killfuse -- sleep 30 & pid=$!
	for i in $(seq 100); do pgrep -u "$me" -x fuse-overlayfs >/dev/null && break; sleep 0.05; done
	pgrep -u "$me" -x fuse-overlayfs >/dev/null || { fail "fuse-overlayfs never ran"; return 1; }
	sleep 0.3
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	no_fuse_left
}

# save: a progress line on a terminal (layers, bytes, rate), erased at the
# end; nothing with --quiet or when stderr is not a terminal.  The archive is
# read slowly through a FIFO so that the line can be seen.
t_image_save_progress() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	command -v script >/dev/null || { skip "script (util-linux) not installed"; return; }
	mkdir -p big && head -c 6M /dev/urandom >big/data || return 1
	"$U" import -q big usbox-t-savep >/dev/null || return 1
	trap 'tm_stop; "$U" rmi -f usbox-t-savep >/dev/null 2>&1' RETURN
	"$U" save usbox-t-savep -o plain.tar 2>err || return 1
	expect_eq "$(cat err)" "" "stderr not a terminal: no progress" || return 1
	script -qec "$U save -q usbox-t-savep -o quiet.tar" typescript >/dev/null || return 1
	! grep -q saving typescript || fail "--quiet on a terminal: $(cat -A typescript)" || return 1
	cat >slowcat.py <<'PY'
import sys, time
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as o:
    while True:
        b = f.read(65536)
        if not b: break
        o.write(b); time.sleep(0.04)
PY
	mkfifo slow || return 1
	tm_start || return 1
	tm_send "python3 slowcat.py slow got.tar & $U save usbox-t-savep -o slow; echo save-status=\$?" &&
	tm_wait 'saving: layer 1/1, [1-9][0-9.]* MiB, [0-9.]+ MiB/s' 10 &&
	tm_wait 'save-status=0' 30 || return 1
	! tm_screen | grep -q 'saving:' || fail "the progress line was not erased: $(tm_screen | grep saving)" || return 1
	sleep 0.2
	cmp -s got.tar plain.tar || fail "the archive written through the FIFO differs"
}

# The mount points an image lacks (/proc, /dev, /sys, /etc/hosts,
# /etc/hostname, /etc/resolv.conf) come from a layer of their own above the
# image's: nothing is written into the container's layer at start (so a
# kept container's layer holds only what its command wrote, and --read-only
# works on such an image), and the image's directories keep their modes,
# owners and times.
t_image_mount_points_not_in_upper() {
	fixtures || return 1
	"$U" load -q -i "$FIX/oci:latest" usbox-t-mp >/dev/null || return 1
	trap '"$U" rm c-usbox-mp >/dev/null 2>&1; "$U" rmi -f usbox-t-mp >/dev/null 2>&1' RETURN
	"$U" run --net none --image usbox-t-mp --name c-usbox-mp -u 0 --entrypoint "" -- sh -c 'echo w > /etc/written' || return 1
	local rec
	rec=$(grep -l '"name":"c-usbox-mp"' "$(store_dir)"/containers/*/container.json) || { fail "no record"; return 1; }
	local layer kv
	layer=$(cd "$(dirname "$rec")/upper" && find . | sort | tr '\n' ' ')
	kv=$(uname -r | awk -F. '{print $1 * 100 + $2}')
	if [ "$kv" -lt 605 ]; then # (before 6.5 overlayfs takes no detached layer: as before, the mount
		# points go into the upper layer, and a read-only root cannot have them made)
		expect_match "$layer" " \./etc/written " "the container's layer (Linux before 6.5)" || return 1
	else
		expect_eq "$layer" ". ./etc ./etc/written " "the container's layer" &&
		expect_eq "$("$U" run --rm --net none --read-only --image usbox-t-mp --entrypoint "" -- sh -c \
			'cat /etc/hostname >/dev/null && ls -d /proc/1 /sys/kernel; touch /x 2>/dev/null || echo read-only')" \
			"$(printf '/proc/1\n/sys/kernel\nread-only')" "--read-only with mount points the image lacks" || return 1
	fi
	"$U" import -q "$FIX/rootfs.tar" usbox-t-mp2 >/dev/null || return 1
	expect_eq "$("$U" run --rm --net none --image usbox-t-mp2 -- stat -c '%a %u %Y' /etc)" "755 0 1700000000" \
		"/etc as in the image (the fixtures are made at 1700000000)"
	"$U" rmi -f usbox-t-mp2 >/dev/null
}

# The daemon, seen from outside while it serves: a session, a network and
# a mount namespace of its own, the host read-only there but for the
# container's directory, and /dev/null, its log and /dev/fuse as fds 0-3.
t_image_fuse_overlay_daemon_confined() {
	command -v fuse-overlayfs >/dev/null || { skip "fuse-overlayfs not installed"; return; }
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-confine >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-confine >/dev/null 2>&1' RETURN
	local pid d i
	USBOX_OVERLAY=fuse "$U" run --rm --net none --image usbox-t-confine -- sleep 3 & pid=$!
	for i in $(seq 100); do d=$(pgrep -u "$me" -x fuse-overlayfs) && break; sleep 0.05; done
	[ -n "$d" ] || { fail "fuse-overlayfs never ran"; wait "$pid"; return 1; }
	local sid net mnt root store fds
	sid=$(ps -o sid= -p "$d" | tr -d ' ') net=$(readlink "/proc/$d/ns/net") mnt=$(readlink "/proc/$d/ns/mnt")
	root=$(awk '$5 == "/" {print $6}' "/proc/$d/mountinfo")
	store=$(awk -v s="$(store_dir)/containers/" 'index($5, s) == 1 {print $6}' "/proc/$d/mountinfo")
	fds=$(for i in 0 1 2 3; do readlink "/proc/$d/fd/$i"; done | sed 's|^/memfd:fuse-overlayfs.*|memfd|; s|.*fuse$|fuse|' | tr '\n' ' ')
	wait "$pid" || return 1
	expect_eq "$sid" "$d" "its session" &&
	[ "$net" != "$(readlink /proc/self/ns/net)" ] || fail "it shares usbox's network namespace" || return 1
	[ "$mnt" != "$(readlink /proc/self/ns/mnt)" ] || fail "it shares usbox's mount namespace" || return 1
	expect_match "$root" '^ro,' "the host's / in its view" &&
	expect_match "$store" '^rw,' "the container's directory in its view" &&
	expect_eq "$fds" "/dev/null /dev/null memfd fuse " "its descriptors 0 to 3 (the rest are its own)" &&
	no_fuse_left
}

# --- one copy of each layer: tar-split records (docs/STORAGE.md) -------------

# layer_tars.py ARCHIVE|LAYOUT[:REF]: the image's config digest, then the sha256 of
# each layer's uncompressed tar (a docker-archive's manifest.json, or an OCI
# layout or oci-archive's only manifest, gzip layers decompressed), one a line;
# with a second argument DIR, each layer's tar is also written to DIR/N.tar.
layer_tars_py() {
	cat >layer_tars.py <<'PY'
import gzip, hashlib, json, os, sys, tarfile
src, out = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
ref = None
if not os.path.exists(src): src, ref = src.rsplit(":", 1)
if os.path.isdir(src):
    read = lambda p: open(os.path.join(src, p), "rb").read()
else:
    t = tarfile.open(src)
    read = lambda p: t.extractfile(p.lstrip("./")).read()
def blob(d): return read("blobs/sha256/" + d.split(":")[1])
try:
    m = json.loads(read("manifest.json"))[0]
    cfg, layers = hashlib.sha256(read(m["Config"])).hexdigest(), [read(l) for l in m["Layers"]]
except (KeyError, FileNotFoundError):
    idx = json.loads(read("index.json"))
    ms = [m for m in idx["manifests"] if ref in (None, m.get("annotations", {}).get("org.opencontainers.image.ref.name"))]
    man = json.loads(blob(ms[0]["digest"]))
    cfg, layers = man["config"]["digest"].split(":")[1], [blob(l["digest"]) for l in man["layers"]]
print(cfg)
for i, l in enumerate(layers):
    if l[:2] == b"\x1f\x8b": l = gzip.decompress(l)
    print(hashlib.sha256(l).hexdigest())
    if out: open(os.path.join(out, "%d.tar" % i), "wb").write(l)
PY
}

# A docker-archive (plain layers) and an OCI layout (gzip layers, umoci's)
# loaded and saved: the same image id and diff_ids, and every layer written
# is byte for byte the uncompressed layer that was loaded -- made again from
# the extracted files and the record, as no layer blob is kept.
t_image_save_layers_byte_identical() {
	fixtures || return 1
	layer_tars_py
	local src name id store want got before
	store=$(store_dir)
	trap '"$U" rmi -f usbox-t-ident-docker-archive usbox-t-ident-oci >/dev/null 2>&1' RETURN
	for src in "$FIX/docker-archive.tar" "$FIX/oci:latest"; do
		name=usbox-t-ident-$(basename "${src%:latest}" .tar)
		before=$(ls "$store/blobs/sha256" 2>/dev/null) # (a store from before records keeps its blobs)
		"$U" load -q -i "$src" "$name" >/dev/null || { fail "load $src"; return 1; }
		want=$(python3 layer_tars.py "$src") || return 1
		id=$("$U" image inspect "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"].split(":")[1])')
		expect_eq "$id" "$(echo "$want" | head -1)" "$src: the image id is the config's digest" || return 1
		for d in $(echo "$want" | tail -n +2); do
			grep -qx "$d" <<<"$before" && continue
			[ -s "$store/tar-split/$d" ] && [ ! -e "$store/blobs/sha256/$d" ] ||
				fail "$src: layer $d: kept as a blob, not by its record" || return 1
		done
		rm -f saved.tar && "$U" save "$name" -o saved.tar || return 1
		got=$(python3 layer_tars.py saved.tar) || return 1
		expect_eq "$got" "$want" "$src: saved layers, byte for byte (config, then each layer's sha256)" || return 1
		"$U" rmi "$name" >/dev/null && "$U" load -q -i saved.tar "$name" >/dev/null || return 1
		expect_eq "$("$U" image inspect "$name" | python3 -c 'import json,sys; i=json.load(sys.stdin)[0]; print(i["Id"].split(":")[1]); [print(l.split(":")[1]) for l in i["Layers"]]')" \
			"$want" "$src: loaded again: the same id and diff_ids" || return 1
		"$U" rmi "$name" >/dev/null || return 1
	done
}

# A layer with what a tar can hold (long PAX names, a hard link, an xattr, a
# whiteout, a device node extraction skips, an empty file, a GNU sparse file,
# trailing zero blocks) comes back byte for byte from its record, and the
# store holds it once: no blob, a record of a few KiB beside ~8 MB of data.
# A tar whose file a later entry replaces cannot be made again from the
# files: its blob is kept, and it still saves byte for byte.
t_image_one_copy_on_disk() {
	layer_tars_py
	mkdir sp && head -c 3000000 /dev/urandom >sp/data && truncate -s 20M sp/sparse && echo end >>sp/sparse || return 1
	(cd sp && tar --format=pax --sparse --numeric-owner --owner=0 --group=0 -cf ../layer.tar sparse data) || return 1
	python3 - layer.tar dup.tar <<'PY' || return 1
import io, os, sys, tarfile
def add(t, name, data=None, **kw):
    i = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(i, k, v)
    if data is not None: i.size = len(data)
    t.addfile(i, io.BytesIO(data) if data is not None else None)
with tarfile.open(sys.argv[1], "a", format=tarfile.PAX_FORMAT) as t:
    add(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
    add(t, "etc/" + "long-" * 40 + "name", b"a long name\n")
    add(t, "etc/big", os.urandom(5000000))
    add(t, "etc/link", type=tarfile.LNKTYPE, linkname="etc/big")
    x = tarfile.TarInfo("etc/xattr"); x.size = 3; x.pax_headers = {"SCHILY.xattr.user.note": "kept"}
    t.addfile(x, io.BytesIO(b"xa\n"))
    add(t, "etc/.wh.gone", b"")
    add(t, "etc/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    add(t, "etc/empty", b"")
with tarfile.open(sys.argv[2], "w") as t:
    add(t, "twice", b"first\n")
    add(t, "twice", b"second, longer\n")
PY
	head -c 10240 /dev/zero >>layer.tar
	trap '"$U" rmi -f usbox-t-once usbox-t-dup >/dev/null 2>&1' RETURN
	local store d size rec
	store=$(store_dir)
	"$U" import -q layer.tar usbox-t-once >/dev/null || return 1
	d=$(sha256sum layer.tar | cut -d' ' -f1)
	[ -s "$store/tar-split/$d" ] && [ ! -e "$store/blobs/sha256/$d" ] || fail "the layer's blob is kept" || return 1
	rec=$(stat -c %s "$store/tar-split/$d")
	[ "$rec" -lt 200000 ] || fail "the record is $rec bytes" || return 1
	size=$(du -sk "$store/layers/$d" "$store/tar-split/$d" | awk '{s += $1} END {print s}')
	[ "$size" -lt 9500 ] || fail "the layer takes $size KiB on disk, the tar $(du -k layer.tar | cut -f1) KiB" || return 1
	"$U" save usbox-t-once -o once.tar && mkdir out && python3 layer_tars.py once.tar out >/dev/null || return 1
	cmp -s out/0.tar layer.tar || fail "the saved layer differs from the imported tar" || return 1
	"$U" import -q dup.tar usbox-t-dup >/dev/null || return 1
	d=$(sha256sum dup.tar | cut -d' ' -f1)
	[ -e "$store/blobs/sha256/$d" ] && [ ! -e "$store/tar-split/$d" ] || fail "a layer the record cannot give back lost its blob" || return 1
	"$U" save usbox-t-dup -o dup-saved.tar && mkdir dupout && python3 layer_tars.py dup-saved.tar dupout >/dev/null &&
	cmp -s dupout/0.tar dup.tar || fail "the kept blob was not saved as it was"
}

# A file changed on disk under layers/ (the same size, then another): save
# fails with 125 and one line naming the layer and what changed, and leaves
# no output file.
t_image_save_corrupted_layer() {
	python3 - unique.tar <<'PY' || return 1
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for name, data in (("etc/motd", b"hello\n"), ("etc/unique", os.urandom(100000))):
        i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644
        t.addfile(i, io.BytesIO(data))
PY
	"$U" import -q unique.tar usbox-t-corrupt >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-corrupt >/dev/null 2>&1' RETURN
	local d f out
	d=$(sha256sum unique.tar | cut -d' ' -f1)
	f=$(store_dir)/layers/$d/etc/motd
	"$U" save usbox-t-corrupt -o ok.tar || return 1
	printf 'jello\n' >"$f" || return 1
	out=$("$U" save usbox-t-corrupt -o bad.tar 2>&1)
	expect_eq "$?" 125 "save of a changed layer" &&
	expect_match "$out" "^usbox: layer sha256:$d \(.*\): its files no longer give the tar it was loaded as .*changed on disk" "the line" &&
	expect_eq "$(echo "$out" | wc -l)" 1 "one line" || return 1
	[ ! -e bad.tar ] || fail "a partial archive is left" || return 1
	printf 'hello, longer\n' >"$f" || return 1
	out=$("$U" save usbox-t-corrupt -o bad.tar 2>&1)
	expect_eq "$?" 125 "save of a layer whose file grew" &&
	expect_match "$out" "^usbox: layer sha256:$d \(.*\): the file 'etc/motd' has 14 bytes, its record says 6: the layer was changed on disk$" "the line" &&
	[ ! -e bad.tar ] || fail "a partial archive is left" || return 1
	# the record is the user's to write: one that names a file out of the
	# layer, or is cut short, is refused the same way
	local rec
	rec=$(store_dir)/tar-split/$d
	printf 'UBXTSPL1f\x05\x00\x00\x00\x00\x00\x00\x00\x0f\x00../../../../etc' >"$rec" || return 1
	out=$("$U" save usbox-t-corrupt -o bad.tar 2>&1)
	expect_eq "$?" 125 "save with a record naming ../" &&
	expect_match "$out" "^usbox: layer sha256:$d \(.*\): its tar-split record is damaged \(a file reference is not a clean path\)$" "the line" &&
	[ ! -e bad.tar ] || fail "a partial archive is left" || return 1
	printf 'UBXTSPL1r\x00\x02\x00\x00abc' >"$rec" || return 1
	out=$("$U" save usbox-t-corrupt -o bad.tar 2>&1)
	expect_eq "$?" 125 "save with a record cut short" &&
	expect_match "$out" "^usbox: layer sha256:$d \(.*\): its tar-split record is damaged \(it ends early\)$" "the line" &&
	[ ! -e bad.tar ] || fail "a partial archive is left"
}

# A store made before records: a layer with its blob and no record (made
# here by moving the record away and putting the tar as the blob, as older
# usbox kept it) is saved from the blob as before, and rmi removes it.
t_image_store_before_records_saves() {
	layer_tars_py
	python3 - old-layer.tar <<'PY' || return 1
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    data = os.urandom(70000)  # a layer of its own
    i = tarfile.TarInfo("data"); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
	"$U" import -q old-layer.tar usbox-t-old >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-old >/dev/null 2>&1' RETURN
	local store d
	store=$(store_dir)
	d=$(sha256sum old-layer.tar | cut -d' ' -f1)
	rm "$store/tar-split/$d" && cp old-layer.tar "$store/blobs/sha256/$d" || return 1
	"$U" save usbox-t-old -o old.tar && mkdir out && python3 layer_tars.py old.tar out >/dev/null || return 1
	cmp -s out/0.tar old-layer.tar || fail "the blob was not saved as it was" || return 1
	"$U" rmi usbox-t-old >/dev/null || return 1
	[ ! -e "$store/blobs/sha256/$d" ] && [ ! -e "$store/layers/$d" ] || fail "rmi left the layer or its blob"
}
