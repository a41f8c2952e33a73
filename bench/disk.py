"""How long the disk takes to make a write durable, the floor under every receipt's latency.

    python -m bench.disk [--seconds 15] [--dir DIR]

Rewrites one 8 KiB block of a scratch file in DIR (default: the system's temporary directory;
point it at the database's directory) and times each fdatasync, as SQLite's WAL commit at
synchronous=FULL does once per batch. Prints the latency distribution and how many syncs
stalled past 50 ms: on a VM a single host-side stall holds every waiting request, so a run
of bench/intake.py with a p99 far above its p50 should be read against this.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

BLOCK = 8192
STALL_S = 0.05


def measure(directory: str, seconds: float) -> list[float]:
    """fdatasync latencies (s) of rewriting one block, for the given duration."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="yijian-disk-")
    try:
        os.write(fd, b"\0" * BLOCK * 64)
        os.fsync(fd)
        latencies = []
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            os.pwrite(fd, os.urandom(BLOCK), (i % 64) * BLOCK)
            start = time.perf_counter()
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - start)
            i += 1
        return latencies
    finally:
        os.close(fd)
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    lat = sorted(measure(args.dir, args.seconds))
    n = len(lat)

    def ms(q: float) -> str:
        return f"{1000 * lat[min(n - 1, int(n * q))]:.2f}"

    stalls = sum(x > STALL_S for x in lat)
    print(f"disk under {args.dir}: {n} fdatasync in {args.seconds:g}s ({n / args.seconds:.0f}/s)")
    print(f"p50 {ms(0.5)} ms  p99 {ms(0.99)} ms  p99.9 {ms(0.999)} ms  max {1000 * lat[-1]:.1f} ms")
    per_minute = stalls / args.seconds * 60
    print(f"stalls over {1000 * STALL_S:.0f} ms: {stalls} ({per_minute:.0f} per minute)")


if __name__ == "__main__":
    main()
