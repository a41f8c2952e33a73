"""Two app processes on one database, as replicas behind a proxy: the same idempotency keys
sent to both at once are stored once each, and every sender gets a 201 with the receipt."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.models import Submission
from tests.conftest import LiveServer, server_env

KEYS = 120
SENDS_PER_KEY = 6
THREADS = 48


def test_same_key_bursts_to_two_replicas_store_once_and_answer_201(
    database_url: str, engine: Engine, demo: None, tmp_path: Path
) -> None:
    env = server_env(database_url)
    replicas = [LiveServer(env, tmp_path / f"replica-{n}.log", workers=2) for n in range(2)]
    try:
        keys = [f"burst-key-{n:04d}-{'x' * 8}" for n in range(KEYS)]
        sends = [(key, replica.url) for key in keys for replica in replicas
                 for _ in range(SENDS_PER_KEY // 2)]
        # Each thread sends the keys in its own order, the pattern that deadlocked.
        random.Random(5).shuffle(sends)
        answers: dict[str, list[tuple[int, str]]] = defaultdict(list)
        lock = threading.Lock()

        def send(chunk: list[tuple[str, str]]) -> None:
            with httpx.Client(timeout=60) as client:
                for key, url in chunk:
                    r = client.post(f"{url}/api/v1/units/demo/submissions",
                                    json={"text": f"同一请求 {key}", "idempotency_key": key})
                    with lock:
                        answers[key].append((r.status_code, r.json().get("receipt", r.text)))

        threads = [threading.Thread(target=send, args=(sends[n::THREADS],))
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for replica in replicas:
            replica.stop()
    for key in keys:
        statuses = {status for status, _ in answers[key]}
        receipts = {receipt for _, receipt in answers[key]}
        assert statuses == {201}, (key, answers[key])
        assert len(receipts) == 1 and len(answers[key]) == SENDS_PER_KEY
    with Session(engine) as s:
        stored = s.exec(select(func.count()).select_from(Submission)
                        .where(col(Submission.text).like("同一请求 %"))).one()
    assert stored == KEYS
    logs = "".join(r.log_path.read_text(errors="replace") for r in replicas)
    assert "deadlock" not in logs.lower()
