#!/usr/bin/env bash
# Runs N seeded fault-injection programs (stress/tests/fault_programs.rs), default 100000, in
# chunks of 5,000 seeds starting at START (default 1000000, past the seeds `cargo test` runs).
#   scripts/faults.sh [N] [START]
# A failing program is named with its seed and the command that replays it. A chunk whose
# process aborted (which no test can report) is re-run with TETHER_FAULT_TRACE=1, which prints
# each seed before its program, so the last seed printed is the one that aborted.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-100000}
start=${2:-1000000}
chunk=5000
cargo test -p tether-stress --test fault_programs --no-run --quiet
binary=$(cargo test -p tether-stress --test fault_programs --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*fault_programs[^"]*\)".*/\1/p' | tail -1)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
began=$(date +%s)
programs=0 faults=0 values=0
seed=$start
end=$((start + total))
while [ "$seed" -lt "$end" ]; do
  next=$((seed + chunk < end ? seed + chunk : end))
  if ! TETHER_FAULT_SEEDS="$seed..$next" "$binary" --nocapture --test-threads 1 >"$log" 2>&1; then
    echo "FAILED in seeds $seed..$next:"
    grep -E "broke a promise|panicked at" "$log" | grep -v '^tether' | head -5 || true
    if ! grep -q "broke a promise" "$log"; then
      TETHER_FAULT_TRACE=1 TETHER_FAULT_SEEDS="$seed..$next" "$binary" --nocapture >"$log" 2>&1 || true
      last=$(grep '^fault program' "$log" | tail -1 | awk '{print $3}')
      echo "the process died in program $last: replay it with"
      echo "  TETHER_FAULT_SEED=$last cargo test -p tether-stress --test fault_programs -- --nocapture"
    fi
    exit 1
  fi
  line=$(grep '^fault programs:' "$log")
  programs=$((programs + $(echo "$line" | awk '{print $3}')))
  faults=$((faults + $(echo "$line" | awk '{print $5}')))
  values=$((values + $(echo "$line" | awk '{print $8}')))
  seed=$next
done
echo "fault programs: $programs programs (seeds $start..$end), $faults faults injected," \
  "$values values counted and dropped exactly once, 0 leaks, in $(($(date +%s) - began)) s"
