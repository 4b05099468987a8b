#!/usr/bin/env bash
# Instructions per operation under valgrind's callgrind: a reproducible figure on a noisy machine.
#
#   benches/callgrind.sh [workloads] [runtimes]
#   benches/callgrind.sh spawn_many_1k tether,tokio-ct          # the defaults
#   benches/callgrind.sh yield_many,ping_pong tether,tokio-ct,async-executor
#
# Each figure is (I(1 + N runs) - I(1 run)) / (N * ops per run), so runtime start-up, shutdown
# and the first run's warm-up cancel out (N = EXTRA_RUNS, default 10). Instruction counts ignore
# cache misses and the cost of atomic instructions: read them beside the timings, not instead.
set -euo pipefail
cd "$(dirname "$0")/.."

workloads="${1:-spawn_many_1k}"
runtimes="${2:-tether,tokio-ct}"
extra="${EXTRA_RUNS:-10}"

command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
cargo build --profile bench -p tether-benches --example workload >&2
bin="${CARGO_TARGET_DIR:-target}/release/examples/workload"

instructions() {
    # Empty when the runtime has no variant of the workload (the binary panics).
    { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 || true; } \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '| workload | runtime | instructions/op |\n|---|---|---:|\n'
for w in ${workloads//,/ }; do
    ops=$("$bin" ops "$w")
    for rt in ${runtimes//,/ }; do
        one=$(instructions "$rt" "$w" 1)
        more=$(instructions "$rt" "$w" $((1 + extra)))
        if [[ -z "$one" || -z "$more" ]] || ! "$bin" "$rt" "$w" 0 >/dev/null 2>&1; then
            printf '| %s | %s | n/a |\n' "$w" "$rt"
            continue
        fi
        awk -v w="$w" -v rt="$rt" -v a="$one" -v b="$more" -v n="$extra" -v ops="$ops" \
            'BEGIN { printf "| %s | %s | %.0f |\n", w, rt, (b - a) / (n * ops) }'
    done
done
