"""Runs the I/O benchmark rounds and prints the table; see run.sh."""

import argparse
import os
import re
import statistics
import subprocess

CLK = os.sysconf("SC_CLK_TCK")
ECHO = ["tether", "tokio-ct", "smol", "tether-mt", "tokio-mt"]
HTTP = ["tether", "tokio-ct", "tether-mt", "tokio-mt"]


def cpu_seconds(pid):
    """User + system CPU of every live thread of `pid`."""
    ticks = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLK


def start(binary, runtime, workload):
    server = subprocess.Popen([binary, runtime, workload], stdout=subprocess.PIPE, text=True)
    addr = server.stdout.readline().strip()
    return server, addr


def stop(server):
    server.kill()
    server.wait()


def echo_round(args, runtime):
    server, addr = start(f"{args.bin}/io_server", runtime, "echo")
    try:
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [f"{args.bin}/io_echo_load", addr, str(args.conns), str(args.msgs), str(args.size)],
            check=True, capture_output=True, text=True, timeout=150,
        ).stdout.split()
        cpu = cpu_seconds(server.pid) - before
    finally:
        stop(server)
    total = int(out[0])
    return float(out[2]), cpu / total * 1e6


def http_round(args, runtime):
    server, addr = start(f"{args.bin}/io_server", runtime, "http")
    try:
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            ["wrk", "-t1", "-c50", f"-d{args.duration}s", f"http://{addr}/"],
            check=True, capture_output=True, text=True, timeout=args.duration + 30,
        ).stdout
        cpu = cpu_seconds(server.pid) - before
    finally:
        stop(server)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    return rate, cpu / total * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--conns", type=int, default=50)
    parser.add_argument("--msgs", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()

    results = {}
    for round_ in range(args.rounds):
        # Interleaved: every server once per round, so drift in the machine's load spreads
        # over all of them.
        for runtime in ECHO:
            results.setdefault(("echo", runtime), []).append(echo_round(args, runtime))
        for runtime in HTTP:
            results.setdefault(("http", runtime), []).append(http_round(args, runtime))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)

    def median(workload, runtime, index):
        samples = results.get((workload, runtime))
        return statistics.median(s[index] for s in samples) if samples else None

    def fmt(value, unit):
        if value is None:
            return "-"
        return f"{value / 1000:.1f}k" if unit == "rate" else f"{value:.2f} us"

    rows = [
        ("echo", f"echo, {args.conns} conns x {args.size} B, msgs/s", 0, "rate"),
        ("echo", "echo, server CPU per message", 1, "cpu"),
        ("http", f"hyper hello world, wrk -t1 -c50 -d{args.duration}s, req/s", 0, "rate"),
        ("http", "hyper, server CPU per request", 1, "cpu"),
    ]
    names = ["tether", "tokio-ct", "smol", "tether-mt", "tokio-mt"]
    print()
    print("| workload (median of %d rounds) | %s | tether / tokio-ct | tether-mt / tokio-mt |"
          % (args.rounds, " | ".join(names)))
    print("| --- |" + " --- |" * (len(names) + 2))
    for workload, label, index, unit in rows:
        cells = [fmt(median(workload, name, index), unit) for name in names]
        def ratio(a, b):
            x, y = median(workload, a, index), median(workload, b, index)
            return f"{x / y:.2f}x" if x and y else "-"
        print(f"| {label} | " + " | ".join(cells)
              + f" | {ratio('tether', 'tokio-ct')} | {ratio('tether-mt', 'tokio-mt')} |")
    print()
    print("tether-mt and tokio-mt: 2 workers. smol: async-executor + async_io::block_on "
          "(async-net sockets; no HTTP server). CPU per message is the server's user + system "
          "time over the load, from /proc/PID/task/*/stat.")


if __name__ == "__main__":
    main()
