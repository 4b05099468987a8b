#!/usr/bin/env python3
"""Slow and idle clients against the server examples: is a well-behaved client still served?

    python3 examples/python/slowloris.py [--bin target/debug/examples] [--slots 100]
                                         [--crowd 1.5] [--requests 5] [--limit 1.0]
                                         [--servers http,echo,echo-workers]

For each server (`http_server`, `echo_server` on one loop, `echo_server --workers 2`) it starts
the example with `--max-conns SLOTS`, then keeps a crowd of CROWD x SLOTS hostile connections
open: for HTTP, half send a request's headers one line at a time (never the blank line that
ends them: slowloris) and half say nothing; for echo all say nothing. When the server closes
one of them, the crowd opens another at once, so the pressure never lets up. Meanwhile a
well-behaved client makes REQUESTS requests (HTTP GET, or an echo), each on a new connection,
and times each from connect to the whole answer.

Prints one line per server with the worst time, and exits 1 if any request took more than
LIMIT seconds (or failed). Bounded: about 3 s per server; every socket has a timeout.
Plain sockets, 127.0.0.1 only.
"""

import argparse
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time

HEADER_LINES = [b"GET / HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n"] + [
    b"X-Slow-%d: %s\r\n" % (i, b"a" * 20) for i in range(1000)
]


class Crowd(threading.Thread):
    """Keeps `size` hostile connections open, reopening each one the server closes."""

    def __init__(self, addr, size, trickle):
        super().__init__(daemon=True)
        self.addr, self.size, self.trickle = addr, size, trickle
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.opened = 0
        self.socks = {}  # socket -> next header line to send (None: silent)

    def open_one(self, slow):
        sock = socket.create_connection(self.addr, timeout=5)
        sock.setblocking(False)
        self.opened += 1
        if slow:
            sock.send(HEADER_LINES[0])
            self.socks[sock] = 1
        else:
            self.socks[sock] = None

    def run(self):
        for i in range(self.size):
            self.open_one(self.trickle and i % 2 == 0)
        self.ready.set()
        last_trickle = time.monotonic()
        while not self.stop.is_set():
            readable, _, _ = select.select(list(self.socks), [], [], 0.02)
            for sock in readable:
                try:
                    data = sock.recv(4096)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:  # closed by the server: come straight back
                    slow = self.socks.pop(sock) is not None
                    sock.close()
                    self.open_one(slow)
            if time.monotonic() - last_trickle > 0.5:
                last_trickle = time.monotonic()
                for sock, line in list(self.socks.items()):
                    if line is not None and line < len(HEADER_LINES):
                        try:
                            sock.send(HEADER_LINES[line])
                            self.socks[sock] = line + 1
                        except OSError:
                            pass
        for sock in self.socks:
            sock.close()


def well_behaved(addr, http):
    """One request on a new connection; returns the seconds it took."""
    start = time.monotonic()
    with socket.create_connection(addr, timeout=10) as sock:
        if http:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            want = b"Hello, world!"
        else:
            sock.sendall(b"ping")
            want = b"ping"
        got = b""
        while not got.endswith(want):
            chunk = sock.recv(4096)
            if not chunk:
                raise RuntimeError(f"connection closed after {got!r}")
            got += chunk
    return time.monotonic() - start


def check(binary, args, http, opts):
    server = subprocess.Popen(
        [binary, "--max-conns", str(opts.slots)] + args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = server.stdout.readline()
        start = line.index("127.0.0.1:")
        host, port = line[start:].split("/")[0].split()[0].split(":")
        addr = (host, int(port))
        crowd = Crowd(addr, int(opts.crowd * opts.slots), trickle=http)
        crowd.start()
        crowd.ready.wait(10)
        time.sleep(0.3)  # let the server take the whole crowd in
        times = []
        for _ in range(opts.requests):
            try:
                times.append(well_behaved(addr, http))
            except (OSError, RuntimeError) as err:
                times.append(float("inf"))
                print(f"  request failed: {err}", file=sys.stderr)
            time.sleep(0.1)
        crowd.stop.set()
        crowd.join(10)
        return times, crowd.opened
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "examples"))
    parser.add_argument("--slots", type=int, default=100)
    parser.add_argument("--crowd", type=float, default=1.5)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--limit", type=float, default=1.0)
    parser.add_argument("--servers", default="http,echo,echo-workers",
                        help="which of http, echo, echo-workers to check")
    opts = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    known = {
        "http": ("http_server", [], True),
        "echo": ("echo_server", [], False),
        "echo-workers": ("echo_server", ["--workers", "2"], False),
    }
    servers = [known[name] for name in opts.servers.split(",")]
    failed = False
    for name, args, http in servers:
        times, opened = check(os.path.join(opts.bin, name), args, http, opts)
        worst = max(times)
        ok = worst <= opts.limit
        failed |= not ok
        label = " ".join([name] + args)
        print(
            f"{label}: {int(opts.crowd * opts.slots)} hostile clients on {opts.slots} slots "
            f"({opened} connections opened in all); well-behaved requests took "
            f"{', '.join(f'{t * 1000:.1f}' for t in times)} ms: "
            f"{'ok' if ok else f'FAIL (over {opts.limit} s)'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
