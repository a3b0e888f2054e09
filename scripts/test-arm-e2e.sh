#!/usr/bin/env bash
# Runs the cross-built gateway binaries dist/edgemq-linux-armv6 (on an
# emulated ARM1176, the Pi Zero/1 CPU, on which an ARMv7 build dies with
# SIGILL), dist/edgemq-linux-armv7 and dist/edgemq-linux-arm64 end to end
# under qemu-arm-static and qemu-aarch64-static. For each: start
# `edgemq run` with a listener on
# 127.0.0.1 (port 0: the log names the port), data in a temporary
# directory and a bridge to an uplink that is down; publish through it
# with mosquitto_pub and receive with mosquitto_sub; check through the
# bridge's $SYS figures that its forward queue took the messages; then
# SIGTERM and check that it exits 0 within a budget.
#
# `make test` runs this after `make cross`. A binary missing from dist/ is
# built into a temporary directory first (same flags as make cross).
#
# qemu-*-static come from Debian's qemu-user-static package, the clients
# from mosquitto-clients. When one is missing the script skips with a
# message, or fails when EDGEMQ_REQUIRE_EXTERNAL=1 (CI).
#
# Environment: GO (default go), QEMU_ARM (default qemu-arm-static),
# QEMU_AARCH64 (default qemu-aarch64-static), ARM_E2E_ARCHS (default
# "armv6 armv7 arm64"), ARM_E2E_START_BUDGET and ARM_E2E_STOP_BUDGET (seconds,
# default 90 and 30).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
START_BUDGET=${ARM_E2E_START_BUDGET:-90}
STOP_BUDGET=${ARM_E2E_STOP_BUDGET:-30}
ARCHS=${ARM_E2E_ARCHS:-armv6 armv7 arm64}

# missing TOOL: fails under EDGEMQ_REQUIRE_EXTERNAL=1, else skips (exit 0).
missing() {
  if [ "${EDGEMQ_REQUIRE_EXTERNAL:-}" = 1 ]; then
    echo "test-arm-e2e: FAIL: $1 not found ($2)" >&2
    exit 1
  fi
  echo "test-arm-e2e: SKIP: $1 not found ($2; EDGEMQ_REQUIRE_EXTERNAL=1 makes this an error)"
  exit 0
}

for tool in mosquitto_pub mosquitto_sub; do
  command -v "$tool" >/dev/null 2>&1 || missing "$tool" "apt-get install mosquitto-clients"
done
for arch in $ARCHS; do
  case $arch in
  armv6 | armv7) q=${QEMU_ARM:-qemu-arm-static} ;;
  arm64) q=${QEMU_AARCH64:-qemu-aarch64-static} ;;
  *) echo "test-arm-e2e: unknown arch $arch (want armv6, armv7 or arm64)" >&2; exit 2 ;;
  esac
  command -v "$q" >/dev/null 2>&1 || missing "$q" "apt-get install qemu-user-static"
done

tmp=$(mktemp -d)
pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# closedPort: a random high port on 127.0.0.1 where nothing listens (the
# uplink that is down).
closedPort() {
  local p
  for _ in $(seq 1 50); do
    p=$((40000 + RANDOM % 20000))
    if ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# sysValue PORT TOPIC: the retained value of TOPIC, empty if none.
sysValue() {
  timeout 15 mosquitto_sub -h 127.0.0.1 -p "$1" -i "e2e-sys-$RANDOM" -t "$2" -C 1 -W 5 2>/dev/null || true
}

# e2e ARCH BIN: one end-to-end run of BIN under "${qemu[@]}"; returns
# non-zero on failure, with the reason on stderr.
e2e() {
  local arch=$1 bin=$2
  local dir="$tmp/$arch" log="$tmp/$arch/edgemq.log"
  mkdir -p "$dir"

  local ver
  if ! ver=$(timeout 60 "${qemu[@]}" "$bin" version); then
    echo "$bin version failed under ${qemu[*]}" >&2
    return 1
  fi
  echo "test-arm-e2e: $arch: $ver"
  case $arch:$ver in
  armv6:*linux/arm\)* | armv7:*linux/arm\)* | arm64:*linux/arm64\)*) ;;
  *) echo "$bin is not a linux/$arch binary: $ver" >&2; return 1 ;;
  esac

  local uplink
  uplink=$(closedPort) || { echo "no closed port found for the uplink" >&2; return 1; }
  cat >"$dir/edgemq.yaml" <<EOF
gateway: {id: e2e-$arch}
broker:
  listeners:
    - {type: tcp, address: "127.0.0.1:0"}
  sys_interval: 1s
storage: {dir: "$dir/data"}
http: {address: "127.0.0.1:0"}
bridges:
  - name: up
    address: tcp://127.0.0.1:$uplink
    out: [{local: "sensors/#", remote: "e2e/sensors/#", qos: 1}]
    queue: {max_bytes: 1MiB}
    reconnect: {min: 1s, max: 2s}
log: {level: info}
EOF

  local start=$SECONDS
  "${qemu[@]}" "$bin" run --config "$dir/edgemq.yaml" 2>"$log" &
  pid=$!

  # Ready: the log names the bound port and the port accepts connections.
  local port=
  while [ -z "$port" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "gateway exited during start" >&2
      return 1
    fi
    if [ $((SECONDS - start)) -ge "$START_BUDGET" ]; then
      echo "gateway not listening after ${START_BUDGET}s" >&2
      return 1
    fi
    port=$(sed -n 's/.*msg=listening .*address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
    if [ -n "$port" ] && ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      port=
    fi
    [ -n "$port" ] || sleep 0.2
  done
  echo "test-arm-e2e: $arch: listening on 127.0.0.1:$port after $((SECONDS - start))s"

  # Publish (QoS 1, matching the bridge's out rule) until the subscriber,
  # which exits after one message, has received one.
  timeout 60 mosquitto_sub -h 127.0.0.1 -p "$port" -i "e2e-sub" -q 1 -t 'sensors/#' -v -C 1 -W 50 \
    >"$dir/sub.out" 2>"$dir/sub.err" &
  local sub=$! n=0
  while kill -0 "$sub" 2>/dev/null && [ "$n" -lt 100 ]; do
    n=$((n + 1))
    timeout 15 mosquitto_pub -h 127.0.0.1 -p "$port" -i "e2e-pub" -q 1 -t "sensors/$arch/temp" -m "21.$n" ||
      echo "test-arm-e2e: $arch: mosquitto_pub $n failed" >&2
    sleep 0.5
  done
  local subrc=0
  wait "$sub" || subrc=$?
  if [ "$subrc" -ne 0 ] || ! grep -q "^sensors/$arch/temp 21\.[0-9]*$" "$dir/sub.out"; then
    echo "subscriber got nothing (exit $subrc): $(cat "$dir/sub.out" "$dir/sub.err")" >&2
    return 1
  fi
  echo "test-arm-e2e: $arch: published $n, received: $(cat "$dir/sub.out")"

  # The uplink is down, so the forward queue holds what was published.
  local queued='' connected='' deadline=$((SECONDS + 30))
  while :; do
    queued=$(sysValue "$port" "\$SYS/broker/bridge/up/queue/messages")
    if [[ $queued =~ ^[0-9]+$ ]] && [ "$queued" -gt 0 ]; then
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "bridge queue/messages is ${queued:-unset}, want > 0" >&2
      return 1
    fi
    sleep 1
  done
  connected=$(sysValue "$port" "\$SYS/broker/bridge/up/connected")
  if [ "$connected" != 0 ]; then
    echo "bridge connected is ${connected:-unset}, want 0 (uplink down)" >&2
    return 1
  fi
  echo "test-arm-e2e: $arch: forward queue holds $queued messages (uplink down)"

  # SIGTERM: exit 0 within the budget.
  local stop=$SECONDS rc=0
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - stop)) -ge "$STOP_BUDGET" ]; then
      echo "gateway still running ${STOP_BUDGET}s after SIGTERM" >&2
      return 1
    fi
    sleep 0.2
  done
  wait "$pid" || rc=$?
  pid=
  if [ "$rc" -ne 0 ]; then
    echo "gateway exited $rc after SIGTERM" >&2
    return 1
  fi
  echo "test-arm-e2e: $arch: exited 0 $((SECONDS - stop))s after SIGTERM"
}

status=0
for arch in $ARCHS; do
  case $arch in
  # -cpu arm1176: the Pi Zero/1 CPU (ARMv6 with VFPv2)
  armv6) qemu=("$(command -v "${QEMU_ARM:-qemu-arm-static}")" -cpu arm1176) goarch=arm goarm=6 ;;
  armv7) qemu=("$(command -v "${QEMU_ARM:-qemu-arm-static}")") goarch=arm goarm=7 ;;
  arm64) qemu=("$(command -v "${QEMU_AARCH64:-qemu-aarch64-static}")") goarch=arm64 goarm='' ;;
  esac
  bin=dist/edgemq-linux-$arch
  if [ ! -x "$bin" ]; then
    echo "test-arm-e2e: $bin missing; building it"
    bin="$tmp/edgemq-linux-$arch"
    GOOS=linux GOARCH=$goarch GOARM=$goarm CGO_ENABLED=0 "$GO" build -trimpath -ldflags '-s -w' -o "$bin" ./cmd/edgemq
  fi
  t0=$SECONDS
  echo "test-arm-e2e: $arch: ${qemu[*]} $bin"
  if e2e "$arch" "$bin"; then
    echo "test-arm-e2e: PASS $arch ($((SECONDS - t0))s)"
  else
    echo "test-arm-e2e: FAIL $arch ($((SECONDS - t0))s); gateway log:" >&2
    sed 's/^/  /' "$tmp/$arch/edgemq.log" >&2 || true
    if [ -n "$pid" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      pid=
    fi
    status=1
  fi
done
exit $status
