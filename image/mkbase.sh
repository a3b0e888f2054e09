#!/usr/bin/env bash
# mkbase.sh ARCH PACKAGES OUT.tar: the image's base root filesystem, a
# Debian system for ARCH (arm64 or armhf) from Debian's archive, as a
# tarball. Run by image/build.sh when its cache has no base for the current
# key (see there); needs root, mmdebstrap and qemu-user-static with binfmt
# enabled for a foreign ARCH.
#
# Environment: IMAGE_SUITE (bookworm), IMAGE_MIRROR (the Debian archive's
# URI, or a snapshot of it; build.sh defaults it to the one this machine's
# apt uses), IMAGE_SECURITY_MIRROR (the security suite's archive; empty:
# none), SOURCE_DATE_EPOCH (timestamps in the tarball).
#
# Kept out of the base: initramfs-tools' own initrd (update-initramfs is
# diverted to a no-op: under emulation mkinitramfs takes many minutes, and
# image/build.sh makes a small initrd itself), the SSH host keys and the
# machine id (made on the device at first boot).
set -euo pipefail

arch=${1:?usage: mkbase.sh ARCH PACKAGES OUT.tar}
pkgfile=${2:?usage: mkbase.sh ARCH PACKAGES OUT.tar}
out=${3:?usage: mkbase.sh ARCH PACKAGES OUT.tar}
suite=${IMAGE_SUITE:-bookworm}
mirror=${IMAGE_MIRROR:?set IMAGE_MIRROR (image/build.sh does)}
security=${IMAGE_SECURITY_MIRROR-}
: "${SOURCE_DATE_EPOCH:?set SOURCE_DATE_EPOCH}"
export SOURCE_DATE_EPOCH

components=main,non-free-firmware
pkgs=$(grep -v '^[[:space:]]*\(#\|$\)' "$pkgfile" | sort -u | paste -sd, -)

sources=("deb $mirror $suite ${components//,/ }" "deb $mirror $suite-updates ${components//,/ }")
if [ -n "$security" ]; then
  sources+=("deb $security $suite-security ${components//,/ }")
fi

tmp=$out.tmp
rm -f "$tmp"
# A clean environment for the chroot's maintainer scripts.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
  mmdebstrap --mode=root --variant=minbase --arch="$arch" \
  --components="$components" --format=tar \
  --include="$pkgs" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --essential-hook='chroot "$1" dpkg-divert --local --rename --divert /usr/sbin/update-initramfs.real --add /usr/sbin/update-initramfs' \
  --essential-hook='printf "#!/bin/sh\n# edgemq image: the initrd is made by image/build.sh\nexit 0\n" >"$1/usr/sbin/update-initramfs" && chmod 0755 "$1/usr/sbin/update-initramfs"' \
  --customize-hook='chroot "$1" groupadd --system gpio' \
  --customize-hook='chroot "$1" groupadd --system i2c' \
  --customize-hook='chroot "$1" useradd --system --user-group --no-create-home --home-dir /var/lib/edgemq --shell /usr/sbin/nologin --comment "edgemq gateway" --groups dialout,gpio,i2c edgemq' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service ssh.service avahi-daemon.service' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='rm -f "$1"/var/lib/dbus/machine-id; : >"$1/etc/machine-id"' \
  --customize-hook='rm -f "$1"/boot/firmware/* "$1"/var/cache/ldconfig/aux-cache "$1"/var/log/*.log "$1"/var/log/apt/* "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
  --customize-hook='chroot "$1" dpkg-query -W -f="\${Package} \${Version} \${Architecture}\n" >"$1/usr/share/edgemq-image-packages.txt"' \
  "$suite" "$tmp" "${sources[@]}"
mv -f "$tmp" "$out"
