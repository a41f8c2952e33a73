"""Intake throughput: form submissions vs. a no-op form POST, measured in the same run.

Starts `yijian serve` on a fresh SQLite file (synchronous=FULL) and the no-op baseline app,
loads both with wrk (Debian package) and prints req/s, p50, p99 and the ratio.

    python bench/intake.py [--connections 32] [--seconds 15] [--workers 1] [--rounds 1]
                           [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
TEXT = "建议学校食堂公开每周菜谱和价格，家长委员会每月参与一次陪餐监督，保证孩子们吃得放心。"
# What Chromium/WeChat sends for our form: multipart/form-data with the hidden idempotency
# key (unique per request, as on every freshly opened form), the role, the text, the
# anonymous box, the empty name/contact fields and an empty file input.
BROWSER_LUA = r"""
local boundary = "----WebKitFormBoundaryYijianBench7MA4YWxk"
local prefix, counter = "", 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  prefix = args[1] or "k"
end
local function part(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name
    .. "\"\r\n\r\n" .. value .. "\r\n"
end
local tail = part("role", "{role}") .. part("text", "{text}") .. part("anonymous", "1")
  .. part("name", "") .. part("contact", "")
  .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"\"\r\n"
  .. "Content-Type: application/octet-stream\r\n\r\n\r\n--" .. boundary .. "--\r\n"
local headers = {["Content-Type"] = "multipart/form-data; boundary=" .. boundary}
function request()
  counter = counter + 1
  local key = prefix .. "-" .. id .. "-" .. counter
  return wrk.format("POST", nil, headers, part("key", key) .. tail)
end
"""
# The smallest form POST (no key, no empty fields): what earlier figures used.
URLENCODED_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "role=%E5%AE%B6%E9%95%BF&anonymous=1&text=" .. "{text}"
"""


def write_browser_script(path: Path) -> None:
    """The wrk script that posts what our form sends from a phone."""
    path.write_text(BROWSER_LUA.replace("{text}", TEXT).replace("{role}", "家长"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    # A fresh key prefix per run: keys never repeat, so every request is a new submission.
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url,
         "--", uuid.uuid4().hex[:12]],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"),
            "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
            "socket_errors": 1.0 if errors else 0.0}


def descendants(pid: int) -> list[int]:
    """A process and all its descendants (uvicorn workers, writer processes), from /proc."""
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found += descendants(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants, from /proc."""
    total = 0.0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measured(proc: subprocess.Popen[bytes], url: str, script: Path, connections: int,
             seconds: int) -> dict[str, float]:
    """wrk figures plus the server's CPU milliseconds per request, which machine load
    from other processes does not change much."""
    before = cpu_seconds(proc.pid)
    result = wrk(url, script, connections, seconds)
    used = cpu_seconds(proc.pid) - before
    result["cpu_ms"] = 1000 * used / max(1.0, result["rps"] * seconds)
    return result


def combined(runs: list[dict[str, float]]) -> dict[str, float]:
    """Slices of equal length as one run: mean req/s, median p50, worst p99."""
    total = sum(r["rps"] for r in runs)
    return {
        "rps": total / len(runs),
        "p50": statistics.median(r["p50"] for r in runs),
        "p99": max(r["p99"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
        "cpu_ms": sum(r["cpu_ms"] * r["rps"] for r in runs) / max(total, 1.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the two servers in this many slices of seconds/rounds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--body", choices=["browser", "urlencoded"], default="browser",
                        help="browser: the multipart POST our form sends (default); "
                             "urlencoded: a minimal form without key")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")

    tmp = Path(tempfile.mkdtemp(prefix="yijian-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "YIJIAN_DATABASE_URL": url, "YIJIAN_RATE_LIMIT": "off",
           "YIJIAN_ENV": "dev", "YIJIAN_LOG_LEVEL": "WARNING"}
    yijian = [sys.executable, "-m", "app"]
    subprocess.run([*yijian, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([*yijian, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    script = tmp / "post.lua"
    if args.body == "browser":
        write_browser_script(script)
    else:
        script.write_text(URLENCODED_LUA.replace("{text}", urllib.request.quote(TEXT)))

    app_port, noop_port = free_port(), free_port()
    procs = [
        subprocess.Popen([*yijian, "serve", "--port", str(app_port), "--workers",
                          str(args.workers)], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.noop_app:create_app",
                          "--factory", "--port", str(noop_port), "--workers", str(args.workers),
                          "--no-access-log", "--log-level", "warning"], env=env, cwd=ROOT),
    ]
    try:
        wait_up(f"http://127.0.0.1:{app_port}/healthz")
        time.sleep(0.5)
        wrk(f"http://127.0.0.1:{noop_port}/noop", script, args.connections, 2)  # warm-up
        wrk(f"http://127.0.0.1:{app_port}/u/demo", script, args.connections, 2)
        # With --rounds N the two servers take turns in N slices, so a machine that
        # speeds up or slows down during the run affects both sides alike.
        slice_s = max(1, args.seconds // args.rounds)
        base_runs, real_runs = [], []
        for _ in range(args.rounds):
            base_runs.append(measured(procs[1], f"http://127.0.0.1:{noop_port}/noop", script,
                                      args.connections, slice_s))
            real_runs.append(measured(procs[0], f"http://127.0.0.1:{app_port}/u/demo", script,
                                      args.connections, slice_s))
        base, real = combined(base_runs), combined(real_runs)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    # Every answered request must be a stored row, not a replay of an earlier key.
    with create_engine(url).connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM submission")).scalar_one()
    db_kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL, synchronous=FULL)"
    print(f"machine: {os.cpu_count()} cores; {db_kind}; workers={args.workers}; "
          f"connections={args.connections}; {args.seconds}s each; body={args.body}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'':12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'CPU ms/req':>12}")
    for name, r in (("no-op POST", base), ("submission", real)):
        print(f"{name:12}{r['rps']:>10.0f}{r['p50']:>10.1f}{r['p99']:>10.1f}"
              f"{r['non2xx']:>10.0f}{r['cpu_ms']:>12.2f}")
    print(f"ratio submission/no-op: {real['rps'] / base['rps']:.0%}")
    if args.rounds > 1:
        pairs = zip(base_runs, real_runs, strict=True)
        each = ", ".join(f"{r['rps'] / b['rps']:.0%}" for b, r in pairs)
        print(f"per round ({slice_s}s each): {each}; p50: median round, p99: worst round")
    print(f"rows stored: {stored} (warm-up included; a replayed key would add none)")
    if not url.startswith("postgresql"):
        # Each commit waits for one fdatasync: a p99 far above the p50 usually means the
        # disk stalled (on a VM, the host's), which this shows for the same directory.
        probe = subprocess.run([sys.executable, "-m", "bench.disk", "--seconds", "3",
                                "--dir", str(tmp)], cwd=ROOT, check=True, capture_output=True,
                               text=True)
        print("disk after the run: " + " / ".join(probe.stdout.splitlines()[1:]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
