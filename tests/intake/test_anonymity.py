"""An anonymous submission leaves no address or device trace in the database or the logs."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
from sqlalchemy import Engine, text

from tests.conftest import LiveServer

MARK_IP = "203.0.113.77"
MARK_UA = "MarkerPhone/9.9 (UA-7f3a9c)"


def _dump(engine: Engine) -> str:
    # Every text value of every row, for databases whose files we cannot grep (PostgreSQL).
    out = []
    with engine.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if engine.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
            )
        ]
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def test_no_ip_or_user_agent_is_kept(
    live_server: LiveServer, engine: Engine, database_url: str
) -> None:
    headers = {"X-Forwarded-For": MARK_IP, "User-Agent": MARK_UA, "X-Real-IP": MARK_IP}
    form = httpx.get(live_server.url + "/u/demo", headers=headers)
    assert "set-cookie" not in form.headers
    r = httpx.post(
        live_server.url + "/u/demo",
        headers=headers,
        data={"role": "家长", "anonymous": "1", "text": "匿名意见：请公开收费明细。"},
    )
    assert r.status_code == 200 and 'id="receipt"' in r.text
    api = httpx.post(
        live_server.url + "/api/v1/units/demo/submissions",
        headers=headers,
        json={"text": "匿名接口意见"},
    )
    assert api.status_code == 201
    receipt = api.json()["receipt"].replace(" ", "")
    lookup = httpx.get(f"{live_server.url}/api/v1/receipts/{receipt}", headers=headers)
    assert lookup.status_code == 200
    live_server.stop()

    log = live_server.log_path.read_text(errors="replace")
    assert "POST /u/{slug} 200" in log  # the log works, it just holds no address
    assert "/api/v1/receipts/{receipt} 200" in log
    for marker in (MARK_IP, MARK_UA, api.json()["receipt"].replace(" ", "")):
        assert marker not in log, marker
    # The only address in the output is the one the server listens on.
    assert [
        line
        for line in log.splitlines()
        if "127.0.0.1" in line and "Uvicorn running on" not in line
    ] == []

    dump = _dump(engine)
    assert "匿名接口意见" in dump
    assert MARK_IP not in dump and MARK_UA not in dump
    if database_url.startswith("sqlite"):
        db = Path(database_url.split("///", 1)[1])
        for path in db.parent.glob(db.name + "*"):  # the file, its -wal and -shm
            raw = path.read_bytes()
            assert MARK_IP.encode() not in raw and MARK_UA.encode() not in raw, path
