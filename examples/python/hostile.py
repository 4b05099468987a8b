#!/usr/bin/env python3
"""Hostile clients against the server examples, as a new user would try them.

    python3 examples/python/hostile.py [--bin target/debug/examples] [--only NAME,...]

Checks (each prints one line with its figures; the script exits 1 if any fails):

- emfile, emfile-http: `echo_server` (`http_server`) with 64 file descriptors (hard and soft
  limit) and 182 clients, so that `accept` fails with EMFILE: the server must not spin (CPU
  over 3 s under 0.5 s) and must serve again once the clients leave.
- reset: 2,000 clients that send 100 bytes and reset (RST), then 200 that send 50 kB, half-close
  and read the echo: every echo whole, and the server's descriptors as before.
- sigterm: 200 clients each with a message in flight when SIGTERM comes: the server exits with
  status 0, and each client gets its message back whole or not at all (never a part).
- junk: `http_server` sent NULs, `HTTP/9.9`, a negative Content-Length and a 200 kB request
  line, each on its own connection: it still answers a normal request.

The slowloris check is examples/python/slowloris.py. Plain sockets, 127.0.0.1 only; every
socket has a timeout, so a broken server fails the check instead of hanging it.
"""

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")
TIMEOUT = 10


class Server:
    def __init__(self, binary, args=(), fd_limit=None):
        def limit():
            if fd_limit is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

        self.proc = subprocess.Popen(
            [binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=limit,
        )
        line = self.proc.stdout.readline()
        start = line.index("127.0.0.1:")
        host, port = line[start:].split("/")[0].split()[0].split(":")
        self.addr = (host, int(port))

    def cpu(self):
        ticks = 0
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / CLK

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def wait_fds(self, want):
        deadline = time.monotonic() + TIMEOUT
        while self.fds() != want and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.fds()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


def connect(addr):
    return socket.create_connection(addr, timeout=TIMEOUT)


def read_exactly(sock, n):
    got = bytearray()
    while len(got) < n:
        chunk = sock.recv(min(65536, n - len(got)))
        if not chunk:
            break
        got += chunk
    return bytes(got)


def echoes(addr, message=b"ping"):
    with connect(addr) as sock:
        sock.sendall(message)
        return read_exactly(sock, len(message)) == message


def http_ok(addr):
    with connect(addr) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        response = b""
        while chunk := sock.recv(4096):
            response += chunk
        return response.startswith(b"HTTP/1.1 200") and response.endswith(b"Hello, world!")


def check_emfile(bins, http=False):
    name = "http_server" if http else "echo_server"
    server = Server(f"{bins}/{name}", ["--max-conns", "1024"], fd_limit=64)
    try:
        clients = []
        for _ in range(182):
            sock = connect(server.addr)
            sock.sendall(b"GET / HTTP/1.1\r\n" if http else b"x")
            clients.append(sock)
        time.sleep(0.5)  # the server takes what it can, then meets EMFILE
        before = server.cpu()
        time.sleep(3)
        spent = server.cpu() - before
        for sock in clients:
            sock.close()
        time.sleep(0.5)
        served = http_ok(server.addr) if http else echoes(server.addr)
        ok = spent < 0.5 and served
        return ok, (f"{name}, 182 clients on 64 fds: {spent:.2f} s CPU over 3 s, serves after: "
                    f"{served}")
    finally:
        server.stop()


def check_reset(bins):
    server = Server(f"{bins}/echo_server", ["--max-conns", "1024"])
    try:
        assert echoes(server.addr)
        time.sleep(0.2)
        before = server.fds()
        linger = __import__("struct").pack("ii", 1, 0)
        for _ in range(2000):
            sock = connect(server.addr)
            sock.sendall(b"r" * 100)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.close()
        message = bytes(i % 251 for i in range(50_000))
        whole = 0
        socks = [connect(server.addr) for _ in range(200)]
        for sock in socks:
            sock.sendall(message)
            sock.shutdown(socket.SHUT_WR)
        for sock in socks:
            echoed = b""
            while chunk := sock.recv(65536):
                echoed += chunk
            whole += echoed == message
            sock.close()
        after = server.wait_fds(before)
        ok = whole == 200 and after == before
        return ok, f"2,000 RST + 200 half-close: fds {before} -> {after}, {whole}/200 echoed whole"
    finally:
        server.stop()


def check_sigterm(bins):
    server = Server(f"{bins}/echo_server", ["--max-conns", "1024", "--grace", "5"])
    socks = []
    try:
        socks = [connect(server.addr) for _ in range(200)]
        for sock in socks:
            sock.sendall(b"hello")
            assert read_exactly(sock, 5) == b"hello"
        message = b"m" * 1000
        for sock in socks:
            sock.sendall(message)
        server.proc.send_signal(signal.SIGTERM)
        whole = nothing = partial = 0
        for sock in socks:
            echoed = b""
            try:
                while chunk := sock.recv(65536):
                    echoed += chunk
            except ConnectionResetError:
                pass
            if echoed == message:
                whole += 1
            elif echoed == b"":
                nothing += 1
            else:
                partial += 1
        status = server.stop()
        ok = status == 0 and partial == 0
        return ok, (f"SIGTERM, 200 messages in flight: exit status {status}, {whole} echoed "
                    f"whole, {nothing} not read before the stop (closed), {partial} partial")
    finally:
        for sock in socks:
            sock.close()
        server.stop()


def check_junk(bins):
    server = Server(f"{bins}/http_server", ["--max-conns", "64"])
    try:
        junk = [
            b"\0" * 4096,
            b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nhello",
            b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        answers = []
        for payload in junk:
            with connect(server.addr) as sock:
                try:
                    sock.sendall(payload)
                    answers.append(sock.recv(64).split(b"\r\n")[0].decode() or "closed")
                except (ConnectionResetError, BrokenPipeError):
                    answers.append("reset")
        ok = http_ok(server.addr)
        return ok, f"junk answered {answers}; a normal request after: {'200' if ok else 'FAILED'}"
    finally:
        server.stop()


CHECKS = {"emfile": check_emfile, "emfile-http": lambda bins: check_emfile(bins, http=True), "reset": check_reset, "sigterm": check_sigterm,
          "junk": check_junk}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "examples"))
    parser.add_argument("--only", default=",".join(CHECKS))
    opts = parser.parse_args()
    failed = False
    for name in opts.only.split(","):
        start = time.monotonic()
        try:
            ok, figures = CHECKS[name](opts.bin)
        except Exception as err:  # a check that cannot run is a failure, with its reason
            ok, figures = False, f"error: {err!r}"
        failed |= not ok
        print(f"{name}: {figures} ({time.monotonic() - start:.1f} s): {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
