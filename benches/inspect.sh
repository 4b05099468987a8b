#!/usr/bin/env bash
# What attaching costs the tool and the target: `tether pstree PID` against a program with
# TASKS live tasks (default 100,000; `cli/examples/inspect_load.rs`), timed ROUNDS times
# (default 10), and the worst lateness of the target's 1 ms heartbeat while nobody looks and
# while the tool attaches over and over (how long its loop was kept from running).
#
#   benches/inspect.sh            # release build
#   TASKS=1000000 benches/inspect.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tasks="${TASKS:-100000}"
rounds="${ROUNDS:-10}"
cargo build --release -q -p tether-cli --bin tether --example inspect_load
target="${CARGO_TARGET_DIR:-target}/release"
work="$(mktemp -d)"
mkfifo "$work/in"
# With two CPUs or more, the target and the tool each get one of their own, so that what is
# measured is the attach and not two processes sharing a CPU.
pin_target=() pin_tool=()
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    pin_target=(taskset -c 0) pin_tool=(taskset -c 1)
fi
"${pin_target[@]}" "$target/examples/inspect_load" --tasks "$tasks" <"$work/in" >"$work/out" &
load=$!
exec 3>"$work/in"
trap 'exec 3>&-; kill $load 2>/dev/null; wait $load 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do grep -q '^ready' "$work/out" && break; sleep 0.1; done
grep -q '^ready' "$work/out" || { echo "the target did not start" >&2; exit 1; }
report() { # the target's worst lateness since the previous report
    local before; before=$(grep -c late_max_us "$work/out" || true)
    echo report >&3
    for _ in $(seq 100); do
        [[ $(grep -c late_max_us "$work/out" || true) -gt $before ]] && break
        sleep 0.05
    done
    grep late_max_us "$work/out" | tail -1 | awk '{print $2 " us worst, " $6 " of " $4 " wake-ups over 1 ms late"}'
}
report >/dev/null
sleep 2
idle=$(report)
times=()
for _ in $(seq "$rounds"); do
    start=$(date +%s%N)
    "${pin_tool[@]}" "$target/tether" pstree "$load" >"$work/tree"
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
done
attached=$(report)
read_ms=$("$target/tether" ps "$load" --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["read_ns"]/1e6, 1))')
lines=$(wc -l <"$work/tree")
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "tasks: $tasks (pstree printed $lines lines)"
echo "tether pstree, wall ms over $rounds rounds: min ${sorted[0]} median ${sorted[$((rounds / 2))]} max ${sorted[$((rounds - 1))]}"
echo "reading the target (read_ns of one ps --json): $read_ms ms"
echo "target heartbeat (1 ms sleeps), 2 s with nobody attached: $idle"
echo "target heartbeat, during the $rounds attaches: $attached"
