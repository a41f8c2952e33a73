"""`yijian calendar list|set|unset`: correct China's working-day calendar by hand."""

from __future__ import annotations

from typing import Annotated

import typer

from app.core.cli import cli_session
from app.core.time import parse_day
from app.workdays.service import knows_year, list_overrides, remove_override, set_override

calendar_cli = typer.Typer(
    help="Working days: corrections for a year the calendar library does not know yet.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    """Add `calendar` to the root command."""
    root.add_typer(calendar_cli, name="calendar")


def _mark(working: bool) -> str:
    return "上班" if working else "休息"


@calendar_cli.command("list")
def calendar_list(year: Annotated[int, typer.Option(help="The year, e.g. 2027.")]) -> None:
    """The days of YEAR set by hand (everything else follows the official calendar)."""
    with cli_session() as session:
        days = list_overrides(session, year=year)
    known = "已收录" if knows_year(year) else "未收录（按周一至周五上班计算）"
    typer.echo(f"{year} 年：日历库{known}，手工设置 {len(days)} 天")
    for d in days:
        typer.echo(
            f"{d.day.isoformat()}\t{_mark(d.working)}\t(日历库：{_mark(d.official)})\t{d.note}"
        )


@calendar_cli.command("set")
def calendar_set(
    day: Annotated[str, typer.Option(help="The day, YYYY-MM-DD.")],
    working: Annotated[
        bool, typer.Option("--working/--rest", help="Offices work (调休) or rest (holiday).")
    ],
    note: Annotated[str, typer.Option(help="Why, e.g. 春节 or 春节调休.")] = "",
) -> None:
    """Add or correct one day."""
    with cli_session() as session:
        when = parse_day(day, field="day")
        set_override(session, actor_id=None, day=when, working=working, note=note)
    typer.echo(f"{when.isoformat()} 设为{_mark(working)}")


@calendar_cli.command("unset")
def calendar_unset(day: Annotated[str, typer.Option(help="The day, YYYY-MM-DD.")]) -> None:
    """Remove a day's correction: the official calendar applies again."""
    with cli_session() as session:
        when = parse_day(day, field="day")
        remove_override(session, actor_id=None, day=when)
    typer.echo(f"{when.isoformat()} 已恢复为日历库的安排")
