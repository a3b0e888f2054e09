#!/usr/bin/env bash
# Installs edgemq on a device from a cross-built binary (make cross):
#   PREFIX/bin/edgemq                    from DIST/edgemq-linux-ARCH
#   UNITDIR/edgemq.service               systemd/edgemq.service
#   /etc/edgemq/edgemq.yaml              systemd/edgemq.yaml (a starter), only if absent
#   /etc/edgemq/edgemq.example.yaml      every setting, documented
# then creates the `edgemq` system user (in those of the groups dialout,
# gpio, i2c that exist), and runs `systemctl daemon-reload` and
# `systemctl enable edgemq` when systemd is running.
#
# ARCH comes from `uname -m`: armv6l -> armv6 (Pi Zero/1), armv7l and
# armv8l -> armv7, aarch64 -> arm64, x86_64 -> amd64.
#
# The files are looked up next to this script's directory (a source tree:
# dist/, systemd/, edgemq.example.yaml) or in it (a flat copy of the five
# files). With --destdir nothing outside DESTDIR is touched: no user, no
# systemctl.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: install.sh [options]
  --dry-run          print what would be done, change nothing
  --prefix DIR       installation prefix (default /usr/local): DIR/bin/edgemq
  --destdir DIR      staging root for packaging or tests; implies --no-user
                     and --no-systemctl
  --unitdir DIR      where the unit goes (default /etc/systemd/system)
  --binary FILE      install FILE instead of DIST/edgemq-linux-ARCH
  --dist DIR         where the edgemq-linux-ARCH binaries are
  --arch ARCH        armv6, armv7, arm64 or amd64 instead of detecting it
  --machine M        detect the arch as if `uname -m` printed M
  --no-user          do not create the edgemq system user
  --no-systemctl     do not run systemctl
  -h, --help         this text
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

dry=0 prefix=/usr/local destdir='' unitdir=/etc/systemd/system confdir=/etc/edgemq
binary='' dist='' arch='' machine='' mkuser=1 systemctl=1
while [ $# -gt 0 ]; do
  case $1 in
  --dry-run) dry=1 ;;
  --prefix) prefix=${2:?--prefix needs a directory}; shift ;;
  --prefix=*) prefix=${1#*=} ;;
  --destdir) destdir=${2:?--destdir needs a directory}; shift ;;
  --destdir=*) destdir=${1#*=} ;;
  --unitdir) unitdir=${2:?--unitdir needs a directory}; shift ;;
  --unitdir=*) unitdir=${1#*=} ;;
  --binary) binary=${2:?--binary needs a file}; shift ;;
  --binary=*) binary=${1#*=} ;;
  --dist) dist=${2:?--dist needs a directory}; shift ;;
  --dist=*) dist=${1#*=} ;;
  --arch) arch=${2:?--arch needs armv6, armv7, arm64 or amd64}; shift ;;
  --arch=*) arch=${1#*=} ;;
  --machine) machine=${2:?--machine needs a uname -m value}; shift ;;
  --machine=*) machine=${1#*=} ;;
  --no-user) mkuser=0 ;;
  --no-systemctl) systemctl=0 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
destdir=${destdir%/}
if [ -n "$destdir" ]; then
  mkuser=0 systemctl=0
fi

say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }
# run CMD...: runs CMD, or prints it under --dry-run.
run() {
  if [ "$dry" = 1 ]; then
    echo "+$(printf " %q" "$@")"
  else
    "$@"
  fi
}

if [ -z "$arch" ]; then
  m=${machine:-$(uname -m)}
  case $m in
  armv6*) arch=armv6 ;;
  armv7* | armv8l) arch=armv7 ;;
  aarch64 | arm64 | armv8*) arch=arm64 ;;
  x86_64 | amd64) arch=amd64 ;;
  *) die "unsupported machine '$m' (uname -m); give --arch armv6, armv7, arm64 or amd64" ;;
  esac
fi
case $arch in
armv6 | armv7 | arm64 | amd64) ;;
*) die "unknown arch '$arch'; want armv6, armv7, arm64 or amd64" ;;
esac

# find NAME DIR...: the first DIR/NAME that exists.
find_file() {
  local name=$1 d
  shift
  for d in "$@"; do
    if [ -f "$d/$name" ]; then
      echo "$d/$name"
      return 0
    fi
  done
  return 1
}
if [ -z "$binary" ]; then
  if [ -n "$dist" ]; then
    binary=$(find_file "edgemq-linux-$arch" "$dist") || die "no edgemq-linux-$arch in $dist (make cross builds it)"
  else
    binary=$(find_file "edgemq-linux-$arch" "$root/dist" "$here" "$PWD") ||
      die "no edgemq-linux-$arch in $root/dist, $here or $PWD (make cross builds it; or give --binary)"
  fi
fi
[ -f "$binary" ] || die "$binary: no such file"
unit=$(find_file edgemq.service "$root/systemd" "$here") || die "edgemq.service not found"
example=$(find_file edgemq.example.yaml "$root" "$here") || die "edgemq.example.yaml not found"
starter=$(find_file edgemq.yaml "$root/systemd" "$here") || die "edgemq.yaml (the starter configuration) not found"

if [ "$dry" = 0 ] && [ -z "$destdir" ] && [ "$(id -u)" != 0 ]; then
  die "run as root (sudo), or give --destdir or --dry-run"
fi

bindir=$prefix/bin
say "arch $arch: $binary -> $destdir$bindir/edgemq"

# Groups for the device adapters, those that exist on this system.
groups=()
for g in dialout gpio i2c; do
  if getent group "$g" >/dev/null 2>&1; then
    groups+=("$g")
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The unit names the binary and the configuration by path; on this device
# (no --destdir) it gets only the supplementary groups that exist, as the
# service does not start with a group that does not.
sed -e "s|/usr/local/bin/edgemq|$bindir/edgemq|g" -e "s|/etc/edgemq/edgemq.yaml|$confdir/edgemq.yaml|g" \
  "$unit" >"$tmp/edgemq.service"
if [ -z "$destdir" ]; then
  if [ ${#groups[@]} -gt 0 ]; then
    sed -i "s|^SupplementaryGroups=.*|SupplementaryGroups=${groups[*]}|" "$tmp/edgemq.service"
  else
    sed -i '/^SupplementaryGroups=/d' "$tmp/edgemq.service"
  fi
fi

run install -d -m 0755 "$destdir$bindir" "$destdir$unitdir" "$destdir$confdir"
run install -m 0755 "$binary" "$destdir$bindir/edgemq"
run install -m 0644 "$tmp/edgemq.service" "$destdir$unitdir/edgemq.service"

user_exists() { [ -z "$destdir" ] && getent passwd edgemq >/dev/null 2>&1; }
if [ "$mkuser" = 1 ]; then
  if user_exists; then
    say "user edgemq exists"
  else
    run useradd --system --user-group --no-create-home --home-dir /var/lib/edgemq \
      --shell /usr/sbin/nologin --comment "edgemq gateway" edgemq
  fi
  if [ ${#groups[@]} -gt 0 ]; then
    list=$(IFS=,; echo "${groups[*]}")
    run usermod -a -G "$list" edgemq
  fi
fi

run install -m 0644 "$example" "$destdir$confdir/edgemq.example.yaml"
cfg=$destdir$confdir/edgemq.yaml
if [ -e "$cfg" ]; then
  say "kept the existing $cfg"
elif [ "$mkuser" = 1 ] || user_exists; then
  # readable by the service, not by everyone: it may hold passwords
  run install -m 0640 -g edgemq "$starter" "$cfg"
else
  run install -m 0644 "$starter" "$cfg"
fi

if [ "$systemctl" = 1 ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    run systemctl daemon-reload
    run systemctl enable edgemq
    say "edit $confdir/edgemq.yaml, check it with: $bindir/edgemq check-config $confdir/edgemq.yaml"
    say "then: systemctl start edgemq"
  else
    say "systemd is not running here; start with: $bindir/edgemq run --config $confdir/edgemq.yaml"
  fi
fi
say "done${destdir:+ (into $destdir)}"
