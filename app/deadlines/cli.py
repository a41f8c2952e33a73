"""`yijian deadline times|email|remind`: answer times, reminder addresses, reminders now."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from app.campaign.service import get_unit
from app.core.cli import cli_engine, cli_session
from app.core.config import get_settings
from app.core.errors import Invalid, NotFound
from app.deadlines.jobs import run_reminders
from app.deadlines.service import set_admin_email, set_bureau_times, set_unit_times
from app.models import AdminUser, Bureau

deadline_cli = typer.Typer(help="Promised answer times and 督办 reminders.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `deadline` to the root command."""
    root.add_typer(deadline_cli, name="deadline")


@deadline_cli.command("times")
def deadline_times(
    answer_days: Annotated[int, typer.Option(help="Promised answer time, working days.")] = 5,
    ack_days: Annotated[int, typer.Option(help="Acknowledgement time, working days.")] = 1,
    unit: Annotated[str | None, typer.Option(help="The school's slug.")] = None,
    bureau: Annotated[bool, typer.Option("--bureau", help="The bureau's own items.")] = False,
    approval: Annotated[
        bool | None,
        typer.Option("--approval/--no-approval", help="Bureau: extensions need its approval."),
    ] = None,
) -> None:
    """Set the promised answer and acknowledgement times of a school or of the bureau."""
    with cli_session() as session:
        if bureau == (unit is not None):
            raise Invalid("请指定 --unit SLUG 或 --bureau 之一。", field="unit")
        if unit is not None:
            set_unit_times(
                session,
                actor_id=None,
                unit=get_unit(session, slug=unit),
                answer_days=answer_days,
                ack_days=ack_days,
            )
        else:
            found = session.exec(select(Bureau)).first()
            if found is None:
                raise NotFound("还没有教育局，请先运行 yijian demo 或添加单位。")
            set_bureau_times(
                session,
                actor_id=None,
                bureau=found,
                answer_days=answer_days,
                ack_days=ack_days,
                extension_needs_approval=(
                    found.extension_needs_approval if approval is None else approval
                ),
            )
    typer.echo(f"承诺答复 {answer_days} 个工作日，受理确认 {ack_days} 个工作日")


@deadline_cli.command("email")
def deadline_email(
    username: Annotated[str, typer.Option(help="The admin account.")],
    email: Annotated[str, typer.Option(help="Address for 督办 mails; empty to remove.")] = "",
) -> None:
    """Where an admin receives 督办 reminders and 催办 notes."""
    with cli_session() as session:
        user = session.exec(select(AdminUser).where(AdminUser.username == username)).first()
        if user is None:
            raise NotFound(f"没有用户 {username}。")
        set_admin_email(session, actor_id=None, user=user, email=email)
    typer.echo(f"{username} 的督办邮箱：{email or '（无）'}")


@deadline_cli.command("remind")
def deadline_remind() -> None:
    """Queue today's 督办 reminders now (the worker does it every ten minutes)."""
    settings = get_settings()
    if not settings.mail_from:
        typer.echo("错误：请先设置 YIJIAN_MAIL_FROM。", err=True)
        raise typer.Exit(code=2)
    with cli_engine() as engine:
        count = run_reminders(engine, from_addr=settings.mail_from, base_url=settings.base_url)
    typer.echo(f"已排队 {count} 条督办提醒（由发信任务发送）")
