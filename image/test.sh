#!/usr/bin/env bash
# test.sh IMAGE: boots the image under qemu-system-aarch64 (machine virt,
# qemu-system-arm for an -armhf.img,
# the image's own kernel and initrd from its boot partition, user-mode
# networking) and checks it (make image-test):
#
#   - an edgemq.yaml put on the boot partition before boot (gateway.id
#     image-test, anonymous MQTT on 0.0.0.0:1883) is the one in effect: the
#     gateway publishes under edgemq/image-test/, and the file has been
#     imported (0600, owned by edgemq) and deleted from the boot partition
#   - the guest reaches multi-user.target and edgemq reports READY to
#     systemd (the console banner, then systemctl over SSH)
#   - mosquitto_pub/mosquitto_sub on this machine pass a message through
#     the gateway in the guest (a host loopback port forwarded to 1883)
#   - SSH with the key from authorized_keys on the boot partition works
#   - the root filesystem is read-only; the data partition grew to fill
#     the (enlarged) disk; the secrets have safe permissions
#   - a broken edgemq.yaml leaves the gateway on its previous
#     configuration and writes edgemq.yaml.error.txt
#
# Environment: IMAGE_TEST_DIR (dist/image-test), IMAGE_TEST_BOOT_TIMEOUT
# (seconds from qemu's start to READY, default 180; the target is 60, and
# arm64 under software emulation takes about 25 on an idle 2-core machine),
# QEMU_ACCEL (e.g. kvm on an arm64 host; default tcg).
set -euo pipefail

img=${1:?usage: test.sh IMAGE}
dir=${IMAGE_TEST_DIR:-dist/image-test}
timeout=${IMAGE_TEST_BOOT_TIMEOUT:-180}
accel=${QEMU_ACCEL:-tcg}
export LC_ALL=C

say() { echo "image-test: $*"; }
fail() {
  echo "image-test: FAIL: $*" >&2
  if [ -f "$dir/console.log" ]; then
    echo "---- last lines of the console ($dir/console.log) ----" >&2
    tail -n 60 "$dir/console.log" | tr -d '\r' >&2
  fi
  exit 1
}
case $img in
*-armhf.img) qemu=qemu-system-arm machine=virt,highmem=off cpu=cortex-a15 ;;
*) qemu=qemu-system-aarch64 machine=virt cpu=cortex-a72 ;;
esac
for t in $qemu mcopy sfdisk mosquitto_pub mosquitto_sub ssh ssh-keygen python3; do
  command -v "$t" >/dev/null || fail "$t not found (apt-get install qemu-system-arm mtools fdisk mosquitto-clients openssh-client python3)"
done
[ -f "$img" ] || fail "$img: no such file (make image builds it)"

rm -rf "$dir"
mkdir -p "$dir"
disk=$dir/disk.img
cp --sparse=always "$img" "$disk"
# a bigger "card": the data partition must grow into it at first boot
truncate -s +1G "$disk"

# the boot partition's offset, for mtools
boot_start=$(sfdisk --dump "$disk" | awk '/^.*img1 :/ {for (i = 1; i <= NF; i++) if ($i == "start=") {v = $(i + 1); sub(",", "", v); print v}}')
[ -n "$boot_start" ] || fail "no first partition in $disk"
fat="$disk@@$((boot_start * 512))"
export MTOOLS_SKIP_CHECK=1

# the user's files on the boot partition
cat >"$dir/edgemq.yaml" <<'EOF'
gateway:
  id: image-test
broker:
  listeners:
    - type: tcp
      address: 0.0.0.0:1883
      allow_anonymous: true
storage:
  dir: /var/lib/edgemq/data
# a simulated push button: the gateway publishes its state and status
# under edgemq/image-test/button
hardware: simulated
devices:
  - id: button
    type: gpio_in
    pin: GPIO17
    active_low: true
EOF
ssh-keygen -q -t ed25519 -N '' -C image-test -f "$dir/id_ed25519"
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
echo "image-test" >"$dir/hostname"
printf 'ssid=ImageTestNet\r\npsk="image test passphrase"\r\ncountry=DE\r\n' >"$dir/wifi.conf"
printf -- '-----BEGIN PRIVATE KEY-----\nnot a key, only its permissions are checked\n-----END PRIVATE KEY-----\n' >"$dir/client.key"
mcopy -o -i "$fat" "$dir/edgemq.yaml" "$dir/authorized_keys" "$dir/hostname" "$dir/wifi.conf" "$dir/client.key" ::
mcopy -o -i "$fat" ::vmlinuz "$dir/vmlinuz"
mcopy -o -i "$fat" ::initrd.img "$dir/initrd.img"
mcopy -o -i "$fat" ::cmdline.txt "$dir/cmdline.txt"
# the image's command line, with qemu virt's serial console
cmdline="$(sed -e 's/console=[^ ]*//g' -e 's/  */ /g' "$dir/cmdline.txt" | tr -d '\r\n') console=ttyAMA0"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mqtt_port=$(free_port)
ssh_port=$(free_port)
while [ "$ssh_port" = "$mqtt_port" ]; do ssh_port=$(free_port); done
say "MQTT on 127.0.0.1:$mqtt_port and SSH on 127.0.0.1:$ssh_port are the guest's 1883 and 22"

qemu_pid=''
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    sleep 1
    kill -9 "$qemu_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

[ "$accel" = kvm ] && cpu=host
t0=$(date +%s.%N)
$qemu -M "$machine" -accel "$accel" -cpu "$cpu" -smp 2 -m 1024 \
  -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" -append "$cmdline" \
  -drive "file=$disk,if=virtio,format=raw" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$mqtt_port-:1883,hostfwd=tcp:127.0.0.1:$ssh_port-:22" \
  -device virtio-net-pci,netdev=n0,romfile= \
  -display none -monitor none -serial "file:$dir/console.log" -no-reboot &
qemu_pid=$!

elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

# 1. READY: the banner unit runs after edgemq.service has started (Type=notify)
while :; do
  kill -0 "$qemu_pid" 2>/dev/null || fail "qemu exited"
  if grep -q 'edgemq-image: READY' "$dir/console.log" 2>/dev/null; then break; fi
  if grep -q 'edgemq-image: edgemq is ' "$dir/console.log" 2>/dev/null; then fail "edgemq did not start"; fi
  if [ "$(date +%s)" -gt $(( ${t0%.*} + timeout )) ]; then fail "no READY within ${timeout}s"; fi
  sleep 0.5
done
ready=$(elapsed)
say "edgemq READY after ${ready}s (from qemu start): $(grep -a 'edgemq-image: READY' "$dir/console.log" | tr -d '\r' | head -1)"

# 2. MQTT round trip through the gateway, and the imported configuration
# (the gateway's own topics under edgemq/image-test/)
msg="hello from the host $$"
mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t 'image-test/roundtrip' -C 1 -W 30 >"$dir/sub.out" 2>"$dir/sub.err" &
sub_pid=$!
sleep 2
ok=0
for _ in 1 2 3 4 5; do
  if mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -t 'image-test/roundtrip' -q 1 -m "$msg" 2>>"$dir/pub.err"; then ok=1; break; fi
  sleep 2
done
[ "$ok" = 1 ] || fail "mosquitto_pub could not publish: $(cat "$dir/pub.err")"
wait "$sub_pid" || fail "mosquitto_sub got nothing: $(cat "$dir/sub.err")"
[ "$(cat "$dir/sub.out")" = "$msg" ] || fail "mosquitto_sub got '$(cat "$dir/sub.out")', want '$msg'"
say "MQTT round trip through the gateway: ok"

mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t 'edgemq/image-test/#' -v -W 20 -C 1 >"$dir/topics.out" 2>/dev/null || true
grep -q '^edgemq/image-test/' "$dir/topics.out" || fail "no edgemq/image-test/... topic: the boot partition's edgemq.yaml is not in effect ($(head -3 "$dir/topics.out"))"
say "the boot partition's edgemq.yaml is in effect: $(grep '^edgemq/image-test/' "$dir/topics.out" | head -1 | cut -c1-100)"

# 3. over SSH (the key from authorized_keys): systemd's view, the read-only
# root, the grown data partition, the files' permissions
sshg() {
  ssh -i "$dir/id_ed25519" -p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o ConnectTimeout=20 -o BatchMode=yes root@127.0.0.1 "$@"
}
ok=0
for _ in 1 2 3 4 5 6; do
  if sshg true 2>"$dir/ssh.err"; then ok=1; break; fi
  sleep 5
done
[ "$ok" = 1 ] || fail "SSH with the key from authorized_keys failed: $(cat "$dir/ssh.err")"
say "SSH login with the boot partition's authorized_keys: ok"

check() { # DESCRIPTION WANT COMMAND...
  local what=$1 want=$2 got
  shift 2
  got=$(sshg "$@" 2>&1 | tr -d '\r') || true
  [ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
  say "$what: $got"
}
check "multi-user.target" active systemctl is-active multi-user.target
check "edgemq.service" active systemctl is-active edgemq.service
# a Type=notify unit is active only once the service has sent READY=1
check "edgemq.service READY (Type=notify)" "Type=notify ActiveState=active" 'systemctl show -p Type -p ActiveState edgemq.service | sort -r | tr "\n" " " | sed "s/ $//"'
check "root filesystem mount options" ro 'findmnt -no OPTIONS / | cut -d, -f1'
check "writing to the root filesystem" refused 'touch /image-test 2>/dev/null && echo written || echo refused'
check "host name from the boot partition" image-test hostname
check "imported edgemq.yaml" "600 edgemq edgemq" 'stat -c "%a %U %G" /var/lib/edgemq/config/edgemq.yaml'
check "gateway.id in the configuration in effect" "  id: image-test" 'grep "^  id:" /var/lib/edgemq/config/edgemq.yaml'
check "edgemq.yaml deleted from the boot partition" gone 'test -e /boot/firmware/edgemq.yaml && echo present || echo gone'
check "authorized_keys moved" "gone 600 root" 'test -e /boot/firmware/authorized_keys && echo present || echo -n "gone "; stat -c "%a %U" /data/ssh/authorized_keys.root'
check "boot partition not world-readable" "0" 'find /boot/firmware -perm /o+rwx | wc -l'
check "client.key moved" "gone 600 edgemq edgemq" 'test -e /boot/firmware/client.key && echo present || echo -n "gone "; stat -c "%a %U %G" /var/lib/edgemq/config/client.key'
check "wifi.conf made into a wpa_supplicant configuration" "gone 600 root ssid=\"ImageTestNet\"" 'test -e /boot/firmware/wifi.conf && echo present || echo -n "gone "; stat -c "%a %U" /data/etc/wpa_supplicant-wlan0.conf | tr "\n" " "; grep -o "ssid=.*" /data/etc/wpa_supplicant-wlan0.conf'
check "Wi-Fi passphrase stored only as a hash" "0" 'grep -c "image test passphrase" /data/etc/wpa_supplicant-wlan0.conf'
check "failed units" "" 'systemctl --failed --no-legend --plain'
sshg 'systemd-analyze time; systemd-analyze blame | head -5' | sed 's/^/image-test:   /'
disk_bytes=$(stat -c %s "$disk")
data_bytes=$(sshg 'lsblk -bno SIZE "$(findmnt -no SOURCE /data)"' | tr -d '\r')
[ "$data_bytes" -gt $((1024 * 1024 * 1024)) ] || fail "the data partition did not grow: $data_bytes bytes on a $disk_bytes-byte disk"
say "data partition grown to $data_bytes bytes (disk $disk_bytes bytes)"
sshg 'df -h / /data /var/lib/edgemq /boot/firmware /tmp' | sed 's/^/image-test:   /'

# 4. a broken edgemq.yaml: the gateway keeps running its previous configuration
sshg 'printf "gateway:\n  id: broken\nbroker:\n  nonsense: [\n" >/boot/firmware/edgemq.yaml && systemctl restart edgemq.service'
check "edgemq.service after a broken edgemq.yaml" active systemctl is-active edgemq.service
check "configuration in effect after a broken edgemq.yaml" "  id: image-test" 'grep "^  id:" /var/lib/edgemq/config/edgemq.yaml'
check "edgemq.yaml.error.txt on the boot partition" present 'test -s /boot/firmware/edgemq.yaml.error.txt && echo present || echo missing'
say "the error the user sees: $(sshg 'head -c 400 /boot/firmware/edgemq.yaml.error.txt' | tr '\r\n' '  ')"
sshg 'journalctl -b -u edgemq.service --no-pager | grep -E "not valid|invalid|import" | tail -2' | sed 's/^/image-test:   journal: /'
rm -f "$dir/sub.out"
mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t 'image-test/roundtrip' -C 1 -W 30 >"$dir/sub.out" 2>/dev/null &
sub_pid=$!
sleep 2
mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -t 'image-test/roundtrip' -q 1 -m again || fail "publish after a broken edgemq.yaml"
wait "$sub_pid" || fail "no message after a broken edgemq.yaml"
say "MQTT round trip on the previous configuration: ok"

sshg 'systemctl poweroff' >/dev/null 2>&1 || true
for _ in $(seq 1 60); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 1; done
say "PASS: boot to READY ${ready}s (target: under 60 s)"
