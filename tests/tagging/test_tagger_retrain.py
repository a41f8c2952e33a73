from __future__ import annotations

import threading
import time
from pathlib import Path

from app.tagging import ReloadingTagger, load_tagger, retrain

# Worded like a canteen (service) complaint, so the shipped model says 5; an admin decides
# it is about work style (3).
TEXT = "食堂管理员对学生大呼小叫,饭菜也一直没有改善"


def test_correction_changes_the_outcome(tmp_path: Path) -> None:
    assert load_tagger(model_dir=tmp_path).suggest(TEXT).check == 5
    path = retrain(model_dir=tmp_path, extra=[(TEXT, 3)])
    assert path.parent == tmp_path and path.name.startswith("tagger-ngram-")
    retrained = load_tagger(model_dir=tmp_path)
    assert retrained.version != load_tagger().version
    assert retrained.suggest(TEXT).check == 3


def test_later_correction_overrides_earlier(tmp_path: Path) -> None:
    retrain(model_dir=tmp_path, extra=[(TEXT, 3), (TEXT, 4)])
    assert load_tagger(model_dir=tmp_path).suggest(TEXT).check == 4


def test_reloading_tagger_picks_up_new_model(tmp_path: Path) -> None:
    now = [0.0]
    reloading = ReloadingTagger(model_dir=tmp_path, interval=5.0, clock=lambda: now[0])
    shipped = reloading.version
    assert reloading.suggest(TEXT).check == 5

    retrain(model_dir=tmp_path, extra=[(TEXT, 3)])
    now[0] = 1.0  # within the interval: no stat, the old model keeps serving
    assert reloading.version == shipped
    assert reloading.suggest(TEXT).check == 5

    now[0] = 6.0
    assert reloading.suggest(TEXT).check == 3
    assert reloading.version != shipped
    assert reloading.suggest_many([TEXT, "你好"])[1].check == 0


def test_reloading_tagger_survives_a_broken_file(tmp_path: Path) -> None:
    now = [0.0]
    reloading = ReloadingTagger(model_dir=tmp_path, interval=1.0, clock=lambda: now[0])
    (tmp_path / "tagger-ngram-99999999T000000000000Z.npz").write_bytes(b"garbage")
    now[0] = 2.0
    assert reloading.suggest(TEXT).check == 5  # still the shipped model
    assert load_tagger(model_dir=tmp_path).version == reloading.version


def test_reloading_tagger_serves_while_swapping(tmp_path: Path) -> None:
    reloading = ReloadingTagger(model_dir=tmp_path, interval=0.0)
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
    retrain(model_dir=tmp_path, extra=[(TEXT, 3)])
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
