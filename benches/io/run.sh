#!/usr/bin/env bash
# The I/O benchmarks: echo and HTTP servers on tether, tokio and smol, loaded over 127.0.0.1
# by one client each (benches/io/echo_load.rs for echo, wrk for HTTP), rounds interleaved.
#
#   benches/io/run.sh [--rounds 5] [--conns 50] [--msgs 2000] [--size 64] [--duration 5]
#
# Prints one Markdown table: throughput, server CPU per message (from /proc/PID/task/*/stat),
# and the ratios against tokio. Installs wrk from Debian if it is missing (never in CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null || { apt-get update -qq && apt-get install -y wrk >/dev/null; }
fi
cargo build --profile bench -p tether-benches --example io_server --example io_echo_load
exec python3 benches/io/run.py --bin target/release/examples "$@"
