# Sourced by tests/integration/run.sh and bench/run.sh: test users and staging.

# ensure_user NAME SUBID_START: create NAME (no range by default) and give it
# exactly one 65536-id range at SUBID_START, or none when SUBID_START is empty.
ensure_user() {
	local name=$1 start=$2 f
	id "$name" >/dev/null 2>&1 || useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$name" ||
		{ echo "cannot create user $name" >&2; return 1; }
	local home
	home=$(getent passwd "$name" | cut -d: -f6)
	[ -d "$home" ] || install -d -m 0755 -o "$name" -g "$name" "$home" # (a fresh /home in the test VM)
	for f in /etc/subuid /etc/subgid; do
		touch "$f"
		sed -i "/^$name:/d" "$f"
		if [ -n "$start" ]; then echo "$name:$start:65536" >>"$f"; fi
	done
}

# stage_dir: a fresh directory every user can read, removed on exit.
stage_dir() {
	local d
	d=$(mktemp -d /tmp/usbox-check.XXXXXX) && chmod 0755 "$d" && echo "$d"
}

# as_user USER CMD...: run CMD as USER in USER's home with a clean login
# environment (inside network namespace $USBOX_NETNS when that is set).
as_user() {
	local user=$1 home
	shift
	home=$(getent passwd "$user" | cut -d: -f6)
	(cd "$home" && ${USBOX_NETNS:+ip netns exec "$USBOX_NETNS"} setpriv --reuid="$user" --regid="$user" --init-groups \
		env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin \
		LANG=C.UTF-8 TERM="${TERM:-xterm}" ${USBOX_ENV:-} "$@")
}
