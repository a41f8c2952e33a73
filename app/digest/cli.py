"""`yijian digest`: send it now, its settings, and the digests sent so far."""

from __future__ import annotations

from typing import Annotated

import typer

from app.core.cli import cli_engine, cli_session
from app.core.config import get_settings
from app.core.db import session_scope
from app.outbox.service import require_sender
from app.units.service import default_bureau

digest_cli = typer.Typer(help="The digest mailed to the bureau office.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `digest` to the root command."""
    root.add_typer(digest_cli, name="digest")


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
    from app.digest.schedule import parse_period
    from app.models import DIGEST_STATUS_LABELS, utcnow

    if not once:
        typer.echo("错误：请加 --once；按计划持续发送请运行 yijian worker。", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    with cli_engine() as engine:
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
    enabled: Annotated[bool | None, typer.Option("--on/--off", help="Send at all.")] = None,
) -> None:
    """Show or change the (first) bureau's digest settings; only given options change."""
    from app.digest.schedule import WEEKDAY_NAMES, ensure_default_setting, save_setting

    weekday, clear_weekly = _weekday_option(weekly)
    clear_daily = daily is not None and daily.strip().lower() == "off"
    with cli_session() as session:
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
        typer.echo(f"  状态：{'开启' if saved.enabled else '关闭'}")


@digest_cli.command("list")
def digest_list(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
) -> None:
    """List past digests of the (first) bureau with their status."""
    from app.core.time import TZ
    from app.digest.service import list_digests
    from app.models import DIGEST_STATUS_LABELS, DigestStatus

    with cli_session() as session:
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
