"""Retrained models live in the database: every process, on any host, follows the newest."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.db import session_scope
from app.models import TaggerModel
from app.tagging import ReloadingTagger, load_tagger, retrain
from app.tagging.registry import KEEP_MODELS
from tests.conftest import server_env

# Worded like a canteen (service) complaint, so the shipped model says 5; an admin decides
# it is about work style (3).
TEXT = "食堂管理员对学生大呼小叫,饭菜也一直没有改善"


def retrained(engine: Engine, extra: list[tuple[str, int]]) -> str:
    with session_scope(engine) as session:
        return retrain(session, extra=extra)


def test_correction_changes_the_outcome(engine: Engine) -> None:
    assert load_tagger(engine=engine).suggest(TEXT).check == 5
    name = retrained(engine, [(TEXT, 3)])
    assert name.startswith("tagger-ngram-")
    newest = load_tagger(engine=engine)
    assert newest.version != load_tagger().version
    assert newest.suggest(TEXT).check == 3
    assert load_tagger().suggest(TEXT).check == 5  # the shipped model is unchanged


def test_later_correction_overrides_earlier(engine: Engine) -> None:
    retrained(engine, [(TEXT, 3), (TEXT, 4)])
    assert load_tagger(engine=engine).suggest(TEXT).check == 4


def test_only_the_last_models_are_kept(engine: Engine) -> None:
    names = [retrained(engine, [(TEXT, 3)]) for _ in range(KEEP_MODELS + 2)]
    with Session(engine) as s:
        kept = s.exec(select(TaggerModel.file_name).order_by(TaggerModel.file_name)).all()
    assert list(kept) == names[-KEEP_MODELS:]


def test_reloading_tagger_picks_up_new_model(engine: Engine) -> None:
    now = [0.0]
    reloading = ReloadingTagger(engine=engine, interval=5.0, clock=lambda: now[0])
    shipped = reloading.version
    assert reloading.suggest(TEXT).check == 5

    retrained(engine, [(TEXT, 3)])
    now[0] = 1.0  # within the interval: no query, the old model keeps serving
    assert reloading.version == shipped
    assert reloading.suggest(TEXT).check == 5

    now[0] = 6.0
    assert reloading.suggest(TEXT).check == 3
    assert reloading.version != shipped
    assert reloading.suggest_many([TEXT, "你好"])[1].check == 0


def test_reloading_tagger_survives_a_broken_model(engine: Engine) -> None:
    now = [0.0]
    reloading = ReloadingTagger(engine=engine, interval=1.0, clock=lambda: now[0])
    with session_scope(engine) as s:
        s.add(TaggerModel(name="ngram", file_name="tagger-ngram-99999999T000000000000Z.npz",
                          data=b"garbage"))
    now[0] = 2.0
    assert reloading.suggest(TEXT).check == 5  # still the shipped model
    assert load_tagger(engine=engine).version == reloading.version


def test_a_model_retrained_by_another_process_is_used_within_seconds(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # As on a replica on another host: the retraining process shares only the database
    # with this one.
    reloading = ReloadingTagger(engine=engine, interval=0.5)
    assert reloading.suggest(TEXT).check == 5
    corrections = tmp_path / "extra.jsonl"
    corrections.write_text(json.dumps({"text": TEXT, "check": 3}) + "\n", encoding="utf-8")
    other = server_env(database_url)
    code = "from app.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", code, "tagger", "retrain", "--extra", str(corrections)],
        env=other, check=True, capture_output=True, timeout=300,
    )
    deadline = time.monotonic() + 30
    while reloading.suggest(TEXT).check != 3:
        assert time.monotonic() < deadline, "the new model was not picked up"
        time.sleep(0.2)


def test_reloading_tagger_serves_while_swapping(engine: Engine) -> None:
    reloading = ReloadingTagger(engine=engine, interval=0.0)
    failures: list[BaseException] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                assert reloading.suggest_many([TEXT, "你好"])[1].check == 0
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=serve) for _ in range(4)]
    for t in threads:
        t.start()
    retrained(engine, [(TEXT, 3)])
    # Another thread may be loading the new model right now (seconds on a busy machine);
    # meanwhile the old one answers. Wait for the swap, within a generous bound.
    deadline = time.monotonic() + 60
    picked_up = False
    while not picked_up and time.monotonic() < deadline:
        picked_up = reloading.suggest(TEXT).check == 3
    stop.set()
    for t in threads:
        t.join()
    assert picked_up
    assert failures == []
