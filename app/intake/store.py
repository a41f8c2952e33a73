"""The write path shared by the form and the API: cached intake state and the writer."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.campaign.service import IntakeCache, IntakeState
from app.core.errors import Unavailable
from app.intake.service import NewSubmission, Stored
from app.storage.deps import writer_of
from app.storage.writer import WriteFailed

BUSY = "系统繁忙，您的意见尚未保存，请稍后再提交一次。"


def _load(engine: Engine, cache: IntakeCache, slug: str) -> IntakeState:
    with Session(engine) as session:
        return cache.load(session, slug=slug)


async def intake_state(request: Request, slug: str) -> IntakeState:
    """The unit's intake state, from the cache when fresh (raises NotFound)."""
    cache: IntakeCache = request.app.state.intake_cache
    state = cache.peek(slug)
    if state is None:
        state = await run_in_threadpool(_load, request.app.state.engine, cache, slug)
    return state


async def store(request: Request, new: NewSubmission) -> Stored:
    """Store through the group-commit writer; returns once the row is committed."""
    state = await intake_state(request, new.slug)
    writer = await writer_of(request)
    try:
        return await writer.store(new, state)
    except (SQLAlchemyError, WriteFailed) as exc:
        raise Unavailable(BUSY) from exc
