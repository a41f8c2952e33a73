"""`yijian backup` and `yijian restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.core.cli import cli_engine, user_errors
from app.core.config import get_settings, load_keyring


def register(root: typer.Typer) -> None:
    """Add `backup` and `restore` to the root command."""
    root.command()(backup)
    root.command()(restore)


def backup(
    out: Annotated[Path, typer.Option("--out", help="Backup file to write.")],
    plain: Annotated[
        bool, typer.Option("--plain", help="Do not encrypt (the default is to, with a key).")
    ] = False,
) -> None:
    """Back up the database while it runs (SQLite backup API, or pg_dump -Fc), encrypted with
    the data key when one is configured (always in prod) unless --plain."""
    from app.backup.service import backup_database

    settings = get_settings()
    with user_errors():
        keyring = None if plain or not settings.has_data_key else load_keyring(settings)
        info = backup_database(database_url=settings.database_url, out=out, keyring=keyring)
    if plain:
        typer.echo(
            "警告：备份未加密，里面的意见正文和回执哈希都是明文，请妥善保管。"
            " / Warning: this backup is not encrypted.",
            err=True,
        )
    sealed = "，已用数据密钥加密" if info.encrypted else ""
    typer.echo(f"已备份到 {info.path}（{info.size} 字节，{info.kind}{sealed}）")


def restore(
    source: Annotated[Path, typer.Argument(help="A file written by `yijian backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a database that holds data.")
    ] = False,
) -> None:
    """Restore a backup into the configured database (refuses one with data unless --force)."""
    from app.backup.service import count_rows, restore_database

    with cli_engine() as engine:
        settings = get_settings()
        restore_database(
            engine=engine,
            database_url=settings.database_url,
            source=source,
            force=force,
            keyring=load_keyring(settings) if settings.has_data_key else None,
        )
        total = sum(count_rows(engine).values())
    typer.echo(f"已恢复 {source}（共 {total} 行）")
