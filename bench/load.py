"""Load benchmark of intake: submissions/s and p99 by clients, workers and database, and a
sustained fixed-rate run that must keep p99 under a second without "database is locked".

    python -m bench.load matrix [--seconds 20] [--database-url URL]...
    python -m bench.load sustained [--rate 200] [--minutes 10] [--workers 1] [--database-url URL]
    python -m bench.load replicas --database-url postgresql+psycopg://... [--seconds 20]

The matrix runs wrk (Debian package) at 32 and 200 connections against 1 and 2 workers for
each database given (default: a fresh SQLite file). The replicas run puts two `yijian serve`
processes on one PostgreSQL, each loaded by its own wrk at once, beside one replica alone
(the baseline, same run, same connections per replica). The sustained run is open-loop: an asyncio
client (httpx2) starts a request every 1/rate seconds whether or not earlier ones finished,
so a slow server shows up as latency instead of a lower offered rate (what wrk2 would do).
Every run prints the load average, since this machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

from bench.intake import ROOT, TEXT, free_port, measured, write_browser_script, wrk

YIJIAN = [sys.executable, "-m", "app"]


def prepare(url: str) -> dict[str, str]:
    env = {**os.environ, "YIJIAN_DATABASE_URL": url, "YIJIAN_RATE_LIMIT": "off",
           "YIJIAN_ENV": "dev", "YIJIAN_LOG_LEVEL": "WARNING"}
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run([*YIJIAN, *step], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


@contextmanager
def serving(
    env: dict[str, str], workers: int, log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([*YIJIAN, "serve", "--port", str(port), "--workers", str(workers)],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait()


def wait_ready(url: str, seconds: float = 90) -> None:
    """Wait for /healthz: a loaded 2-core machine can take a while to start 2 workers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def kind(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def matrix(urls: list[str], seconds: int, tmp: Path) -> None:
    script = tmp / "post.lua"
    write_browser_script(script)
    print(f"machine: {os.cpu_count()} cores; {seconds}s per cell")
    print(f"{'database':12}{'workers':>8}{'clients':>8}{'subm/s':>9}{'p50 ms':>9}"
          f"{'p99 ms':>9}{'non-2xx':>9}{'CPU ms':>8}{'load':>7}")
    for url in urls:
        env = prepare(url)
        for workers in (1, 2):
            log = tmp / f"server-{kind(url)}-{workers}.log"
            with serving(env, workers, log) as (base, proc):
                for clients in (32, 200):
                    load = os.getloadavg()[0]
                    r = measured(proc, f"{base}/u/demo", script, clients, seconds)
                    print(f"{kind(url):12}{workers:>8}{clients:>8}{r['rps']:>9.0f}{r['p50']:>9.1f}"
                          f"{r['p99']:>9.1f}{r['non2xx']:>9.0f}{r['cpu_ms']:>8.2f}{load:>7.2f}",
                          flush=True)
            locked = log.read_text(errors="replace").count("database is locked")
            if locked:
                print(f"  !! 'database is locked' {locked} times in {log}")


def replicas(url: str, seconds: int, tmp: Path, connections: int = 32) -> None:
    script = tmp / "post.lua"
    write_browser_script(script)
    env = prepare(url)
    print(f"machine: {os.cpu_count()} cores; {kind(url)}; {seconds}s per run, "
          f"{connections} connections per replica, 1 worker process per replica")
    print(f"{'run':24}{'subm/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'load':>7}")

    def show(label: str, r: dict[str, float], load: float) -> None:
        print(f"{label:24}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['non2xx']:>9.0f}"
              f"{load:>7.2f}", flush=True)

    with serving(env, 1, tmp / "replica-a.log") as (base_a, _a):
        load = os.getloadavg()[0]
        show("one replica (baseline)", wrk(f"{base_a}/u/demo", script, connections, seconds),
             load)
        with serving(env, 1, tmp / "replica-b.log") as (base_b, _b):
            load = os.getloadavg()[0]
            with ThreadPoolExecutor(2) as pool:
                runs = list(pool.map(lambda base: wrk(f"{base}/u/demo", script, connections,
                                                      seconds), (base_a, base_b)))
    for name, r in zip(("replica A of two", "replica B of two"), runs, strict=True):
        show(name, r, load)
    total = {"rps": sum(r["rps"] for r in runs), "p50": max(r["p50"] for r in runs),
             "p99": max(r["p99"] for r in runs), "non2xx": sum(r["non2xx"] for r in runs)}
    show("two replicas, total", total, load)


async def _sustained(base: str, rate: float, seconds: float) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal failures
            start = time.perf_counter()
            try:
                r = await client.post("/u/demo", data={"text": f"{TEXT}（{i}）", "role": "家长",
                                                       "anonymous": "1"})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            failures += 0 if ok else 1

        tasks = []
        t0 = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            # Open loop: the i-th request starts at t0 + i/rate, late or not.
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies, failures, total


def sustained(url: str, rate: float, minutes: float, workers: int, tmp: Path) -> int:
    env = prepare(url)
    log = tmp / "server-sustained.log"
    load_before = os.getloadavg()
    with serving(env, workers, log) as (base, _proc):
        t0 = time.perf_counter()
        latencies, failures, total = asyncio.run(_sustained(base, rate, minutes * 60))
        took = time.perf_counter() - t0
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    worst = latencies[-1] * 1000
    locked = log.read_text(errors="replace").count("database is locked")
    print(f"machine: {os.cpu_count()} cores; {kind(url)}; workers={workers}; "
          f"load average before {load_before[0]:.2f}/{load_before[1]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    print(f"offered {rate:.0f}/s for {minutes:g} min: {total} requests in {took:.0f}s "
          f"({total / took:.0f}/s achieved), failures {failures}")
    print(f"latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {worst:.0f} ms; "
          f"'database is locked' in server log: {locked}")
    ok = p99 < 1000 and failures == 0 and locked == 0
    print("PASS" if ok else "FAIL", "(p99 < 1 s, no failures, no 'database is locked')")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["matrix", "sustained", "replicas"])
    parser.add_argument("--database-url", action="append", default=[],
                        help="Repeatable; default a fresh SQLite file. Use a fresh database.")
    parser.add_argument("--seconds", type=int, default=20, help="matrix: seconds per cell")
    parser.add_argument("--rate", type=float, default=200, help="sustained: requests/s")
    parser.add_argument("--minutes", type=float, default=10, help="sustained: duration")
    parser.add_argument("--workers", type=int, default=1, help="sustained: worker processes")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="yijian-load-"))
    urls = args.database_url or [f"sqlite:///{tmp / 'load.db'}"]
    if args.mode == "matrix":
        matrix(urls, args.seconds, tmp)
    elif args.mode == "replicas":
        replicas(urls[0], args.seconds, tmp)
    else:
        raise SystemExit(sustained(urls[0], args.rate, args.minutes, args.workers, tmp))


if __name__ == "__main__":
    main()
