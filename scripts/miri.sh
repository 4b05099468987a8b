#!/usr/bin/env bash
# Runs the runtime's tests and the behaviour tests under Miri with strict provenance.
#   rustup component add --toolchain nightly miri   (once)
# The leaked-group and forgotten-handle tests leak on purpose, so they run with the leak check off; every other test
# binary runs with it on. Extra arguments go to cargo (e.g. `--test group`).
set -euo pipefail
cd "$(dirname "$0")/.."
strict="-Zmiri-strict-provenance"
MIRIFLAGS="$strict" cargo +nightly miri test -p tether "$@"
for test in tests/tests/*.rs; do
  name=$(basename "$test" .rs)
  case "$name" in
    group_leak | forgotten_handles) flags="$strict -Zmiri-ignore-leaks" ;;
    *) flags="$strict" ;;
  esac
  echo "== miri: $name"
  MIRIFLAGS="$flags" cargo +nightly miri test -p tether-tests --test "$name"
done
