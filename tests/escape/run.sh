#!/usr/bin/env bash
# The escape suite: attempts to get out of a usbox sandbox, each of which must
# fail in one stated way.  Run as an unprivileged user (tests/integration/run.sh
# runs it as usbox-test, inside the client test host of nethosts.sh):
#
#   tests/escape/run.sh PATH/TO/usbox PATH/TO/attempts
#
# Prints one row per attempt -- attempt | how it must fail | what happened |
# ok/FAIL -- and closes with "escape: N passed, N failed".  Exits non-zero on
# any failure.  A row whose subject does not exist on this host (a masked path
# the kernel lacks, the i386 ABI) is "n/a"; anything else not run is a "skip"
# with its reason, and a failure under USBOX_MUST_WORK=1.  ONLY=REGEX runs the
# rows whose names match.
#
# Adding an attempt is one line in the tables below:
#   row NAME EXPECT COMMAND...
# COMMAND prints one line, the observable; EXPECT is an extended regular
# expression it must match in full.  `box [OPTS] -- ATTEMPT [ARG...]` runs
# tests/escape/attempts.c's ATTEMPT in a sandbox (--net none unless OPTS name
# a network), which prints an errno name, "ok", or what it saw.
set -u
here=$(cd "$(dirname "$0")" && pwd)
U=$(readlink -f "${1:-${USBOX:?usage: run.sh PATH/TO/usbox PATH/TO/attempts}}")
ATT_SRC=$(readlink -f "${2:-${ATTEMPTS:?usage: run.sh PATH/TO/usbox PATH/TO/attempts}}")
must_work=${USBOX_MUST_WORK:-}
me=$(id -u)
export USBOX_HOLDER_IDLE=${USBOX_HOLDER_IDLE:-1}
# The rows set XDG_RUNTIME_DIR themselves (unset: the state lives in /tmp/usbox-UID).
unset XDG_RUNTIME_DIR

if [ "$me" -eq 0 ]; then
	echo "escape: run it as an unprivileged user (tests/integration/run.sh does, as usbox-test)" >&2
	exit 2
fi
if ! unshare -U true 2>/dev/null; then
	[ -n "$must_work" ] && { echo "FAIL: escape: no unprivileged user namespaces here"; exit 1; }
	echo "SKIP: escape: no unprivileged user namespaces on this host"
	exit 77
fi

# ---------------------------------------------------------------- fixtures
work=$(mktemp -d "$HOME/usbox-escape.XXXXXX") || exit 1
tmpd=$(mktemp -d /tmp/usbox-escape.XXXXXX) || exit 1
chmod 755 "$work" "$tmpd"
mkdir -p "$work/cwd" "$work/vol" "$work/fdtarget" "$work/l"
install -m 0755 "$ATT_SRC" "$work/attempts" # readable inside (the sandbox's /tmp is its own)
ATT=$work/attempts
NET=escnet$$ NETL=escl$$ # user networks: without and with --allow-host-loopback
bg_pids=()
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${TM:-}" ] && $TM kill-server 2>/dev/null
	"$U" network rm "$NET" "$NETL" >/dev/null 2>&1
	"$U" rm -f "escd$$" "escpf$$" >/dev/null 2>&1
	rm -f /tmp/usbox-escape-marker.$$ "/var/tmp/usbox-escape-probe.$$" "/dev/shm/usbox-escape-probe.$$" \
		"$HOME/usbox-escape-probe.$$" "$HOME/usbox-escape-target.$$" "$HOME/usbox-escape-own.$$" 2>/dev/null
	rm -rf "$work" "$tmpd" /tmp/usbox-escape-tmux-$me.$$ 2>/dev/null
	[ -n "${xdg1:-}" ] && rm -rf "$xdg1"
	[ -n "${rt_probe:-}" ] && rm -f "$rt_probe"
}
trap cleanup EXIT
cd "$work/cwd" || exit 1

# ---------------------------------------------------------------- the table
passed=0 failed=0 skipped=0 na=0
failures=() skips=()
W1=46 W2=34 W3=50
line() { printf '%s\n' "$(printf '%*s' $((W1 + W2 + W3 + 16)) '' | tr ' ' -)"; }
section() { [ -n "${ONLY:-}" ] || printf '%-*s |\n' "$W1" "-- $*"; }

# row NAME EXPECT COMMAND...: COMMAND's last line must match ^(EXPECT)$.
# COMMAND returns 3 for "n/a" (its subject is not on this host), 77 for a skip.
row() {
	local name=$1 want=$2 got rc verdict
	shift 2
	if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then return 0; fi
	got=$(cd "$work/cwd" && "$@" 2>/dev/null)
	rc=$?
	got=$(tail -n1 <<<"$got")
	[ -n "$got" ] || got="(nothing printed, status $rc)"
	case $rc in
	3) verdict=n/a; na=$((na + 1)) ;;
	77)
		skips+=("$name: $got")
		if [ -n "$must_work" ]; then verdict=FAIL; failed=$((failed + 1)); failures+=("$name")
		else verdict=skip; skipped=$((skipped + 1)); fi ;;
	*)
		if [[ $got =~ ^($want)$ ]]; then verdict=ok; passed=$((passed + 1))
		else verdict=FAIL; failed=$((failed + 1)); failures+=("$name"); fi ;;
	esac
	printf '%-*s | %-*s | %-*s | %s\n' "$W1" "$name" "$W2" "$want" "$W3" "$got" "$verdict"
}

# sandbox ARGS...: usbox ARGS </dev/null; prints the command's last line, or
# how usbox itself ended when the command printed nothing.
sandbox() {
	local out rc err
	out=$(timeout -k 2 60 "$U" "$@" </dev/null 2>"$work/err")
	rc=$?
	out=$(tail -n1 <<<"$out")
	if [ -n "$out" ]; then echo "$out"; return 0; fi
	err=$(grep -m1 . "$work/err")
	case $rc in
	124) echo "usbox hung (killed after 60 s)" ;;
	*) echo "usbox exit $rc${err:+: $err}" ;;
	esac
}

# box [OPTS...] -- ATTEMPT [ARG...]: ATTEMPT in a sandbox (--net none unless OPTS name a network).
box() {
	local opts=() net=--net=none
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in --net | --net=*) net= ;; esac
		opts+=("$1")
		shift
	done
	shift
	sandbox ${net:+"$net"} "${opts[@]}" -- "$ATT" "$@"
}

# incwd DIR COMMAND...; withenv K=V COMMAND...
incwd() { local d=$1; shift; cd "$d" && "$@"; }
# shellcheck disable=SC2163 # (K=V)
withenv() { export "$1"; shift; "$@"; }

# nohost PATH COMMAND...: COMMAND's line, and whether PATH appeared on the host.
nohost() {
	local path=$1 out
	shift
	out=$("$@")
	if [ -e "$path" ]; then rm -f "$path"; echo "$out; REACHED THE HOST ($path)"; else echo "$out; host untouched"; fi
}

# unchanged PATH COMMAND...: COMMAND's line, and whether PATH was replaced or rewritten on the host.
unchanged() {
	local path=$1 before out
	shift
	before=$(stat -c '%i %s %.9Y' "$path" 2>/dev/null) || { echo "setup: $path does not exist on the host"; return 1; }
	out=$("$@")
	if [ "$(stat -c '%i %s %.9Y' "$path" 2>/dev/null)" != "$before" ]; then echo "$out; $path CHANGED ON THE HOST"; else echo "$out"; fi
}

wait_for() { local _; for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }

# A sandbox on $NET in the background (keeps the network's helper and its
# state up); XDG_RUNTIME_DIR as given.  Waits for the helper's socket.
hold_network() { # XDG|"" STATE_DIR
	if [ -n "$1" ]; then
		(cd "$work/cwd" && XDG_RUNTIME_DIR=$1 exec "$U" --net "$NET" -- sleep 600 </dev/null >/dev/null 2>&1) &
	else
		(cd "$work/cwd" && exec "$U" --net "$NET" -- sleep 600 </dev/null >/dev/null 2>&1) &
	fi
	held=$!
	bg_pids+=("$held")
	wait_for "$2/net-$NET/sock" || echo "setup: no helper socket at $2/net-$NET/sock" >&2
}
release() { kill "$held" 2>/dev/null; wait "$held" 2>/dev/null; }

# ---------------------------------------------------------------- row helpers
# cwd_private DIR: the sandbox started in DIR must not write to the host's DIR,
# and usbox says so in one line.
cwd_private() {
	local dir=$1 f=usbox-escape-probe.$$ out err n
	[ -d "$dir" ] || { echo "n/a: no $dir on this host"; return 3; }
	out=$(cd "$dir" && timeout -k 2 60 "$U" --net=none -- "$ATT" pwd-write "$f" </dev/null 2>"$work/err")
	n=$(grep -c '^usbox: ' "$work/err")
	err=$(wc -l <"$work/err")
	if [ -e "$dir/$f" ]; then
		rm -f "$dir/$f"
		echo "REACHED THE HOST ($out), $n usbox: line(s)"
	elif [ "$n" -eq 1 ] && [ "$err" -eq 1 ]; then
		echo "host untouched, one usbox: line"
	else
		echo "host untouched, $err stderr line(s), $n usbox: line(s)"
	fi
}

# bind_works: an explicit -v still binds read-write.
bind_works() {
	local out
	rm -f "$work/vol/f"
	out=$(box -v "$work/vol:/tmp/data" -- write /tmp/data/f)
	if [ -e "$work/vol/f" ]; then echo "$out, on the host"; else echo "$out, not on the host"; fi
}

# Host-side listeners on loopback, one a protocol; their ports in $work/l/P.port.
start_listeners() {
	local p
	for p in tcp4 udp4 tcp6 udp6 tcp4any; do
		"$ATT" listen "$p" "$work/l/$p" 900 &
		bg_pids+=($!)
	done
	for p in tcp4 udp4 tcp6 udp6 tcp4any; do wait_for "$work/l/$p.port"; done
}
port_of() { # PROTO: the listener's port, or fails with why
	local p
	p=$(cat "$work/l/$1.port" 2>/dev/null) || { echo "no $1 listener"; return 1; }
	[[ $p =~ ^[0-9]+$ ]] || { echo "no $1 listener on loopback ($p)"; return 1; }
	echo "$p"
}
arrivals() { [ -e "$work/l/$1" ] && wc -l <"$work/l/$1" || echo 0; }
# reached PROTO BEFORE OUT: OUT, and whether the listener saw anything new.
reached() {
	local n
	sleep 1
	n=$(arrivals "$1")
	if [ "$n" -gt "$2" ]; then echo "$3; reached the host: $(sed -n "$(($2 + 1))p" "$work/l/$1")"
	else echo "$3; nothing reached the host"; fi
}

# raw NET PROTO [DST [LISTENER]]: a hand-made PROTO frame to loopback (or DST,
# "gw": the gateway) from --root --cap-add NET_RAW ($RAW_OPTS), at the port of
# the host's LISTENER (PROTO's); did it reach that listener?
RAW_OPTS="--root --cap-add NET_RAW"
raw() {
	local net=$1 proto=$2 dst=${3:-} l=${4:-$2} port before out
	port=$(port_of "$l") || { echo "n/a: $port"; return 3; }
	before=$(arrivals "$l")
	out=$(box --net "$net" $RAW_OPTS -- rawframe "$proto" "$port" $dst)
	reached "$l" "$before" "$out"
}

# hostaddr NET: connect() to this host's own (non-loopback) address, at a
# listener on 0.0.0.0.
host_ip=$( (ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}'; hostname -I 2>/dev/null | tr ' ' '\n') |
	cut -d/ -f1 | grep -m1 -E '^[0-9.]+$')
hostaddr() {
	local net=$1 port before out
	[ -n "$host_ip" ] || { echo "n/a: this host has no global IPv4 address"; return 3; }
	port=$(port_of tcp4any) || { echo "n/a: $port"; return 3; }
	before=$(arrivals tcp4any)
	out=$(box --net "$net" -- connect "$host_ip" "$port")
	reached tcp4any "$before" "$out"
}

# gw NET [OPTS...]: connect() to the gateway's address at the tcp4 listener's port.
gw() {
	local net=$1 port before out
	shift
	port=$(port_of tcp4) || { echo "n/a: $port"; return 3; }
	before=$(arrivals tcp4)
	out=$(box --net "$net" "$@" -- connect-gw "$port")
	reached tcp4 "$before" "$out"
}

caps_all() { # the capability mask of every capability this kernel has
	printf '%x' $(( (1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1 ))
}

# ---- keyrings (the caller's session keyring holds $kid, "caller-secret-$$")
have_keys() {
	command -v keyctl >/dev/null || { echo "skip: keyctl not installed (Debian: keyutils)"; return 77; }
	[ -n "${kid:-}" ] || { echo "skip: could not make a session keyring with a key ($key_err)"; return 77; }
}
keys() { have_keys || return $?; "$@"; }
key_intact() { # COMMAND...: COMMAND's line, and whether the caller's key still holds its secret
	local out now
	have_keys || return $?
	out=$("$@")
	now=$(keyctl pipe "$kid" 2>&1)
	if [ "$now" = "caller-secret-$$" ]; then echo "$out; key intact"; else echo "$out; KEY NOW '$now'"; fi
}
key_planted() { # a key put inside must not show up in the caller's keyrings
	local out
	have_keys || return $?
	out=$(box -- key-put usbox-escape-planted.$$ planted)
	if keyctl search @s user "usbox-escape-planted.$$" >/dev/null 2>&1; then echo "$out; IN THE CALLER'S KEYRING"
	else echo "$out; not in the caller's keyring"; fi
}
key_session() { # OPTS...: the session keyring inside against the caller's
	local out serial n
	have_keys || return $?
	out=$(box "$@" -- key-session)
	read -r serial n <<<"$out"
	if ! [[ $serial =~ ^[0-9]+$ ]]; then echo "$out"
	elif [ "$serial" = "$caller_ring" ]; then echo "the caller's keyring ($n keys)"
	elif [ "$n" = 0 ]; then echo "a fresh, empty keyring"
	else echo "a fresh keyring with $n keys"; fi
}
key_exchange() { # OPTS...: sandbox A puts a key and stays; sandbox B looks for it
	local a b f=$work/key-a.$RANDOM
	have_keys || return $?
	timeout 30 "$U" --net=none "$@" -- "$ATT" key-put usbox-escape-x.$$ "from-a" 8 </dev/null >"$f" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.05; done
	a=$(head -n1 "$f")
	b=$(box "$@" -- key-get usbox-escape-x.$$)
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	echo "A ${a:-(nothing)}, B $b"
}

# ---- -w /proc/self/...: refused (125, one line), or run somewhere that is not the host's directory
workdir_probe() { # -w DIR [shell redirections done by the caller]
	local out rc err f=usbox-escape-wd.$$
	rm -f "$work/fdtarget/$f"
	out=$(timeout -k 2 60 "$U" --net=none -w "$1" -- "$ATT" pwd-write "$f" 2>"$work/err")
	rc=$?
	err=$(wc -l <"$work/err")
	if [ -e "$work/fdtarget/$f" ]; then rm -f "$work/fdtarget/$f"; echo "REACHED THE HOST: $out"
	elif [ "$rc" -eq 125 ] && [ "$err" -eq 1 ]; then echo "refused: exit 125, one line; host untouched"
	elif [ "$rc" -eq 0 ]; then echo "ran ($out); host untouched"
	else echo "exit $rc, $err stderr line(s); host untouched"; fi
}
wd_fd7() { exec 7<"$work/fdtarget"; workdir_probe /proc/self/fd/7 </dev/null; }
wd_stdin() { workdir_probe /proc/self/fd/0 <"$work/fdtarget"; }
wd_cwd() { cd "$work/fdtarget" && workdir_probe /proc/self/cwd </dev/null; }
leaked_fds() { exec 9</etc/passwd 8>"$work/f"; box -- fds; }

env_fifo() {
	local f=$work/env.fifo t0 t1 rc n
	mkfifo "$f"
	t0=$(date +%s%N)
	timeout -k 1 10 "$U" --net=none --env-file "$f" -- true </dev/null 2>"$work/err"
	rc=$?
	t1=$(date +%s%N)
	n=$(wc -l <"$work/err")
	if [ "$rc" -eq 124 ]; then echo "hung (killed after 10 s)"
	elif [ $(( (t1 - t0) / 1000000 )) -lt 2000 ] && [ "$rc" -eq 125 ] && [ "$n" -eq 1 ]; then echo "exit 125 within 2s, one line"
	else echo "exit $rc after $(( (t1 - t0) / 1000000 )) ms, $n line(s)"; fi
}

# ---- a real terminal (tmux, through tests/integration/lib.sh's tm_* helpers)
have_tmux() {
	command -v tmux >/dev/null || { echo "skip: tmux not installed"; return 77; }
	declare -F tm_start >/dev/null || { echo "skip: tests/integration/lib.sh (tm_*) not found"; return 77; }
}
stty_echo() { # [REDIRECTION]: `usbox -- stty -echo` typed at a shell in tmux
	have_tmux || return $?
	tm_start >/dev/null || { echo "tmux did not start"; return 1; }
	rm -f stty-after
	tm_send "cd $work/cwd; $U --net=none -- stty -echo ${1:-}; stty -a > stty-after; echo stty-done" &&
		tm_wait '^stty-done' 10 >/dev/null
	tm_stop
	if ! [ -s stty-after ]; then echo "no stty output"
	elif grep -Eq '(^| )-echo( |$)' stty-after; then echo "ECHO LEFT OFF in the caller's terminal"
	else echo "the caller's terminal still echoes"; fi
}
tiocsti_tty() {
	have_tmux || return $?
	tm_start >/dev/null || { echo "tmux did not start"; return 1; }
	tm_send "cd $work/cwd; $U --net=none -- $ATT tiocsti-stdin 'touch breach-marker' > tiocsti-out; echo tiocsti-done" &&
		tm_wait '^tiocsti-done' 10 >/dev/null
	sleep 0.5
	tm_stop
	if [ -e breach-marker ]; then echo "$(cat tiocsti-out); TYPED INTO THE CALLER'S SHELL"
	else echo "$(cat tiocsti-out 2>/dev/null || echo '(no output)'); nothing typed"; fi
}

suid_root() { # a setuid-root copy, made by --root, run as --uid 1000 (no_new_privs)
	local d=$tmpd/suid setup
	mkdir -p "$d" && chmod 755 "$d" && cd "$d" || return 1
	# With usbox's id maps, uid 1 inside a --root sandbox is uid 0 inside a --uid 1000 one.
	setup=$(sandbox --net=none --root -- sh -c "cp '$ATT' ./suid && chown 1:1 ./suid && chmod 4755 ./suid && echo made")
	[ "$setup" = made ] || { echo "setup: $setup"; return 1; }
	setup=$(sandbox --net=none --uid 1000 --gid 1000 -- stat -c '%u %a' ./suid)
	[ "$setup" = "0 4755" ] || { echo "setup: inside, ./suid is '$setup', not '0 4755'"; return 1; }
	sandbox --net=none --uid 1000 --gid 1000 -- ./suid euid
}

supervisor_exe() { bash -c 'exec "$0" --net=none -- "$1" exe $$ </dev/null 2>/dev/null' "$U" "$ATT"; }

host_process() { # SIGTERM to a host process by its pid
	sleep 60 &
	local pid=$! out
	out=$(box -- kill "$pid")
	if kill -0 "$pid" 2>/dev/null; then kill "$pid"; echo "$out"; else echo "$out; THE HOST PROCESS DIED"; fi
}

masked() { # PATH: the null device over a file, an empty read-only tmpfs over a directory
	[ -e "$1" ] || { echo "n/a: no $1 on this host"; return 3; }
	box -- mask "$1"
}
mask_want() {
	if [ -d "$1" ]; then echo "empty read-only tmpfs"; elif [ -e "$1" ]; then echo "null device"; else echo "null device|empty read-only tmpfs"; fi
}
ro_path() { # PATH: a write (as the shell's >) to PATH, or to the first file under the directory PATH
	local f=$1
	[ -e "$1" ] || { echo "n/a: no $1 on this host"; return 3; }
	[ -d "$1" ] && f=$(find "$1" -maxdepth 3 -type f 2>/dev/null | head -n1)
	[ -n "$f" ] || { echo "n/a: no file under $1 on this host"; return 3; }
	box -- write "$f"
}

# abi_probe NAME: sc NAME where the host kernel has the ABI at all (without
# i386 emulation, int $0x80 faults before any filter sees it; a kernel without
# x32 still passes x32 calls through the filter first, so that one always runs).
abi_probe() {
	local host
	host=$("$ATT" sc "$1" 2>&1)
	case $1:$host in
	int80-keyctl:"killed by SIGSEGV") echo "n/a: this kernel has no i386 system calls (IA32_EMULATION)"; return 3 ;;
	esac
	box -- sc "$1"
}

# ---------------------------------------------------------------- set-up
for lib in "$here/../lib.sh" "$here/../integration/lib.sh"; do
	# shellcheck source=/dev/null
	[ -f "$lib" ] && { . "$lib"; break; }
done

echo "escape: $("$U" --version 2>&1 | head -n1), as $(id -un), kernel $(uname -r)"
if ! err=$("$U" --net=none -- true 2>&1); then
	echo "FAIL: escape: usbox does not start a sandbox: $err"
	exit 1
fi
start_listeners
"$U" network rm "$NET" "$NETL" >/dev/null 2>&1
net_err=$("$U" network create "$NET" 2>&1 >/dev/null) && net_err= || net_err="usbox network create $NET: ${net_err:-failed}"
netl_err=$("$U" network create --allow-host-loopback "$NETL" 2>&1 >/dev/null) && netl_err= ||
	netl_err="usbox network create --allow-host-loopback $NETL: ${netl_err:-failed}"
# The caller's session keyring, with a key in it.
key_err=
if command -v keyctl >/dev/null; then
	if keyctl new_session >/dev/null 2>"$work/err"; then
		kid=$(keyctl add user usbox-escape-secret "caller-secret-$$" @s 2>"$work/err") || { kid=; key_err=$(cat "$work/err"); }
		caller_ring=$("$ATT" key-session | cut -d' ' -f1)
	else
		key_err="keyctl new_session: $(cat "$work/err")"
	fi
fi
state=/tmp/usbox-$me
touch /tmp/usbox-escape-marker.$$
mkdir -m 0700 /tmp/usbox-escape-tmux-$me.$$
"$ATT" listen "unix:/tmp/usbox-escape-tmux-$me.$$/default" "$work/l/tmux" 900 &
bg_pids+=($!)
"$ATT" listen "unix:@usbox-escape-$$" "$work/l/abstract" 900 &
bg_pids+=($!)
wait_for "$work/l/tmux.port" && wait_for "$work/l/abstract.port"
echo "hello" >"$HOME/usbox-escape-own.$$"
ln -s "$HOME/usbox-escape-target.$$" "$work/cwd/planted-link"

printf '%-*s | %-*s | %-*s | %s\n' "$W1" attempt "$W2" "how it must fail" "$W3" "what happened" ok/FAIL
line

# ================================================================ 1. the working directory and the covers
section "1. cwd bind and covers (state dir, runtime dirs, /tmp)"
[ -z "$net_err" ] && hold_network "" "$state"
row "cwd /tmp: the host's /tmp stays hidden"      ENOENT  incwd /tmp box -- stat /tmp/usbox-escape-marker.$$
row "cwd /tmp: connect to a tmux-like socket"     ENOENT  incwd /tmp box -- connect-unix /tmp/usbox-escape-tmux-$me.$$/default
row "cwd /tmp: write into the state dir"          "ENOENT; host untouched"  incwd /tmp nohost "$state/usbox-escape-probe" box -- write "$state/usbox-escape-probe"
row "cwd /tmp: replace net-NAME/sock (--root)"    ENOENT  incwd /tmp unchanged "$state/net-$NET/sock" box --root -- replace-sock "$state/net-$NET/sock"
row "cwd /tmp: rewrite net-NAME/hosts"            ENOENT  incwd /tmp unchanged "$state/net-$NET/hosts" box -- write "$state/net-$NET/hosts"
row "the host's abstract unix socket"             ECONNREFUSED  box --net slirp -- connect-unix "@usbox-escape-$$"
row "control: abstract socket, --net host"        ok      box --net host -- connect-unix "@usbox-escape-$$"
row "another sandbox's helper socket"             ENOENT  box -- connect-unix "$state/net-$NET/sock"
row "cwd /tmp: not shared writable"               "host untouched, one usbox: line"  cwd_private /tmp
row "cwd /var/tmp: not shared writable"           "host untouched, one usbox: line"  cwd_private /var/tmp
row "cwd /dev/shm: not shared writable"           "host untouched, one usbox: line"  cwd_private /dev/shm
row "cwd /run: not shared writable"               "host untouched, one usbox: line"  cwd_private /run
row "cwd \$HOME: not shared writable"             "host untouched, one usbox: line"  cwd_private "$HOME"
row "cwd an ancestor of \$HOME: not shared"       "host untouched, one usbox: line"  cwd_private "$(dirname "$HOME")"
[ -z "$net_err" ] && release

# A fake runtime directory (0700, ours) that is the cwd.
xdg1=$(mktemp -d /tmp/xdg-test.XXXXXX)
[ -z "$net_err" ] && hold_network "$xdg1" "$xdg1/usbox"
"$ATT" listen "unix:$xdg1/bus" "$work/l/bus1" 900 &
bg_pids+=($!)
wait_for "$work/l/bus1.port"
row "cwd = \$XDG_RUNTIME_DIR: write the state dir" "ENOENT; host untouched" incwd "$xdg1" withenv XDG_RUNTIME_DIR="$xdg1" nohost "$xdg1/usbox/usbox-escape-probe" box -- write "$xdg1/usbox/usbox-escape-probe"
row "cwd = \$XDG_RUNTIME_DIR: replace net sock"   ENOENT incwd "$xdg1" withenv XDG_RUNTIME_DIR="$xdg1" unchanged "$xdg1/usbox/net-$NET/sock" box --root -- replace-sock "$xdg1/usbox/net-$NET/sock"
row "cwd = \$XDG_RUNTIME_DIR: its bus socket"     ENOENT incwd "$xdg1" withenv XDG_RUNTIME_DIR="$xdg1" box -- connect-unix "$xdg1/bus"
[ -z "$net_err" ] && release

# A runtime directory under the cwd, and inside a -v bind at its own path.
d3=$tmpd/cwd3 xdg3=$tmpd/cwd3/xdg
mkdir -p "$d3" && chmod 755 "$d3" && mkdir -m 0700 "$xdg3"
[ -z "$net_err" ] && hold_network "$xdg3" "$xdg3/usbox"
"$ATT" listen "unix:$xdg3/bus" "$work/l/bus3" 900 &
bg_pids+=($!)
wait_for "$work/l/bus3.port"
row "XDG under the cwd: write the state dir"       "ENOENT; host untouched" incwd "$d3" withenv XDG_RUNTIME_DIR="$xdg3" nohost "$xdg3/usbox/usbox-escape-probe" box -- write "$xdg3/usbox/usbox-escape-probe"
row "XDG under the cwd: replace net sock (--root)" ENOENT incwd "$d3" withenv XDG_RUNTIME_DIR="$xdg3" unchanged "$xdg3/usbox/net-$NET/sock" box --root -- replace-sock "$xdg3/usbox/net-$NET/sock"
row "XDG under the cwd: its bus socket"            ENOENT incwd "$d3" withenv XDG_RUNTIME_DIR="$xdg3" box -- connect-unix "$xdg3/bus"
row "XDG inside -v DIR:DIR: its bus socket"        ENOENT withenv XDG_RUNTIME_DIR="$xdg3" box -v "$d3:$d3" -- connect-unix "$xdg3/bus"
row "explicit -v \$HOME/x:/tmp/data still works"   "ok, on the host"  bind_works
[ -z "$net_err" ] && release

# The real /run/user/UID, where there is one (run.sh makes it for usbox-test).
rt=/run/user/$me
if [ -d "$rt" ] && [ "$(stat -c %u:%a "$rt")" = "$me:700" ]; then
	[ -z "$net_err" ] && hold_network "$rt" "$rt/usbox"
	rt_probe=$rt/usbox-escape-bus.$$
	"$ATT" listen "unix:$rt_probe" "$work/l/busrt" 900 &
	bg_pids+=($!)
	wait_for "$work/l/busrt.port"
	row "cwd /run/user/UID: write the state dir"      "ENOENT; host untouched" incwd "$rt" withenv XDG_RUNTIME_DIR="$rt" nohost "$rt/usbox/usbox-escape-probe" box -- write "$rt/usbox/usbox-escape-probe"
	row "cwd /run/user/UID: replace net sock (--root)" ENOENT incwd "$rt" withenv XDG_RUNTIME_DIR="$rt" unchanged "$rt/usbox/net-$NET/sock" box --root -- replace-sock "$rt/usbox/net-$NET/sock"
	row "cwd /run/user/UID: a socket there"           ENOENT incwd "$rt" withenv XDG_RUNTIME_DIR="$rt" box -- connect-unix "$rt_probe"
	row "cwd /run/user/UID: not shared writable"      "host untouched, one usbox: line" withenv XDG_RUNTIME_DIR="$rt" cwd_private "$rt"
	[ -z "$net_err" ] && release
else
	no_rt() { echo "skip: no private $rt (no login session here; tests/integration/run.sh makes one as root)"; return 77; }
	row "cwd /run/user/UID: write the state dir"      ENOENT no_rt
	row "cwd /run/user/UID: a socket there"           ENOENT no_rt
fi

# ================================================================ 2. the host's loopback
section "2. host loopback (raw frames, the gateway), capabilities"
need_net() { [ -z "$net_err" ] || { echo "$net_err"; return 1; }; "$@"; }
need_netl() { [ -z "$netl_err" ] || { echo "$netl_err"; return 1; }; "$@"; }
NOTHING="sent; nothing reached the host"
row "raw TCP SYN to 127.0.0.1 (slirp)"            "$NOTHING"  raw slirp tcp4
row "raw UDP to 127.0.0.1 (slirp)"                "$NOTHING"  raw slirp udp4
row "raw TCP SYN to ::1 (slirp)"                  "$NOTHING"  raw slirp tcp6
row "raw UDP to ::1 (slirp)"                      "$NOTHING"  raw slirp udp6
row "raw TCP SYN to 127.0.0.1 (user network)"     "$NOTHING"  need_net raw "$NET" tcp4
row "raw UDP to 127.0.0.1 (user network)"         "$NOTHING"  need_net raw "$NET" udp4
row "raw TCP SYN to ::1 (user network)"           "$NOTHING"  need_net raw "$NET" tcp6
row "raw UDP to ::1 (user network)"               "$NOTHING"  need_net raw "$NET" udp6
row "raw TCP SYN to 0.0.0.0 (slirp)"               "$NOTHING"  raw slirp tcp4 0.0.0.0
row "raw SYN to ::ffff:127.0.0.1 (slirp)"         "$NOTHING"  raw slirp tcp6 ::ffff:127.0.0.1 tcp4
row "raw SYN to 10.0.2.2 (slirp)"                 "$NOTHING"  raw slirp tcp4 10.0.2.2
row "raw SYN to ::ffff:127.0.0.1 (user network)"  "$NOTHING"  need_net raw "$NET" tcp6 ::ffff:127.0.0.1 tcp4
row "raw SYN to the gateway (user network)"       "$NOTHING"  need_net raw "$NET" tcp4 gw
row "connect to 10.0.2.2 (slirp)"                 "(ECONNREFUSED|ENETUNREACH); nothing reached the host"  gw slirp
row "connect to the gateway (user network)"       "(ECONNREFUSED|ENETUNREACH); nothing reached the host"  need_net gw "$NET"
row "connect to this host's address (slirp)"      "(EHOSTUNREACH|ECONNREFUSED|ENETUNREACH); nothing reached the host"  hostaddr slirp
row "connect to this host's address (user net)"   "(EHOSTUNREACH|ECONNREFUSED|ENETUNREACH); nothing reached the host"  need_net hostaddr "$NET"
row "control: 10.0.2.2 with allow_host_loopback"  "ok; reached the host: connection from 127.0.0.1:[0-9]+"  gw slirp:allow_host_loopback
REACHED4="sent; reached the host: connection from 127.0.0.1:[0-9]+" REACHED6="sent; reached the host: connection from ::1:[0-9]+"
REACHEDU4="sent; reached the host: datagram from 127.0.0.1:[0-9]+: usbox-escape" REACHEDU6="sent; reached the host: datagram from ::1:[0-9]+: usbox-escape"
row "control: raw SYN to 10.0.2.2, loopback allowed" "$REACHED4"  raw slirp:allow_host_loopback tcp4 10.0.2.2
row "control: raw UDP to 10.0.2.2, loopback allowed" "$REACHEDU4" raw slirp:allow_host_loopback udp4 10.0.2.2
row "control: raw SYN to fd00::2, loopback allowed"  "$REACHED6"  raw slirp:allow_host_loopback tcp6 fd00::2
row "control: raw UDP to fd00::2, loopback allowed"  "$REACHEDU6" raw slirp:allow_host_loopback udp6 fd00::2
row "control: this host's address, loopback allowed" "ok; reached the host: connection from [0-9.]+:[0-9]+"  hostaddr slirp:allow_host_loopback
row "control: raw SYN to gw, user net + loopback" "$REACHED4" need_netl raw "$NETL" tcp4 gw
row "control: raw UDP fd00::1, user net + loopback" "$REACHEDU6" need_netl raw "$NETL" udp6 fd00::1
row "--root (no --cap-add): raw SYN to 127.0.0.1"  "EPERM; nothing reached the host"  withenv RAW_OPTS=--root raw slirp tcp4
row "--root: podman's 11 capabilities"            "Inh=0 Prm=800405fb Eff=800405fb Bnd=800405fb Amb=0"  box --root -- caps
row "non-root: no capabilities at all"            "Inh=0 Prm=0 Eff=0 Bnd=0 Amb=0"  box -- caps
row "--root --cap-drop ALL"                       "Inh=0 Prm=0 Eff=0 Bnd=0 Amb=0"  box --root --cap-drop ALL -- caps
row "--root --cap-add ALL: no ambient/inheritable" "Inh=0 Prm=$(caps_all) Eff=$(caps_all) Bnd=$(caps_all) Amb=0"  box --root --cap-add ALL -- caps

# ================================================================ 3. the caller's keyring
section "3. keyring"
row "read the caller's key"                       EPERM   keys box -- key-read "${kid:-0}"
row "overwrite the caller's key"                  "EPERM; key intact"  key_intact box -- key-update "${kid:-0}" forged
row "plant a key in the session keyring"          "EPERM; not in the caller's keyring"  key_planted
row "two --net none sandboxes share a key"        "A EPERM, B EPERM"  key_exchange
row "unconfined: the session keyring inside"      "a fresh, empty keyring"  key_session --seccomp unconfined
row "unconfined: read the caller's key"           "EACCES|ENOKEY"  keys box --seccomp unconfined -- key-read "${kid:-0}"
row "unconfined: overwrite the caller's key"      "(EACCES|ENOKEY); key intact"  key_intact box --seccomp unconfined -- key-update "${kid:-0}" forged
row "unconfined: two sandboxes share a key"       "A ok, B ENOKEY"  key_exchange --seccomp unconfined

# ================================================================ 4. -w /proc/self/..., inherited fds
section "4. workdir through /proc magic links, inherited fds"
WD="refused: exit 125, one line; host untouched|ran \\(cwd=/[^;]*\\); host untouched"
row "-w /proc/self/fd/7 (the caller's dir fd)"    "$WD"   wd_fd7
row "-w /proc/self/fd/0 (stdin a directory)"      "$WD"   wd_stdin
row "-w /proc/self/cwd"                           "$WD"   wd_cwd
row "inherited fds 8, 9: /proc/self/fd"           "0 1 2" leaked_fds

# ================================================================ smaller ones
section "5. env-file, terminal, /dev/shm, /tmp"
row "--env-file on a FIFO"                        "exit 125 within 2s, one line"  env_fifo
row "stty -echo at a terminal"                    "the caller's terminal still echoes"  stty_echo
row "stty -echo, stdout not a terminal (no pty)"  "the caller's terminal still echoes"  stty_echo ">/dev/null"
row "TIOCSTI into the caller's terminal (no -t)"  "EPERM; nothing typed"  tiocsti_tty
row "/dev/shm: 64M by default"                    "tmpfs 67108864"  box -- fs /dev/shm
row "/dev/shm: --shm-size 1M"                     "tmpfs 1048576"   box --shm-size 1M -- fs /dev/shm
row "/tmp is a tmpfs"                             "tmpfs [0-9]+"    box -- fs /tmp

# ================================================================ seccomp
section "6. the default seccomp filter: each call for real"
row "seccomp: filter mode"                        2       box -- status Seccomp
for sc in keyctl add_key request_key bpf perf_event_open userfaultfd io_uring_setup kexec_load init_module \
	finit_module delete_module open_by_handle_at name_to_handle_at acct swapon reboot settimeofday clock_settime \
	adjtimex pivot_root mount umount2 fsopen open_tree move_mount mount_setattr setns unshare-user unshare-ns \
	clone-user personality tiocsti tioclinux tiocsti-hibit; do
	row "seccomp: $sc"                            EPERM   box -- sc "$sc"
done
row "seccomp: clone3 (libc falls back)"           ENOSYS  box -- sc clone3
row "seccomp: i386 int \$0x80 keyctl"             EPERM   abi_probe int80-keyctl
row "seccomp: x32 keyctl (ENOSYS: not filtered)"  EPERM   abi_probe x32-keyctl
row "--nested: unshare(CLONE_NEWUSER)"            ok      box --nested -- sc unshare-user
row "control: keyctl, --seccomp unconfined"       ok      box --seccomp unconfined -- sc keyctl
row "control: mount, --seccomp unconfined"        ENOENT  box --seccomp unconfined -- sc mount

# ================================================================ masked and read-only paths
section "7. masked and read-only paths"
for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats \
	/proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
	row "masked: $p"                              "$(mask_want "$p")"  masked "$p"
done
row "read-only: /proc/sys/kernel/hostname"        EROFS   ro_path /proc/sys/kernel/hostname
row "read-only: /proc/sysrq-trigger"              EROFS   ro_path /proc/sysrq-trigger
row "read-only: /proc/irq (a file in it)"         EROFS   ro_path /proc/irq
row "read-only: /proc/bus (a file in it)"         EROFS   ro_path /proc/bus
row "read-only: /proc/fs (a file in it)"          EROFS   ro_path /proc/fs
row "no_new_privs"                                1       box -- status NoNewPrivs

# ================================================================ the classics
section "8. classics: host files, processes, mounts, setuid"
row "write /etc"                                  "EROFS; host untouched"  nohost /etc/usbox-escape box -- write /etc/usbox-escape
row "write /usr"                                  "EROFS; host untouched"  nohost /usr/usbox-escape box -- write /usr/usbox-escape
row "write \$HOME: the throw-away layer"          "ok; host untouched"     nohost "$HOME/usbox-escape-probe.$$" box -- write "$HOME/usbox-escape-probe.$$"
row "write \$HOME, --ro-home"                     "EROFS; host untouched"  nohost "$HOME/usbox-escape-probe.$$" box --ro-home -- write "$HOME/usbox-escape-probe.$$"
row "symlink planted in the cwd -> \$HOME"        "ok; host untouched"     nohost "$HOME/usbox-escape-target.$$" box -- write planted-link
row "symlink in the cwd -> \$HOME, --ro-home"     "EROFS; host untouched" nohost "$HOME/usbox-escape-target.$$" box --ro-home -- write planted-link
row "write /proc/self/root/usr"                   "EROFS; host untouched"  nohost /usr/usbox-escape box -- write /proc/self/root/usr/usbox-escape
row "write /proc/self/root\$HOME, --ro-home"      "EROFS; host untouched"  nohost "$HOME/usbox-escape-probe.$$" box --ro-home -- write "/proc/self/root$HOME/usbox-escape-probe.$$"
row "hard link from the cwd to a host file"       "EXDEV|EROFS"  box -- link "$HOME/usbox-escape-own.$$" hardlink
row "read /etc/shadow"                            EACCES  box -- read /etc/shadow
row "see host processes (/proc)"                  "1 2"   box -- pids
row "signal a host process by pid"                ESRCH   host_process
row "ptrace the init (pid 1)"                     EPERM   box -- ptrace 1
row "open /proc/1/mem"                            EACCES  box -- open-mem 1
row "/proc/<supervisor>/exe"                      ENOENT  supervisor_exe
row "mount a tmpfs as --root"                     EPERM   box --root -- mount-real /tmp
row "setuid-root copy run as --uid 1000"          "euid=1000"  suid_root

# ================================================================ 9. containers
section "9. containers: usbox exec, their state"
# ebox ATTEMPT [ARG...]: the attempt through usbox exec into a detached container
ebox() {
	if ! "$U" inspect "escd$$" >/dev/null 2>&1; then
		(cd "$work/cwd" && "$U" run -d --name "escd$$" --net none -- sleep 600 >/dev/null 2>&1) || { echo "no container"; return 0; }
	fi
	exec 9</etc/passwd 8>"$work/f" # (not to be passed on)
	sandbox exec "escd$$" "$ATT" "$@"
}
ctr_dir() { echo "${XDG_DATA_HOME:-$HOME/.local/share}/usbox/store/containers/$("$U" inspect "escd$$" | sed -n 's/^ *"Id":"\(.*\)",$/\1/p')"; }
row "exec: read the caller's key"                EPERM   keys ebox key-read "${kid:-0}"
row "exec: no_new_privs"                          1       ebox status NoNewPrivs
row "exec: effective capabilities (non-root)"     0000000000000000  ebox status CapEff
row "exec: inherited fds 8, 9"                    "0 1 2" ebox fds
row "exec: ptrace the init (pid 1)"               EPERM   ebox ptrace 1
row "exec: open /proc/1/mem"                      EACCES  ebox open-mem 1
row "exec: the runtime state (run.json, attach)"  ENOENT  ebox stat "$state/containers"
row "exec: the container's spec.json"             ENOENT  ebox read "$(ctr_dir)/spec.json"
row "exec: rewrite the container's state.json"    ENOENT  unchanged "$(ctr_dir)/state.json" ebox write "$(ctr_dir)/state.json"
# joining_watched: a process of the container watches for `usbox exec` joining
# it (slowed by a long PATH to search) and tries ptrace and /proc/PID/exe,
# cwd, root, fd, mem on it before it executes (attempts watch-join)
joining_watched() {
	ebox pids >/dev/null || return 0
	local stop="$work/cwd/join-stop" i
	rm -f "$stop"
	( cd "$work/cwd" && timeout 120 "$U" exec "escd$$" "$ATT" watch-join 100 "$stop" 2>/dev/null ) >"$work/watch" &
	local w=$!
	sleep 0.5
	for i in $(seq 12); do "$U" exec -e "PATH=$(printf '/n/%d:' $(seq 10000))/usr/bin:/bin" "escd$$" true >/dev/null 2>&1; done
	touch "$stop"
	wait $w
	cat "$work/watch"
}
row "exec: ptrace or /proc/PID/* of one joining"  "EPERM|EACCES"  joining_watched

# ================================================================ 10. -p: direct ports
section "10. -p: the server's sockets of the host's namespace"
# With direct ports the server inside holds the host's listener and what it
# accepts there (sockets of the host's network namespace).  pf WHAT: a server
# (attempts pf-serve) behind -p HP:7100 is reached from here, then tries WHAT
# on those sockets against the host's tcp4 listener on 127.0.0.1; the line
# says "direct" first only when the server's listener has the host's port.
pf() {
	local what=$1 hp tp before out k b
	[ -n "$NO_DIRECT" ] && { echo "n/a: $NO_DIRECT"; return 3; }
	tp=$(port_of tcp4) || { echo "n/a: $tp"; return 3; }
	hp=$("$ATT" free-port)
	[[ $hp =~ ^[0-9]+$ ]] || { echo "setup: free-port: $hp"; return 1; }
	before=$(arrivals tcp4)
	box --net slirp -p "$hp:7100" -- pf-serve "$hp" 7100 "$what" "$tp" >"$work/pf.out" &
	b=$!
	k=$("$ATT" knock "$hp" 30)
	wait $b
	out=$(cat "$work/pf.out")
	[ "$k" = ok ] || out="$out (knock: $k)"
	reached tcp4 "$before" "$out"
}
# pf_exec WHAT: the same WHAT from a process `usbox exec` started in a
# detached container whose server handed it its sockets (SCM_RIGHTS).
pf_exec() {
	local what=$1 hp tp before out k kp name=escpf$$
	[ -n "$NO_DIRECT" ] && { echo "n/a: $NO_DIRECT"; return 3; }
	tp=$(port_of tcp4) || { echo "n/a: $tp"; return 3; }
	hp=$("$ATT" free-port)
	[[ $hp =~ ^[0-9]+$ ]] || { echo "setup: free-port: $hp"; return 1; }
	"$U" rm -f "$name" >/dev/null 2>&1
	(cd "$work/cwd" && "$U" run -d --name "$name" --net slirp -p "$hp:7100" -- "$ATT" pf-serve "$hp" 7100 hold "$tp" /tmp/pf.sock \
		</dev/null >/dev/null 2>"$work/err") || { echo "no container: $(head -n1 "$work/err")"; return 0; }
	"$ATT" knock "$hp" 60 >"$work/knock" &
	kp=$!
	for _ in $(seq 200); do [ -s "$work/knock" ] && break; sleep 0.1; done
	k=$(cat "$work/knock")
	before=$(arrivals tcp4)
	out=$(sandbox exec "$name" "$ATT" pf-steal /tmp/pf.sock "$hp" "$what" "$tp")
	"$U" rm -f "$name" >/dev/null 2>&1
	kill "$kp" 2>/dev/null; wait "$kp" 2>/dev/null
	[ "$k" = ok ] || out="$out (knock: ${k:-none})"
	reached tcp4 "$before" "$out"
}
# pf_i386 HANDLER: i386 connect(), direct and through socketcall(), in a
# sandbox with -p of HANDLER (where the host kernel runs i386 code at all).
pf_i386() {
	local hp
	[ "$1" = direct ] && [ -n "$NO_DIRECT" ] && { echo "n/a: $NO_DIRECT"; return 3; }
	[ "$("$ATT" sc int80-keyctl 2>&1)" = "killed by SIGSEGV" ] && { echo "n/a: this kernel has no i386 system calls (IA32_EMULATION)"; return 3; }
	hp=$("$ATT" free-port)
	box --net slirp -p "$hp:7100" --port-handler "$1" -- sc int80-connect
}
PFN="; nothing reached the host"
# Direct ports need Landlock's network rules (usbox doctor: direct_ports).
NO_DIRECT=
"$U" doctor 2>/dev/null | grep -q '^ok .*Direct -p ports' || NO_DIRECT="no direct ports on this kernel (usbox doctor: direct_ports)"
E="E[A-Z0-9]+"
row "direct: disconnect the accepted socket"      "direct; EPERM, $E$PFN"  pf unspec
row "direct: shutdown(listener, SHUT_RD), connect" "direct; EPERM, $E, $E$PFN"  pf shut-rd
row "direct: shutdown(listener, SHUT_RDWR)"       "direct; EPERM, $E, $E$PFN"  pf shut-rdwr
row "direct: shutdown(listener, 1<<32|SHUT_RD)"   "direct; EPERM, $E, $E$PFN"  pf shut-rd-hi
row "direct: TCP Fast Open (sendto/msg/mmsg)"     "direct; EOPNOTSUPP, EOPNOTSUPP, EOPNOTSUPP, (EOPNOTSUPP|EISCONN)$PFN"  pf fastopen
row "direct: listen() on the accepted socket"     "direct; EPERM, ok$PFN"  pf listen
# (a unix socket's connect goes on in the kernel: the race may disconnect the
# host socket, which then can do nothing more - docs/SECURITY.md)
row "direct: race: fd flipped under connect"      "direct; ([0-9]{3,} tries, the host socket kept its connection|the host socket left its connection after [0-9]+ tries, and took no port)$PFN"  pf race
row "direct: i386 connect, socketcall(CONNECT)"  ENOSYS  pf_i386 direct
row "control: i386 connect, relayed -p"           EBADF   pf_i386 relay
row "direct: the host's interfaces (SIOCGIFCONF)" "direct; (EPERM|the sandbox's own interfaces)$PFN"  pf ifconf
row "direct: the host's interfaces (socket options)" "direct; EPERM, EPERM, EPERM, EPERM$PFN"  pf ifindex
row "direct: another protocol over TCP (TCP_ULP)"  "direct; EPERM, EPERM$PFN"  pf ulp
row "exec: disconnect a server's accepted socket" "direct; EPERM, $E$PFN"  pf_exec unspec
row "exec: shutdown(a server's listener, SHUT_RD)" "direct; EPERM, $E, $E$PFN"  pf_exec shut-rd
row "exec: TCP Fast Open on a server's socket"    "direct; EOPNOTSUPP, EOPNOTSUPP, EOPNOTSUPP, (EOPNOTSUPP|EISCONN)$PFN"  pf_exec fastopen
row "exec: listen() on a server's accepted socket" "direct; EPERM, (ok|EPERM)$PFN"  pf_exec listen
row "exec: race on a server's accepted socket"    "direct; ([0-9]{3,} tries, the host socket kept its connection|the host socket left its connection after [0-9]+ tries, and took no port)$PFN"  pf_exec race

line
if [ ${#skips[@]} -gt 0 ]; then
	echo "not run:"
	printf '  %s\n' "${skips[@]}"
fi
[ ${#failures[@]} -gt 0 ] && echo "failed: $(printf '%s; ' "${failures[@]}")"
[ "$skipped" -gt 0 ] || [ "$na" -gt 0 ] && echo "escape: $skipped skipped, $na n/a"
echo "escape: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
