#!/usr/bin/env python3
"""The asyncio twin of tether's `echo_server` example, for comparing the two.

    python3 examples/python/echo_server.py [PORT] [--timeout SECS]

Listens on 127.0.0.1 (port 0 picks a free one), prints the address, echoes every connection
until the client closes it, and stops on Ctrl-C or after --timeout seconds. Plain asyncio, the
default event loop, no third-party packages.
"""

import argparse
import asyncio
import contextlib
import signal


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(16 * 1024):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None)
    args = parser.parse_args()

    server = await asyncio.start_server(echo, "127.0.0.1", args.port)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"asyncio echo server listening on {host}:{port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.timeout)
    print("shut down", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
