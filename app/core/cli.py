"""What every `yijian` command shares: its database frame, its error exit and its logging."""

from __future__ import annotations

import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import get_settings
from app.core.db import make_engine, session_scope
from app.core.errors import UserError

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "out": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["out"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        # Uvicorn's access log prints client addresses; ours (yijian.access) does not.
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "yijian": {"handlers": ["out"], "level": "INFO", "propagate": False},
        "app": {"handlers": ["out"], "level": "INFO", "propagate": False},
    },
}


def configure_logging() -> None:
    """Log our own modules to stderr at YIJIAN_LOG_LEVEL (the worker and the poller)."""
    LOG_CONFIG["loggers"]["app"]["level"] = get_settings().log_level
    logging.config.dictConfig(LOG_CONFIG)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into `错误：…` on stderr and exit status 2."""
    try:
        yield
    except UserError as exc:
        typer.echo(f"错误：{exc.message}", err=True)
        raise typer.Exit(code=2) from None


@contextmanager
def cli_engine() -> Iterator[Engine]:
    """An engine on the configured database, disposed at the end; UserError exits with 2."""
    engine = make_engine(get_settings().database_url)
    try:
        with user_errors():
            yield engine
    finally:
        engine.dispose()


@contextmanager
def cli_session() -> Iterator[Session]:
    """A session committed on success (see cli_engine for errors and disposal)."""
    with cli_engine() as engine, session_scope(engine) as session:
        yield session
