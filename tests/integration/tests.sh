#!/usr/bin/env bash
# The integration suite, run as an unprivileged user by run.sh.
#   tests.sh main    everything that needs a user with a subordinate range
#   tests.sh nosub   the single-map fallback, for a user without one
set -u
. "$(dirname "$0")/lib.sh"
U=${USBOX:?}
me=$(id -u) mygid=$(id -g)
work=$(mktemp -d "$HOME/usbox-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
export USBOX_HOLDER_IDLE=1

if ! unshare -U true 2>/dev/null; then
	[ -n "${USBOX_MUST_WORK:-}" ] && { echo "FAIL: no unprivileged user namespaces here"; exit 1; }
	echo "SKIP: no unprivileged user namespaces on this host"
	exit 77
fi

# ---------------------------------------------------------------- identity
t_full_range_in_uid_map() {
	local total
	total=$("$U" -- awk '{n += $3} END {print n}' /proc/self/uid_map) || return 1
	expect_eq "$total" 65536 "ids in uid_map"
	total=$("$U" -- awk '{n += $3} END {print n}' /proc/self/gid_map) || return 1
	expect_eq "$total" 65536 "ids in gid_map"
	# keep-id: some other id inside maps somewhere too, and nobody is mapped
	"$U" -- stat -c %U /proc/self >/dev/null || return 1
}

# newuidmap refused (no_new_privs: its setuid bit does nothing) without the
# holder: the sandbox still runs, with one id, and its init knows it.
t_helper_refused_falls_back_to_one_id() {
	local out
	out=$(USBOX_NO_HOLDER=1 setpriv --no-new-privs "$U" --net none -- sh -c 'id -u; awk "{n += \$3} END {print n}" /proc/self/uid_map' 2>/dev/null)
	expect_eq "$out" "$me
1" "one id mapped, and it runs"
}

# --security-opt unmask: podman's spelling; with it (and --nested) a tool
# inside can mount a fresh /proc, which masks over /proc forbid.
t_unmask_for_nested_proc() {
	expect_eq "$("$U" --net none --security-opt unmask=/proc/kcore:/proc/sys -- sh -c 'grep -cE " /proc/(kcore|sys) " /proc/self/mounts; grep -c " /proc/acpi " /proc/self/mounts')" "0
1" "unmask two paths, keep the others" &&
	expect_status 1 "$U" --net none --nested -- bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true 2>/dev/null &&
	expect_eq "$("$U" --net none --nested --security-opt unmask=ALL -- bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev cat /proc/self/uid_map | awk '{print $3}')" 1 \
		"bwrap with a fresh /proc inside usbox --nested --security-opt unmask=ALL" &&
	expect_match "$("$U" --security-opt unmask=proc -- true 2>&1)" "unmask=proc: give ALL or absolute paths" "a bad unmask"
}

t_identity_inside() {
	expect_eq "$("$U" -- id -u)" "$me" "default uid" &&
	expect_eq "$("$U" -- id -g)" "$mygid" "default gid" &&
	expect_eq "$("$U" --root -- id -u)" 0 "--root uid" &&
	expect_eq "$("$U" --uid 123 --gid 456 -- id -u):$("$U" --uid 123 --gid 456 -- id -g)" 123:456 "--uid/--gid" &&
	expect_eq "$("$U" -- id -G)" "$mygid" "supplementary groups"
}

t_capabilities_cut() {
	expect_eq "$("$U" -- awk '/^Cap(Eff|Prm|Bnd|Amb)/ {print $2}' /proc/self/status | sort -u)" \
		0000000000000000 "non-root capabilities" &&
	expect_eq "$("$U" --root -- awk '/^Cap(Eff|Prm|Bnd)/ {print $2}' /proc/self/status | sort -u)" 00000000800405fb \
		"root's capabilities (podman's default: no NET_RAW, MKNOD, AUDIT_WRITE)" &&
	expect_eq "$("$U" --root -- awk '/^Cap(Inh|Amb)/ {print $2}' /proc/self/status | sort -u)" 0000000000000000 \
		"root's inheritable and ambient sets" &&
	expect_eq "$("$U" --root --cap-add NET_RAW,cap_sys_ptrace --cap-drop chown -- awk '/^CapEff/ {print $2}' /proc/self/status)" \
		00000000800c25fa "--cap-add NET_RAW,cap_sys_ptrace --cap-drop chown" &&
	expect_eq "$("$U" --root --cap-drop ALL --cap-add KILL -- awk '/^CapEff/ {print $2}' /proc/self/status)" \
		0000000000000020 "--cap-drop ALL --cap-add KILL" &&
	expect_eq "$("$U" --cap-add NET_RAW -- awk '/^Cap(Eff|Bnd)/ {print $2}' /proc/self/status | tr '\n' ' ')" \
		"0000000000000000 0000000000002000 " "non-root: --cap-add only bounds" &&
	expect_eq "$("$U" --cap-add bogus -- true 2>&1)" \
		"usbox: --cap-add: 'bogus' is not a capability (names as in capabilities(7): NET_RAW, CAP_SYS_PTRACE, ALL)" \
		"bad capability" &&
	expect_eq "$("$U" -- awk '/^NoNewPrivs/ {print $2}' /proc/self/status)" 1 "no_new_privs"
}

# ---------------------------------------------------------------- pid 1
t_only_sandbox_processes_and_init() {
	local out
	out=$("$U" -- ps -e -o pid=,comm=) || return 1
	expect_match "$out" "^ *1 usbox-init" "pid 1" || return 1
	expect_eq "$(wc -l <<<"$out")" 2 "processes inside (init, ps): $out"
}

t_orphan_reaped() {
	local out
	out=$("$U" -- sh -c '(sleep 0.3 &) ; sleep 1; cat /proc/[0-9]*/stat 2>/dev/null | awk "{print \$3}" | sort | uniq -c') || return 1
	[[ $out != *Z* ]] || fail "a zombie is left: $out"
}

t_exit_codes() {
	expect_status 0 "$U" -- true &&
	expect_status 1 "$U" -- false &&
	expect_status 42 "$U" -- sh -c 'exit 42' &&
	expect_status 126 "$U" -- /etc/hostname &&
	expect_status 127 "$U" -- no-such-command-xyz &&
	expect_status 137 "$U" -- sh -c 'kill -9 $$' &&
	expect_status 143 "$U" -- sh -c 'kill -TERM $$' &&
	expect_status 125 "$U" --no-such-option -- true
}

t_error_messages_one_line() {
	local err
	err=$("$U" -- no-such-command-xyz 2>&1 >/dev/null)
	expect_eq "$err" "usbox: no-such-command-xyz: command not found" "127 message" || return 1
	err=$("$U" --map full -- true 2>&1 >/dev/null)
	expect_eq "$err" "usbox: --map: 'full' is not one of auto, single" "bad value" || return 1
	err=$("$U" -v /no/such/dir:/x -- true 2>&1 >/dev/null)
	expect_match "$err" "^usbox: .*/no/such/dir: No such file or directory$" "bad volume"
}

t_sigterm_reaches_command() {
	"$U" -- sh -c 'trap "echo got-term > term-marker; exit 3" TERM; echo ready > ready-marker; while :; do sleep 0.05; done' &
	local pid=$! i
	for i in $(seq 100); do [ -e ready-marker ] && break; sleep 0.05; done
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	expect_eq "$rc" 3 "exit status after SIGTERM" && expect_eq "$(cat term-marker)" got-term "trap ran"
}

t_other_signals_forwarded() {
	local sig rc
	for sig in INT HUP QUIT USR1 USR2; do
		rm -f ready-marker
		# (a script's background job starts with INT and QUIT ignored, which
		# usbox keeps, as exec would: start it with every signal at default)
		env --default-signal "$U" -- sh -c "trap 'exit 7' $sig; touch ready-marker; while :; do sleep 0.05; done" &
		local pid=$! i
		for i in $(seq 100); do [ -e ready-marker ] && break; sleep 0.05; done
		kill -s "$sig" "$pid"
		wait "$pid"
		rc=$?
		expect_eq "$rc" 7 "SIG$sig forwarded" || return 1
	done
}

t_sigkill_of_usbox_kills_sandbox() {
	local tag="usbox-kill-test-$$-$RANDOM"
	"$U" -- bash -c "touch ready-marker; exec -a $tag sleep 1000" &
	local pid=$! i
	for i in $(seq 100); do [ -e ready-marker ] && break; sleep 0.05; done
	sleep 0.2
	pgrep -f "$tag" >/dev/null || fail "the sandboxed command did not start" || return 1
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	for i in $(seq 40); do pgrep -f "$tag" >/dev/null || return 0; sleep 0.05; done
	fail "sandbox processes survived usbox's SIGKILL: $(pgrep -af "$tag")"
}

# ---------------------------------------------------------------- file system
t_host_is_read_only() {
	expect_status 1 "$U" -- sh -c 'touch /usr/usbox-probe 2>/dev/null' &&
	expect_status 1 "$U" -- sh -c "touch $HOME/../usbox-probe 2>/dev/null" &&
	expect_status 1 "$U" --no-cwd --ro-home -- sh -c 'touch probe 2>/dev/null' &&
	"$U" --no-cwd -- sh -c 'touch probe' && [ ! -e probe ] || fail "--no-cwd: a write in the cwd reached the host"
}

t_cwd_writable_and_owned_by_caller() {
	"$U" -- sh -c 'echo data > written-inside' || return 1
	expect_eq "$(stat -c %u:%g written-inside)" "$me:$mygid" "owner on the host" &&
	expect_eq "$(cat written-inside)" data "content" &&
	expect_eq "$("$U" -- pwd)" "$PWD" "cwd inside"
}

t_root_inside_writes_as_caller() {
	"$U" --root -- sh -c 'echo x > by-root' || return 1
	expect_eq "$(stat -c %u by-root)" "$me" "file written by root inside"
}

t_tmp_private_and_empty() {
	local probe
	probe=$(mktemp /tmp/usbox-host-probe.XXXXXX)
	expect_eq "$("$U" -- sh -c 'ls -A /tmp | wc -l')" 0 "entries in /tmp" || { rm -f "$probe"; return 1; }
	"$U" -- sh -c 'echo hi > /tmp/inside-only && cat /tmp/inside-only' >/dev/null || return 1
	rm -f "$probe"
	[ ! -e /tmp/inside-only ] || fail "a file written to /tmp inside reached the host"
}

t_proc_dev_sys() {
	local out
	out=$("$U" -- sh -c 'ls /dev | tr "\n" " "; test -c /dev/null && echo null-ok; echo x > /dev/null && echo write-ok; ls /dev/pts; touch /sys/x 2>/dev/null || echo sys-ro; ls /dev/shm | wc -l') || return 1
	expect_match "$out" "full null ptmx pts random shm stderr stdin stdout tty urandom zero" "/dev entries" &&
	expect_match "$out" "null-ok" "/dev/null" && expect_match "$out" "write-ok" "write /dev/null" &&
	expect_match "$out" "ptmx" "own devpts" && expect_match "$out" "sys-ro" "/sys read-only"
}

t_volumes_and_tmpfs() {
	mkdir -p vol-src && echo v > vol-src/f
	local out
	out=$("$U" --no-cwd -v "$PWD/vol-src:/tmp/vol" --ro-bind "$PWD/vol-src:/tmp/ro" --tmpfs /tmp/t:size=1M \
		-- sh -c 'cat /tmp/vol/f; echo w > /tmp/vol/new; touch /tmp/ro/x 2>/dev/null || echo ro-ok; df -k /tmp/t | awk "NR==2{print \$2}"') || return 1
	expect_eq "$out" "$(printf 'v\nro-ok\n1024')" "volume output" &&
	expect_eq "$(cat vol-src/new)" w "write through -v" &&
	expect_status 1 "$U" -v "$PWD/vol-src:/tmp/vol:ro" -- sh -c 'touch /tmp/vol/y 2>/dev/null'
}

t_bad_mounts_exit_125() {
	expect_status 125 "$U" -v /no/such:/x -- true 2>/dev/null &&
	expect_status 125 "$U" -v "$PWD:/not-in-host-view" -- true 2>/dev/null &&
	expect_status 125 "$U" -w /no/such/dir -- true 2>/dev/null
}

# The working directory is bound writable, except where that would bring back
# what the sandbox hides: /tmp (others' sockets), /run, the home and above.
t_cwd_shared_dirs_stay_private() {
	local out sock="/tmp/usbox-probe-$$.sock"
	python3 -c '
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); open(sys.argv[1] + ".up", "w")
while True: s.accept()[0].close()' "$sock" &
	local srv=$!
	trap 'kill $srv 2>/dev/null; rm -f "$sock" "$sock.up"' RETURN
	wait_for_file "$sock.up" || return 1
	out=$(cd /tmp && env -u XDG_RUNTIME_DIR "$U" -- sh -c 'pwd; ls -A /tmp | wc -l; touch /tmp/x && echo private' 2>&1) || return 1
	expect_eq "$out" "$(printf 'usbox: the working directory /tmp is not shared writable: it holds other programs'"'"' files and sockets (-v /tmp:/tmp shares it)\n/tmp\n0\nprivate')" "from /tmp" || return 1
	[ ! -e /tmp/x ] || fail "wrote to the host's /tmp" || return 1
	out=$(cd "$HOME" && "$U" -- sh -c 'touch probe-in-home' 2>&1)
	expect_eq "$out" "$(printf 'usbox: the working directory %s is not shared writable: it is your home (-v %s:%s shares it)' "$HOME" "$HOME" "$HOME")" "from the home" || return 1
	[ ! -e "$HOME/probe-in-home" ] || fail "a write in the home reached the host" || return 1
	out=$(cd / && "$U" -- true 2>&1)
	expect_eq "$out" "" "from / (nothing to say)" &&
	expect_eq "$(cd /tmp && "$U" --no-cwd -- true 2>&1)" "" "--no-cwd says nothing" &&
	expect_eq "$(cd /tmp && "$U" -v /tmp:/tmp -- sh -c "test -S $sock && echo shared" 2>/dev/null)" shared "-v /tmp:/tmp does what it says"
}

# A cover goes on top of every bind that contains it: a runtime directory
# below the working directory stays hidden, whatever order things come in.
t_cover_over_cwd_bind() {
	mkdir -p rt && chmod 700 rt && touch rt/secret
	local out
	out=$(XDG_RUNTIME_DIR="$PWD/rt" "$U" -- sh -c 'ls -A rt | wc -l; touch w && echo cwd-writable') || return 1
	expect_eq "$out" "$(printf '0\ncwd-writable')" "runtime dir below the cwd" || return 1
	out=$(XDG_RUNTIME_DIR="$PWD/rt" "$U" -v "$PWD:/tmp/v" -- sh -c 'ls /tmp/v/rt/secret; ls -A rt | wc -l') || return 1
	expect_eq "$out" "$(printf '/tmp/v/rt/secret\n0')" "a -v elsewhere shows it; the cover is on its path only" || return 1
	# usbox's data (the image store's layers): hidden, also from a working directory inside it
	local data="${XDG_DATA_HOME:-$HOME/.local/share}/usbox"
	mkdir -p "$data/store/layers" && chmod 700 "$data" && touch "$data/store/layers/probe" || return 1
	expect_eq "$("$U" -- sh -c "ls -A '$data' | wc -l")" 0 "the data directory inside" || return 1
	(cd "$data/store/layers" && "$U" -- sh -c 'touch poisoned' 2>/dev/null)
	expect_eq "$?" 125 "a working directory in the store" &&
	[ ! -e "$data/store/layers/poisoned" ] || fail "a sandbox wrote into the image store"
}

# A bind inside a tmpfs stays visible: mounts go in order of depth.
t_bind_inside_tmpfs_visible() {
	mkdir -p proj && echo p > proj/f
	expect_eq "$(cd proj && "$U" --tmpfs "$(dirname "$PWD")" -- cat f)" p "cwd under --tmpfs of its parent" &&
	expect_eq "$("$U" --no-cwd -v "$PWD/proj:/tmp/a/b" --tmpfs /tmp/a -- cat /tmp/a/b/f)" p "-v inside a later --tmpfs"
}

t_masked_and_readonly_paths() {
	local out
	out=$("$U" -- sh -c 'for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $p ] && stat -c "%n %t:%T" $p; done
		for d in /proc/acpi /proc/scsi /sys/firmware; do [ -e $d ] && echo "$d $(ls -A $d | wc -l) $(stat -f -c %T $d)"; done
		for p in /proc/sys/kernel/hostname /proc/sysrq-trigger; do echo x 2>/dev/null > $p || echo "$p ro"; done') || return 1
	local want="" p
	for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $p ] && want+="$p 1:3"$'\n'; done
	for p in /proc/acpi /proc/scsi /sys/firmware; do [ -e $p ] && want+="$p 0 tmpfs"$'\n'; done
	want+=$'/proc/sys/kernel/hostname ro\n/proc/sysrq-trigger ro'
	expect_eq "$out" "$want" "masked and read-only paths"
}

# --hide: secrets out of sight, for agents and CI jobs.
t_hide_paths() {
	mkdir -p keys && echo k > keys/id && echo t > token
	local out
	out=$("$U" --hide keys --hide "$PWD/token" --hide /tmp/later --hide "$PWD/nothing-yet" -- sh -c '
		ls -A keys | wc -l; touch keys/x 2>/dev/null || echo keys-ro
		cat token | wc -c; stat -c %t:%T token
		test -d /tmp/later && ! touch /tmp/later/x 2>/dev/null && echo later-ro
		test -e nothing-yet || echo nothing-yet-absent') || return 1
	expect_eq "$out" "$(printf '0\nkeys-ro\n0\n1:3\nlater-ro\nnothing-yet-absent')" "--hide" &&
	[ ! -e nothing-yet ] || fail "--hide made a directory on the host" || return 1
	expect_eq "$(cat keys/id token)" "$(printf 'k\nt')" "the host's files untouched" &&
	expect_eq "$("$U" --hide "" -- true 2>&1)" "usbox: --hide: give a path" "empty --hide"
}

# Tools that write to the home (npm, pip, go, cargo caches) work: the home
# gets a throw-away writable layer; nothing reaches the host.
t_home_throwaway_layer() {
	local out
	out=$("$U" -- sh -c 'mkdir -p ~/.cache/usbox-probe && echo c > ~/.cache/usbox-probe/f && cat ~/.cache/usbox-probe/f
		touch ~/.usbox-probe-dotfile && echo home-writable; stat -c %U ~ ; touch in-cwd && echo cwd-still-shared') || return 1
	expect_eq "$out" "$(printf 'c\nhome-writable\n%s\ncwd-still-shared' "$(id -un)")" "inside" &&
	[ ! -e ~/.cache/usbox-probe ] && [ ! -e ~/.usbox-probe-dotfile ] && [ -e in-cwd ] ||
		fail "the layer leaked to the host, or the cwd was not shared" || return 1
	if command -v npm >/dev/null; then # what a user hit: npm's cache and logs in ~/.npm
		"$U" --net none -- npm init -y >/dev/null 2>&1 && [ -e package.json ] || fail "npm init in the sandbox" || return 1
		[ ! -e ~/.npm ] || fail "npm's cache reached the host" || return 1
	fi
	expect_status 1 "$U" --ro-home -- sh -c 'touch ~/.usbox-probe-dotfile 2>/dev/null' &&
	expect_eq "$("$U" -v "$PWD:$HOME/new/mnt" -- sh -c 'ls -d ~/new/mnt')" "$HOME/new/mnt" "a -v into the home, created in the layer" &&
	[ ! -e ~/new ] || fail "the mount point reached the host"
}

t_missing_mount_points() {
	local out
	out=$("$U" -v "$PWD:/usbox-nope" -- true 2>&1)
	expect_eq "$?:$out" "125:usbox: mount point /usbox-nope: it is not in the read-only host view, and usbox cannot create it there (use an existing directory, or one under /tmp or your home)" "top level" || return 1
	out=$("$U" -v "$PWD:/usr/usbox-nope/x" -- true 2>&1)
	expect_eq "$out" "usbox: mount point /usr/usbox-nope/x: it is not in the read-only host view (add --tmp-overlay /usr to create it in a throw-away layer, or use an existing directory)" "below /usr" || return 1
	touch here
	expect_eq "$("$U" --tmp-overlay /usr -v "$PWD:/usr/usbox-nope/x" -- ls /usr/usbox-nope/x/here)" /usr/usbox-nope/x/here "--tmp-overlay /usr" &&
	[ ! -e /usr/usbox-nope ] || fail "the overlay wrote to the host"
}

t_shm_size() {
	expect_eq "$("$U" -- df -k /dev/shm | awk 'NR==2 {print $2}')" 65536 "default /dev/shm (64M)" &&
	expect_eq "$("$U" --shm-size 1m -- df -k /dev/shm | awk 'NR==2 {print $2}')" 1024 "--shm-size 1m" &&
	expect_status 125 "$U" --shm-size 0 -- true 2>/dev/null
}

t_session_keyring_own() {
	command -v keyctl >/dev/null || { skip "keyctl (keyutils) missing"; return; }
	local out
	# in a session keyring of the test's own, which the caller possesses
	out=$(keyctl session - sh -c 'id=$(keyctl add user usbox-probe secret @s) || exit 1
		"$1" --seccomp unconfined -- sh -c "keyctl print $id 2>&1; keyctl update $id forged 2>&1; keyctl show @s | grep -c usbox-probe"
		keyctl print $id' sh "$U" 2>/dev/null) || return 1
	expect_eq "$out" "$(printf 'keyctl_read_alloc: Permission denied\nkeyctl_update: Permission denied\n0\nsecret')" \
		"the caller's key: out of reach inside, untouched outside"
}

t_workdir_resolved_inside() {
	expect_eq "$("$U" -w /tmp -- pwd)" /tmp "-w /tmp" &&
	expect_eq "$("$U" -w /usr/bin -- pwd)" /usr/bin "-w /usr/bin"
}

# ---------------------------------------------------------------- roots of their own
# A busybox root file system in a directory the caller owns.
make_rootfs() { # DIR
	mkdir -p "$1"/{bin,etc,tmp,proc,dev,sys,root} && cp /bin/busybox "$1/bin/" || return 1
	local a
	for a in sh ls id cat touch env pwd stat readlink mount; do ln -sf busybox "$1/bin/$a"; done
	echo "root:x:0:0:root:/root:/bin/sh" > "$1/etc/passwd"
}

t_rootfs_runs_as_root_mapped_to_caller() {
	[ -x /bin/busybox ] || { fail "busybox-static is missing"; return; }
	make_rootfs rfs || return 1
	local out
	out=$("$U" --rootfs rfs -- sh -c 'id -u; pwd; echo $HOME; touch /made-inside; ls /proc/self >/dev/null && echo proc; cat /etc/hostname >/dev/null && echo etc') || return 1
	expect_eq "$out" "$(printf '0\n/\n/root\nproc\netc')" "inside" &&
	expect_eq "$(stat -c %u rfs/made-inside)" "$me" "a file root made inside is the caller's" &&
	expect_status 1 "$U" --rootfs rfs --read-only -- touch /ro 2>/dev/null &&
	expect_eq "$("$U" --rootfs rfs --uid 1000 -- id -u)" 1000 "--uid" &&
	expect_eq "$("$U" --rootfs rfs -w /tmp -e A=b -- sh -c 'pwd; echo $A')" "$(printf '/tmp\nb')" "-w and -e" &&
	expect_eq "$("$U" --rootfs no-such-dir -- true 2>&1)" "usbox: --rootfs no-such-dir: No such file or directory" "bad --rootfs"
}

# Symlinks planted in a root file system lead nowhere outside it: mount
# targets and the working directory are resolved inside the root.
t_rootfs_symlinks_stay_inside() {
	make_rootfs rfs || return 1
	rm -rf rfs/tmp && ln -s / rfs/tmp && ln -s ../../.. rfs/up && mkdir -p vsrc && echo v > vsrc/f
	local out
	out=$("$U" --rootfs rfs -v "$PWD/vsrc:/up/vol" -w /up -- sh -c 'pwd; cat /vol/f; ls /tmp/bin/busybox') || return 1
	expect_eq "$out" "$(printf '/\nv\n/tmp/bin/busybox')" "symlinks resolved inside the root" &&
	[ ! -e "$PWD/../../../vol" ] && [ -e rfs/vol ] || fail "a bind followed a symlink out of the root"
}

# ---------------------------------------------------------------- images and containers
# Test images, made once a run by independent tools (umoci, skopeo, tar).
fixtures() {
	FIX="$work/fixtures"
	[ -e "$FIX/.done" ] && return 0
	bash "$(dirname "$U")/make-fixtures.sh" "$FIX" && touch "$FIX/.done"
}

# What the store holds, to compare before and after.
store_list() { find "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store" -mindepth 2 -maxdepth 2 ! -name 'storage.lock' 2>/dev/null | sort; }

t_image_import_run_and_ownership() {
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar.gz" usbox-t-root:1 >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-root:1 >/dev/null 2>&1' RETURN
	local out before
	before=$(store_list)
	out=$("$U" run --rm --net none --image usbox-t-root:1 -- sh -c 'id -u; stat -c %u:%g /home/user/owned; touch /x; ls /x') || return 1
	expect_eq "$out" "$(printf '0\n1000:1000\n/x')" "inside" || return 1
	expect_eq "$(store_list)" "$before" "--rm leaves the store as it was" || return 1
	local layer owner
	layer=$(ls -d "${XDG_DATA_HOME:-$HOME/.local/share}"/usbox/store/layers/*/home/user/owned | head -1)
	owner=$(stat -c %u "$layer")
	[ "$owner" != "$me" ] && [ "$owner" -ge 100000 ] || fail "on disk 1000 is not a subordinate id: $owner" || return 1
	expect_eq "$("$U" images --format json | python3 -c 'import json,sys; print([n for i in json.load(sys.stdin) for n in i["Names"] if n.startswith("usbox-t-root")])')" "['usbox-t-root:1']" "images --format json"
}

t_image_load_every_format() {
	fixtures || return 1
	local src name out
	for src in "oci:$FIX/oci:latest" "docker:$FIX/docker-archive.tar" "ociar:$FIX/oci-archive.tar" "gz:$FIX/docker-archive.tar.gz"; do
		name=usbox-t-${src%%:*}
		"$U" load -q -i "${src#*:}" "$name" >/dev/null || { fail "load ${src#*:}"; return 1; }
		out=$("$U" run --rm --net none --image "$name" --entrypoint "" -- sh -c 'id -u; pwd; echo $GREETING; ls /etc/deleteme 2>&1; cat /etc/added >/dev/null && echo added; ls /opt/app') || return 1
		expect_eq "$out" "$(printf '1000\n/home/user\nhello world\nls: /etc/deleteme: No such file or directory\nadded\nc')" "$src" || return 1
		"$U" rmi "$name" >/dev/null || return 1
	done
	out=$("$U" load -i "$FIX/oci:nope" 2>&1)
	expect_match "$out" "^usbox: .*nope" "a ref not there" &&
	expect_eq "$(find "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store/tmp" -mindepth 1 | wc -l)" 0 "nothing left in tmp/"
}

# The fixture's image: Entrypoint ["/bin/sh", "-c"], Cmd ["echo $GREETING"].
t_image_entrypoint_and_cmd() {
	fixtures || return 1
	"$U" load -q -i "$FIX/oci:latest" usbox-t-ep >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-ep >/dev/null 2>&1' RETURN
	expect_eq "$("$U" run --rm --net none --image usbox-t-ep)" "hello world" "Entrypoint and Cmd" &&
	expect_eq "$("$U" run --rm --net none --image usbox-t-ep -- 'echo x; id -u')" "$(printf 'x\n1000')" "CMD replaces Cmd" &&
	expect_eq "$("$U" run --rm --net none --image usbox-t-ep --entrypoint /bin/echo -- a b)" "a b" "--entrypoint" &&
	expect_eq "$("$U" run --rm --net none --image usbox-t-ep --entrypoint /bin/echo)" "" "--entrypoint drops Cmd, as Docker does" &&
	expect_eq "$("$U" run --rm --net none --image usbox-t-ep -u 0 -w /etc -- 'id -u; pwd')" "$(printf '0\n/etc')" "-u and -w"
}

t_image_commit_export_import() {
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-base >/dev/null || return 1
	trap '"$U" rm c-usbox-t >/dev/null 2>&1; "$U" rmi -f usbox-t-base usbox-t-commit usbox-t-back >/dev/null 2>&1' RETURN
	"$U" run --net none --image usbox-t-base --name c-usbox-t -- sh -c 'echo made > /made; rm /etc/passwd' || return 1
	expect_status 125 "$U" run --net none --image usbox-t-base --name c-usbox-t -- true 2>/dev/null || return 1
	expect_status 125 "$U" rmi usbox-t-base 2>/dev/null || return 1
	"$U" commit c-usbox-t usbox-t-commit >/dev/null || return 1
	expect_eq "$("$U" run --rm --net none --image usbox-t-commit -- sh -c 'cat /made; ls /etc/passwd 2>&1')" \
		"$(printf 'made\nls: /etc/passwd: No such file or directory')" "the committed layer: a file and a whiteout" || return 1
	"$U" export c-usbox-t -o exported.tar || return 1
	tar -tf exported.tar | grep -qx made || fail "export lacks /made" || return 1
	! tar -tf exported.tar | grep -q 'etc/passwd' || fail "export has the deleted file" || return 1
	"$U" import -q exported.tar usbox-t-back >/dev/null &&
	expect_eq "$("$U" run --rm --net none --image usbox-t-back -- cat /made)" made "export, import round trip" &&
	"$U" rm c-usbox-t >/dev/null && expect_status 125 "$U" rm c-usbox-t 2>/dev/null
}

t_image_save_load_roundtrip() {
	fixtures || return 1
	"$U" load -q -i "$FIX/oci:latest" usbox-t-save >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-save usbox-t-saved >/dev/null 2>&1' RETURN
	"$U" save usbox-t-save -o saved.tar || return 1
	skopeo inspect "oci-archive:$PWD/saved.tar" >/dev/null 2>&1 || fail "skopeo cannot read the saved archive" || return 1
	"$U" rmi usbox-t-save >/dev/null && "$U" load -q -i saved.tar usbox-t-saved >/dev/null &&
	expect_eq "$("$U" run --rm --net none --image usbox-t-saved --entrypoint "" -- cat /etc/added)" "$(cd "$FIX" && tar -xOf rootfs.tar ./etc/added 2>/dev/null || "$U" run --rm --net none --image usbox-t-saved --entrypoint "" -- cat /etc/added)" "saved and loaded"
}

# A malicious tarball: nothing is written outside the store.
t_image_malicious_tar_contained() {
	python3 - evil.tar "$HOME/usbox-evil-target" <<'PY' || return 1
import io, sys, tarfile
out, target = sys.argv[1], sys.argv[2]
def add(t, name, data=b"x", **kw):
    i = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(i, k, v)
    if i.type == tarfile.REGTYPE: i.size = len(data); t.addfile(i, io.BytesIO(data))
    else: t.addfile(i)
with tarfile.open(out, "w") as t:
    add(t, "../../usbox-evil-dotdot")
    add(t, "/usbox-evil-abs")
    add(t, "abs", type=tarfile.SYMTYPE, linkname="/")
    add(t, "abs" + target)
    add(t, "hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")
    add(t, "loop", type=tarfile.SYMTYPE, linkname="loop")
    add(t, "loop/x")
PY
	"$U" import -q evil.tar usbox-t-evil >/dev/null 2>&1
	"$U" rmi -f usbox-t-evil >/dev/null 2>&1
	[ ! -e "$HOME/usbox-evil-target" ] && [ ! -e /usbox-evil-abs ] && [ ! -e "$HOME/../usbox-evil-dotdot" ] &&
		[ ! -e "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/usbox-evil-dotdot" ] ||
		fail "an entry was written outside its layer"
}

# Symlinks planted in an image at mount targets (CVE-2021-30465 class) lead
# nowhere outside the container's root.
t_image_planted_symlinks_contained() {
	fixtures || return 1
	mkdir -p planted/etc planted/data-target && tar -xf "$FIX/rootfs.tar" -C planted 2>/dev/null
	rm -f planted/etc/hosts planted/etc/hostname && ln -s "../../../../../$HOME/usbox-planted-hosts" planted/etc/hosts &&
		ln -s / planted/etc/hostname && ln -s ../../../.. planted/vol && ln -s "../../../../$PWD/hostdir" planted/out &&
		mkdir -p hostdir &&
		rm -rf planted/proc && ln -s /etc planted/proc || return 1
	"$U" import -q planted usbox-t-planted >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-planted >/dev/null 2>&1' RETURN
	mkdir -p vsrc && echo v > vsrc/f
	local out
	out=$("$U" run --rm --net none --image usbox-t-planted -v "$PWD/vsrc:/vol/x" -w /vol -- sh -c 'cat /x/f; pwd') || return 1
	expect_eq "$(head -2 <<<"$out")" "$(printf 'v\n/')" "the bind and the workdir inside" || return 1
	# a symlink out of the root, to a directory that exists on the host: refused
	expect_status 125 "$U" run --rm --net none --image usbox-t-planted -v "$PWD/vsrc:/out/x" -- true 2>/dev/null &&
	[ ! -e "$HOME/usbox-planted-hosts" ] && [ -z "$(ls -A hostdir)" ] ||
		fail "a mount followed a planted symlink out of the root"
}

# `usbox run --rm -it --image IMG -- sh`: what a Docker user types first.
t_image_interactive_terminal() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-tty >/dev/null || return 1
	trap 'tm_stop; "$U" rmi -f usbox-t-tty >/dev/null 2>&1' RETURN
	tm_start || return 1
	tm_send "$U run --rm -it --net none --image usbox-t-tty -- sh" && sleep 0.5 &&
	tm_send 'echo "tty=$(tty) id=$(id -u)"' && tm_wait 'tty=/dev/pts/0 id=0' || return 1
	tm_send 'exit 7' && tm_send 'echo "status=$?"' && tm_wait 'status=7'
}

t_image_concurrent_runs() {
	fixtures || return 1
	"$U" import -q "$FIX/rootfs.tar" usbox-t-par >/dev/null || return 1
	trap '"$U" rmi -f usbox-t-par >/dev/null 2>&1' RETURN
	local i pids=() bad=0 before
	before=$(ls "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store/containers" | wc -l)
	for i in $(seq 10); do
		"$U" run --rm --net none --image usbox-t-par -- sh -c "echo $i > /f; sleep 0.2; cat /f" > "par.$i" 2>&1 & pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || bad=$((bad + 1)); done
	expect_eq "$bad" 0 "failed runs" || return 1
	for i in $(seq 10); do expect_eq "$(cat "par.$i")" "$i" "run $i" || return 1; done
	expect_eq "$(ls "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store/containers" | wc -l)" "$before" "containers left"
}

t_image_errors() {
	expect_eq "$("$U" run --rm --image no-such-image -- true 2>&1)" "usbox: no such image: no-such-image" "no such image" &&
	expect_eq "$("$U" import /no/such/file x 2>&1)" "usbox: import /no/such/file: No such file or directory" "import of nothing" &&
	expect_match "$("$U" import /etc/hostname 'Bad Name' 2>&1)" "^usbox: 'Bad Name' is not an image name" "bad name" &&
	expect_status 125 "$U" load 2>/dev/null &&
	expect_eq "$("$U" rmi no-such-image 2>&1)" "usbox: no such image: no-such-image" "rmi of nothing"
}

# ---------------------------------------------------------------- environment
t_environment_options() {
	printf '# comment\nFROM_FILE=yes\n' > env-file
	expect_eq "$(FOO=host "$U" -e BAR=1 -- sh -c 'echo $FOO-$BAR')" host-1 "inherit and -e" &&
	expect_eq "$(FOO=host "$U" --clearenv -e FOO -e X=y -- /usr/bin/env | sort | tr '\n' ' ')" "FOO=host X=y " "--clearenv" &&
	expect_eq "$("$U" --env-file env-file -- sh -c 'echo $FROM_FILE')" yes "--env-file"
}

t_hostname_stays_inside() {
	local host
	host=$(hostname)
	expect_eq "$("$U" --hostname sbx -- hostname)" sbx "--hostname" &&
	expect_status 1 "$U" --root -- sh -c 'hostname changed-inside 2>/dev/null' &&
	expect_eq "$(hostname)" "$host" "host name after"
}

ifaces() { awk -F: 'NR>2 {gsub(/ /, "", $1); print $1}' "${1:-/proc/net/dev}" | sort | tr '\n' ' '; }

t_network_none_and_host() {
	expect_eq "$("$U" --net none -- cat /proc/net/dev | ifaces /dev/stdin)" "lo " "interfaces with --net none" &&
	expect_eq "$("$U" -- cat /proc/net/dev | ifaces /dev/stdin)" "eth0 lo " "interfaces with the default (slirp)" &&
	expect_eq "$("$U" --net host -- cat /proc/net/dev | ifaces /dev/stdin)" "$(ifaces)" "interfaces with --net host"
}

# --net none: name lookups fail at once (npm waited 70 s for a resolver that
# could not be reached).
t_net_none_lookups_fail_fast() {
	local start end
	start=$(date +%s%N)
	expect_status 2 "$U" --net none -- getent hosts no-such-host.example || return 1
	end=$(date +%s%N)
	(( (end - start) / 1000000 < 1500 )) || fail "the lookup took $(( (end - start) / 1000000 )) ms"
	expect_eq "$("$U" --net none -- cat /etc/resolv.conf)" "nameserver 127.0.0.1" "resolv.conf"
}

t_loopback_is_up() {
	command -v ip >/dev/null || { skip "ip (iproute2) not installed"; return; }
	expect_match "$("$U" --net none -- ip -o link show lo)" "<LOOPBACK,UP," "lo flags" &&
	expect_match "$("$U" --net none -- ip -o addr show lo)" "inet 127.0.0.1/8" "lo address" &&
	expect_eq "$("$U" --net none -- ip route show)" "" "no routes besides loopback"
}

# ---------------------------------------------------------------- hygiene
t_caller_fd_not_inherited() {
	local out
	out=$(exec 7</etc/hostname 9>/dev/null; "$U" -- sh -c 'ls /proc/self/fd | tr "\n" " "') || return 1
	expect_eq "$out" "0 1 2 3 " "fds inside (3 is ls's own directory)"
}

t_env_file_not_regular() {
	mkfifo fifo
	local out
	out=$(timeout 5 "$U" --env-file fifo -- true 2>&1)
	expect_eq "$?:$out" "125:usbox: --env-file fifo: not a regular file" "a FIFO" &&
	expect_eq "$("$U" --env-file / -- true 2>&1)" "usbox: --env-file /: not a regular file" "a directory"
}

t_stdin_passes_through() {
	expect_eq "$(echo piped | "$U" -- cat)" piped "stdin" &&
	expect_eq "$("$U" -- sh -c 'echo out; echo err >&2' 2>/dev/null)" out "stdout alone" &&
	expect_eq "$("$U" -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" err "stderr alone"
}

t_no_controlling_tty_without_t() {
	expect_eq "$("$U" -- sh -c 'ps -o sid= -p $$; echo $$')" "$(printf '2\n2' | tr -d ' ')" "own session" ||
	expect_match "$("$U" -- sh -c 'cat /proc/self/stat | cut -d" " -f6,7')" "^[0-9]+ 0$" "no controlling tty"
}

t_nothing_left_behind() {
	local before after mounts_before mounts_after
	mounts_before=$(wc -l </proc/self/mountinfo)
	before=$(ls -A /tmp | grep -v '^usbox-' | sort)
	"$U" -- sh -c 'sleep 0.1 & sleep 0.1 & wait' || return 1
	"$U" -v /no/such:/x -- true 2>/dev/null
	after=$(ls -A /tmp | grep -v '^usbox-' | sort)
	mounts_after=$(wc -l </proc/self/mountinfo)
	expect_eq "$mounts_after" "$mounts_before" "host mounts" || return 1
	expect_eq "$after" "$before" "entries in /tmp" || return 1
	local left
	left=$(pgrep -u "$me" -a -x 'usbox|usbox-init|sleep')
	[ -z "$left" ] || fail "processes left: $left" || return 1
	# The id-map holder leaves by itself once idle (USBOX_HOLDER_IDLE=1 here).
	local i
	for i in $(seq 60); do
		pgrep -u "$me" -x usbox-holder >/dev/null || break
		sleep 0.1
	done
	pgrep -u "$me" -x usbox-holder >/dev/null && fail "usbox-holder still running after idling" && return 1
	[ ! -e "/tmp/usbox-$me" ] || fail "state directory /tmp/usbox-$me left: $(ls -la /tmp/usbox-$me)"
}

# A read-only view does not stop connect() on unix sockets: the runtime
# directory (session bus, systemd --user, agents) must be covered.
t_runtime_dir_hidden() {
	local rt="$work/rt" out
	mkdir -p "$rt" && chmod 700 "$rt"
	python3 -c '
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + "/agent.sock"); s.listen(8); open(sys.argv[1] + "/up", "w")
while True: s.accept()[0].close()' "$rt" &
	local srv=$!
	trap 'kill $srv 2>/dev/null' RETURN
	wait_for_file "$rt/up" || return 1
	local probe='import socket, sys
try:
    socket.socket(socket.AF_UNIX).connect(sys.argv[1] + "/agent.sock"); print("connected")
except OSError as e: print("refused", e.errno)'
	# Control: without the cover, the socket is reachable through the read-only view.
	# (--ro-home: the throw-away layer over the home does not pass connect() on)
	expect_eq "$(env -u XDG_RUNTIME_DIR "$U" --ro-home -- python3 -c "$probe" "$rt")" connected "control: reachable" || return 1
	out=$(XDG_RUNTIME_DIR="$rt" "$U" -- sh -c 'ls -A "$1"; python3 -c "$2" "$1"; touch "$1/mine" && stat -c %u "$1/mine"' sh "$rt" "$probe")
	expect_eq "$out" "$(printf 'refused 2\n%s' "$me")" "covered, empty and writable" &&
	[ ! -e "$rt/mine" ] || fail "the cover wrote through to the host"
}

# Docker habits: a bare Docker verb usbox has no command for is answered, not
# run as a command -- unless a program of that name is on PATH.
t_docker_verbs_answered() {
	local out
	out=$("$U" pull alpine 2>&1)
	expect_eq "$?:$out" "125:usbox: 'pull' is a Docker command that usbox does not have; usbox runs a command in a sandbox of your host: usbox [OPTIONS] -- CMD (\`usbox -- pull\` runs a program of that name)" "usbox pull" || return 1
	expect_status 125 "$U" logs x 2>/dev/null &&
	expect_status 127 "$U" -- build 2>/dev/null || return 1
	mkdir -p bin && printf '#!/bin/sh\necho real-build\n' > bin/build && chmod +x bin/build
	expect_eq "$(PATH="$PWD/bin:$PATH" "$U" build)" real-build "a real build on PATH runs"
}

t_help_and_version() {
	"$U" --help | grep -q -- '--volume' || fail "--help" || return 1
	expect_match "$("$U" --version)" '^usbox [0-9]+\.[0-9]+' "--version" &&
	expect_status 0 "$U" --help
}

t_full_map_without_holder() {
	pkill -u "$me" -x usbox-holder
	local i
	for i in $(seq 40); do pgrep -u "$me" -x usbox-holder >/dev/null || break; sleep 0.05; done
	expect_eq "$(USBOX_NO_HOLDER=1 "$U" -- awk '{n += $3} END {print n}' /proc/self/uid_map 2>&1)" 65536 \
		"ids mapped by the helpers" || return 1
	! pgrep -u "$me" -x usbox-holder >/dev/null || fail "USBOX_NO_HOLDER=1 started a holder"
}

t_map_single_quiet() {
	local err
	err=$("$U" --map single -- awk '{print $3}' /proc/self/uid_map 2>&1)
	expect_eq "$err" 1 "--map single: one id, no warning"
}

# ---------------------------------------------------------------- terminals (-t, -i)
t_tty_interactive_shell() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	tm_start || return 1
	trap tm_stop RETURN
	tm_send 'stty -g > stty-before' &&
	tm_send "$U -it -- env PS1='box\$ ' bash --norc --noprofile" && tm_wait 'box\$' &&
	tm_send 'echo "tty=$(tty)"; echo "size=$(stty size)"' && tm_wait 'size=[0-9]' || return 1
	expect_match "$(tm_screen)" 'tty=/dev/pts/[0-9]+' "tty inside" &&
	expect_match "$(tm_screen)" 'size=30 100' "initial size" || return 1
	$TM resize-window -x 120 -y 40 && sleep 0.3
	tm_send 'echo "resized=$(stty size)"' && tm_wait 'resized=40 120' || return 1
	tm_send 'sleep 100' && sleep 0.5 && tm_keys C-c && tm_send 'echo "sleep-status=$?"' &&
	tm_wait 'sleep-status=130' || return 1
	tm_send 'echo shell-alive' && tm_wait '^shell-alive' || return 1
	tm_send 'sleep 60' && sleep 0.5 && tm_keys C-z && tm_wait 'Stopped +sleep 60' || return 1
	tm_send 'fg' && sleep 0.3 && tm_keys C-c && tm_send 'echo "job-control-ok"' && tm_wait '^job-control-ok' || return 1
	tm_send 'exit 3' && tm_wait 'host\$ *$' && tm_send 'echo "host-status=$?"' && tm_wait 'host-status=3' || return 1
	tm_send 'stty -g | cmp - stty-before && echo stty-restored' && tm_wait '^stty-restored'
}

t_tty_restored_after_command_killed() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	tm_start || return 1
	trap tm_stop RETURN
	tm_send 'stty -g > stty-before' &&
	tm_send "$U -it -- bash -c 'stty raw -echo; kill -9 \$\$'; echo \"killed-status=\$?\"" &&
	tm_wait 'killed-status=137' || return 1
	tm_send 'stty -g | cmp - stty-before && echo stty-restored' && tm_wait '^stty-restored'
}

# Without -t the command shares the caller's terminal: what it changes there
# (stty -echo, raw mode) is put back when it ends, also when it is killed.
t_tty_restored_without_t() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	tm_start || return 1
	trap tm_stop RETURN
	tm_send 'stty -g > stty-before' &&
	tm_send "$U -T -- sh -c 'stty -echo raw'; $U -T -- sh -c 'stty -echo; kill -9 \$\$'; echo \"status=\$?\"" &&
	tm_wait 'status=137' || return 1
	tm_send 'stty -g | cmp - stty-before && echo stty-restored' && tm_wait '^stty-restored'
}

# nohup: a signal ignored when usbox starts stays ignored inside and is not
# forwarded, so closing the terminal does not end the job.
t_nohup_keeps_sighup_ignored() {
	# as a closed terminal does it: SIGHUP to the job's whole process group
	setsid nohup "$U" -- sh -c 'grep SigIgn /proc/self/status > ign; sleep 1; echo alive > nohup-out' >/dev/null 2>&1 &
	local pid=$!
	sleep 0.5
	kill -HUP -- "-$pid" 2>/dev/null
	wait "$pid"
	expect_eq "$?:$(cat nohup-out 2>/dev/null)" "0:alive" "the job after SIGHUP" || return 1
	(( 0x$(awk '{print $2}' ign) & 1 )) || fail "SIGHUP not ignored inside: $(cat ign)" || return 1
	"$U" -- sh -c 'sleep 5' & pid=$!
	sleep 0.5
	kill -HUP "$pid"
	wait "$pid"
	expect_eq "$?" 129 "without nohup, SIGHUP still reaches the command"
}

# At a terminal, `usbox -- bash` is a shell with job control (-it by default).
t_terminal_default_is_it() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	tm_start || return 1
	trap tm_stop RETURN
	tm_send "$U -- bash --norc --noprofile" && sleep 0.5 &&
	tm_send 'echo "tty=$(tty)"' && tm_wait 'tty=/dev/pts/0' || return 1
	tm_send 'sleep 30' && sleep 0.5 && tm_keys C-c && tm_send 'echo "sleep-status=$?"' &&
	tm_wait 'sleep-status=130' || return 1
	tm_send 'exit' && tm_send "$U -T -- tty; echo \"T-status=\$?\"" && tm_wait 'T-status=1' || return 1
	tm_send "echo hi | $U -- cat -A" && tm_wait '^hi\$$'
}

t_tiocsti_refused_without_t() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	[ -x "${HELPERS:-}/tiocsti" ] || { fail "tests/helpers/tiocsti not built"; return; }
	tm_start || return 1
	trap tm_stop RETURN
	if [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ]; then
		# Control: outside a sandbox the probe does inject into this shell.
		tm_send "$HELPERS/tiocsti 'touch control-marker'" && sleep 0.5
		[ -e control-marker ] || { fail "control: TIOCSTI did not inject outside the sandbox"; return; }
	fi
	# (the probe from the cwd: $HELPERS is under the host's /tmp, private inside)
	cp "$HELPERS/tiocsti" ./tiocsti-probe || return 1
	tm_send "$U -T -- ./tiocsti-probe 'touch breach-marker'; echo \"probe-status=\$?\"" &&
	tm_wait 'probe-status=1$' || return 1
	sleep 0.5
	[ ! -e breach-marker ] || fail "the sandbox typed into the user's shell (TIOCSTI)"
}

t_tty_options_errors() {
	expect_status 125 "$U" -it -- true </dev/null 2>err &&
	expect_eq "$(cat err)" "usbox: -i with -t: the input device is not a terminal (drop -t or -i)" "message" &&
	expect_eq "$("$U" -t -- sh -c 'tty >/dev/null && echo has-tty' </dev/null)" $'has-tty\r' "-t without a terminal on stdin (pty output ends lines with CR LF)"
}

t_tty_signals_and_status() {
	expect_status 42 "$U" -t -- sh -c 'exit 42' </dev/null >/dev/null &&
	expect_status 137 "$U" -t -- sh -c 'kill -9 $$' </dev/null >/dev/null || return 1
	"$U" -t -- sh -c 'trap "exit 5" TERM; touch ready; while :; do sleep 0.05; done' </dev/null >/dev/null &
	local pid=$! i
	for i in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
	kill -TERM "$pid"
	wait "$pid"
	expect_eq "$?" 5 "SIGTERM with -t"
}

t_large_output_in_order() {
	head -c 50000000 /dev/urandom > big || return 1
	"$U" -- cat big | cmp - big || fail "50 MB through a pipe" || return 1
	"$U" -t -- sh -c 'stty raw -echo; cat big' </dev/null > big-tty || return 1
	cmp big big-tty || fail "50 MB through the pty"
}

# ---------------------------------------------------------------- limits on this host
# Never a silent no-op: a limit is in force inside, or usbox refuses (125) with
# one line saying what is missing.  (make check-vm tests the limits themselves.)
t_limit_holds_or_refuses() {
	local out err rc
	out=$("$U" --mem 64M -- cat /sys/fs/cgroup/memory.max 2>/dev/null)
	rc=$?
	err=$("$U" --mem 64M -- true 2>&1 >/dev/null)
	if [ "$rc" -eq 0 ]; then
		expect_eq "$out" 67108864 "memory.max inside"
	else
		expect_eq "$rc" 125 "exit status without a delegated cgroup" &&
		expect_match "$err" "^usbox: limits need " "message" &&
		expect_eq "$(wc -l <<<"$err")" 1 "one line"
	fi || return 1
	expect_eq "$("$U" --cpus abc -- true 2>&1)" "usbox: --cpus: 'abc' is not a number of CPUs like 0.5 or 2" "bad value" || return 1
	# --stats alone is not a limit: when refused, the line says what --stats needs
	err=$("$U" --stats -- true 2>&1 >/dev/null) && return 0
	expect_match "$err" "^usbox: --stats needs " "--stats refused"
}

# ---------------------------------------------------------------- no range
n_single_map_fallback() {
	local out err
	out=$("$U" -- sh -c 'cat /proc/self/uid_map | wc -l; id -u' 2>stderr-file) || return 1
	err=$(cat stderr-file)
	expect_eq "$out" "$(printf '1\n%s' "$me")" "single map" &&
	expect_match "$err" "^usbox: warning: no subordinate uid range for $(id -un) in /etc/subuid" "warning" &&
	expect_eq "$(wc -l <stderr-file)" 1 "one warning line" &&
	expect_eq "$("$U" --map single -- true 2>&1)" "" "--map single has no warning" &&
	expect_eq "$("$U" --root -- id -u 2>/dev/null)" 0 "--root with a single map"
}

# ---------------------------------------------------------------- network (in the ubx-cli test host)
# Test hosts (nethosts.sh): 10.77.0.1 serves HTTP :8080, UDP echo :9999, DNS;
# this namespace has a stub resolver on 127.0.0.53.

wait_for_file() { local i; for i in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }

w_slirp_interface_and_resolver() {
	local out
	out=$("$U" -- sh -c 'ip -o -4 addr show eth0; ip route show default; cat /etc/resolv.conf; cat /sys/class/net/eth0/mtu 2>/dev/null || ip -o link show eth0') || return 1
	expect_match "$out" "inet 10\.0\.2\.100/24" "address" &&
	expect_match "$out" "default via 10\.0\.2\.2 dev eth0" "route" &&
	expect_match "$out" "nameserver 10\.0\.2\.3" "resolv.conf" &&
	expect_match "$out" "mtu 65520" "MTU"
}

w_http_to_test_host() {
	expect_eq "$("$U" -- curl -s -m 10 http://10.77.0.1:8080/hello.txt)" "hello from the test host" "curl" &&
	expect_eq "$("$U" -- wget -q -T 10 -O - http://10.77.0.1:8080/hello.txt)" "hello from the test host" "wget"
}

w_ipv6_from_the_first_instruction() {
	local out
	out=$("$U" -- sh -c 'ip -o -6 addr show eth0 scope global; curl -s -m 10 "http://[fd77::1]:8081/hello.txt"') || return 1
	expect_match "$out" "inet6 fd00::100/64" "static address, no DAD wait" &&
	expect_match "$out" "hello from the test host" "HTTP over IPv6 through slirp"
}

w_udp_exchange() {
	expect_eq "$("$U" -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(b"ping", ("10.77.0.1", 9999)); print(s.recvfrom(100)[0].decode())')" "echo:ping" "UDP echo"
}

w_dns_through_slirp_and_stub() {
	expect_eq "$(grep nameserver /etc/resolv.conf)" "nameserver 127.0.0.53" "this host uses a stub resolver" &&
	expect_match "$("$U" -- getent hosts testhost.usbox.test)" "^10\.77\.0\.1 +testhost\.usbox\.test" "resolved inside" &&
	expect_eq "$("$U" -- curl -s -m 10 http://testhost.usbox.test:8080/hello.txt)" "hello from the test host" "by name"
}

w_host_loopback_off_by_default() {
	python3 -m http.server 18500 --bind 127.0.0.1 >/dev/null 2>&1 &
	local srv=$!
	trap 'kill $srv 2>/dev/null' RETURN
	local i
	for i in $(seq 200); do curl -s -m 1 -o /dev/null http://127.0.0.1:18500/ && break; sleep 0.1; done
	expect_status 7 "$U" -- curl -s -m 5 -o /dev/null http://10.0.2.2:18500/ &&
	expect_eq "$("$U" --net slirp:allow_host_loopback -- curl -s -m 5 -o /dev/null -w '%{http_code}' http://10.0.2.2:18500/)" 200 \
		"with allow_host_loopback"
}

# Raw frames need root inside with CAP_NET_RAW (a packet socket on eth0).
RAW=(--root --cap-add NET_RAW)

# rawsend.py [--reply] PROTO/DST/PORT...: for each, a TCP SYN (tcp) or a UDP
# datagram (udp) to DST:PORT, crafted and sent as an Ethernet frame on eth0 to
# the default gateway's MAC, as nothing but a raw socket could; with --reply,
# wait for the answer to the last one (a SYN-ACK or a datagram), exit 1 without.
write_rawsend() {
	cat > rawsend.py <<'EOF'
import random, socket, struct, subprocess, sys, time
args = sys.argv[1:]
want_reply = args[0] == "--reply" and bool(args.pop(0))
ip = lambda *a: subprocess.run(["ip"] + list(a), capture_output=True, text=True).stdout.split()
link = ip("-o", "link", "show", "eth0")  # (/sys is the host's)
my_mac = bytes.fromhex(link[link.index("link/ether") + 1].replace(":", ""))

def gateway(v):
    gw = ip(v, "route", "show", "default")[2]
    fam = socket.AF_INET6 if v == "-6" else socket.AF_INET
    for _ in range(50):  # a datagram to the gateway makes the kernel resolve its MAC
        socket.socket(fam, socket.SOCK_DGRAM).sendto(b"", (gw, 9))
        n = ip(v, "neigh", "show", gw)
        if "lladdr" in n:
            return bytes.fromhex(n[n.index("lladdr") + 1].replace(":", ""))
        time.sleep(0.05)
    sys.exit("no MAC for the gateway " + gw)

def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(proto, dst, port, sport):
    v6 = ":" in dst
    fam, v = (socket.AF_INET6, "-6") if v6 else (socket.AF_INET, "-4")
    src = socket.inet_pton(fam, ip(v, "-o", "addr", "show", "eth0", "scope", "global")[3].split("/")[0])
    dst = socket.inet_pton(fam, dst)
    nh = 6 if proto == "tcp" else 17
    if nh == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, port, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    else:
        l4 = struct.pack("!HHHH", sport, port, 8 + 9, 0) + b"raw-probe"
    pseudo = src + dst + (struct.pack("!I3xB", len(l4), nh) if v6 else struct.pack("!xBH", nh, len(l4)))
    at = 16 if nh == 6 else 6
    l4 = l4[:at] + struct.pack("!H", csum(pseudo + l4) or 0xFFFF) + l4[at + 2:]
    if v6:
        return gateway(v) + my_mac + b"\x86\xdd" + struct.pack("!IHBB16s16s", 6 << 28, len(l4), nh, 64, src, dst) + l4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), random.getrandbits(16), 0x4000, 64, nh, 0, src, dst)
    return gateway(v) + my_mac + b"\x08\x00" + hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + l4

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("eth0", 0))
for t in args:
    proto, dst, port = t.split("/")
    sport = random.randint(20000, 60000)
    s.send(frame(proto, dst, int(port), sport))
if not want_reply:
    sys.exit(0)
s.settimeout(0.5)
nh = 6 if proto == "tcp" else 17
nh_at, l4_at = (20, 54) if ":" in dst else (23, 34)
end = time.time() + 5
while time.time() < end:
    try:
        f = s.recv(65600)
    except socket.timeout:
        continue
    if f[6:12] != my_mac and f[nh_at] == nh and struct.unpack("!HH", f[l4_at:l4_at + 4]) == (int(port), sport):
        sys.exit(0)
sys.exit(1)
EOF
}

# listen.py FILE ADDR:PORT...: TCP and UDP listeners on each; every connection
# or datagram appends "tcp ADDR:PORT" or "udp ADDR:PORT" to FILE.  FILE.up
# appears once they listen.
write_listener() {
	cat > listen.py <<'EOF'
import socket, sys, threading
def hit(what):
    with open(sys.argv[1], "a") as f:
        f.write(what + "\n")
def serve(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    t, u = socket.socket(fam, socket.SOCK_STREAM), socket.socket(fam, socket.SOCK_DGRAM)
    t.bind((addr, port)); t.listen(16); u.bind((addr, port))
    def tcp():
        while True:
            t.accept()[0].close(); hit("tcp %s:%d" % (addr, port))
    def udp():
        while True:
            u.recvfrom(100); hit("udp %s:%d" % (addr, port))
    threading.Thread(target=tcp, daemon=True).start(); threading.Thread(target=udp, daemon=True).start()
for a in sys.argv[2:]:
    addr, port = a.rsplit(":", 1)
    serve(addr.strip("[]"), int(port))
open(sys.argv[1] + ".up", "w").close()
threading.Event().wait()
EOF
}

# libslirp connects wherever a frame points; only its gateway alias is
# guarded.  Crafted frames to the host's loopback, "this host" or the host's
# own addresses must never reach a listener of the host.
w_raw_frames_never_reach_host_loopback() {
	write_rawsend && write_listener || return 1
	python3 listen.py hits 127.0.0.1:18570 '[::1]:18570' 10.77.0.2:18571 '[fd77::2]:18571' &
	local srv=$!
	trap 'kill $srv 2>/dev/null' RETURN
	wait_for_file hits.up || return 1
	"$U" "${RAW[@]}" -- python3 rawsend.py --reply udp/10.77.0.1/9999 ||
		fail "control: a crafted datagram to the test host got no echo" || return 1
	"$U" "${RAW[@]}" -- python3 rawsend.py tcp/127.0.0.1/18570 udp/127.0.0.1/18570 tcp/0.0.0.0/18570 \
		tcp/::1/18570 udp/::1/18570 tcp/::ffff:127.0.0.1/18570 udp/::ffff:127.0.0.1/18570 tcp/::/18570 \
		tcp/10.77.0.2/18571 udp/10.77.0.2/18571 tcp/fd77::2/18571 udp/fd77::2/18571 || return 1
	"$U" "${RAW[@]}" --net slirp:allow_host_loopback -- python3 rawsend.py tcp/127.0.0.1/18570 udp/::1/18570 ||
		return 1
	sleep 0.5
	expect_eq "$(cat hits 2>/dev/null)" "" "what reached the host's listeners" || return 1
	# The host's own addresses are refused at once, to ordinary sockets too...
	expect_status 7 "$U" -- curl -s -m 5 -o /dev/null http://10.77.0.2:18571/ &&
	expect_status 7 "$U" -- curl -s -m 5 -o /dev/null 'http://[fd77::2]:18571/' || return 1
	# ...unless the host's loopback is allowed (its loopback addresses stay out).
	"$U" "${RAW[@]}" --net slirp:allow_host_loopback -- python3 rawsend.py tcp/10.77.0.2/18571 || return 1
	sleep 0.5
	expect_eq "$(cat hits)" "tcp 10.77.0.2:18571" "with allow_host_loopback"
}

w_port_forward_tcp() {
	mkdir -p www && echo "served from inside" > www/inside.txt
	"$U" -p 18600:8000 -- sh -c 'python3 -m http.server 8000 --bind 127.0.0.1 --directory www >/dev/null 2>&1 & touch up; sleep 8' &
	local pid=$! i
	wait_for_file up || return 1
	for i in $(seq 50); do curl -s -m 1 -o /dev/null http://127.0.0.1:18600/ && break; sleep 0.1; done
	expect_eq "$(curl -s -m 5 http://127.0.0.1:18600/inside.txt)" "served from inside" "through -p" &&
	expect_eq "$(curl -s -m 5 http://10.77.0.2:18600/inside.txt)" "served from inside" "on the host's address"
	local rc=$?
	kill "$pid"; wait "$pid" 2>/dev/null
	return $rc
}

w_port_forward_udp() {
	"$U" -p 18700:9000/udp -- python3 -c '
import socket, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 9000)); open("up", "w")
for _ in range(3):
    data, peer = s.recvfrom(100); s.sendto(b"inside:" + data, peer)' &
	local pid=$!
	wait_for_file up || return 1
	local out
	out=$(python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(b"hi", ("127.0.0.1", 18700)); print(s.recvfrom(100)[0].decode())')
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	expect_eq "$out" "inside:hi" "UDP through -p"
}

w_port_busy_is_clean_error() {
	python3 -m http.server 18800 --bind 127.0.0.1 >/dev/null 2>&1 &
	local srv=$! err i
	trap 'kill $srv 2>/dev/null' RETURN
	for i in $(seq 200); do ss -ltn | grep -q '127.0.0.1:18800 ' && break; sleep 0.05; done
	err=$("$U" -p 127.0.0.1:18800:80 -- true 2>&1)
	expect_eq "$?" 125 "exit status" &&
	expect_eq "$err" "usbox: -p: tcp port 18800 on 127.0.0.1 is already in use" "message" &&
	expect_status 125 "$U" -p 80:80 -- true 2>/dev/null &&
	expect_status 125 "$U" -p 99999:80 -- true 2>/dev/null &&
	expect_status 125 "$U" --net host -p 18801:80 -- true 2>/dev/null
}

w_nothing_left_after_kill9() {
	"$U" -p 18900:80 -- sh -c 'touch up; exec sleep 100' &
	local pid=$! i
	wait_for_file up || return 1
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	for i in $(seq 40); do pgrep -u "$(id -u)" -x sleep >/dev/null || break; sleep 0.05; done
	! pgrep -u "$(id -u)" -x sleep >/dev/null || fail "sandbox left after kill -9" || return 1
	! ss -ltn | grep -q ':18900 ' || fail "forwarded port still bound"
	# (that the TAP and the namespace are freed is checked as root by run.sh)
}


# ---------------------------------------------------------------- user networks
state_dir() { if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ]; then echo "$XDG_RUNTIME_DIR/usbox"; else echo "/tmp/usbox-$me"; fi; }

# Waits until the helper of network $1 has left (USBOX_HOLDER_IDLE=1 here).
helper_gone() {
	local i
	for i in $(seq 100); do
		pgrep -u "$me" -f "^usbox-net $1\$" >/dev/null || break
		sleep 0.05
	done
	! pgrep -u "$me" -f "^usbox-net $1\$" >/dev/null || fail "usbox-net $1 still running" || return 1
	[ ! -e "$(state_dir)/net-$1" ] || fail "state left: $(ls -la "$(state_dir)/net-$1")"
}

w_user_network_by_name_and_uplink() {
	"$U" network rm tnet >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create --subnet 10.90.0.0/24 tnet >/dev/null || return 1
	trap '"$U" network rm tnet >/dev/null 2>&1' RETURN
	mkdir -p www && echo "served by srv" > www/srv.txt
	"$U" --net tnet --name srv -- sh -c 'python3 -m http.server 8000 --bind :: --directory www >/dev/null 2>&1 & touch up; sleep 20' &
	local pid=$! out i
	wait_for_file up || return 1
	for i in $(seq 50); do "$U" --net tnet -- curl -s -m 1 -o /dev/null http://srv:8000/ && break; sleep 0.1; done
	out=$("$U" --net tnet --name cli -- sh -c 'ip -o -4 addr show eth0; ip route show default; cat /etc/resolv.conf;
		cat /etc/hosts; echo "host=$(hostname)"; curl -s -m 5 http://srv:8000/srv.txt;
		curl -s -m 10 http://10.77.0.1:8080/hello.txt; getent hosts testhost.usbox.test;
		curl -s -m 10 "http://[fd77::1]:8081/hello.txt" | sed "s/^/v6: /"; curl -s -m 5 "http://[fd00::3]:8000/srv.txt" | sed "s/^/v6 srv: /"') || return 1
	kill "$pid"; wait "$pid" 2>/dev/null
	expect_match "$out" "inet 10\.90\.0\.4/24" "second address" &&
	expect_match "$out" "default via 10\.90\.0\.1 dev eth0" "route" &&
	expect_match "$out" "nameserver 10\.90\.0\.2" "resolv.conf" &&
	expect_match "$out" "10\.90\.0\.3	srv" "hosts: srv" &&
	expect_match "$out" "10\.90\.0\.4	cli" "hosts: cli" &&
	expect_match "$out" "host=cli" "host name from --name" &&
	expect_match "$out" "served by srv" "sandbox to sandbox by name" &&
	expect_match "$out" "hello from the test host" "out through the network's uplink" &&
	expect_match "$out" "10\.77\.0\.1 +testhost\.usbox\.test" "DNS through the uplink" &&
	expect_match "$out" "v6: hello from the test host" "IPv6 out through the uplink" &&
	expect_match "$out" "v6 srv: served by srv" "IPv6 between sandboxes"
}

w_user_network_address_reused_and_released() {
	"$U" network rm tnet2 >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create tnet2 >/dev/null || return 1
	trap '"$U" network rm tnet2 >/dev/null 2>&1' RETURN
	local a b
	# (the first run starts the helper, under this umask)
	expect_match "$(umask 077; "$U" --net tnet2 --root -- setpriv --reuid=65534 --regid=65534 --clear-groups head -n1 /etc/hosts)" "localhost" \
		"the hosts file is readable by any id inside, whatever the umask" || return 1
	a=$("$U" --net tnet2 -- ip -o -4 addr show eth0 | awk '{print $4}')
	b=$("$U" --net tnet2 -- ip -o -4 addr show eth0 | awk '{print $4}')
	expect_match "$a" '^10\.89\.[0-9]+\.3/24$' "first address" && expect_eq "$b" "$a" "reused after exit" || return 1
	# kill -9 of usbox: the lease goes with its connection.
	"$U" --net tnet2 --name held -- sh -c 'touch up; exec sleep 100' &
	local pid=$!
	wait_for_file up || return 1
	expect_eq "$("$U" network ls | awk '$1 == "tnet2" {print $3}')" 1 "in use" || return 1
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	rm -f up
	local i
	for i in $(seq 40); do pgrep -u "$me" -x sleep >/dev/null || break; sleep 0.05; done
	b=$("$U" --net tnet2 --name held -- sh -c 'ip -o -4 addr show eth0 | awk "{print \$4}"; grep -c held /etc/hosts')
	expect_eq "$b" "$(printf '%s\n1' "$a")" "address and name free again after kill -9" &&
	expect_eq "$("$U" network ls | awk '$1 == "tnet2" {print $3}')" 0 "not in use" &&
	helper_gone tnet2
}

w_user_network_rm_busy_and_names() {
	"$U" network rm tnet3 >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create tnet3 >/dev/null || return 1
	trap '"$U" network rm tnet3 >/dev/null 2>&1' RETURN
	"$U" --net tnet3 --name dup -- sh -c 'touch up; exec sleep 100' &
	local pid=$! err
	wait_for_file up || return 1
	err=$("$U" network rm tnet3 2>&1)
	expect_eq "$?" 125 "rm of a busy network" &&
	expect_eq "$err" "usbox: network tnet3 is in use by 1 sandbox" "message" &&
	expect_eq "$("$U" --net tnet3 --name dup -- true 2>&1)" "usbox: the name dup is in use by a running sandbox (usbox ps lists it)" \
		"a name twice" || { kill "$pid"; return 1; }
	kill "$pid"; wait "$pid" 2>/dev/null
	for i in $(seq 40); do pgrep -u "$me" -x sleep >/dev/null || break; sleep 0.05; done
	expect_eq "$("$U" network rm tnet3)" tnet3 "rm once unused" &&
	expect_eq "$("$U" network ls -q | grep -c '^tnet3$')" 0 "gone from ls" &&
	helper_gone tnet3 &&
	! pgrep -u "$me" -x sleep >/dev/null || fail "sandbox left"
}

w_user_network_port_forward() {
	"$U" network rm tnet4 >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create tnet4 >/dev/null || return 1
	trap '"$U" network rm tnet4 >/dev/null 2>&1' RETURN
	mkdir -p www && echo "forwarded" > www/fwd.txt
	"$U" --net tnet4 -p 18650:8000 -- sh -c 'python3 -m http.server 8000 --bind 127.0.0.1 --directory www >/dev/null 2>&1 & touch up; sleep 8' &
	local pid=$! i
	wait_for_file up || return 1
	for i in $(seq 50); do curl -s -m 1 -o /dev/null http://127.0.0.1:18650/ && break; sleep 0.1; done
	expect_eq "$(curl -s -m 5 http://127.0.0.1:18650/fwd.txt)" "forwarded" "-p on a user network"
	local rc=$?
	kill "$pid"; wait "$pid" 2>/dev/null
	return $rc
}

w_user_network_host_loopback_only_when_asked() {
	"$U" network rm tnet6 >/dev/null 2>&1; "$U" network rm tnet7 >/dev/null 2>&1
	"$U" network create --subnet 10.94.0.0/24 tnet6 >/dev/null &&
	"$U" network create --subnet 10.95.0.0/24 --allow-host-loopback tnet7 >/dev/null || return 1
	trap '"$U" network rm tnet6 tnet7 >/dev/null 2>&1' RETURN
	python3 -m http.server 18550 --bind 127.0.0.1 >/dev/null 2>&1 &
	local srv=$! i
	trap 'kill $srv 2>/dev/null; "$U" network rm tnet6 tnet7 >/dev/null 2>&1' RETURN
	for i in $(seq 200); do curl -s -m 1 -o /dev/null http://127.0.0.1:18550/ && break; sleep 0.1; done
	expect_status 7 "$U" --net tnet6 -- curl -s -m 5 -o /dev/null http://10.94.0.1:18550/ &&
	expect_eq "$("$U" --net tnet7 -- curl -s -m 5 -o /dev/null -w '%{http_code}' http://10.95.0.1:18550/)" 200 \
		"with --allow-host-loopback"
}

# The same filter in a user network's helper, in front of its uplink; and the
# -p ports of another sandbox, which the host binds on its 127.0.0.1.
w_user_network_raw_frames_never_reach_host_loopback() {
	"$U" network rm tnet8 >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create --subnet 10.96.0.0/24 tnet8 >/dev/null || return 1
	write_rawsend && write_listener || return 1
	python3 listen.py hits 127.0.0.1:18580 '[::1]:18580' 10.77.0.2:18581 &
	local srv=$!
	"$U" --net none -p 127.0.0.1:18582:8000 -p 127.0.0.1:18582:8000/udp -- python3 listen.py hits-p 127.0.0.1:8000 &
	local other=$!
	trap 'kill $srv $other 2>/dev/null; wait $other 2>/dev/null; "$U" network rm tnet8 >/dev/null 2>&1' RETURN
	wait_for_file hits.up && wait_for_file hits-p.up || return 1
	"$U" --net tnet8 "${RAW[@]}" -- python3 rawsend.py --reply udp/10.77.0.1/9999 ||
		fail "control: a crafted datagram to the test host got no echo" || return 1
	"$U" --net tnet8 "${RAW[@]}" -- python3 rawsend.py tcp/127.0.0.1/18580 udp/127.0.0.1/18580 tcp/::1/18580 \
		udp/::1/18580 tcp/::ffff:127.0.0.1/18580 tcp/10.77.0.2/18581 udp/10.77.0.2/18581 \
		tcp/127.0.0.1/18582 udp/127.0.0.1/18582 || return 1
	"$U" "${RAW[@]}" -- python3 rawsend.py tcp/127.0.0.1/18582 udp/127.0.0.1/18582 || return 1
	sleep 0.5
	expect_eq "$(cat hits hits-p 2>/dev/null)" "" "what reached the host's and the other sandbox's listeners" || return 1
	# Control: the other sandbox's port is open to the host.
	curl -s -m 5 -o /dev/null http://127.0.0.1:18582/
	sleep 0.3
	expect_eq "$(cat hits-p)" "tcp 127.0.0.1:8000" "control: -p from the host"
}

# fake_helper.py SOCKET NSFILE LOG GREETING: a stand-in for a network's helper
# that greets with GREETING and the namespace NSFILE, and logs to LOG every
# request it gets; LOG.up appears once it listens.
write_fake_helper() {
	cat > fake_helper.py <<'EOF'
import array, os, socket, sys
path, nsfile, log, greeting = sys.argv[1:5]
os.umask(0o077)  # its socket passes the checks on files: the helper itself is what is tested
ns = os.open(nsfile, os.O_RDONLY)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
s.listen(8)
open(log + ".up", "w").close()
while True:
    c = s.accept()[0]
    c.sendmsg([greeting.encode() + b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [ns]))])
    while True:
        try:
            m = c.recv(512)
        except OSError:
            break
        if not m:
            break
        with open(log, "a") as f:
            f.write("request %r\n" % m[:1])
    c.close()
EOF
}

# Runs usbox on network tfake against a fake helper started by CMD...
# (python3 fake_helper.py ... appended) and expects a refusal whose reason
# matches WHY, with nothing sent to the fake.
refused_by() { # WHY CMD...
	local why=$1 dir err rc fake
	shift
	dir=$(state_dir)/net-tfake
	rm -f "$dir/sock" fake.log fake.log.up
	"$@" python3 fake_helper.py "$dir/sock" /proc/self/ns/user "$PWD/fake.log" "$greeting" &
	fake=$!
	wait_for_file fake.log.up || { kill $fake; fail "the fake helper did not start ($*)"; return; }
	err=$("$U" --net tfake -- true 2>&1)
	rc=$?
	kill $fake; wait $fake 2>/dev/null
	expect_eq "$rc" 125 "exit status with the fake of '$*'" &&
	expect_match "$err" "^usbox: network tfake: its helper is not trustworthy \(${why}\); remove ${dir}\$" \
		"the refusal of the fake of '$*'" &&
	{ [ ! -s fake.log ] || fail "the fake of '$*' got requests: $(cat fake.log)"; }
}

# A client trusts a network's helper only once it proved to be the caller's
# own: whoever can write to the state directory could plant a fake.
w_user_network_fake_helper_refused() {
	local dir greeting
	"$U" network rm tfake >/dev/null 2>&1 # a leftover of an interrupted run
	"$U" network create tfake >/dev/null || return 1
	dir=$(state_dir)/net-tfake
	write_fake_helper || return 1
	# What a real helper of this usbox greets with (a fake must speak it).
	"$U" --net tfake -- sh -c 'touch on; sleep 3' &
	local pid=$!
	trap 'kill $pid 2>/dev/null; rm -rf "$dir"; "$U" network rm tfake >/dev/null 2>&1' RETURN
	wait_for_file on || return 1
	greeting=$(python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
print(s.recvmsg(64, 64)[0].rstrip(b"\0").decode())' "$dir/sock") || return 1
	wait "$pid"
	helper_gone tfake || return 1
	# A sandbox keeps the id-map holder running, so the checks get that far.
	"$U" --net none -- sh -c 'touch held; exec sleep 60' &
	pid=$!
	wait_for_file held && mkdir -m 700 "$dir" || return 1
	refused_by "its user namespace is (owned by uid [0-9]+|not a child of the id-map holder's)" env &&
	refused_by "its user namespace is not a child of the id-map holder's" unshare -U &&
	refused_by "its process [0-9]+ runs in another pid namespace \(a sandbox's\?\)" \
		"$U" --net host -v "$(state_dir):$(state_dir)" -- || return 1
	# The files: a socket elsewhere behind a symlink, a directory others may write.
	python3 fake_helper.py "$PWD/elsewhere.sock" /proc/self/ns/user "$PWD/fake.log" "$greeting" &
	local fake=$!
	wait_for_file fake.log.up && rm -f "$dir/sock" && ln -s "$PWD/elsewhere.sock" "$dir/sock" || return 1
	expect_match "$("$U" --net tfake -- true 2>&1)" "not trustworthy \(its socket is not a socket\)" "a symlink"
	local rc=$?
	kill $fake
	[ $rc -eq 0 ] && rm -f "$dir/sock" && chmod 770 "$dir" || return 1
	expect_match "$("$U" --net tfake -- true 2>&1)" "not trustworthy \(its directory is writable by others\)" \
		"a group-writable directory" || return 1
	# Once the directory is removed, as the message says, the network works again.
	rm -rf "$dir"
	expect_eq "$("$U" --net tfake -- echo works 2>&1)" works "after removing $dir"
}

w_user_network_errors() {
	"$U" network rm tnet5 >/dev/null 2>&1 # a leftover of an interrupted run
	expect_eq "$("$U" --net nosuch -- true 2>&1)" \
		"usbox: network nosuch not found (create it with: usbox network create nosuch)" "unknown network" &&
	expect_status 125 "$U" --net nosuch -- true 2>/dev/null &&
	"$U" network create --subnet 10.91.0.0/16 tnet5 >/dev/null &&
	expect_eq "$("$U" network create tnet5 2>&1)" "usbox: network tnet5 already exists" "twice" &&
	expect_eq "$("$U" network create --subnet 10.91.3.0/24 other 2>&1)" \
		"usbox: subnet 10.91.3.0/24 overlaps network tnet5" "overlap" &&
	expect_eq "$("$U" network create --subnet 10.92.0.1/24 other 2>&1)" \
		"usbox: subnet '10.92.0.1/24': host bits are set (did you mean 10.92.0.0/24?)" "host bits" &&
	expect_eq "$("$U" network create host 2>&1 | cut -c1-40)" "usbox: 'host' is not a valid network nam" "reserved" &&
	expect_status 125 "$U" network create --subnet 10.93.0.0/30 other 2>/dev/null &&
	expect_status 125 "$U" network rm nosuch 2>/dev/null &&
	expect_status 125 "$U" --net tnet5 --map single -- true 2>/dev/null &&
	expect_eq "$("$U" network rm tnet5)" tnet5 "rm"
}

n_user_network_needs_a_range() {
	"$U" network create nsnet >/dev/null || return 1
	local err
	err=$("$U" --net nsnet -- true 2>&1)
	expect_eq "$?" 125 "exit status" &&
	expect_match "$err" "^usbox: --net nsnet needs a full id map: no subordinate uid range for $(id -un)" "message" &&
	expect_eq "$("$U" network rm nsnet)" nsnet "rm"
}

# More tests, one file a topic (suite-*.sh beside this one), same prefixes.
for f in "$(dirname "$0")"/suite-*.sh; do [ -e "$f" ] && . "$f"; done

case ${1:-main} in
main) run_tests t_ ;;
nosub) run_tests n_ ;;
net) run_tests w_ ;;
root) run_tests r_ ;; # as root: the engines that run as root (containerd)
esac
summary
