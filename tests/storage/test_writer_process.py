"""The SQLite writer process (app/storage/process.py): the path `yijian serve` takes on SQLite."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.campaign.service import IntakeCache, IntakeState
from app.core.config import Settings
from app.intake.service import Stored
from app.main import create_app
from app.models import Attachment, CampaignPhase, Channel, Submission
from app.storage import process as writer_module
from app.storage import start_writer, uses_process
from app.storage.process import ProcessWriter
from app.storage.writer import WriteFailed
from tests.conftest import make_settings
from tests.factories import one_page_pdf, post_form
from tests.helpers import receipt_of
from tests.storage import numbered

URL = "/api/v1/units/demo/submissions"


@pytest.fixture
def process_settings(database_url: str) -> Settings:
    if not database_url.startswith("sqlite"):
        pytest.skip("the writer process is for SQLite")
    return make_settings(database_url, writer_process=True)


@pytest.fixture
def process_client(process_settings: Settings, engine: Engine, demo: None) -> Iterator[TestClient]:
    with TestClient(create_app(process_settings)) as c:
        yield c


def _child(client: TestClient) -> ProcessWriter:
    writer = client.app.state.writer  # type: ignore[attr-defined]
    assert isinstance(writer, ProcessWriter)
    return writer


def test_form_and_api_store_through_the_child(process_client: TestClient, session: Session) -> None:
    page = post_form(process_client, text="作业太多，孩子每天写到十一点。")
    assert page.status_code == 200
    assert len(receipt_of(page.text).replace(" ", "")) >= 16
    payload = {"text": "校车太挤，建议增加班次。", "idempotency_key": "proc-key-0001"}
    first = process_client.post(URL, json=payload)
    again = process_client.post(URL, json=payload)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json() | {"replayed": True}
    conflict = process_client.post(URL, json=payload | {"text": "别的内容"})
    # The UserError crosses the process boundary with its field.
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    assert conflict.json()["field"] == "idempotency_key"
    rows = session.exec(select(Submission).order_by(Submission.id)).all()  # type: ignore[arg-type]
    assert [r.text for r in rows] == ["作业太多，孩子每天写到十一点。", "校车太挤，建议增加班次。"]
    # Tagged by the child's tagger, as the in-process writer does.
    assert rows[0].check is not None and rows[0].tagger is not None
    assert {r.channel for r in rows} == {Channel.web.value}
    pid = _child(process_client)._link.process.pid  # type: ignore[union-attr]
    assert pid is not None and pid != os.getpid()


def test_closed_phase_is_refused_by_the_child(process_client: TestClient, session: Session) -> None:
    for phase in session.exec(select(CampaignPhase)).all():
        phase.starts_on -= timedelta(days=400)
        phase.ends_on -= timedelta(days=400)
        session.add(phase)
    session.commit()
    process_client.app.state.intake_cache = IntakeCache(ttl=5.0)  # type: ignore[attr-defined]
    r = process_client.post(URL, json={"text": "还能提意见吗？"})
    assert r.status_code == 403 and r.json()["code"] == "closed"
    assert session.exec(select(Submission)).all() == []


def test_attachment_travels_with_its_submission(
    process_client: TestClient, session: Session
) -> None:
    pdf = one_page_pdf()
    r = post_form(
        process_client, text="附上通知原件。", files=[("notice.pdf", "application/pdf", pdf)]
    )
    assert r.status_code == 200, r.text
    stored = session.exec(select(Attachment)).one()
    assert stored.data.startswith(b"%PDF-") and stored.submission_id is not None


async def _start(settings: Settings, engine: Engine) -> ProcessWriter:
    writer = await start_writer(settings, engine, tagger=None)
    assert isinstance(writer, ProcessWriter)
    return writer


def test_concurrent_submissions_share_transactions(
    process_settings: Settings, write_engine: Engine, demo_state: IntakeState, session: Session
) -> None:
    state = demo_state

    async def main() -> list[Stored]:
        writer = await _start(process_settings, write_engine)
        pending = asyncio.gather(*(writer.store(numbered(i), state) for i in range(200)))
        while writer._frames == 0:
            await asyncio.sleep(0)
        # Handed in during one loop turn, they went out as a couple of frames.
        assert writer._frames <= 2
        # Closing with requests in flight: the child answers them before it exits.
        await writer.aclose()
        assert writer._link is None
        return await pending

    results = asyncio.run(main())
    assert all(isinstance(r, Stored) and not r.replayed for r in results)
    assert len({r.id for r in results if isinstance(r, Stored)}) == 200
    assert len(session.exec(select(Submission)).all()) == 200


def test_a_killed_child_fails_its_requests_and_is_restarted(
    process_client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _child(process_client)
    monkeypatch.setattr(writer_module, "_RESTART_PAUSE", 3600.0)
    assert process_client.post(URL, json={"text": "第一条"}).status_code == 201
    link = writer._link
    assert link is not None and link.process.pid is not None
    os.kill(link.process.pid, signal.SIGKILL)
    link.process.join(10)
    # Restarted only if it ran a while: a child that dies at start-up must not be
    # spawned again for every batch.
    busy = process_client.post(URL, json={"text": "第二条"})
    assert busy.status_code == 503 and busy.json()["code"] == "unavailable"
    monkeypatch.setattr(writer_module, "_RESTART_PAUSE", 0.0)
    again = process_client.post(URL, json={"text": "第三条"})
    assert again.status_code == 201, again.text
    assert writer._link is not link
    texts = [r.text for r in session.exec(select(Submission)).all()]
    assert sorted(texts) == ["第一条", "第三条"]


def test_failed_frame_answers_with_write_failed() -> None:
    loop = asyncio.new_event_loop()
    try:
        futures = [loop.create_future() for _ in range(3)]
        futures[0].cancel()
        writer_module._fail(futures, "gone")
        assert futures[0].cancelled()
        assert all(isinstance(f.exception(), WriteFailed) for f in futures[1:])
    finally:
        loop.close()


def test_uses_process_only_for_a_sqlite_file(tmp_path: Path) -> None:
    def settings(url: str, process: bool = True) -> Settings:
        return make_settings(url, writer_process=process)

    assert uses_process(settings(f"sqlite:///{tmp_path}/a.db"))
    assert not uses_process(settings("sqlite:///:memory:"))
    assert not uses_process(settings("postgresql+psycopg://u:p@localhost/db"))
    assert not uses_process(settings(f"sqlite:///{tmp_path}/a.db", process=False))


def test_sent_states_are_named_once_and_resent_after_a_lost_frame() -> None:
    a, b = object(), object()
    sent = writer_module._SentStates()
    reset, new, items = sent.refer([("x", a), ("y", a)])  # type: ignore[list-item]
    assert not reset and list(new.values()) == [a] and items[0][1] == items[1][1]
    reset, new, items = sent.refer([("z", a), ("w", b)])  # type: ignore[list-item]
    assert not reset and list(new.values()) == [b]
    sent.forget()
    reset, new, _ = sent.refer([("v", a)])  # type: ignore[list-item]
    assert reset and list(new.values()) == [a]
    many = [object() for _ in range(writer_module._SentStates.LIMIT)]
    sent.refer([("m", s) for s in many])  # type: ignore[misc]
    reset, new, _ = sent.refer([("n", a)])  # type: ignore[list-item]
    assert reset and list(new.values()) == [a]


def test_an_unsendable_submission_fails_alone(
    process_settings: Settings, write_engine: Engine, demo_state: IntakeState, session: Session
) -> None:
    state = demo_state
    bad = numbered(1)
    bad.files = [lambda: None]  # type: ignore[list-item]

    async def main() -> tuple[object, object]:
        writer = await _start(process_settings, write_engine)
        try:
            first = await asyncio.gather(writer.store(bad, state), return_exceptions=True)
            second = await writer.store(numbered(2), state)
            return first[0], second
        finally:
            await writer.aclose()

    failed, stored = asyncio.run(main())
    assert isinstance(failed, WriteFailed)
    assert isinstance(stored, Stored) and not stored.replayed
    assert len(session.exec(select(Submission)).all()) == 1
