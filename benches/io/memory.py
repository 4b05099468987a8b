#!/usr/bin/env python3
"""Server memory per connection, tether against tokio: benches/io/memory.sh runs it.

    python3 benches/io/memory.py --bin DIR [--rounds 3] [--idle 10000] [--churn 200000]
                                 [--runtimes tether,tokio-ct,tether-mt,tokio-mt]

Idle: for each round, and in each round for each runtime in turn (interleaved), starts
`io_server RUNTIME echo`, reads its VmRSS (/proc/PID/status) after one warm-up client, opens
IDLE connections that each echo one message (so the server has accepted it and its task has run
and holds its buffer) and then stay idle, reads VmRSS again, and reports (after - before) / IDLE
bytes per connection. The median over the rounds is printed, with the ratio to tokio.

With --examples DIR, the idle rounds also measure the `echo_server` example built there (rows
`example` and `example-mt`, `--workers 2`): the hardened server, whose connections each hold an
IdleQueue member next to the same 4 KiB buffer.

Churn: for each runtime, CHURN short connections in batches of 100 open at once (connect, echo
64 bytes, close with a reset so that no TIME_WAIT socket is left to exhaust the ports), and
VmRSS sampled every CHURN/20 connections; reports the samples after the first quarter (warm-up)
and their spread, (max - min) / min.

127.0.0.1 only; the client raises its soft limit on open files to the hard limit.
"""

import argparse
import resource
import socket
import statistics
import struct
import subprocess
import time

LINGER_RESET = struct.pack("ii", 1, 0)


def rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def start(binary, runtime):
    if runtime.startswith("example"):
        # The hardened echo_server example (IdleQueue member, 4 KiB buffer, limit, idle timeout).
        workers = ["--workers", "2"] if runtime.endswith("-mt") else []
        command = [binary, "--max-conns", "20000", *workers]
    else:
        command = [binary, runtime, "echo"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    host, port = line[line.index("127.0.0.1:"):].split()[0].rsplit(":", 1)
    return server, (host, int(port))


def echo(sock, message):
    sock.sendall(message)
    got = b""
    while len(got) < len(message):
        chunk = sock.recv(len(message) - len(got))
        if not chunk:
            raise RuntimeError("closed before the echo")
        got += chunk


def settle(pid):
    """VmRSS once it stops moving (the server has finished with what the client sent)."""
    last = rss(pid)
    for _ in range(50):
        time.sleep(0.1)
        now = rss(pid)
        if now == last:
            return now
        last = now
    return last


def idle_round(binary, runtime, count):
    server, addr = start(binary, runtime)
    try:
        with socket.create_connection(addr, timeout=10) as warm:
            echo(warm, b"warm-up")
        before = settle(server.pid)
        socks = []
        for _ in range(count):
            sock = socket.create_connection(addr, timeout=10)
            echo(sock, b"x")
            socks.append(sock)
        after = settle(server.pid)
        for sock in socks:
            sock.close()
        return (after - before) / count
    finally:
        server.kill()
        server.wait()


def churn(binary, runtime, count):
    server, addr = start(binary, runtime)
    samples = []
    try:
        message = b"m" * 64
        done = 0
        every = count // 20
        while done < count:
            batch = [socket.create_connection(addr, timeout=10) for _ in range(100)]
            for sock in batch:
                echo(sock, message)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
                sock.close()
            done += len(batch)
            if done % every == 0:
                samples.append(rss(server.pid))
    finally:
        server.kill()
        server.wait()
    steady = samples[len(samples) // 4:]
    return samples, steady, (max(steady) - min(steady)) / min(steady)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--churn", type=int, default=200_000)
    parser.add_argument("--runtimes", default="tether,tokio-ct,tether-mt,tokio-mt")
    parser.add_argument("--examples", help="also the echo_server example built in this "
                        "directory (rows example, example-mt), in the idle rounds")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.idle + 100:
        raise SystemExit(f"the hard limit on open files ({hard}) is below {args.idle} connections")
    runtimes = args.runtimes.split(",")
    binary = f"{args.bin}/io_server"

    binaries = {runtime: binary for runtime in runtimes}
    if args.examples:
        binaries.update({name: f"{args.examples}/echo_server" for name in ["example", "example-mt"]})
    per_conn = {runtime: [] for runtime in binaries}
    for _ in range(args.rounds):
        for runtime, path in binaries.items():
            per_conn[runtime].append(idle_round(path, runtime, args.idle))
    print(f"Idle connections: {args.idle:,}, VmRSS after - before, median of {args.rounds} "
          "interleaved rounds\n")
    print("| server | bytes per idle connection | rounds | vs tokio (same flavour) |")
    print("| --- | --- | --- | --- |")
    for runtime in binaries:
        median = statistics.median(per_conn[runtime])
        peer = "tokio-mt" if runtime.endswith("-mt") else "tokio-ct"
        ratio = ""
        if not runtime.startswith("tokio") and peer in per_conn:
            ratio = f"{median / statistics.median(per_conn[peer]):.2f}x"
        rounds = ", ".join(f"{value:,.0f}" for value in per_conn[runtime])
        print(f"| {runtime} | {median:,.0f} | {rounds} | {ratio} |")

    if args.churn:
        print(f"\nChurn: {args.churn:,} short connections, VmRSS every {args.churn // 20:,}; "
              "spread after the first quarter\n")
        print("| server | VmRSS samples (KiB) | spread after warm-up |")
        print("| --- | --- | --- |")
        for runtime in runtimes:
            samples, steady, spread = churn(binary, runtime, args.churn)
            shown = " ".join(str(sample // 1024) for sample in samples)
            print(f"| {runtime} | {shown} | {spread * 100:.1f} % |")


if __name__ == "__main__":
    main()
