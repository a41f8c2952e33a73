"""`yijian roster`, `yijian print` and `yijian eval`: the campaign's staff, paper and codes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, select

from app.campaign import evaluation, printables, roster
from app.campaign.jobs import send_reminders_now
from app.campaign.service import get_unit
from app.core.cli import cli_engine, cli_session
from app.core.config import get_settings
from app.core.db import session_scope
from app.documents.tables import rows_csv
from app.models import Unit
from app.outbox.service import require_sender

roster_cli = typer.Typer(
    help="我为教育发展献良策: staff roster, compliance, reminders.", no_args_is_help=True
)
print_cli = typer.Typer(help="Printable campaign material (PDF).", no_args_is_help=True)
eval_cli = typer.Typer(help="Public evaluation (群众评议).", no_args_is_help=True)

UnitOption = Annotated[str, typer.Option("--unit", help="Unit slug.")]
OutOption = Annotated[Path, typer.Option("--out", help="Output PDF file.")]


def register(root: typer.Typer) -> None:
    """Add `roster`, `print` and `eval` to the root command."""
    root.add_typer(roster_cli, name="roster")
    root.add_typer(print_cli, name="print")
    root.add_typer(eval_cli, name="eval")


@roster_cli.command("import")
def roster_import(
    unit: UnitOption,
    file: Annotated[Path, typer.Argument(help="xlsx or CSV with columns 姓名, 职务, 邮箱.")],
) -> None:
    """Import a unit's roster; nothing is imported when any row is bad."""
    settings = get_settings()
    with cli_session() as session:
        target = get_unit(session, slug=unit)
        assert target.id is not None
        people = roster.import_roster(
            session,
            unit_id=target.id,
            filename=file.name,
            data=file.read_bytes(),
            secret=settings.secret_key,
        )
        for person in people:
            url = roster.idea_url(
                base_url=settings.base_url, secret=settings.secret_key, person=person
            )
            typer.echo(f"{person.name}\t{person.post}\t{url}")
    typer.echo(f"已导入 {len(people)} 人", err=True)


@roster_cli.command("compliance")
def roster_compliance(
    unit: Annotated[str | None, typer.Option(help="Only this unit slug.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or csv.")] = "text",
) -> None:
    """Who has sent at least one idea, who has none, by unit."""
    if fmt not in ("text", "csv"):
        typer.echo("错误：--format 只能是 text 或 csv。", err=True)
        raise typer.Exit(code=2)
    with cli_session() as session:
        rows = roster.compliance_rows(session, unit_ids=_unit_ids(session, unit))
    if fmt == "csv":
        data = rows_csv(roster.COMPLIANCE_HEADERS, roster.compliance_table(rows))
        sys.stdout.write(data.decode("utf-8-sig"))
        return
    for total in roster.compliance_by_unit(rows):
        typer.echo(
            f"{total.unit_name}：名单 {total.people} 人，已提交 {total.with_ideas} 人，"
            f"未提交 {total.without} 人"
        )
    for row in rows:
        if not row.ideas:
            typer.echo(f"  未提交：{row.unit_name} {row.name} {row.post}")


@roster_cli.command("remind")
def roster_remind(
    unit: Annotated[str | None, typer.Option(help="Only this unit slug.")] = None,
) -> None:
    """Email their link to people with no idea yet (at most once per YIJIAN_REMINDER_DAYS)."""
    settings = get_settings()
    if not settings.smtp_host or not settings.mail_from:
        typer.echo("错误：请先设置 YIJIAN_SMTP_HOST 和 YIJIAN_MAIL_FROM。", err=True)
        raise typer.Exit(code=2)
    with cli_engine() as engine:
        with session_scope(engine) as session:
            unit_ids = _unit_ids(session, unit)
        run = asyncio.run(
            send_reminders_now(
                engine, settings=settings, sender=require_sender(settings), unit_ids=unit_ids
            )
        )
    typer.echo(f"已发送提醒 {len(run.sent)} 封")
    for failure in run.failed:
        typer.echo(f"发送失败：{failure}", err=True)
    if run.failed:
        raise typer.Exit(code=1)


def _unit_ids(session: Session, slug: str | None) -> list[int]:
    if slug is not None:
        unit = get_unit(session, slug=slug)
        assert unit.id is not None
        return [unit.id]
    return [u.id for u in session.exec(select(Unit)).all() if u.id is not None]


def _write_pdf(kind: str, unit: str, out: Path) -> None:
    base_url = get_settings().base_url
    with cli_session() as session:
        context = printables.print_context(session, slug=unit)
        if kind == "letter":
            data = printables.letter_pdf(context, base_url=base_url)
        else:
            data = printables.poster(context, base_url=base_url)
    out.write_bytes(data)
    typer.echo(f"已生成 {out}")


@print_cli.command("letter")
def print_letter(unit: UnitOption, out: OutOption) -> None:
    """The A4 solicitation letter of a unit."""
    _write_pdf("letter", unit, out)


@print_cli.command("poster")
def print_poster(unit: UnitOption, out: OutOption) -> None:
    """The A4 poster of a unit."""
    _write_pdf("poster", unit, out)


@eval_cli.command("codes")
def eval_codes(
    unit: UnitOption,
    count: Annotated[int, typer.Option(help="How many one-time codes.")],
    out: OutOption,
) -> None:
    """Make COUNT one-time evaluation codes and print them as forms (the codes are not kept)."""
    settings = get_settings()
    with cli_session() as session:
        context = printables.print_context(session, slug=unit)
        codes = evaluation.create_codes(
            session,
            secret=settings.secret_key,
            unit_id=context.state.unit_id,
            count=count,
        )
        # Written before the commit: codes whose form was never saved are never valid.
        out.write_bytes(
            printables.evaluation_forms(context, base_url=settings.base_url, codes=codes)
        )
    typer.echo(f"已生成 {count} 张评议表：{out}")
