"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.core.config import Settings
from app.core.errors import TooMany
from app.core.ratelimit import RateLimiter
from app.core.render import request_locale


# Cheap dependencies are async on purpose: FastAPI runs plain `def` dependencies in the
# thread pool, a thread hop per request on the hot intake path.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


async def _locale(request: Request) -> str:
    return request_locale(request)


def _client_key(request: Request) -> str:
    # Only ever used as a key in the in-memory limiter; never stored or logged.
    return request.client.host if request.client else "unknown"


async def limit_submissions(request: Request) -> None:
    """Refuse a client past the submission limit with 429."""
    limiter: RateLimiter = request.app.state.submit_limiter
    if not limiter.hit(_client_key(request)):
        raise TooMany("提交太频繁了，请稍等几分钟再试。")


async def limit_lookups(request: Request) -> None:
    """Refuse a client past the receipt lookup limit with 429 (guards against guessing)."""
    limiter: RateLimiter = request.app.state.lookup_limiter
    if not limiter.hit(_client_key(request)):
        raise TooMany("查询太频繁了，请稍等几分钟再试。")


async def limit_tagging(request: Request) -> None:
    """Refuse a client past the tagging limit with 429 (each call runs the tagger)."""
    limiter: RateLimiter = request.app.state.tag_limiter
    if not limiter.hit(_client_key(request)):
        raise TooMany("请求太频繁了，请稍等几分钟再试。")


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
LocaleDep = Annotated[str, Depends(_locale)]
SubmitLimit = Depends(limit_submissions)
LookupLimit = Depends(limit_lookups)
TagLimit = Depends(limit_tagging)
