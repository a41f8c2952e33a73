"""`yijian inbox`: the mailboxes to poll, and polling them."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from app.core.cli import cli_engine, cli_session, configure_logging
from app.core.config import get_settings
from app.outbox.service import sender_from_settings

inbox_cli = typer.Typer(help="Email intake: mailboxes and polling.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `inbox` to the root command."""
    root.add_typer(inbox_cli, name="inbox")


@inbox_cli.command("poll")
def inbox_poll(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Fetch new mail from every enabled mailbox (every YIJIAN_POLL_SECONDS unless --once)."""
    from app.core.jobs import Job, run_jobs
    from app.inbox.jobs import poll_mailboxes
    from app.tagging import start_tagger

    configure_logging()
    settings = get_settings()
    with cli_engine() as engine:
        sender = sender_from_settings(settings)
        tagger = start_tagger(settings.tagger, engine=engine)
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
    from app.inbox.mailboxes import MailboxSpec, add_mailbox

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
    with cli_session() as session:
        add_mailbox(session, spec=spec)
    typer.echo(f"已添加邮箱 {name}")


@inbox_cli.command("list")
def inbox_list() -> None:
    """List mailboxes with their last poll and error."""
    from app.inbox.mailboxes import list_mailboxes

    with cli_session() as session:
        for box in list_mailboxes(session):
            state = "启用" if box.enabled else "停用"
            polled = f"{box.last_polled_at:%Y-%m-%d %H:%M}" if box.last_polled_at else "从未"
            typer.echo(
                f"{box.name}\t{box.username}@{box.host}:{box.port}/{box.folder}\t{state}"
                f"\t{'匿名' if box.anonymous else '实名'}\t上次收信 {polled}"
                + (f"\t错误：{box.last_error}" if box.last_error else "")
            )


def _toggle(name: str, enabled: bool) -> None:
    from app.inbox.mailboxes import set_mailbox_enabled

    with cli_session() as session:
        set_mailbox_enabled(session, name=name, enabled=enabled)
    typer.echo(f"邮箱 {name} 已{'启用' if enabled else '停用'}")


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
    from app.inbox.mailboxes import remove_mailbox

    with cli_session() as session:
        remove_mailbox(session, name=name)
    typer.echo(f"已删除邮箱 {name}")
