"""`yijian alerts`: send due alerts, duty addresses, retrain the learned part."""

from __future__ import annotations

from typing import Annotated

import typer

from app.core.cli import cli_engine, cli_session
from app.core.config import get_settings

alerts_cli = typer.Typer(help="Urgent items (紧急) and their alerts.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `alerts` to the root command."""
    root.add_typer(alerts_cli, name="alerts")


@alerts_cli.command("send")
def alerts_send(
    once: Annotated[bool, typer.Option("--once", help="Send once and exit.")] = False,
) -> None:
    """Queue and send the alert mails of urgent items not alerted yet."""
    from app.alerts.jobs import send_alerts
    from app.outbox.service import require_sender

    if not once:
        typer.echo("错误：请加 --once；持续发送请运行 yijian worker。", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    with cli_engine() as engine:
        result = send_alerts(engine, settings, require_sender(settings))
    typer.echo(
        f"紧急提醒：新排队 {result.queued} 封，发出 {result.sent} 封，失败 {result.failed} 封。"
    )
    if result.failed:
        raise typer.Exit(code=1)


@alerts_cli.command("contact")
def alerts_contact(
    email: Annotated[str, typer.Option("--email", help="Duty address; empty to remove.")],
    unit: Annotated[str | None, typer.Option("--unit", help="The unit's slug.")] = None,
    bureau: Annotated[bool, typer.Option("--bureau", help="The default bureau.")] = False,
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", help="企业微信/钉钉 group-robot address; empty to remove."),
    ] = None,
) -> None:
    """Set the duty address of a unit (--unit SLUG) or of the bureau (--bureau)."""
    from sqlmodel import select

    from app.alerts.service import set_contact
    from app.models import Unit
    from app.units.service import default_bureau

    if (unit is None) == (not bureau):
        typer.echo("错误：请指定 --unit SLUG 或 --bureau 之一。", err=True)
        raise typer.Exit(code=2)
    with cli_session() as session:
        if unit is not None:
            found = session.exec(select(Unit).where(Unit.slug == unit)).first()
            if found is None:
                typer.echo(f"错误：没有单位 {unit}。", err=True)
                raise typer.Exit(code=2)
            set_contact(session, unit_id=found.id, email=email, webhook=webhook)
        else:
            set_contact(session, bureau_id=default_bureau(session).id, email=email, webhook=webhook)
    typer.echo("值班邮箱已保存。")


@alerts_cli.command("retrain")
def alerts_retrain(
    shipped: Annotated[
        bool,
        typer.Option("--shipped", help="Rebuild the model file shipped in the package instead."),
    ] = False,
) -> None:
    """Retrain the learned part on the shipped examples plus every cleared false alarm."""
    from app.alerts import detect
    from app.alerts.service import retrain_model, train_shipped_model

    if shipped:
        model = train_shipped_model()
        detect.SHIPPED_MODEL_PATH.write_bytes(detect.to_bytes(model))
        typer.echo(f"已重建 {detect.SHIPPED_MODEL_PATH.name}（{model.version}）。")
        return
    with cli_session() as session:
        name = retrain_model(session)
    typer.echo(f"已训练并保存 {name}；各进程 30 秒内开始使用。")
