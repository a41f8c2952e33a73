"""`yijian backup` and `yijian restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.core.cli import cli_engine, user_errors
from app.core.config import get_settings


def register(root: typer.Typer) -> None:
    """Add `backup` and `restore` to the root command."""
    root.command()(backup)
    root.command()(restore)


def backup(
    out: Annotated[Path, typer.Option("--out", help="Backup file to write.")],
) -> None:
    """Back up the database while it runs (SQLite backup API, or pg_dump -Fc)."""
    from app.backup.service import backup_database

    with user_errors():
        info = backup_database(database_url=get_settings().database_url, out=out)
    typer.echo(f"已备份到 {info.path}（{info.size} 字节，{info.kind}）")


def restore(
    source: Annotated[Path, typer.Argument(help="A file written by `yijian backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a database that holds data.")
    ] = False,
) -> None:
    """Restore a backup into the configured database (refuses one with data unless --force)."""
    from app.backup.service import count_rows, restore_database

    with cli_engine() as engine:
        restore_database(
            engine=engine, database_url=get_settings().database_url, source=source, force=force
        )
        total = sum(count_rows(engine).values())
    typer.echo(f"已恢复 {source}（共 {total} 行）")
