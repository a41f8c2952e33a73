"""`yijian signoff set SLUG --on|--off|--inherit` or `yijian signoff set --bureau --on|--off`:
答复需审核 for a school, or the bureau's default for the schools that have not chosen."""

from __future__ import annotations

from typing import Annotated

import typer

from app.campaign.service import get_unit
from app.core.cli import cli_session
from app.core.errors import Invalid
from app.signoff.service import set_bureau_signoff, set_signoff
from app.units.service import default_bureau

signoff_cli = typer.Typer(help="Reply sign-off (答复需审核).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `signoff` to the root command."""
    root.add_typer(signoff_cli, name="signoff")


@signoff_cli.command("set")
def signoff_set(
    unit: Annotated[str | None, typer.Argument(help="The school's slug.")] = None,
    required: Annotated[
        bool, typer.Option("--on/--off", help="Handlers' replies need an admin's approval.")
    ] = True,
    bureau: Annotated[
        bool, typer.Option("--bureau", help="The default of schools that have not chosen.")
    ] = False,
    inherit: Annotated[
        bool, typer.Option("--inherit", help="The school follows the bureau's default.")
    ] = False,
) -> None:
    """Require (--on) or stop requiring (--off) an admin's approval of handlers' replies, for
    a school or (--bureau) by default; --inherit lets a school follow the bureau again."""
    with cli_session() as session:
        if bureau == (unit is not None) or (bureau and inherit):
            message = "请指定学校 SLUG 或 --bureau 之一（--inherit 只用于学校）。"
            raise Invalid(message, field="unit")
        if unit is None:
            found = default_bureau(session)
            assert found.id is not None
            set_bureau_signoff(session, actor_id=None, bureau_id=found.id, required=required)
        else:
            choice = None if inherit else required
            set_signoff(session, actor_id=None, unit=get_unit(session, slug=unit), required=choice)
    state = "跟随教育局默认" if inherit else ("已开启" if required else "已关闭")
    typer.echo(f"{unit or '教育局默认'}: 答复需审核 {state}")
