"""`yijian unit add` and `yijian demo`."""

from __future__ import annotations

from typing import Annotated

import typer

from app.core.cli import cli_session
from app.core.config import get_settings
from app.units.service import add_unit, ensure_demo

unit_cli = typer.Typer(help="Schools and other units.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `unit` and `demo` to the root command."""
    root.command()(demo)
    root.add_typer(unit_cli, name="unit")


def demo() -> None:
    """Create a demo bureau, schools demo and demo2, an open campaign and an admin (idempotent)."""
    with cli_session() as session:
        result = ensure_demo(session)
    typer.echo(f"示范数据：{result.bureau}，学校 {', '.join(result.units)}")
    typer.echo(f"表单：{get_settings().base_url}/u/demo")
    if result.password:
        typer.echo(f"管理员 {result.admin} 的密码：{result.password}（只显示这一次）")
    else:
        typer.echo(
            f"管理员 {result.admin} 已存在（密码不变；忘记了可运行 "
            f"yijian admin password --username {result.admin} 重设）"
        )


@unit_cli.command("add")
def unit_add(
    slug: Annotated[str, typer.Option(help="Short code used in the link /u/<slug>.")],
    name: Annotated[str, typer.Option(help="Full name of the school.")],
    email: Annotated[str | None, typer.Option(help="Published email inbox.")] = None,
) -> None:
    """Add a school to the (first) bureau."""
    with cli_session() as session:
        unit = add_unit(session, slug=slug, name=name, email=email)
        typer.echo(f"已添加 {unit.name}：{get_settings().base_url}/u/{unit.slug}")
