#!/usr/bin/env bash
# build.sh: the SD card image dist/edgemq-VERSION-ARCH.img (make image).
#
#   1. base root filesystem: a Debian system from Debian's archive
#      (image/mkbase.sh, mmdebstrap under qemu-user-static), cached as
#      CACHE/base-ARCH-SUITE-KEY.tar, KEY a hash of the package list, the
#      suite, the mirrors and mkbase.sh; IMAGE_BASE_REFRESH=1 rebuilds it
#   2. the image's root: the base, image/rootfs/, the edgemq binary, unit
#      and configuration, a small initrd (busybox and the root device's
#      modules)
#   3. the disk image, without loop mounts: sfdisk partition table, FAT boot
#      partition filled with mtools, ext4 root and data made with
#      mkfs.ext4 -d
#
# Reproducible: the same inputs (base tarball, binary, these files,
# VERSION, SOURCE_DATE_EPOCH) give the same image, byte for byte: fixed
# timestamps, sorted file lists, UUIDs and volume ids derived from VERSION.
#
# Environment (the Makefile passes them): IMAGE_ARCH (arm64), VERSION, BIN
# (the edgemq binary; default dist/edgemq-linux-ARCH), DIST (dist),
# IMAGE_CACHE (DIST/image-cache), SOURCE_DATE_EPOCH (default: the last
# commit's time), IMAGE_SUITE, IMAGE_MIRROR, IMAGE_SECURITY_MIRROR,
# IMAGE_BASE_REFRESH, IMAGE_BASE_EPOCH (the base's SOURCE_DATE_EPOCH,
# default 1704067200). Runs as root (the root filesystem's owners).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"

arch=${IMAGE_ARCH:-arm64}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
dist=${DIST:-dist}
cache=${IMAGE_CACHE:-$dist/image-cache}
suite=${IMAGE_SUITE:-bookworm}
export IMAGE_SUITE=$suite
# apt_mirror SUITE: the Debian archive this machine's apt uses for SUITE
# (the image comes from the same place as the machine's own packages).
apt_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk -v s="$1" '$2 == s { sub(/\/$/, "", $1); print $1; exit }'
}
IMAGE_MIRROR=${IMAGE_MIRROR:-$(apt_mirror "$suite")}
if [ -z "$IMAGE_MIRROR" ]; then
  echo "build.sh: this machine's apt sources have no Debian archive for $suite; set IMAGE_MIRROR" >&2
  exit 1
fi
export IMAGE_MIRROR
export IMAGE_SECURITY_MIRROR=${IMAGE_SECURITY_MIRROR-$(apt_mirror "$suite-security")}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)
fi
export SOURCE_DATE_EPOCH
sde=$SOURCE_DATE_EPOCH
export LC_ALL=C TZ=UTC

case $arch in
arm64) binarch=arm64 qemu=aarch64 ;;
armhf) binarch=armv7 qemu=arm ;;
*) echo "build.sh: IMAGE_ARCH must be arm64 or armhf" >&2; exit 2 ;;
esac
bin=${BIN:-$dist/edgemq-linux-$binarch}
pkgfile=$here/packages-$arch.txt
out=$dist/edgemq-$version-$arch.img

say() { echo "image: $*"; }
die() { echo "image: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (the root filesystem's files belong to root and edgemq)"
[ -f "$bin" ] || die "$bin: no such file (make cross builds it)"
[ -f "$pkgfile" ] || die "$pkgfile: no such file"
for t in mmdebstrap sfdisk mkfs.fat mcopy mkfs.ext4 cpio gzip; do
  command -v "$t" >/dev/null || die "$t not found (apt-get install mmdebstrap fdisk dosfstools mtools e2fsprogs cpio)"
done
t0=$(date +%s)

# id NAME: 32 hex digits derived from VERSION, ARCH and NAME
id() { printf 'edgemq-image/%s/%s/%s' "$version" "$arch" "$1" | sha256sum | cut -c1-32; }
uuid() { local h; h=$(id "$1"); echo "${h:0:8}-${h:8:4}-4${h:13:3}-8${h:17:3}-${h:20:12}"; }
root_uuid=$(uuid root)
data_uuid=$(uuid data)
boot_volid=$(id boot | cut -c1-8 | tr a-f A-F)
disk_id=$(id disk | cut -c1-8)

# --- 1. base root filesystem (cached) ---
mkdir -p "$cache"
key=$({
  echo "$arch $suite $IMAGE_MIRROR $IMAGE_SECURITY_MIRROR"
  grep -v '^[[:space:]]*\(#\|$\)' "$pkgfile" | sort -u
  cat "$here/mkbase.sh"
} | sha256sum | cut -c1-16)
base=$cache/base-$arch-$suite-$key.tar
if [ -f "$base" ] && [ "${IMAGE_BASE_REFRESH:-0}" != 1 ]; then
  say "base root filesystem: $base (cached)"
else
  if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$qemu" ]; then
    die "no binfmt_misc entry for qemu-$qemu: apt-get install qemu-user-static binfmt-support, then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable"
  fi
  say "base root filesystem: building $base with mmdebstrap (several minutes)"
  tb=$(date +%s)
  # a fixed time, not the commit's: the cached base does not depend on
  # which commit happened to build it
  if ! SOURCE_DATE_EPOCH=${IMAGE_BASE_EPOCH:-1704067200} "$here/mkbase.sh" "$arch" "$pkgfile" "$base"; then
    rm -f "$base.tmp"
    die "mmdebstrap failed (a mirror in the middle of a sync? try again, or IMAGE_SECURITY_MIRROR= to leave the security suite out)"
  fi
  say "base root filesystem built in $(($(date +%s) - tb)) s"
fi

# --- 2. the root filesystem ---
work=$cache/work-$arch
rm -rf "$work"
mkdir -p "$work/root" "$work/boot" "$work/data" "$work/initrd"
root=$work/root
tar -C "$root" --numeric-owner -xpf "$base"

kver=$(cd "$root/lib/modules" && ls | sort -V | tail -1)
[ -n "$kver" ] && [ -f "$root/boot/vmlinuz-$kver" ] || die "no kernel in the base root filesystem"
gid_edgemq=$(awk -F: '$1 == "edgemq" {print $3}' "$root/etc/group")
[ -n "$gid_edgemq" ] || die "no edgemq group in the base root filesystem"

# image/rootfs/: configuration files (0644), scripts in usr/lib/edgemq-image (0755)
(cd "$here/rootfs" && find . -type d | sort) | while read -r d; do install -d -m 0755 "$root/$d"; done
(cd "$here/rootfs" && find . -type f | sort) | while read -r f; do
  case $f in ./usr/lib/edgemq-image/*) m=0755 ;; *) m=0644 ;; esac
  install -m "$m" "$here/rootfs/$f" "$root/$f"
done
install -m 0755 "$bin" "$root/usr/local/bin/edgemq"
install -m 0644 systemd/edgemq.service "$root/etc/systemd/system/edgemq.service"
install -m 0644 edgemq.example.yaml "$root/etc/edgemq/edgemq.example.yaml"
install -d -m 0755 "$root/boot/firmware" "$root/data" "$root/var/lib/edgemq"
# Wi-Fi: the configuration bootconfig makes from wifi.conf
ln -sfn /data/etc/wpa_supplicant-wlan0.conf "$root/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
# (the host name is /etc/hostname's "edgemq", or the data partition's from
# the boot partition's hostname file: bootconfig)
printf '%s\n' "$version" >"$root/etc/edgemq-image-version"

cat >"$root/etc/fstab" <<EOF
# edgemq image: the root filesystem is read-only; what changes is in RAM
# (tmpfs) or on the data partition (/data, grown to fill the card at first
# boot; /var/lib/edgemq is its edgemq/ directory). A boot partition that
# does not mount (nofail) costs the settings on it, not the gateway.
UUID=$root_uuid	/	ext4	ro,noatime	0	1
UUID=${boot_volid:0:4}-${boot_volid:4:4}	/boot/firmware	vfat	rw,noatime,nodev,nosuid,noexec,uid=0,gid=$gid_edgemq,fmask=0117,dmask=0007,flush,errors=remount-ro,nofail,x-systemd.device-timeout=15s	0	2
UUID=$data_uuid	/data	ext4	rw,noatime,nodev,nosuid,commit=30	0	2
/data/edgemq	/var/lib/edgemq	none	bind,x-systemd.requires-mounts-for=/data	0	0
tmpfs	/tmp	tmpfs	mode=1777,nodev,nosuid,size=64M	0	0
tmpfs	/var/tmp	tmpfs	mode=1777,nodev,nosuid,size=16M	0	0
tmpfs	/var/log	tmpfs	mode=0755,nodev,nosuid,noexec,size=32M	0	0
tmpfs	/var/lib/systemd	tmpfs	mode=0755,nodev,nosuid,size=8M	0	0
tmpfs	/var/cache	tmpfs	mode=0755,nodev,nosuid,size=16M	0	0
EOF

# units: as `systemctl enable` would, offline
systemctl --root="$root" --quiet enable edgemq.service edgemq-bootconfig.service edgemq-banner.service \
  systemd-networkd.service systemd-resolved.service 2>&1 | grep -v '^Created symlink' || true
# Nothing waits for the network to be "online": the gateway binds its
# listeners on all addresses and reconnects its bridges itself.
systemctl --root="$root" --quiet mask systemd-networkd-wait-online.service 2>/dev/null || true
# no first-boot wizard (machine id, locale, root password) on a read-only root
systemctl --root="$root" --quiet mask systemd-firstboot.service 2>/dev/null || true
# apt's daily timers cannot do anything on a read-only root
systemctl --root="$root" --quiet mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer 2>/dev/null || true

# --- the initrd: busybox and the root device's modules ---
ird=$work/initrd
mkdir -p "$ird"/{bin,sbin,dev,proc,sys,root,etc,lib/modules}
cp "$root/bin/busybox" "$ird/bin/busybox"
for app in sh mount umount switch_root modprobe insmod findfs find sort cat sleep mkdir echo ls; do
  ln -s busybox "$ird/bin/$app"
done
# the kernel asks /sbin/modprobe for what a mount needs (crc32c for ext4)
ln -s ../bin/busybox "$ird/sbin/modprobe"
install -m 0755 "$here/initrd/init" "$ird/init"
install -m 0644 "$here/initrd/modules-early" "$ird/etc/modules-early"
moddir=lib/modules/$kver
# the drivers a root filesystem on an SD card (Raspberry Pi) or a virtio
# disk (qemu) needs, and what they depend on
patterns='kernel/drivers/mmc/ kernel/drivers/virtio/ kernel/drivers/block/virtio_blk. kernel/fs/ext4/ kernel/fs/jbd2/ kernel/fs/mbcache. kernel/lib/crc16. kernel/lib/libcrc32c. kernel/crypto/crc32c kernel/arch/arm64/crypto/crc kernel/drivers/clk/bcm/ kernel/drivers/firmware/raspberrypi. kernel/drivers/mailbox/bcm2835 kernel/drivers/gpio/gpio-raspberrypi-exp. kernel/drivers/regulator/ kernel/drivers/pinctrl/bcm/ kernel/drivers/dma/bcm2835 kernel/drivers/soc/bcm/ kernel/drivers/reset/ kernel/drivers/pmdomain/bcm/ kernel/drivers/soc/bcm/'
awk -v pats="$patterns" '
  BEGIN { n = split(pats, p, " ") }
  { file = $1; sub(/:$/, "", file); dep[file] = $0
    for (i = 1; i <= n; i++) if (index(file, p[i]) == 1) want[file] = 1 }
  END {
    changed = 1
    while (changed) { changed = 0
      for (f in want) { m = split(dep[f], d, " ")
        for (j = 2; j <= m; j++) if (!(d[j] in want)) { want[d[j]] = 1; changed = 1 } } }
    for (f in want) print f
  }' "$root/$moddir/modules.dep" | sort >"$work/initrd-modules.txt"
while read -r m; do
  install -D -m 0644 "$root/$moddir/$m" "$ird/$moddir/$m"
done <"$work/initrd-modules.txt"
# the target's depmod output, cut down to these modules (no depmod needed here)
awk 'NR == FNR { want[$1] = 1; next } { f = $1; sub(/:$/, "", f) } f in want' \
  "$work/initrd-modules.txt" "$root/$moddir/modules.dep" >"$ird/$moddir/modules.dep"
sed -e 's|.*/||' -e 's|\.ko.*||' -e 's|-|_|g' "$work/initrd-modules.txt" |
  awk 'NR == FNR { want[$1] = 1; next } $3 in want' - "$root/$moddir/modules.alias" >"$ird/$moddir/modules.alias"
cp "$root/$moddir/modules.builtin" "$ird/$moddir/"
find "$ird" -exec touch -h -d "@$sde" {} +
(cd "$ird" && find . -mindepth 1 | sort | cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9 -n >"$work/boot/initrd.img"

# --- the boot partition ---
bootd=$work/boot
cp "$root/usr/lib/raspi-firmware/"* "$bootd/"
cp "$root/boot/vmlinuz-$kver" "$bootd/vmlinuz"
if [ "$arch" = arm64 ]; then dtbdir=$root/usr/lib/linux-image-$kver/broadcom; else dtbdir=$root/usr/lib/linux-image-$kver; fi
cp "$dtbdir"/bcm27*.dtb "$dtbdir"/bcm28*.dtb "$bootd/" 2>/dev/null || true
zero2=bcm2837-rpi-zero-2-w.dtb
[ -f "$bootd/$zero2" ] || zero2=bcm2837-rpi-3-b.dtb
{
  echo "# edgemq image $version ($arch): Raspberry Pi firmware settings."
  case $arch in
  arm64) echo "# For the Raspberry Pi 3, 4, 400 and Zero 2 W (64-bit)." ;;
  *) echo "# For the Raspberry Pi 2 and 3 (32-bit)." ;;
  esac
  echo "# See https://www.raspberrypi.com/documentation/computers/config_txt.html"
  [ "$arch" = arm64 ] && echo "arm_64bit=1"
  echo "enable_uart=1"
  echo "upstream_kernel=1"
  echo "kernel=vmlinuz"
  echo "initramfs initrd.img followkernel"
  echo
  echo "[pi02]"
  echo "device_tree=$zero2"
  echo
  echo "[all]"
  echo "# Your own settings (dtparam=i2c_arm=on, dtoverlay=..., gpu_mem=16) go below."
} >"$bootd/config.txt"
# serial console on the GPIO header (ttyS1 on a Pi 3/4 with Debian's kernel,
# ttyAMA0 on a Pi 2) and the screen; the root filesystem read-only
case $arch in arm64) serial=ttyS1 ;; *) serial="ttyAMA0,115200 console=ttyS1" ;; esac
echo "console=$serial,115200 console=tty0 root=UUID=$root_uuid rootfstype=ext4 ro rootwait fsck.repair=yes net.ifnames=0" >"$bootd/cmdline.txt"
install -m 0644 "$here/boot/README.txt" "$bootd/README.txt"
install -m 0644 "$here/boot/wifi.conf.example" "$bootd/wifi.conf.example"
install -m 0644 edgemq.example.yaml "$bootd/edgemq.example.yaml"
sed -i "s/@VERSION@/$version/" "$bootd/README.txt"

# --- the data partition's first contents ---
install -d -m 0700 -o 0 -g 0 "$work/data/ssh"
install -d -m 0755 -o 0 -g 0 "$work/data/etc"
uid_edgemq=$(awk -F: '$1 == "edgemq" {print $3}' "$root/etc/passwd")
install -d -m 0700 -o "$uid_edgemq" -g "$gid_edgemq" "$work/data/edgemq"

# fixed timestamps everywhere
find "$root" "$bootd" "$work/data" -exec touch -h -d "@$sde" {} +
cp "$root/usr/share/edgemq-image-packages.txt" "$dist/edgemq-$version-$arch.packages.txt" 2>/dev/null || true

# --- 3. the disk image ---
boot_mib=256
data_mib=64
used_mib=$(du -s --apparent-size -B1M "$root" | cut -f1)
root_mib=$(((used_mib * 125 / 100 + 128 + 3) / 4 * 4))
say "root filesystem: ${used_mib} MiB of files, partition ${root_mib} MiB"

# FAT boot partition, filled with mtools
rm -f "$work/boot.fat"
mkfs.fat -F 32 -n EDGEMQBOOT --invariant -C "$work/boot.fat" $((boot_mib * 1024)) >/dev/null
# --invariant fixes the volume id too (1234-ABCD): put ours in the boot
# sector and its backup (sector 6), little-endian at offset 67
volid_le=$(printf '%s' "$boot_volid" | sed -E 's/(..)(..)(..)(..)/\\x\4\\x\3\\x\2\\x\1/')
for off in 67 $((6 * 512 + 67)); do
  printf "$volid_le" | dd of="$work/boot.fat" bs=1 seek=$off conv=notrunc status=none
done
(cd "$bootd" && find . -maxdepth 1 -type f -printf '%P\n' | sort) | while read -r f; do
  MTOOLS_SKIP_CHECK=1 mcopy -m -o -i "$work/boot.fat" "$bootd/$f" "::$f"
done

# ext4 root (read-only at run time) and data, from directories
export E2FSPROGS_FAKE_TIME=$sde
mkext4() { # FILE MIB LABEL UUID DIR
  rm -f "$1"
  truncate -s "${2}M" "$1"
  mkfs.ext4 -q -F -t ext4 -L "$3" -U "$4" -m 0 -b 4096 \
    -E "hash_seed=$4,lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0" \
    -d "$5" "$1" "${2}M"
  # mkfs.ext4 -d copies each file's ctime, which no one can set, and its
  # atime, which reading the directories here changes: fix them (the names
  # are quoted for debugfs, so none may hold a double quote)
  if (cd "$5" && find . -name '*"*' | grep -q .); then die "$5: a file name with a double quote"; fi
  (cd "$5" && find . -mindepth 1 -printf '%P\n' | sort) |
    awk 'BEGIN { print "/" } { print "\"/" $0 "\"" }' |
    awk -v t="$sde" '{ printf "set_inode_field %s ctime @%s\nset_inode_field %s atime @%s\n", $0, t, $0, t }' >"$work/ctime.debugfs"
  debugfs -w -f "$work/ctime.debugfs" "$1" 2>&1 | grep -v '^debugfs' | grep . && die "debugfs failed on $1"
  rm -f "$work/ctime.debugfs"
}
mkext4 "$work/root.ext4" "$root_mib" edgemq-root "$root_uuid" "$root"
mkext4 "$work/data.ext4" "$data_mib" edgemq-data "$data_uuid" "$work/data"

# the partition table and the partitions, at fixed offsets
p1=4 p2=$((4 + boot_mib)) p3=$((4 + boot_mib + root_mib))
total=$((p3 + data_mib))
tmpimg=$out.tmp
rm -f "$tmpimg"
truncate -s "${total}M" "$tmpimg"
sfdisk --quiet --no-reread --no-tell-kernel "$tmpimg" <<EOF
label: dos
label-id: 0x$disk_id
unit: sectors

start=$((p1 * 2048)), size=$((boot_mib * 2048)), type=c, bootable
start=$((p2 * 2048)), size=$((root_mib * 2048)), type=83
start=$((p3 * 2048)), size=$((data_mib * 2048)), type=83
EOF
dd if="$work/boot.fat" of="$tmpimg" bs=1M seek=$p1 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$tmpimg" bs=1M seek=$p2 conv=notrunc,sparse status=none
dd if="$work/data.ext4" of="$tmpimg" bs=1M seek=$p3 conv=notrunc,sparse status=none
mv -f "$tmpimg" "$out"
rm -f "$work/boot.fat" "$work/root.ext4" "$work/data.ext4"
[ "${IMAGE_KEEP_WORK:-0}" = 1 ] || rm -rf "$work"

sum=$(sha256sum "$out" | cut -d' ' -f1)
(cd "$dist" && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
say "built $out in $(($(date +%s) - t0)) s"
say "size   $(stat -c %s "$out") bytes ($((total)) MiB)"
say "sha256 $sum"
