#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what usbox needs on Debian/Ubuntu (apt-get), through sudo when not
# root.  Does nothing when everything is there.
#
#   tests/install-deps.sh          building and running usbox (make deps, make run)
#   tests/install-deps.sh --test   that, and what make check needs (make deps-test)
set -eu
# Building.  The -dev packages also bring the libraries usbox loads at run time
# with dlopen(): libslirp0 (--net slirp, user networks), libarchive13 and
# libssl3 (images), libjson-c5 and libseccomp2 (--seccomp FILE, JSON),
# libsystemd0 (limits through the user manager); Debian 13 names some of them
# ...t64, so they are not listed by name.
build_pkgs="gcc make pkg-config libc6-dev libcap-ng-dev libnl-3-dev libnl-route-3-dev libsystemd-dev libslirp-dev libseccomp-dev libjson-c-dev libarchive-dev libssl-dev"
# Running: newuidmap and newgidmap, for a full id map.
run_pkgs="uidmap"
# make check: the integration and escape tests' tools (the test images are
# made with umoci, skopeo and busybox-static; groff checks the man page)
test_pkgs="check keyutils bubblewrap iproute2 nftables procps util-linux passwd tmux python3 curl wget dnsmasq-base umoci skopeo busybox-static groff-base fuse-overlayfs"
# usbox-oci's engines: rootless podman (conmon; runc beside it; slirp4netns for -p) and containerd (ctr)
test_pkgs="$test_pkgs podman conmon runc slirp4netns containerd"
# the cgroup v2 VM tests (tests/vm): QEMU, a kernel to boot, busybox for its initramfs,
# and systemd with a D-Bus user session for the --systemd mode
vm_pkgs="qemu-system-x86 linux-image-amd64 busybox-static kmod cpio xz-utils systemd dbus-user-session"

want="$build_pkgs $run_pkgs"
case ${1:-} in
"") ;;
--test) want="$want $test_pkgs $vm_pkgs" ;;
*) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac
missing=()
for p in $want ${USBOX_EXTRA_PKGS:-}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "as root, run: apt-get install ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
