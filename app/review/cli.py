"""`yijian export`: every submission as JSON lines or CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.campaign.service import get_unit
from app.core.cli import cli_session
from app.review.export import iter_export_rows, write_export


def register(root: typer.Typer) -> None:
    """Add `export` to the root command."""
    root.command("export")(export)


def export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    unit: Annotated[str | None, typer.Option(help="Only this unit slug.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output file (default: stdout).")] = None,
) -> None:
    """Export every submission (no receipts, keys or contact details)."""
    if fmt not in ("jsonl", "csv"):
        typer.echo("错误：--format 只能是 jsonl 或 csv。", err=True)
        raise typer.Exit(code=2)
    with cli_session() as session:
        if unit is not None:
            get_unit(session, slug=unit)
        rows = iter_export_rows(session, unit_slug=unit)
        if out is None:
            count = write_export(rows, sys.stdout, fmt=fmt)
        else:
            with out.open(
                "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline=""
            ) as handle:
                count = write_export(rows, handle, fmt=fmt)
    typer.echo(f"已导出 {count} 条", err=True)
