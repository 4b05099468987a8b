#!/usr/bin/env bash
# Runs every comparison workload and prints one table (Markdown) with an asyncio column.
#
#   benches/run.sh                      # full run (a few minutes)
#   benches/run.sh --quick              # smoke test: 3 samples per cell
#   benches/run.sh --only spawn,timers  # rows whose key contains one of these
#
# Arguments go to the `compare` bench (see benches/benches/compare.rs); --quick and --only also
# go to the Python twins. ASYNCIO_SAMPLES sets the Python samples (default 7; 3 with --quick).
# Results are also written to target/bench-results/{asyncio.tsv,table.md}.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/target/bench-results"
mkdir -p "$out"

py_args=()
samples="${ASYNCIO_SAMPLES:-7}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --quick) samples="${ASYNCIO_SAMPLES:-3}" ;;
        --only) py_args+=(--only "${args[$((i + 1))]}") ;;
    esac
done

echo "building (release, profile bench)..." >&2
cargo bench -p tether-benches --bench compare --no-run >&2

asyncio_args=()
if command -v python3 >/dev/null; then
    echo "running the asyncio twins ($samples samples)..." >&2
    python3 benches/python/asyncio_twins.py --samples "$samples" ${py_args[@]+"${py_args[@]}"} \
        >"$out/asyncio.tsv"
    asyncio_args=(--asyncio "$out/asyncio.tsv")
else
    echo "python3 not found: no asyncio column" >&2
fi

echo "running the Rust workloads..." >&2
cargo bench -p tether-benches --bench compare -- ${asyncio_args[@]+"${asyncio_args[@]}"} "$@" \
    | tee "$out/table.md"
