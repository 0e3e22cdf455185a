#!/usr/bin/env bash
# Installs what building and testing usbox needs on Debian/Ubuntu (apt-get),
# through sudo when not root.  Does nothing when everything is there.
set -eu
build_pkgs="gcc make pkg-config libc6-dev libcap-ng-dev libnl-3-dev libnl-route-3-dev libsystemd-dev libslirp-dev libseccomp-dev libjson-c-dev libarchive-dev libssl-dev"
test_pkgs="check uidmap keyutils bubblewrap iproute2 procps util-linux passwd tmux python3 curl wget dnsmasq-base libslirp0 libarchive13 libssl3 umoci skopeo busybox-static"
# the cgroup v2 VM tests (tests/vm): QEMU, a kernel to boot, busybox for its initramfs,
# and systemd with a D-Bus user session for the --systemd mode
vm_pkgs="qemu-system-x86 linux-image-amd64 busybox-static kmod cpio xz-utils systemd dbus-user-session"
missing=()
for p in $build_pkgs $test_pkgs $vm_pkgs ${USBOX_EXTRA_PKGS:-}; do
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
