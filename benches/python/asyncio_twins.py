#!/usr/bin/env python3
"""asyncio twins of tether's comparison workloads (plain asyncio, standard library only).

Prints one tab-separated line per workload, `key<TAB>value<TAB>unit`, with the same keys and
units as `cargo bench -p tether-benches --bench compare`, which reads the file given to its
`--asyncio` option into the table's asyncio column. Lines starting with `#` are comments.

    python3 benches/python/asyncio_twins.py [--samples N] [--only key1,key2]

Each figure is the median of N samples (default 7); each sample is one run inside a fresh
`asyncio.run`, timed inside the loop (loop start-up is not measured), after one warm-up run.
"""

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc


async def empty():
    pass


async def spawn_many(n):
    tasks = [asyncio.create_task(empty()) for _ in range(n)]
    for task in tasks:
        await task


async def yielder(yields):
    for _ in range(yields):
        await asyncio.sleep(0)


async def yield_many(tasks, yields):
    handles = [asyncio.create_task(yielder(yields)) for _ in range(tasks)]
    for handle in handles:
        await handle


async def ping_pong(pairs):
    loop = asyncio.get_running_loop()

    async def pong(ping, answer):
        await ping
        answer.set_result(None)

    async def ping():
        ping_fut = loop.create_future()
        answer = loop.create_future()
        pong_task = asyncio.create_task(pong(ping_fut, answer))
        ping_fut.set_result(None)
        await answer
        await pong_task

    tasks = [asyncio.create_task(ping()) for _ in range(pairs)]
    for task in tasks:
        await task


async def link(left):
    if left > 0:
        await asyncio.create_task(link(left - 1))


async def chained_spawn(n):
    await asyncio.create_task(link(n - 1))


async def sleep_many(n, seconds):
    tasks = [asyncio.create_task(asyncio.sleep(seconds)) for _ in range(n)]
    for task in tasks:
        await task


def _never():
    raise AssertionError("a cancelled timer fired")


async def arm_cancel(n):
    # asyncio's timer primitive: arm a 60 s TimerHandle and cancel it.
    loop = asyncio.get_running_loop()
    for _ in range(n):
        loop.call_later(60, _never).cancel()


async def group(n):
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(empty())


async def yield_once(i):
    await asyncio.sleep(0)
    return i


async def gather_many(n):
    await asyncio.gather(*(yield_once(i) for i in range(n)))


GATHER8_CALLS = 1_000


async def gather8():
    for _ in range(GATHER8_CALLS):
        await asyncio.gather(*(yield_once(i) for i in range(8)))


async def sleep0():
    await asyncio.sleep(0)


async def group_sleep0(n):
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(sleep0())


async def background(n):
    # The pattern asyncio's docs give for fire-and-forget tasks.
    background_tasks = set()
    for _ in range(n):
        task = asyncio.create_task(sleep0())
        background_tasks.add(task)
        task.add_done_callback(background_tasks.discard)
    while background_tasks:
        await asyncio.wait(background_tasks)


ROUND_TRIPS = 1_000


async def queue_ping_pong(rounds):
    ping, pong = asyncio.Queue(1), asyncio.Queue(1)

    async def ponger():
        for _ in range(rounds):
            await pong.put(await ping.get())

    task = asyncio.create_task(ponger())
    for i in range(rounds):
        await ping.put(i)
        assert await pong.get() == i
    await task


async def event_ping_pong(rounds):
    ping, pong = asyncio.Event(), asyncio.Event()

    async def ponger():
        for _ in range(rounds):
            await ping.wait()
            ping.clear()
            pong.set()

    task = asyncio.create_task(ponger())
    for _ in range(rounds):
        ping.set()
        await pong.wait()
        pong.clear()
    await task


LOCK_TASKS, LOCK_ROUNDS = 100, 10


async def lock_contended():
    lock = asyncio.Lock()

    async def contender():
        for _ in range(LOCK_ROUNDS):
            async with lock:
                await asyncio.sleep(0)

    tasks = [asyncio.create_task(contender()) for _ in range(LOCK_TASKS)]
    for task in tasks:
        await task


# key: (body factory, ops per run, unit), as in benches/workloads/catalogue.rs
WORKLOADS = {
    "spawn_many_1k": (lambda: spawn_many(1_000), 1_000, "ns/task"),
    "spawn_await_1k": (lambda: spawn_many(1_000), 1_000, "ns/task"),
    "group_empty_1k": (lambda: group(1_000), 1_000, "ns/task"),
    "spawn_many_100k": (lambda: spawn_many(100_000), 100_000, "ns/task"),
    "yield_many": (lambda: yield_many(200, 1_000), 200_000, "ns/yield"),
    "sleep0_many": (lambda: yield_many(200, 1_000), 200_000, "ns/yield"),
    "ping_pong": (lambda: ping_pong(1_000), 1_000, "ns/pair"),
    "chained_spawn": (lambda: chained_spawn(1_000), 1_000, "ns/task"),
    "timers_sleep_100k": (lambda: sleep_many(100_000, 0.010), None, "ms/run"),
    "timers_arm_cancel_100k": (lambda: arm_cancel(100_000), 100_000, "ns/timer"),
    "group_1k": (lambda: group(1_000), 1_000, "ns/task"),
    "gather_1k": (lambda: gather_many(1_000), 1_000, "ns/future"),
    "gather8": (gather8, GATHER8_CALLS, "ns/call"),
    "group_sleep0_1k": (lambda: group_sleep0(1_000), 1_000, "ns/task"),
    "taskset_background_1k": (lambda: background(1_000), 1_000, "ns/task"),
    "queue_ping_pong": (lambda: queue_ping_pong(ROUND_TRIPS), ROUND_TRIPS, "ns/round trip"),
    "event_ping_pong": (lambda: event_ping_pong(ROUND_TRIPS), ROUND_TRIPS, "ns/round trip"),
    "lock_contended_100": (lock_contended, LOCK_TASKS * LOCK_ROUNDS, "ns/acquire"),
}


def sample(make):
    async def timed():
        start = time.perf_counter_ns()
        await make()
        return time.perf_counter_ns() - start

    return asyncio.run(timed())


def bytes_per_task(n=10_000):
    """Heap bytes per pending task, as tracemalloc sees them (second round, as in Rust)."""

    async def measure():
        loop = asyncio.get_running_loop()
        never = loop.create_future()

        async def pending():
            await never

        result = 0.0
        for round_ in range(2):
            gc.collect()
            if round_ == 1:
                tracemalloc.start()
                before = tracemalloc.get_traced_memory()[0]
            tasks = [asyncio.create_task(pending()) for _ in range(n)]
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if round_ == 1:
                after = tracemalloc.get_traced_memory()[0]
                tracemalloc.stop()
                # The list of handles is allocated inside the window here; take it out.
                result = (after - before - sys.getsizeof(tasks)) / n
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            del tasks
        never.cancel()
        return result

    return asyncio.run(measure())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated substrings of keys")
    args = parser.parse_args()
    only = [k for k in args.only.split(",") if k]

    def wanted(key):
        return not only or any(k in key for k in only)

    print(f"# asyncio twins, Python {sys.version.split()[0]}, {args.samples} samples, median")
    for key, (make, ops, unit) in WORKLOADS.items():
        if not wanted(key):
            continue
        sample(make)  # warm-up
        times = [sample(make) for _ in range(max(1, args.samples))]
        median = statistics.median(times)
        value = median / 1e6 if ops is None else median / ops
        print(f"{key}\t{value:.1f}\t{unit}", flush=True)
    if wanted("bytes_per_task") or "memory" in only:
        print(f"bytes_per_task\t{bytes_per_task():.0f}\tbytes/task", flush=True)


if __name__ == "__main__":
    main()
