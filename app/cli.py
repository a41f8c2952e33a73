"""The `yijian` command line: the process-level commands, and what each package offers."""

from __future__ import annotations

import logging.config
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.accounts import cli as accounts_cli
from app.alerts import cli as alerts_cli
from app.backup import cli as backup_cli
from app.campaign import cli as campaign_cli
from app.concerns import cli as concerns_cli
from app.core.cli import LOG_CONFIG, configure_logging, user_errors
from app.core.config import check_serve, get_settings
from app.core.db import make_engine
from app.core.errors import Invalid
from app.deadlines import cli as deadlines_cli
from app.digest import cli as digest_cli
from app.groups import cli as groups_cli
from app.inbox import cli as inbox_cli
from app.privacy import cli as privacy_cli
from app.reports import cli as reports_cli
from app.retention import cli as retention_cli
from app.review import cli as review_cli
from app.signoff import cli as signoff_cli
from app.tagging import cli as tagging_cli
from app.units import cli as units_cli
from app.workdays import cli as workdays_cli

ROOT = Path(__file__).resolve().parent.parent

cli = typer.Typer(
    help="Yijian 意见箱: feedback collection for schools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at this checkout's migrations."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return config


def require_current_schema(url: str) -> None:
    """Refuse to serve a database that `yijian db upgrade` has not brought up to date (start-up
    reads its tables: the tagger's model, every item for the stats page)."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise Invalid(
            f"数据库结构不是最新（当前 {current or '空'}，应为 {head}）："
            "请先运行 yijian db upgrade。\n"
            f"The database schema is at {current or 'nothing'}, not {head}: "
            "run `yijian db upgrade`."
        )


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
    with user_errors():
        warnings = check_serve(settings, host=host)
        require_current_schema(settings.database_url)
    logging.config.dictConfig(LOG_CONFIG)
    for warning in warnings:
        logging.getLogger("yijian.serve").warning(warning)
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


# The order `yijian --help` has always listed (serve first, worker after these).
for package in (
    inbox_cli,
    units_cli,
    accounts_cli,
    review_cli,
    tagging_cli,
    digest_cli,
    campaign_cli,
    backup_cli,
    reports_cli,
    workdays_cli,
    deadlines_cli,
    alerts_cli,
    groups_cli,
    privacy_cli,
    signoff_cli,
    retention_cli,
    concerns_cli,
):
    package.register(cli)


@cli.command()
def worker() -> None:
    """Run the background jobs (inbox polling, the digest schedule) until stopped."""
    from app.worker import run_worker

    configure_logging()
    run_worker(get_settings())


def main() -> None:
    cli()
