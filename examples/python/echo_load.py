#!/usr/bin/env python3
"""An asyncio load client for echo servers, the Python twin of tether's `echo_load` example.

    python3 examples/python/echo_load.py 127.0.0.1:PORT [--conns 50] [--msgs 2000] [--size 64]

Opens --conns connections and sends --msgs messages of --size bytes on each, one at a time
(send, read the echo back, repeat), then prints the messages per second over all connections.
Bounded: exactly conns x msgs round trips, and it gives up after 120 seconds.
"""

import argparse
import asyncio
import time


async def client(host: str, port: int, msgs: int, size: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    message = b"x" * size
    for _ in range(msgs):
        writer.write(message)
        await reader.readexactly(size)
    writer.close()
    await writer.wait_closed()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("addr")
    parser.add_argument("--conns", type=int, default=50)
    parser.add_argument("--msgs", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    host, port = args.addr.rsplit(":", 1)

    start = time.perf_counter()
    async with asyncio.timeout(120):
        async with asyncio.TaskGroup() as tg:
            for _ in range(args.conns):
                tg.create_task(client(host, int(port), args.msgs, args.size))
    elapsed = time.perf_counter() - start
    total = args.conns * args.msgs
    print(
        f"{args.conns} connections x {args.msgs} messages of {args.size} bytes: "
        f"{total} round trips in {elapsed:.2f} s = {total / elapsed:.0f} messages/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
