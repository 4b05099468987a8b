#!/usr/bin/env bash
# Runs the multi-threaded tests under ThreadSanitizer: the runtime's unit tests, the behaviour
# tests that use several threads (both flavours, Send groups, thread-safe handles, the
# contained faults), and the stress tests on workers, wakers, shutdown and fault programs.
#   rustup component add --toolchain nightly rust-src   (once; -Zbuild-std builds offline)
# The standard library is rebuilt with the sanitizer (-Zbuild-std), in its own target directory
# (target/tsan) so that it never mixes with the normal build. Extra arguments go to the cargo
# test commands (e.g. `-- --test-threads 1`). TSan stops at the first report (halt_on_error).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="-Zsanitizer=thread"
export RUSTDOCFLAGS="-Zsanitizer=thread"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
# The stress counts are cut to a tenth: TSan runs code 5-15 times slower.
export TETHER_STRESS_SCALE=${TETHER_STRESS_SCALE:-0.1}
tsan=(cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu --target-dir target/tsan)
echo "== tsan: runtime unit tests"
"${tsan[@]}" -p tether --lib "$@"
echo "== tsan: behaviour tests"
"${tsan[@]}" -p tether-tests --test flavors --test group_spread --test group_send \
  --test threads --test promise "$@"
# TSan tracks at most 8,128 live threads: the 10,000-worker test is left to the normal run.
"${tsan[@]}" -p tether-tests --test contained -- --skip ten_thousand_workers
echo "== tsan: stress tests"
TETHER_FAULT_SEEDS=${TETHER_FAULT_SEEDS:-0..500} "${tsan[@]}" -p tether-stress --test workers \
  --test wakers --test shutdown --test fault_programs "$@"
echo "tsan: no data race reported"
