"""exclusive(): one holder of a named lock across processes; a dead holder frees it."""

from __future__ import annotations

import signal
import subprocess
import sys

from sqlalchemy import Engine

from app.core.db import exclusive, make_engine

HOLD = """
import sys, time
from app.core.db import exclusive, make_engine
with exclusive(make_engine(sys.argv[1]), "mailbox-7") as got:
    print("held" if got else "busy", flush=True)
    time.sleep(600)
"""


def test_one_holder_at_a_time(engine: Engine, database_url: str) -> None:
    other = make_engine(database_url)  # as another process would have
    try:
        with exclusive(engine, "mailbox-1") as first:
            assert first
            with exclusive(other, "mailbox-1") as second:
                assert not second
            with exclusive(other, "mailbox-2") as different:
                assert different
        with exclusive(other, "mailbox-1") as after:
            assert after
    finally:
        other.dispose()


def test_a_killed_holder_releases_the_lock(engine: Engine, database_url: str) -> None:
    with subprocess.Popen([sys.executable, "-c", HOLD, database_url],
                          stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with exclusive(engine, "mailbox-7") as got:
                assert not got
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
            with exclusive(engine, "mailbox-7") as got:
                assert got
        finally:
            holder.kill()
