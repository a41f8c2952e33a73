"""Crash safety of the write path: kill -9 the server mid-load, restart, nothing lost or doubled.

Concurrent clients (half the form, half the API) send suggestions with idempotency keys while
the main thread SIGKILLs the whole server process group at random moments and starts it again
on the same port. A client whose request failed in flight retries it, with the same key and
text, once the server is back. At the end every receipt a client was shown must resolve via
the API to a row holding exactly the text that was sent, and the table must hold exactly one
row per key: no loss (a receipt is only sent after the commit) and no duplicate (retries replay).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.intake.receipts import hash_receipt
from app.models import Submission
from tests.conftest import TEST_SECRET, LiveServer, server_env
from tests.helpers import receipt_of

CLIENTS = 6
KILLS = 5


@dataclass
class Outcome:
    receipts: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (receipt, text)
    retried: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send(client: httpx.Client, base: str, via_form: bool, key: str, text: str) -> str | None:
    """One attempt; the receipt, or None when the server was unreachable or busy (retry)."""
    try:
        if via_form:
            r = client.post(
                f"{base}/u/demo", data={"text": text, "role": "家长", "anonymous": "1", "key": key}
            )
        else:
            r = client.post(
                f"{base}/api/v1/units/demo/submissions",
                json={"text": text, "role": "家长", "idempotency_key": key},
            )
    except httpx.TransportError:
        return None
    if r.status_code == 503:
        return None
    if via_form:
        assert r.status_code == 200, r.text
        return receipt_of(r.text).replace(" ", "")
    assert r.status_code == 201, r.text
    return str(r.json()["receipt"]).replace(" ", "")


def _client(n: int, base: str, stop: threading.Event, out: Outcome) -> None:
    via_form = n % 2 == 0
    with httpx.Client(timeout=10) as client:
        i = 0
        while not stop.is_set():
            key = f"crash-{n}-{i}-{uuid.uuid4().hex[:8]}"
            text = f"客户端{n}的第{i}条意见：请把操场的路灯修好。{uuid.uuid4().hex}"
            attempts = 0
            receipt = None
            while receipt is None:
                attempts += 1
                try:
                    receipt = _send(client, base, via_form, key, text)
                except AssertionError as exc:  # recorded, so the main thread can fail loudly
                    with out.lock:
                        out.errors.append(str(exc)[:500])
                    return
                if receipt is None:
                    time.sleep(0.05)  # the server is down: keep the same key and text
                if attempts > 2000:
                    with out.lock:
                        out.errors.append(f"client {n}: no receipt for {key} after restarts")
                    return
            with out.lock:
                out.receipts[key] = (receipt, text)
                if attempts > 1:
                    out.retried += 1
            i += 1


def _crash_run(database_url: str, engine: Engine, tmp_path: Path, workers: int) -> Outcome:
    env = server_env(database_url, YIJIAN_LOG_LEVEL="WARNING")
    log = tmp_path / "server.log"
    server = LiveServer(env, log, workers=workers)
    port = server.port
    out = Outcome()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_client, args=(n, server.url, stop, out), daemon=True)
        for n in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    rng = random.Random()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            server = LiveServer(env, log, workers=workers, port=port)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        server.stop()
    assert not out.errors, out.errors
    assert "database is locked" not in log.read_text(errors="replace")
    return out


def _check(base_env: dict[str, str], engine: Engine, out: Outcome, tmp_path: Path) -> None:
    # Every receipt resolves via the API after the restarts ...
    server = LiveServer(base_env, tmp_path / "check.log")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for receipt, _text in out.receipts.values():
                r = client.get(f"/api/v1/receipts/{receipt}")
                assert r.status_code == 200, (receipt, r.text)
    finally:
        server.stop()
    # ... to a row holding exactly the text sent, and there is one row per key, no more.
    with Session(engine) as session:
        rows = dict(session.exec(select(Submission.receipt_hash, Submission.text)).all())
        total = session.exec(select(func.count()).select_from(Submission)).one()
    for receipt, text in out.receipts.values():
        assert rows.get(hash_receipt(secret=TEST_SECRET, receipt=receipt)) == text
    assert total == len(out.receipts)


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_under_load_loses_and_doubles_nothing(
    workers: int, database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    out = _crash_run(database_url, engine, tmp_path, workers)
    # The run must have exercised what it claims: many receipts, and in-flight retries.
    assert len(out.receipts) >= 20, len(out.receipts)
    assert out.retried >= 1, "no request was in flight at any kill"
    _check(server_env(database_url), engine, out, tmp_path)
