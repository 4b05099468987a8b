#!/usr/bin/env python3
"""Wall-clock of one workload under several `workload` binaries or settings, interleaved.

    benches/interleave.py WORKLOAD REPS ROUNDS LABEL=BINARY:RUNTIME[:VAR~VALUE...] ...

Each round runs every variant once (`BINARY RUNTIME WORKLOAD REPS`, the `workload` example), the
starting variant rotating from round to round, so that a burst of load hits every variant
alike; prints the median and the fastest ns/op of each, and the ratio of medians to the last
variant (put the peer last). `VAR~VALUE` sets an environment variable for that variant, e.g.
`TETHER_BENCH_LIFO_SLOT~0`. Two builds compare by copying one's binary aside first:

    cp target/release/examples/workload /tmp/workload-before    # on the old commit
    benches/interleave.py ping_pong 100 21 \\
        before=/tmp/workload-before:tether-mt \\
        after=target/release/examples/workload:tether-mt \\
        off=target/release/examples/workload:tether-mt:TETHER_BENCH_LIFO_SLOT~0 \\
        tokio=target/release/examples/workload:tokio-mt
"""
import os
import re
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    workload, reps, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    variants = [arg.split("=", 1) for arg in sys.argv[4:]]
    times = {label: [] for label, _ in variants}
    for round_ in range(rounds):
        start = round_ % len(variants)
        for label, spec in variants[start:] + variants[:start]:
            binary, runtime, *settings = spec.split(":")
            env = dict(os.environ)
            env.update(setting.split("~", 1) for setting in settings)
            out = subprocess.run(
                [binary, runtime, workload, reps],
                capture_output=True, text=True, env=env, check=True,
            ).stdout
            times[label].append(float(re.search(r"([0-9.]+) ns/", out).group(1)))
    base = statistics.median(times[variants[-1][0]])
    print(f"| workload | variant | median ns/op | fastest | median / {variants[-1][0]} |")
    print("| --- | --- | ---: | ---: | ---: |")
    for label, _ in variants:
        median = statistics.median(times[label])
        print(f"| {workload} | {label} | {median:.0f} | {min(times[label]):.0f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
