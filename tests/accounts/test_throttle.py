"""Login throttling: growing waits per (name, address), a per-account ceiling that still lets
the owner in, and the same answers for names that exist and names that do not."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.accounts.throttle import LoginThrottle
from app.core.config import Settings
from app.main import create_app
from app.models import AuditLog
from tests.factories import PASSWORD, add_admin
from tests.helpers import soup


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, *, ceiling: tuple[int, int] | None = (50, 3600)) -> LoginThrottle:
    return LoginThrottle(free_failures=5, max_wait=900.0, account_rate=ceiling, clock=clock)


def test_waits_grow_per_pair_and_a_success_starts_afresh() -> None:
    clock = Clock()
    t = throttle(clock)
    assert [t.attempt(account="chief", address="a") for _ in range(5)] == [0.0] * 5
    waits = []
    for _ in range(6):
        wait = t.attempt(account="chief", address="a")
        waits.append(wait)
        clock.now += wait
        assert t.attempt(account="chief", address="a") == 0.0
    assert waits == [60.0, 120.0, 240.0, 480.0, 900.0, 900.0]
    # Another address, or another name from this address, is not held up.
    assert t.attempt(account="chief", address="b") == 0.0
    assert t.attempt(account="ghost", address="a") == 0.0
    clock.now += 900
    t.succeeded(account="chief", address="a")
    assert [t.attempt(account="chief", address="a") for _ in range(5)] == [0.0] * 5
    assert t.attempt(account="chief", address="a") == 60.0


def test_the_ceiling_stops_many_addresses_but_not_a_known_one() -> None:
    clock = Clock()
    t = throttle(clock, ceiling=(50, 3600))
    t.attempt(account="chief", address="office")
    t.succeeded(account="chief", address="office")
    # A guesser with ten addresses, five tries each, reaches the ceiling of 50 an hour.
    for n in range(10):
        for _ in range(5):
            assert t.attempt(account="chief", address=f"bot{n}") == 0.0
    assert t.at_ceiling(account="chief")
    assert t.attempt(account="chief", address="bot99") == 3600.0
    assert t.attempt(account="chief", address="office") == 0.0  # the owner's usual address
    assert not t.at_ceiling(account="ghost")
    clock.now += 3600
    assert t.attempt(account="chief", address="bot99") == 0.0


def test_forgotten_after_a_quiet_day() -> None:
    clock = Clock()
    t = throttle(clock)
    for _ in range(5):
        t.attempt(account="chief", address="a")
    clock.now += 24 * 3600 + 1
    t.attempt(account="other", address="z")  # any call sweeps what expired
    assert t.attempt(account="chief", address="a") == 0.0
    assert t.attempt(account="chief", address="a") == 0.0


def attempts(client: TestClient, username: str, password: str, n: int) -> list[tuple[int, str]]:
    out = []
    for _ in range(n):
        r = client.post("/admin/login", data={"username": username, "password": password})
        error = soup(r.text).find(id="login-error")
        out.append((r.status_code, error.get_text() if error else ""))
    return out


def test_known_and_unknown_names_get_the_same_answers(
    client: TestClient, demo: None, engine: Engine
) -> None:
    add_admin(engine)
    known = attempts(client, "chief", "wrong-password", 7)
    unknown = attempts(client, "ghost", "wrong-password", 7)
    assert known == unknown
    assert [status for status, _ in known] == [401] * 5 + [429] * 2
    assert known[-1][1] == "登录失败次数过多，请 1 分钟后再试。"


def test_a_locked_out_name_still_lets_its_owner_in_from_elsewhere(
    settings: Settings, demo: None, engine: Engine, session: Session
) -> None:
    add_admin(engine)
    app = create_app(settings.model_copy(update={"login_account_limit": "10/h"}))

    def client_at(address: str) -> TestClient:
        # Outside `with`: the outer client runs the app's lifespan once for all of them.
        return TestClient(app, client=(address, 4000))

    def owner_logs_in() -> int:
        data = {"username": "chief", "password": PASSWORD}
        r = client_at("198.51.100.7").post("/admin/login", data=data, follow_redirects=False)
        return r.status_code

    with TestClient(app):
        guesser = client_at("203.0.113.9")
        assert [s for s, _ in attempts(guesser, "chief", "guess", 6)] == [401] * 5 + [429]
        assert owner_logs_in() == 303
        # Two more addresses reach the account's ceiling: now only known addresses may try.
        for n in (2, 3):
            attempts(client_at(f"203.0.113.{n}"), "chief", "guess", 5)
        [(status, text)] = attempts(client_at("192.0.2.1"), "chief", PASSWORD, 1)
        assert status == 429 and "登录失败次数过多" in text
        assert owner_logs_in() == 303
    assert session.exec(select(AuditLog).where(AuditLog.action == "login_locked")).first()
