#!/usr/bin/env bash
# Runs the tests of storefwd and internal/kv as a 32-bit ARMv7 build
# (GOARCH=arm GOARM=7) under qemu-arm-static, with a time budget per test
# binary. This includes the crash test (the child runs under qemu too) and
# TestQueueLifetime, which pushes more than 2 GiB through a queue.
#
# qemu-arm-static comes from Debian's qemu-user-static package. When it is
# missing the script skips with a message, or fails when
# EDGEMQ_REQUIRE_EXTERNAL=1 (CI).
#
# Environment: QEMU_ARM (default qemu-arm-static), GO (default go),
# ARM_BUDGET_KV and ARM_BUDGET_STOREFWD (timeouts in seconds).
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

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "test-arm: building GOARCH=arm GOARM=7 test binaries"
GOARCH=arm GOARM=7 CGO_ENABLED=0 "$GO" test -c -o "$out/kv.test" ./internal/kv/
GOARCH=arm GOARM=7 CGO_ENABLED=0 "$GO" test -c -o "$out/storefwd.test" ./storefwd/

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
for t in kv storefwd; do
  log="$out/$t.log"
  case $t in
  kv) args=(); dir=internal/kv; budget=${ARM_BUDGET_KV:-180} ;;
  # The crash test starts its children through qemu too
  # (STOREFWD_EXEC_WRAPPER).
  storefwd) args=(); dir=storefwd; budget=${ARM_BUDGET_STOREFWD:-420} ;;
  esac
  if STOREFWD_EXEC_WRAPPER=$QEMU run "$t" "$dir" "$budget" -test.v "${args[@]}" >"$log" 2>&1; then
    grep -E '^(--- |    \S+_test\.go:[0-9]+: )' "$log" || true
    tail -n 1 "$log"
  else
    cat "$log"
    status=1
  fi
done
exit $status
