"""Group-robot alerts (企业微信 / 钉钉 text messages), against a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from app.alerts.jobs import send_alerts
from app.alerts.service import set_contact
from app.core.db import session_scope
from app.models import AlertDelivery, utcnow
from tests.alerts.test_send import CONTACT, NAME, URGENT, add_urgent, alert_settings
from tests.factories import unit_id
from tests.helpers import as_processes
from tests.servers.smtp import SmtpServer


@dataclass
class Robot:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # then 200 ok
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def robot() -> Iterator[Robot]:
    state = Robot(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.received.append(body)
                status, answer = state.answers.pop(0) if state.answers else (200, {"errcode": 0})
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=k1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def with_robot(engine: Engine, robot: Robot) -> None:
    with session_scope(engine) as s:
        set_contact(s, unit_id=unit_id(s, slug="demo"), email="", webhook=robot.url)


def test_a_robot_gets_one_text_message_without_the_sender(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer, robot: Robot
) -> None:
    with_robot(engine, robot)
    sid = add_urgent(engine, URGENT + "孩子平时很乖。" * 400, named=True)
    settings = alert_settings(database_url, smtp_server)
    result = send_alerts(engine, settings, _sender(smtp_server))
    assert (result.queued, result.failed) == (2, 0)  # the bureau's mail and the robot
    assert len(robot.received) == 1
    message = robot.received[0]
    assert message["msgtype"] == "text" and set(message) == {"msgtype", "text"}
    content = message["text"]["content"]
    assert content.startswith("【紧急】示范县第一初级中学：学生失联")
    assert URGENT in content and f"/admin/items/{sid}" in content
    assert len(content.encode()) <= 2048
    assert NAME not in content and CONTACT not in content
    again = send_alerts(engine, settings, _sender(smtp_server))
    assert again.queued == 0 and len(robot.received) == 1


def test_a_refused_robot_message_is_retried(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer, robot: Robot
) -> None:
    with_robot(engine, robot)
    add_urgent(engine)
    robot.answers = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    settings = alert_settings(database_url, smtp_server)
    first = send_alerts(engine, settings, _sender(smtp_server))
    assert first.failed == 1
    with Session(engine) as s:
        row = s.exec(select(AlertDelivery).where(AlertDelivery.status == "queued")).one()
    assert row.attempts == 1 and row.last_error == "errcode 45009"
    with session_scope(engine) as s:  # the retry's time has come
        s.execute(update(AlertDelivery).values(next_attempt_at=utcnow()))
    second = send_alerts(engine, settings, _sender(smtp_server))
    assert second.failed == 0 and len(robot.received) == 2
    with Session(engine) as s:
        assert s.exec(select(AlertDelivery.status).where(AlertDelivery.id == row.id)).one() == (
            "sent"
        )


def test_three_workers_post_each_robot_message_once(
    engine: Engine, database_url: str, demo: None, smtp_server: SmtpServer, robot: Robot
) -> None:
    with_robot(engine, robot)
    for i in range(10):
        add_urgent(engine, f"{URGENT}（第{i}位家长）")
    settings = alert_settings(database_url, smtp_server)
    results = as_processes(
        database_url, 3, lambda own: send_alerts(own, settings, _sender(smtp_server))
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(robot.received) == 10
    assert len({m["text"]["content"] for m in robot.received}) == 10


def _sender(smtp: SmtpServer) -> Any:
    from tests.conftest import smtp_sender

    return smtp_sender(smtp)
