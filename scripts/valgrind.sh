#!/usr/bin/env bash
# Runs the behaviour tests (tether-tests) and the stress tests (tether-stress) under valgrind's
# memcheck: an invalid read or write, a use of uninitialised memory, or a definite leak fails the
# run.
#   apt-get install valgrind   (once)
#
# Counts: the stress tests read TETHER_STRESS_SCALE; here they run a tenth of their usual counts
# (100,000 soak tasks instead of 1,000,000), so valgrind finishes in minutes. Set it to
# override, e.g. TETHER_STRESS_SCALE=0.01 scripts/valgrind.sh soak for a quick look.
#
# Tests that leak on purpose do not run here, since the leak is their point:
#   - tests/tests/group_leak.rs: forgets a polled group future; its children stay allocated.
#   - tests/tests/forgotten_handles.rs: forgets Task handles; each keeps its task's allocation.
#   - tests/tests/debug.rs, tasks_still_running_at_shutdown_are_listed: forgets a Task handle.
# They are skipped by name rather than hidden by a suppression: a suppression matches the stack
# that allocated the leaked block, and every task is allocated through the same stack
# (tether::create_task -> async_task::Builder::spawn_unchecked), so it would hide a real leaked
# task too. Miri still checks them for use-after-free (scripts/miri.sh, leak check off).
#
# Tests that time the loop against a wall-clock threshold do not hold at valgrind's speed (20-50x
# slower): tests/tests/debug.rs, a_slow_group_child_is_blamed_not_its_group (a 30ms slow-poll
# threshold) is skipped too. Its memory is still checked by the other debug tests.
#
# A binary fails with exit status 1 when memcheck found an error (--error-exitcode=1), and with
# the test harness's 101 when a test failed; the summary tells the two apart.
#
# The fault tests that re-run their binary as a child process (tether_stress::isolated) run the
# child natively: valgrind does not follow children unless told to (--trace-children).
#
# Usage: scripts/valgrind.sh [name-filter]   e.g. `scripts/valgrind.sh soak` runs binaries whose
# name contains "soak". Logs go to target/valgrind/<binary>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export TETHER_STRESS_SCALE="${TETHER_STRESS_SCALE:-0.1}"
filter="${1:-}"
logs="${CARGO_TARGET_DIR:-target}/valgrind"
mkdir -p "$logs"

# Whole binaries that leak on purpose.
skip_binary() {
  case "$1" in
    group_leak | forgotten_handles) return 0 ;;
    *) return 1 ;;
  esac
}

# Single tests that leak on purpose, as `--skip` arguments for their binary.
skip_tests() {
  case "$1" in
    debug) echo "--skip tasks_still_running_at_shutdown_are_listed --skip a_slow_group_child_is_blamed_not_its_group" ;;
    *) echo "" ;;
  esac
}

echo "== building the test binaries of tether-tests and tether-stress"
binaries=$(cargo test -p tether-tests -p tether-stress --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | sort -u)

failed=()
passed=0
for exe in $binaries; do
  # target/debug/deps/soak-0123abcd -> soak
  name=$(basename "$exe" | sed 's/-[0-9a-f]*$//')
  if [ -n "$filter" ] && [[ "$name" != *"$filter"* ]]; then
    continue
  fi
  if skip_binary "$name"; then
    echo "== skip:     $name (leaks on purpose)"
    continue
  fi
  start=$(date +%s)
  status=0
  # shellcheck disable=SC2046 # the skip arguments are meant to split
  valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=1 --fair-sched=yes --log-file="$logs/$name.log" \
    "$exe" --test-threads=1 $(skip_tests "$name") >"$logs/$name.out" 2>&1 || status=$?
  took="$(($(date +%s) - start))s"
  case "$status" in
    0)
      echo "== clean:    $name ($took; $(grep -h '^test result' "$logs/$name.out" | head -1))"
      passed=$((passed + 1))
      ;;
    1)
      echo "== MEMCHECK: $name ($took): memcheck errors, see $logs/$name.log"
      tail -n 40 "$logs/$name.log"
      failed+=("$name(memcheck)")
      ;;
    *)
      echo "== TESTS:    $name ($took): tests failed under valgrind (exit $status), see $logs/$name.out"
      grep -E '^test .*FAILED|panicked at' "$logs/$name.out" | head -n 20 || true
      failed+=("$name(tests)")
      ;;
  esac
done

echo "== valgrind: ${passed} binaries clean, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ "${#failed[@]}" -eq 0 ]
