"""The `yijian` command line."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic import command
from alembic.config import Config
from sqlmodel import Session, select

from app.accounts.auth import reset_password
from app.accounts.service import create_admin
from app.campaign import evaluation, printables, roster
from app.campaign.service import get_unit
from app.core.config import Settings, get_settings
from app.core.db import make_engine, session_scope
from app.core.errors import UserError
from app.documents.tables import rows_csv
from app.models import AdminRole, Unit
from app.outbox.service import require_sender, sender_from_settings
from app.review.export import iter_export_rows, write_export
from app.tagging import load_tagger, read_examples, retrain
from app.tagging.cli import tag_stream, tagger_app
from app.tagging.corrections import iter_corrections
from app.units.service import add_unit, default_bureau, ensure_demo

ROOT = Path(__file__).resolve().parent.parent

cli = typer.Typer(
    help="Yijian 意见箱: feedback collection for schools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
unit_cli = typer.Typer(help="Schools and other units.", no_args_is_help=True)
admin_cli = typer.Typer(help="Admin accounts.", no_args_is_help=True)
inbox_cli = typer.Typer(help="Email intake: mailboxes and polling.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(inbox_cli, name="inbox")
cli.add_typer(unit_cli, name="unit")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(tagger_app, name="tagger")
digest_cli = typer.Typer(help="The digest mailed to the bureau office.", no_args_is_help=True)
cli.add_typer(digest_cli, name="digest")
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


@admin_cli.command("password")
def admin_password(
    username: Annotated[str, typer.Option(help="Login name.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password (10+ characters); without it one is generated."),
    ] = None,
) -> None:
    """Reset a forgotten admin password and log the account out everywhere."""
    new = password or secrets.token_urlsafe(12)
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            reset_password(session, username=username, new=new)
        if password:
            typer.echo(f"已重设管理员 {username} 的密码")
        else:
            typer.echo(f"管理员 {username} 的新密码：{new}（只显示这一次）")
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


@tagger_app.command("retrain")
def tagger_retrain(
    extra: Annotated[
        Path | None, typer.Option("--extra", help="More labelled JSON lines to learn from.")
    ] = None,
) -> None:
    """Retrain on the shipped corpus plus every admin correction; running servers pick it up."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        corrections = list(iter_corrections(session))
    engine.dispose()
    try:
        examples = corrections + (read_examples(extra) if extra else [])
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    path = retrain(model_dir=settings.model_dir, extra=examples)
    typer.echo(f"已用 {len(corrections)} 条人工更正重新训练：{path}")


@cli.command("tag")
def tag() -> None:
    """Tag JSON lines {"id", "text"} from stdin; one JSON line per input on stdout."""
    settings = get_settings()
    errors = tag_stream(
        load_tagger(settings.tagger, settings.model_dir), sys.stdin, sys.stdout
    )
    if errors:
        typer.echo(f"{errors} 行无法处理", err=True)


def _logging() -> None:
    import logging.config

    LOG_CONFIG["loggers"]["app"]["level"] = get_settings().log_level
    logging.config.dictConfig(LOG_CONFIG)


@inbox_cli.command("poll")
def inbox_poll(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Fetch new mail from every enabled mailbox (every YIJIAN_POLL_SECONDS unless --once)."""
    from app.core.jobs import Job
    from app.inbox.jobs import poll_mailboxes
    from app.tagging import start_tagger
    from app.worker import run_jobs

    _logging()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    sender = sender_from_settings(settings)
    tagger = start_tagger(settings.tagger, model_dir=settings.model_dir)
    try:
        if once:
            result = poll_mailboxes(engine, settings, sender, tagger)
            typer.echo(result.summary())
            for error in result.errors:
                typer.echo(f"错误：{error}", err=True)
            if result.errors:
                raise typer.Exit(code=1)
        else:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
            job = Job(
                "inbox",
                settings.poll_seconds,
                lambda: poll_mailboxes(engine, settings, sender, tagger),
            )
            run_jobs([job], stop)
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@inbox_cli.command("add")
def inbox_add(
    name: Annotated[str, typer.Option(help="Short name, e.g. demo-qq.")],
    host: Annotated[str, typer.Option(help="IMAP server, e.g. imap.qq.com.")],
    user: Annotated[str, typer.Option(help="Mailbox login (the address).")],
    password: Annotated[
        str, typer.Option(prompt="授权码", hide_input=True, help="App password (授权码).")
    ],
    port: Annotated[int, typer.Option(help="993 for ssl, 143 for starttls.")] = 993,
    security: Annotated[str, typer.Option(help="ssl, starttls or none.")] = "ssl",
    folder: Annotated[str, typer.Option(help="Folder to read.")] = "INBOX",
    unit: Annotated[str | None, typer.Option(help="Default unit slug.")] = None,
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="Never keep senders' addresses.")
    ] = False,
) -> None:
    """Add a mailbox to poll (the password is stored in the database: protect it)."""
    from app.inbox.service import MailboxSpec, add_mailbox

    spec = MailboxSpec(
        name=name,
        host=host,
        port=port,
        security=security,
        username=user,
        password=password,
        folder=folder,
        unit_slug=unit,
        anonymous=anonymous,
    )
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            add_mailbox(session, spec=spec)
        typer.echo(f"已添加邮箱 {name}")
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@inbox_cli.command("list")
def inbox_list() -> None:
    """List mailboxes with their last poll and error."""
    from app.inbox.service import list_mailboxes

    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            for box in list_mailboxes(session):
                state = "启用" if box.enabled else "停用"
                polled = f"{box.last_polled_at:%Y-%m-%d %H:%M}" if box.last_polled_at else "从未"
                typer.echo(
                    f"{box.name}\t{box.username}@{box.host}:{box.port}/{box.folder}\t{state}"
                    f"\t{'匿名' if box.anonymous else '实名'}\t上次收信 {polled}"
                    + (f"\t错误：{box.last_error}" if box.last_error else "")
                )
    finally:
        engine.dispose()


def _toggle(name: str, enabled: bool) -> None:
    from app.inbox.service import set_mailbox_enabled

    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            set_mailbox_enabled(session, name=name, enabled=enabled)
        typer.echo(f"邮箱 {name} 已{'启用' if enabled else '停用'}")
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@inbox_cli.command("enable")
def inbox_enable(name: Annotated[str, typer.Argument(help="Mailbox name.")]) -> None:
    """Start polling a mailbox again."""
    _toggle(name, True)


@inbox_cli.command("disable")
def inbox_disable(name: Annotated[str, typer.Argument(help="Mailbox name.")]) -> None:
    """Stop polling a mailbox; its records stay."""
    _toggle(name, False)


@inbox_cli.command("remove")
def inbox_remove(name: Annotated[str, typer.Argument(help="Mailbox name.")]) -> None:
    """Delete a mailbox that has received nothing yet."""
    from app.inbox.service import remove_mailbox

    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            remove_mailbox(session, name=name)
        typer.echo(f"已删除邮箱 {name}")
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@cli.command()
def backup(
    out: Annotated[Path, typer.Option("--out", help="Backup file to write.")],
) -> None:
    """Back up the database while it runs (SQLite backup API, or pg_dump -Fc)."""
    from app.backup.service import backup_database

    try:
        info = backup_database(database_url=get_settings().database_url, out=out)
    except UserError as exc:
        _fail(exc)
    typer.echo(f"已备份到 {info.path}（{info.size} 字节，{info.kind}）")


@cli.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A file written by `yijian backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a database that holds data.")
    ] = False,
) -> None:
    """Restore a backup into the configured database (refuses one with data unless --force)."""
    from app.backup.service import count_rows, restore_database

    url = get_settings().database_url
    engine = make_engine(url)
    try:
        restore_database(engine=engine, database_url=url, source=source, force=force)
        total = sum(count_rows(engine).values())
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    typer.echo(f"已恢复 {source}（共 {total} 行）")


@cli.command()
def worker() -> None:
    """Run the background jobs (inbox polling, the digest schedule) until stopped."""
    from app.worker import run_worker

    _logging()
    run_worker(get_settings())


@digest_cli.command("send")
def digest_send(
    once: Annotated[bool, typer.Option("--once", help="Send once and exit.")] = False,
    period: Annotated[
        str | None, typer.Option(help="Send this day now, YYYY-MM-DD (Shanghai time).")
    ] = None,
    week: Annotated[str | None, typer.Option(help="Send this ISO week now, YYYY-Www.")] = None,
) -> None:
    """Send the digests that are due, or the one of --period / --week."""
    from app.digest.jobs import send_digest_now, send_due_digests
    from app.digest.service import parse_period
    from app.models import DIGEST_STATUS_LABELS, utcnow

    if not once:
        typer.echo("错误：请加 --once；按计划持续发送请运行 yijian worker。", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        sender = require_sender(settings)
        if period is None and week is None:
            outcomes = send_due_digests(engine, settings, sender, utcnow())
        else:
            named = parse_period(day=period, week=week)
            with session_scope(engine) as session:
                bureau_id = default_bureau(session).id
            assert bureau_id is not None
            outcomes = [
                send_digest_now(
                    engine, settings, sender, bureau_id=bureau_id, period=named, now=utcnow()
                )
            ]
    except UserError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    if not outcomes:
        typer.echo("没有到期的摘要。")
    for out in outcomes:
        line = f"{out.period_key}：{DIGEST_STATUS_LABELS[out.status]}"
        typer.echo(line + (f"（{out.error}）" if out.error else ""))
    if any(out.error for out in outcomes):
        raise typer.Exit(code=1)


def _weekday_option(value: str | None) -> tuple[int | None, bool]:
    """--weekly 1..7 (Monday = 1, as 周一) or 'off' -> (stored 0..6, clear)."""
    if value is None:
        return None, False
    if value.strip().lower() == "off":
        return None, True
    if not value.strip().isdigit() or not 1 <= int(value) <= 7:
        typer.echo("错误：--weekly 应为 1-7（1 = 周一）或 off。", err=True)
        raise typer.Exit(code=2)
    return int(value) - 1, False


@digest_cli.command("settings")
def digest_settings(
    to: Annotated[str | None, typer.Option("--to", help="Recipients, comma-separated.")] = None,
    daily: Annotated[str | None, typer.Option(help="Daily at HH:MM, or 'off'.")] = None,
    weekly: Annotated[
        str | None, typer.Option(help="Weekly on day 1-7 (1 = Monday), or 'off'.")
    ] = None,
    send_empty: Annotated[
        bool | None, typer.Option("--send-empty/--no-send-empty", help="Send when nothing new.")
    ] = None,
    overdue_days: Annotated[
        int | None, typer.Option(help="Working days without reply before an item is overdue.")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--on/--off", help="Send at all.")] = None,
) -> None:
    """Show or change the (first) bureau's digest settings; only given options change."""
    from app.digest.service import WEEKDAY_NAMES, ensure_default_setting, save_setting

    weekday, clear_weekly = _weekday_option(weekly)
    clear_daily = daily is not None and daily.strip().lower() == "off"
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            bureau = default_bureau(session)
            assert bureau.id is not None
            # YIJIAN_DIGEST_TO seeds the recipients before the first change here.
            ensure_default_setting(session, recipients=get_settings().digest_to)
            saved = save_setting(
                session,
                bureau_id=bureau.id,
                recipients=to,
                daily_time=None if clear_daily else daily,
                weekly_weekday=weekday,
                clear_daily=clear_daily,
                clear_weekly=clear_weekly,
                send_when_empty=send_empty,
                overdue_workdays=overdue_days,
                enabled=enabled,
            )
            typer.echo(f"{bureau.name} 摘要设置：")
            typer.echo(f"  收件人：{saved.recipients or '（未设置）'}")
            typer.echo(f"  每日：{saved.daily_time or '不发送'}")
            weekly_text = (
                "不发送"
                if saved.weekly_weekday is None
                else f"{WEEKDAY_NAMES[saved.weekly_weekday]} {saved.daily_time or '08:00'}"
            )
            typer.echo(f"  每周：{weekly_text}")
            typer.echo(f"  无新意见时：{'照常发送' if saved.send_when_empty else '不发送'}")
            typer.echo(f"  超期：{saved.overdue_workdays} 个工作日未答复")
            typer.echo(f"  状态：{'开启' if saved.enabled else '关闭'}")
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


@digest_cli.command("list")
def digest_list(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
) -> None:
    """List past digests of the (first) bureau with their status."""
    from app.core.time import TZ
    from app.digest.service import list_digests
    from app.models import DIGEST_STATUS_LABELS, DigestStatus

    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            bureau = default_bureau(session)
            assert bureau.id is not None
            rows = list_digests(session, bureau_id=bureau.id, limit=limit)
            if not rows:
                typer.echo("还没有摘要。")
            for row in rows:
                when = row.sent_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if row.sent_at else ""
                line = f"{row.period_key}\t{DIGEST_STATUS_LABELS[DigestStatus(row.status)]}"
                line += f"\t第 {row.attempts} 次\t{when}"
                if row.last_error and row.status != DigestStatus.sent:
                    line += f"\t{row.last_error}"
                typer.echo(line)
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
    """Claim the due reminders, send them, and release the ones that failed."""
    assert settings.smtp_host and settings.mail_from
    due = roster.due_reminders(
        session,
        unit_ids=unit_ids,
        secret=settings.secret_key,
        base_url=settings.base_url,
        every_days=settings.reminder_days,
    )
    session.rollback()  # see claim_reminders: the claim must begin its own transaction
    due = roster.claim_reminders(session, reminders=due, every_days=settings.reminder_days)
    session.commit()
    sender = require_sender(settings)
    run = asyncio.run(roster.send_reminders(sender, due, from_addr=settings.mail_from))
    roster.release_reminders(session, reminders=run.unsent)
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
