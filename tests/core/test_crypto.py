"""Encryption at rest (app/core/crypto.py): what a database file or dump holds, rotation, keys."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
from pathlib import Path

import httpx2 as httpx
import pytest
from alembic import command
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine, LargeBinary, Text, column, select, table, text
from sqlmodel import Session, SQLModel

from app.cli import alembic_config
from app.core import crypto
from app.core.config import Settings, check_serve
from app.core.db import make_engine, session_scope
from app.core.errors import Invalid
from app.models import Attachment, Submission
from app.models.campaign import RosterImport, RosterPerson
from app.models.inbox import InboundMessage, InboundStatus, MailboxConfig
from app.models.org import Unit
from app.models.outbox import OutboxMail
from app.units.service import ensure_demo
from tests.conftest import (
    TEST_DATA_KEY,
    LiveServer,
    fresh_database_url,
    migrate,
    run_cli,
    server_env,
)
from tests.factories import add_submission, new_submission
from tests.helpers import signed_in_admin

# One marker per encrypted column; none may appear in the database's bytes.
MARKERS = {
    "submission.name": "MKNAME王小明",
    "submission.contact": "mkcontact-13912345678",
    "attachment.data": "MKATTACHDATA",
    "roster_person.email": "mkroster@example.test",
    "roster_import.rows": "MKIMPORTROW",
    "ack_outbox.to_addr": "mkoutbox@example.test",
    "ack_outbox.message": "MKOUTBOXMSG",
    "mailbox.password": "MKPASSWORD授权码",
    "inbound_message.raw": "MKRAWMAIL",
}
# Stored in clear (the text is searched and counted): proves the search below can find.
CLEAR = "MKCLEARTEXT"


def fill_every_encrypted_column(engine: Engine) -> int:
    """A row holding each marker; the submission's id."""
    assert {f"{t}.{c}" for t, c, _ in crypto.ENCRYPTED_COLUMNS} == set(MARKERS)
    with session_scope(engine) as s:
        ensure_demo(s)
        new = new_submission(
            text=CLEAR + "：食堂的菜太咸。",
            anonymous=False,
            name=MARKERS["submission.name"],
            contact=MARKERS["submission.contact"],
        )
        sid = add_submission(s, new=new)
        unit = s.execute(select(Unit).where(Unit.slug == "demo")).scalars().one()
        s.add(
            Attachment(
                submission_id=sid,
                filename="a.txt",
                content_type="text/plain",
                size=12,
                sha256="0" * 64,
                data=MARKERS["attachment.data"].encode(),
            )
        )
        s.add(
            RosterPerson(
                unit_id=unit.id,
                name="张老师",
                email=MARKERS["roster_person.email"],
                token_nonce="n" * 32,
                token_hash="h" * 64,
            )
        )
        rows = json.dumps([["李老师", "教务处", MARKERS["roster_import.rows"]]])
        s.add(RosterImport(unit_id=unit.id, rows=rows))
        s.add(
            OutboxMail(
                submission_id=sid,
                to_addr=MARKERS["ack_outbox.to_addr"],
                message=MARKERS["ack_outbox.message"].encode(),
                message_id="<m@x>",
            )
        )
        box = MailboxConfig(
            bureau_id=unit.bureau_id,
            name="box",
            host="imap.example.test",
            port=993,
            security="ssl",
            username="inbox@example.test",
            password=MARKERS["mailbox.password"],
        )
        s.add(box)
        s.flush()
        assert box.id is not None
        s.add(
            InboundMessage(
                mailbox_id=box.id,
                uidvalidity=1,
                uid=1,
                status=InboundStatus.ingested,
                raw=MARKERS["inbound_message.raw"].encode(),
            )
        )
    return sid


def stored_bytes(engine: Engine, database_url: str) -> bytes:
    """Everything the database holds, as an attacker with the file or a dump sees it."""
    if engine.dialect.name == "sqlite":
        path = Path(database_url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with engine.connect() as conn:
        rows = [
            conn.execute(text(f'SELECT t::text FROM "{t.name}" t')).scalars().all()
            for t in SQLModel.metadata.sorted_tables
        ]
    # bytea columns come out as hex: search both spellings.
    return "\n".join(r for chunk in rows for r in chunk).encode()


def found(data: bytes, marker: str) -> bool:
    raw = marker.encode()
    return raw in data or raw.hex().encode() in data


def test_no_marker_is_stored_in_clear(
    engine: Engine, database_url: str, client: TestClient
) -> None:
    sid = fill_every_encrypted_column(engine)
    data = stored_bytes(engine, database_url)
    assert found(data, CLEAR)
    assert [k for k, marker in MARKERS.items() if found(data, marker)] == []
    # ... and the app reads them back as they were given.
    signed_in_admin(client, engine)
    page = BeautifulSoup(client.get(f"/admin/items/{sid}").text, "html.parser").get_text()
    assert MARKERS["submission.name"] in page and MARKERS["submission.contact"] in page
    export = client.get("/admin/export.csv").content.decode("utf-8-sig")
    assert MARKERS["submission.contact"] in export
    with Session(engine) as s:
        box = s.execute(select(MailboxConfig)).scalars().one()
        assert box.password == MARKERS["mailbox.password"]
        mail = s.execute(select(OutboxMail)).scalars().one()
        assert mail.message == MARKERS["ack_outbox.message"].encode()


def raw_values(engine: Engine) -> dict[str, list[str | bytes]]:
    """The stored (encrypted) values of every encrypted column."""
    out: dict[str, list[str | bytes]] = {}
    with engine.connect() as conn:
        for t, c, is_text in crypto.ENCRYPTED_COLUMNS:
            col_ = column(c, Text() if is_text else LargeBinary())
            values = conn.execute(select(col_).select_from(table(t, col_))).scalars().all()
            out[f"{t}.{c}"] = [v for v in values if v is not None]
    return out


def blob(value: str | bytes) -> bytes:
    return crypto._text_blob(value) if isinstance(value, str) else bytes(value)


def test_keyring_reads_old_keys_and_refuses_tampering() -> None:
    old, new = crypto.generate_key(), crypto.generate_key()
    sealed = crypto.Keyring.from_text([old]).encrypt_text("李明 13900000000")
    assert crypto.Keyring.from_text([new, old]).decrypt_text(sealed) == "李明 13900000000"
    with pytest.raises(crypto.DataKeyError):
        crypto.Keyring.from_text([new]).decrypt_text(sealed)
    tampered = bytearray(blob(sealed))
    tampered[-1] ^= 1
    with pytest.raises(crypto.DataKeyError):
        crypto.Keyring.from_text([old]).decrypt(bytes(tampered))
    with pytest.raises(crypto.DataKeyError):
        crypto.Keyring.from_text(["too-short"])


def test_encrypted_file_round_trip_and_truncation() -> None:
    keyring = crypto.Keyring.from_text([crypto.generate_key()])
    plain = os.urandom(crypto._CHUNK * 2 + 5)
    sealed = io.BytesIO()
    crypto.encrypt_file(keyring, io.BytesIO(plain), sealed)
    out = io.BytesIO()
    crypto.decrypt_file(keyring, io.BytesIO(sealed.getvalue()), out)
    assert out.getvalue() == plain
    cut = sealed.getvalue()[: -(len(plain) % crypto._CHUNK + 4 + 16)]
    with pytest.raises(crypto.DataKeyError):
        crypto.decrypt_file(keyring, io.BytesIO(cut), io.BytesIO())


def test_rotation_with_the_server_answering(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    sid = fill_every_encrypted_column(engine)
    new_key = crypto.generate_key()
    env = server_env(database_url, YIJIAN_DATA_KEY=new_key, YIJIAN_DATA_KEY_OLD=TEST_DATA_KEY)
    server = LiveServer(env, tmp_path / "server.log")
    answered: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            answered.append(httpx.get(server.url + "/u/demo", timeout=10).status_code)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        done = run_cli(env, "keys", "rotate")
    finally:
        stop.set()
        poller.join()
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "submission.contact: 重新加密 1" in done.stdout
    assert answered and set(answered) == {200}
    rotated = crypto.Keyring.from_text([new_key])
    for key, values in raw_values(engine).items():
        assert values and all(rotated.is_current(blob(v)) for v in values), key
    with crypto.using(rotated), Session(engine) as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.contact == MARKERS["submission.contact"]
    again = run_cli(env, "keys", "rotate")
    assert again.returncode == 0 and "共 0 个值" in again.stdout


def test_migration_encrypts_existing_rows_and_downgrade_decrypts(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    migrate(url, "0013")
    engine = make_engine(url)
    with engine.begin() as conn:
        # Plain SQL: today's models have columns of later migrations.
        conn.execute(text("INSERT INTO bureau (name, created_at) VALUES ('局', '2026-01-01')"))
        conn.execute(
            text(
                "INSERT INTO mailbox (bureau_id, name, host, port, security, username, password,"
                " folder, anonymous, enabled, last_uid, created_at) VALUES ((SELECT min(id)"
                " FROM bureau), 'm', 'h', 993, 'ssl', 'u', :p, 'INBOX', false, true, 0,"
                " '2026-01-01 00:00:00')"
            ),
            {"p": MARKERS["mailbox.password"]},
        )
    # Closed first: SQLite's WAL holds the old pages until the last connection checkpoints.
    engine.dispose()
    migrate(url, "0017")
    assert not found(stored_bytes(engine, url), MARKERS["mailbox.password"])
    with Session(engine) as s:
        assert (
            s.execute(select(MailboxConfig.password)).scalars().one() == MARKERS["mailbox.password"]
        )
    command.downgrade(alembic_config(url), "0013")
    with engine.connect() as conn:
        plain = conn.execute(text("SELECT password FROM mailbox")).scalar_one()
    assert plain == MARKERS["mailbox.password"]
    engine.dispose()


def test_dev_generates_one_key_beside_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'yijian.db'}"
    dev = Settings(env="dev", database_url=url, _env_file=None, data_key=None)  # type: ignore[call-arg]
    first = dev.keyring()
    path = tmp_path / "var" / "yijian.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev.keyring() == first


def test_serve_refuses_off_loopback_without_a_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'yijian.db'}"
    keyless = Settings(
        env="dev", database_url=url, secret_key="s" * 40, _env_file=None, data_key=None
    )  # type: ignore[call-arg]
    with pytest.raises(Invalid) as refused:
        check_serve(keyless, host="0.0.0.0")
    assert "数据密钥" in refused.value.message and "data key" in refused.value.message
    assert check_serve(keyless, host="127.0.0.1") == []
    with pytest.raises(ValueError):
        Settings(env="prod", database_url=url, secret_key="s" * 40, _env_file=None, data_key=None)  # type: ignore[call-arg]
    env = server_env(url) | {"YIJIAN_ENV": "dev", "YIJIAN_SECRET_KEY": "s" * 40}
    del env["YIJIAN_DATA_KEY"]
    refused_cli = run_cli(env, "serve", "--host", "0.0.0.0", "--port", "1")
    assert refused_cli.returncode == 2 and "YIJIAN_DATA_KEY" in refused_cli.stderr
