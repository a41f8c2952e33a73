"""`yijian groups`: the similar-concern groups (同类问题) of a unit, as text or JSON lines."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.core.cli import cli_session
from app.groups.service import list_groups


def register(root: typer.Typer) -> None:
    """Add `groups` to the root command."""
    root.command("groups")(groups)


def groups(
    unit: Annotated[str, typer.Option("--unit", help="The unit slug.")],
    fmt: Annotated[str, typer.Option("--format", help="text or jsonl.")] = "text",
) -> None:
    """Print the unit's groups of similar concerns, largest first."""
    if fmt not in ("text", "jsonl"):
        typer.echo("错误：--format 只能是 text 或 jsonl。", err=True)
        raise typer.Exit(code=2)
    with cli_session() as session:
        found = list_groups(session, unit_slug=unit)
    for g in found:
        if fmt == "jsonl":
            record = {"id": g.id, "size": g.size, "members": g.member_ids, "label": g.label}
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            members = " ".join(str(i) for i in g.member_ids)
            typer.echo(f"#{g.id}\t同类 {g.size} 条\t{g.label}\t{members}")
    if fmt == "text" and not found:
        typer.echo("没有同类问题。")
