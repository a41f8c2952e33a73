"""`yijian retention`: the bureau's periods, and a run by hand (or a dry run)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.core.cli import cli_session

retention_cli = typer.Typer(help="Retention of personal data (保存期限).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `retention` to the root command."""
    root.add_typer(retention_cli, name="retention")


@retention_cli.command("policy")
def retention_policy(
    purge_days: Annotated[
        int | None, typer.Option("--purge-days", help="Days after closing to remove identities.")
    ] = None,
    archive_days: Annotated[
        int | None, typer.Option("--archive-days", help="Days after closing to archive receipts.")
    ] = None,
) -> None:
    """Show the default bureau's periods, or set them."""
    from app.retention.service import get_policy, set_policy
    from app.units.service import default_bureau

    with cli_session() as session:
        bureau = default_bureau(session)
        assert bureau.id is not None
        policy = get_policy(session, bureau_id=bureau.id)
        if purge_days is not None or archive_days is not None:
            policy = set_policy(
                session,
                bureau_id=bureau.id,
                purge_days=purge_days if purge_days is not None else policy.purge_days,
                archive_days=archive_days if archive_days is not None else policy.archive_days,
                actor_id=None,
            )
        typer.echo(
            f"{bureau.name}：办结 {policy.purge_days} 天后删除发件人个人信息，"
            f"{policy.archive_days} 天后回执码停用（归档）。"
        )


@retention_cli.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")
    ] = False,
) -> None:
    """Apply the retention policy now and print what was removed."""
    from app.core.time import today_local
    from app.retention.service import purge_due_items

    with cli_session() as session:
        result = purge_due_items(session, today=today_local(), dry_run=dry_run)
        if dry_run:
            session.rollback()
    typer.echo(result.summary())
