"""`yijian signoff set SLUG --on|--off`: turn 答复需审核 on or off for a school."""

from __future__ import annotations

from typing import Annotated

import typer

from app.campaign.service import get_unit
from app.core.cli import cli_session
from app.signoff.service import set_signoff

signoff_cli = typer.Typer(help="Reply sign-off (答复需审核).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `signoff` to the root command."""
    root.add_typer(signoff_cli, name="signoff")


@signoff_cli.command("set")
def signoff_set(
    unit: Annotated[str, typer.Argument(help="The school's slug.")],
    required: Annotated[
        bool, typer.Option("--on/--off", help="Handlers' replies need an admin's approval.")
    ] = True,
) -> None:
    """Require (--on) or stop requiring (--off) an admin's approval of handlers' replies."""
    with cli_session() as session:
        set_signoff(session, actor_id=None, unit=get_unit(session, slug=unit), required=required)
    typer.echo(f"{unit}: 答复需审核 {'已开启' if required else '已关闭'}")
