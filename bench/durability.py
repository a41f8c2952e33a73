"""Power-loss durability of SQLite intake, checked by hand (needs root-free strace, or LazyFS).

    python -m bench.durability strace [--requests 50]
        Runs `yijian serve` under `strace -f -y` and sends submissions one at a time. Checks
        that before each receipt page leaves the process, the SQLite WAL file was fsynced
        (fsync/fdatasync on *.db-wal) after the previous receipt: a receipt is only shown for
        data the kernel was told to put on the platters.

    LAZYFS=/path/to/lazyfs python -m bench.durability lazyfs [--requests 50]
        With a built LazyFS (https://github.com/dsrhaslab/lazyfs, FUSE; not on any package
        registry): keeps the database on a LazyFS mount, sends submissions, then drops every
        unsynced write ("lazyfs::clear-cache", a simulated power cut), SIGKILLs the server,
        remounts and checks that every receipt shown is still found.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from bench.intake import ROOT, free_port
from bench.load import wait_ready

YIJIAN = [sys.executable, "-m", "app"]
TEXT = "停电测试：请把操场的路灯修好。"


def prepare(db: Path) -> dict[str, str]:
    env = {**os.environ, "YIJIAN_DATABASE_URL": f"sqlite:///{db}", "YIJIAN_RATE_LIMIT": "off",
           "YIJIAN_RECEIPT_LOOKUP_LIMIT": "off", "YIJIAN_ENV": "dev", "YIJIAN_LOG_LEVEL": "WARNING"}
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run([*YIJIAN, *step], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


def submit(client: httpx.Client, base: str, i: int) -> str:
    r = client.post(f"{base}/api/v1/units/demo/submissions",
                    json={"text": f"{TEXT}{i}", "idempotency_key": f"durability-{i:06d}"})
    r.raise_for_status()
    return str(r.json()["receipt"])


# strace -y lines: 1234 12:00:00.123 fdatasync(7</tmp/x/y.db-wal>) = 0
_SYNC = re.compile(r"\b(fsync|fdatasync)\(\d+<([^>]*)>\)\s+=\s+0")
_SEND = re.compile(r"\b(write|sendto|sendmsg|writev)\(\d+<(TCP|socket)[^>]*>,.*HTTP/1\.1 201")


def strace_run(requests: int) -> int:
    if shutil.which("strace") is None:
        raise SystemExit("strace is missing: apt-get install strace")
    tmp = Path(tempfile.mkdtemp(prefix="yijian-strace-"))
    env = prepare(tmp / "d.db")
    trace = tmp / "trace.txt"
    port = free_port()
    proc = subprocess.Popen(
        ["strace", "-f", "-y", "-s", "24", "-o", str(trace),
         "-e", "trace=fsync,fdatasync,write,sendto,sendmsg,writev",
         *YIJIAN, "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz")
        with httpx.Client(timeout=30) as client:
            for i in range(requests):  # one at a time, so receipts and syncs do not interleave
                submit(client, base, i)
    finally:
        # strace and the server share the new session: stop the server, strace follows.
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    synced_since_last = False
    receipts = covered = 0
    wal_syncs = 0
    for line in trace.read_text(errors="replace").splitlines():
        m = _SYNC.search(line)
        if m and m.group(2).endswith("-wal"):
            synced_since_last = True
            wal_syncs += 1
        elif _SEND.search(line):
            receipts += 1
            covered += synced_since_last
            synced_since_last = False
    print(f"{requests} submissions, {receipts} 201 responses seen in the trace, "
          f"{wal_syncs} fsync/fdatasync calls on the WAL")
    print(f"responses preceded by a WAL sync since the previous response: {covered}/{receipts}")
    print(f"trace kept in {trace}")
    return 0 if receipts == requests and covered == receipts else 1


def lazyfs_run(requests: int) -> int:
    binary = os.environ.get("LAZYFS")
    if not binary or not Path(binary).exists():
        raise SystemExit("set LAZYFS to a built lazyfs binary (see this file's docstring)")
    tmp = Path(tempfile.mkdtemp(prefix="yijian-lazyfs-"))
    root, mnt, fifo = tmp / "root", tmp / "mnt", tmp / "faults.fifo"
    root.mkdir()
    mnt.mkdir()
    os.mkfifo(fifo)
    config = tmp / "lazyfs.toml"
    config.write_text(
        f'[faults]\nfifo_path="{fifo}"\n[cache]\napply_eviction=false\n'
        '[cache.simple]\ncustom_size="0.5GB"\nblocks_per_page=1\n[filesystem]\nlog_all_operations=false\n'
    )

    def mount() -> subprocess.Popen[bytes]:
        fs = subprocess.Popen([binary, str(mnt), "--config-path", str(config), "-o",
                               f"modules=subdir,subdir={root}", "-f"])
        time.sleep(2)
        return fs

    fs = mount()
    env = prepare(mnt / "d.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*YIJIAN, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              start_new_session=True)
    wait_ready(f"{base}/healthz")
    with httpx.Client(timeout=30) as client:
        shown = [submit(client, base, i) for i in range(requests)]
    with fifo.open("w") as faults:
        faults.write("lazyfs::clear-cache\n")  # the power cut: unsynced writes are gone
    time.sleep(1)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
    fs.wait(timeout=30)
    fs = mount()
    server = subprocess.Popen([*YIJIAN, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              start_new_session=True)
    try:
        wait_ready(f"{base}/healthz")
        with httpx.Client(timeout=30) as client:
            found = sum(
                client.get(f"{base}/api/v1/receipts/{r.replace(' ', '')}").status_code == 200
                for r in shown
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
        fs.wait(timeout=30)
    print(f"receipts shown before the simulated power cut: {len(shown)}; found after: {found}")
    return 0 if found == len(shown) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["strace", "lazyfs"])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    run = strace_run if args.mode == "strace" else lazyfs_run
    raise SystemExit(run(args.requests))


if __name__ == "__main__":
    main()
