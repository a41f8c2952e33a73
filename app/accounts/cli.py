"""`yijian admin create` and `yijian admin password`."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from app.accounts.auth import reset_password
from app.accounts.service import create_admin
from app.campaign.service import get_unit
from app.core.cli import cli_session
from app.models import AdminRole
from app.units.service import default_bureau

admin_cli = typer.Typer(help="Admin accounts.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `admin` to the root command."""
    root.add_typer(admin_cli, name="admin")


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
    with cli_session() as session:
        if unit is not None:
            target = get_unit(session, slug=unit)
            role = AdminRole.reviewer if reviewer else AdminRole.unit_admin
            bureau_id, unit_id = target.bureau_id, target.id
        else:
            bureau_row = default_bureau(session)
            assert bureau_row.id is not None
            role, bureau_id, unit_id = AdminRole.bureau_admin, bureau_row.id, None
        create_admin(
            session,
            username=username,
            password=password,
            role=role,
            bureau_id=bureau_id,
            unit_id=unit_id,
        )
    typer.echo(f"已创建管理员 {username}")


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
    with cli_session() as session:
        reset_password(session, username=username, new=new)
    if password:
        typer.echo(f"已重设管理员 {username} 的密码")
    else:
        typer.echo(f"管理员 {username} 的新密码：{new}（只显示这一次）")
