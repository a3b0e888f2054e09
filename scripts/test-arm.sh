#!/usr/bin/env bash
# Runs the tests of storefwd, internal/kv, the broker packages (broker,
# broker/packet, broker/topic, broker/auth, broker/persist) and the
# hardware device packages (devices/gpio, devices/hardware,
# devices/i2cdev, devices/onewire) as 32-bit ARMv7
# builds (GOARCH=arm GOARM=7) under qemu-arm-static, with a time budget per
# test binary. This includes the crash test (the child runs under qemu too)
# and TestQueueLifetime, which pushes more than 2 GiB through a queue.
# Host tools the tests start (mosquitto_pub, mosquitto_sub) run natively.
#
# qemu-arm-static comes from Debian's qemu-user-static package. When it is
# missing the script skips with a message, or fails when
# EDGEMQ_REQUIRE_EXTERNAL=1 (CI).
#
# Environment: QEMU_ARM (default qemu-arm-static), GO (default go),
# ARM_BUDGET_<NAME> (timeout in seconds of one test binary: KV, STOREFWD,
# BROKER, PACKET, TOPIC, AUTH, PERSIST, GPIO, HARDWARE, I2CDEV, ONEWIRE),
# ARM_TESTS (the binaries to run, default all: "kv storefwd broker packet
# topic auth persist gpio hardware i2cdev onewire").
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
QEMU=${QEMU_ARM:-qemu-arm-static}
if ! command -v "$QEMU" >/dev/null 2>&1; then
  if [ "${EDGEMQ_REQUIRE_EXTERNAL:-}" = 1 ]; then
    echo "test-arm: $QEMU not found (apt-get install qemu-user-static)" >&2
    exit 1
  fi
  echo "test-arm: $QEMU not found; skipping the 32-bit ARM tests (EDGEMQ_REQUIRE_EXTERNAL=1 makes this an error)"
  exit 0
fi
QEMU=$(command -v "$QEMU")
TESTS=${ARM_TESTS:-kv storefwd broker packet topic auth persist gpio hardware i2cdev onewire}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One go test -c for all packages (built in parallel); each binary is
# named after its package: kv.test, storefwd.test, broker.test, ...
echo "test-arm: building GOARCH=arm GOARM=7 test binaries"
GOARCH=arm GOARM=7 CGO_ENABLED=0 "$GO" test -c -o "$out/" \
  ./internal/kv/ ./storefwd/ ./broker/ ./broker/packet/ ./broker/topic/ ./broker/auth/ ./broker/persist/ \
  ./devices/gpio/ ./devices/hardware/ ./devices/i2cdev/ ./devices/onewire/ >/dev/null

# run NAME DIR BUDGET ARGS...: runs one test binary in its package
# directory under qemu, killed after BUDGET seconds.
run() {
  local name=$1 dir=$2 budget=$3
  shift 3
  echo "test-arm: $name (budget ${budget}s)"
  local start=$SECONDS
  if ! (cd "$dir" && timeout --signal=KILL "$budget" "$QEMU" "$out/$name.test" \
        -test.timeout "$((budget - 5))s" "$@"); then
    echo "test-arm: FAIL $name after $((SECONDS - start))s" >&2
    return 1
  fi
  echo "test-arm: ok $name $((SECONDS - start))s"
}

status=0
total=$SECONDS
for t in $TESTS; do
  log="$out/$t.log"
  args=()
  case $t in
  kv) dir=internal/kv; budget=${ARM_BUDGET_KV:-180} ;;
  # The crash test starts its children through qemu too
  # (STOREFWD_EXEC_WRAPPER).
  storefwd) dir=storefwd; budget=${ARM_BUDGET_STOREFWD:-420} ;;
  # about 25s under qemu on 2 cores
  broker) dir=broker; budget=${ARM_BUDGET_BROKER:-240} ;;
  packet) dir=broker/packet; budget=${ARM_BUDGET_PACKET:-120} ;;
  topic) dir=broker/topic; budget=${ARM_BUDGET_TOPIC:-120} ;;
  auth) dir=broker/auth; budget=${ARM_BUDGET_AUTH:-120} ;;
  persist) dir=broker/persist; budget=${ARM_BUDGET_PERSIST:-120} ;;
  gpio) dir=devices/gpio; budget=${ARM_BUDGET_GPIO:-120} ;;
  hardware) dir=devices/hardware; budget=${ARM_BUDGET_HARDWARE:-60} ;;
  i2cdev) dir=devices/i2cdev; budget=${ARM_BUDGET_I2CDEV:-120} ;;
  onewire) dir=devices/onewire; budget=${ARM_BUDGET_ONEWIRE:-120} ;;
  *) echo "test-arm: unknown test binary $t" >&2; exit 2 ;;
  esac
  # EDGEMQ_EMULATED: tests skip what qemu-user does not emulate (madvise).
  if EDGEMQ_EMULATED=1 STOREFWD_EXEC_WRAPPER=$QEMU run "$t" "$dir" "$budget" -test.v "${args[@]}" >"$log" 2>&1; then
    grep -E '^(--- |    \S+_test\.go:[0-9]+: )' "$log" || true
    tail -n 1 "$log"
  else
    cat "$log"
    status=1
  fi
done
echo "test-arm: all binaries $((SECONDS - total))s"
exit $status
