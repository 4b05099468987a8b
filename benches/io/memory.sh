#!/usr/bin/env bash
# Server memory per idle connection and under churn, tether against tokio (benches/io/memory.py),
# and the hardened echo_server example beside them.
#
#   benches/io/memory.sh [--rounds 3] [--idle 10000] [--churn 200000] [--runtimes tether,tokio-ct]
#
# Needs a hard limit on open files above --idle (10,000 by default). Never in CI: release builds
# and a few minutes of sockets.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --profile bench -p tether-benches --example io_server
cargo build --release -p tether-examples --example echo_server
bin="${CARGO_TARGET_DIR:-target}/release/examples"
exec python3 benches/io/memory.py --bin "$bin" --examples "$bin" "$@"
