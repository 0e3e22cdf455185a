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
