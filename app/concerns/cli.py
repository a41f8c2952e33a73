"""`yijian tagger concerns`: count, or fill in (--backfill), the concerns of items stored
before they were kept."""

from __future__ import annotations

from typing import Annotated

import typer

from app.concerns.service import backfill_concerns, count_missing_concerns
from app.core.cli import cli_engine
from app.core.config import get_settings
from app.core.db import session_scope
from app.tagging import load_tagger
from app.tagging.cli import tagger_app


def register(root: typer.Typer) -> None:
    """Add `concerns` to `yijian tagger` (root is the collector's; the group is tagging's)."""
    del root
    tagger_app.command("concerns")(concerns)


def concerns(
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Tag the items without concerns and store them.")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=10000, help="Items per transaction.")] = 500,
) -> None:
    """How many tagged items have no concerns (兼涉) yet; --backfill fills them in, a batch
    per transaction, so it can stop and run again (it skips what is done)."""
    with cli_engine() as engine:
        if not backfill:
            with session_scope(engine) as session:
                typer.echo(f"{count_missing_concerns(session)} 条意见还没有兼涉信息。")
            return
        tagger = load_tagger(get_settings().tagger, engine)
        done, after = 0, 0
        while True:
            with session_scope(engine) as session:
                ids = backfill_concerns(session, tagger=tagger, after_id=after, batch=batch)
            if not ids:
                break
            done, after = done + len(ids), ids[-1]
        typer.echo(f"已补全 {done} 条意见的兼涉信息。")
