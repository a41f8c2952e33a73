"""The `yijian` command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic import command
from alembic.config import Config
from sqlmodel import Session, select

from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.documents.tables import rows_csv
from app.models import AdminRole, Unit
from app.services import evaluation, printables, roster
from app.services.accounts import create_admin
from app.services.campaigns import get_unit
from app.services.errors import UserError
from app.services.export import iter_export_rows, write_export
from app.services.units import add_unit, default_bureau, ensure_demo

ROOT = Path(__file__).resolve().parent.parent

cli = typer.Typer(
    help="Yijian 意见箱: feedback collection for schools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
unit_cli = typer.Typer(help="Schools and other units.", no_args_is_help=True)
admin_cli = typer.Typer(help="Admin accounts.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(unit_cli, name="unit")
cli.add_typer(admin_cli, name="admin")
roster_cli = typer.Typer(
    help="我为教育发展献良策: staff roster, compliance, reminders.", no_args_is_help=True
)
print_cli = typer.Typer(help="Printable campaign material (PDF).", no_args_is_help=True)
eval_cli = typer.Typer(help="Public evaluation (群众评议).", no_args_is_help=True)
cli.add_typer(roster_cli, name="roster")
cli.add_typer(print_cli, name="print")
cli.add_typer(eval_cli, name="eval")

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


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at this checkout's migrations."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return config


def _fail(exc: UserError) -> None:
    typer.echo(f"错误：{exc.message}", err=True)
    raise typer.Exit(code=2)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the web service (uvicorn)."""
    import uvicorn

    settings = get_settings()
    LOG_CONFIG["loggers"]["yijian"]["level"] = settings.log_level
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=LOG_CONFIG,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
    )


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)
    typer.echo(f"数据库已升级到 {revision}")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
) -> None:
    """Revert migrations down to REVISION."""
    command.downgrade(alembic_config(), revision)
    typer.echo(f"数据库已回退到 {revision}")


@cli.command()
def demo() -> None:
    """Create a demo bureau, schools demo and demo2, an open campaign and an admin (idempotent)."""
    engine = make_engine(get_settings().database_url)
    with session_scope(engine) as session:
        result = ensure_demo(session)
    engine.dispose()
    typer.echo(f"示范数据：{result.bureau}，学校 {', '.join(result.units)}")
    typer.echo(f"表单：{get_settings().base_url}/u/demo")
    if result.password:
        typer.echo(f"管理员 {result.admin} 的密码：{result.password}（只显示这一次）")
    else:
        typer.echo(f"管理员 {result.admin} 已存在（密码不变）")


@unit_cli.command("add")
def unit_add(
    slug: Annotated[str, typer.Option(help="Short code used in the link /u/<slug>.")],
    name: Annotated[str, typer.Option(help="Full name of the school.")],
    email: Annotated[str | None, typer.Option(help="Published email inbox.")] = None,
) -> None:
    """Add a school to the (first) bureau."""
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            unit = add_unit(session, slug=slug, name=name, email=email)
            typer.echo(f"已添加 {unit.name}：{get_settings().base_url}/u/{unit.slug}")
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@admin_cli.command("create")
def admin_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    password: Annotated[str, typer.Option(help="At least 10 characters.")],
    bureau: Annotated[bool, typer.Option("--bureau", help="A bureau admin (every unit).")] = False,
    unit: Annotated[str | None, typer.Option(help="A unit admin of this unit slug.")] = None,
    reviewer: Annotated[
        bool, typer.Option(help="With --unit: a reviewer, not a unit admin.")
    ] = False,
) -> None:
    """Create an admin account: --bureau, or --unit SLUG."""
    if bureau == (unit is not None):
        typer.echo("错误：请指定 --bureau 或 --unit SLUG 之一。", err=True)
        raise typer.Exit(code=2)
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            if unit is not None:
                target = get_unit(session, slug=unit)
                role = AdminRole.reviewer if reviewer else AdminRole.unit_admin
                create_admin(
                    session,
                    username=username,
                    password=password,
                    role=role,
                    bureau_id=target.bureau_id,
                    unit_id=target.id,
                )
            else:
                bureau_row = default_bureau(session)
                assert bureau_row.id is not None
                create_admin(
                    session,
                    username=username,
                    password=password,
                    role=AdminRole.bureau_admin,
                    bureau_id=bureau_row.id,
                )
        typer.echo(f"已创建管理员 {username}")
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@cli.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    unit: Annotated[str | None, typer.Option(help="Only this unit slug.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output file (default: stdout).")] = None,
) -> None:
    """Export every submission (no receipts, keys or contact details)."""
    if fmt not in ("jsonl", "csv"):
        typer.echo("错误：--format 只能是 jsonl 或 csv。", err=True)
        raise typer.Exit(code=2)
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
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
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


UnitOption = Annotated[str, typer.Option("--unit", help="Unit slug.")]
OutOption = Annotated[Path, typer.Option("--out", help="Output PDF file.")]


@roster_cli.command("import")
def roster_import(
    unit: UnitOption,
    file: Annotated[Path, typer.Argument(help="xlsx or CSV with columns 姓名, 职务, 邮箱.")],
) -> None:
    """Import a unit's roster; nothing is imported when any row is bad."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
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
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@roster_cli.command("compliance")
def roster_compliance(
    unit: Annotated[str | None, typer.Option(help="Only this unit slug.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or csv.")] = "text",
) -> None:
    """Who has sent at least one idea, who has none, by unit."""
    if fmt not in ("text", "csv"):
        typer.echo("错误：--format 只能是 text 或 csv。", err=True)
        raise typer.Exit(code=2)
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
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
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@roster_cli.command("remind")
def roster_remind(
    unit: Annotated[str | None, typer.Option(help="Only this unit slug.")] = None,
) -> None:
    """Email their link to people with no idea yet (at most once per YIJIAN_REMINDER_DAYS)."""
    settings = get_settings()
    if not settings.smtp_host or not settings.mail_from:
        typer.echo("错误：请先设置 YIJIAN_SMTP_HOST 和 YIJIAN_MAIL_FROM。", err=True)
        raise typer.Exit(code=2)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            run = remind(session, settings=settings, unit_ids=_unit_ids(session, unit))
        typer.echo(f"已发送提醒 {len(run.sent)} 封")
        for failure in run.failed:
            typer.echo(f"发送失败：{failure}", err=True)
        if run.failed:
            raise typer.Exit(code=1)
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


def remind(session: Session, *, settings: Settings, unit_ids: list[int]) -> roster.ReminderRun:
    """Send the due reminders and record them (shared by the CLI and the admin button)."""
    assert settings.smtp_host and settings.mail_from
    due = roster.due_reminders(
        session,
        unit_ids=unit_ids,
        secret=settings.secret_key,
        base_url=settings.base_url,
        every_days=settings.reminder_days,
    )
    sender = roster.smtp_sender(settings)
    run = asyncio.run(roster.send_reminders(sender, due, from_addr=settings.mail_from))
    roster.mark_reminded(session, person_ids=run.sent)
    return run


def _unit_ids(session: Session, slug: str | None) -> list[int]:
    if slug is not None:
        unit = get_unit(session, slug=slug)
        assert unit.id is not None
        return [unit.id]
    return [u.id for u in session.exec(select(Unit)).all() if u.id is not None]


def _write_pdf(kind: str, unit: str, out: Path) -> None:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            context = printables.print_context(session, slug=unit)
        if kind == "letter":
            data = printables.letter_pdf(context, base_url=settings.base_url)
        else:
            data = printables.poster(context, base_url=settings.base_url)
        out.write_bytes(data)
        typer.echo(f"已生成 {out}")
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


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
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
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
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


def main() -> None:
    cli()
