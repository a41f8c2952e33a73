"""The server process's writer, for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.storage.writer import Writer


# Async on purpose, as in app/core/deps.py: a plain `def` dependency costs a thread hop.
async def writer_of(request: Request) -> Writer:
    """The writer that start_writer started for this app."""
    writer: Writer = request.app.state.writer
    return writer


WriterDep = Annotated[Writer, Depends(writer_of)]
