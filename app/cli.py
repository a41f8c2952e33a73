"""The `yijian` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic import command
from alembic.config import Config

from app.config import get_settings
from app.db import make_engine, session_scope
from app.models import AdminRole
from app.services.accounts import create_admin
from app.services.campaigns import get_unit
from app.services.errors import UserError
from app.services.export import iter_export_rows, write_export
from app.services.tags import iter_corrections
from app.services.units import add_unit, default_bureau, ensure_demo
from app.tagging import load_tagger, read_examples, retrain
from app.tagging.cli import tag_stream, tagger_app

ROOT = Path(__file__).resolve().parent.parent

cli = typer.Typer(
    help="Yijian 意见箱: feedback collection for schools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
unit_cli = typer.Typer(help="Schools and other units.", no_args_is_help=True)
admin_cli = typer.Typer(help="Admin accounts.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(unit_cli, name="unit")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(tagger_app, name="tagger")

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
        typer.echo(f"管理员 {result.admin} 已存在（密码不变）")


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
    path = retrain(model_dir=settings.data_dir / "models", extra=examples)
    typer.echo(f"已用 {len(corrections)} 条人工更正重新训练：{path}")


@cli.command("tag")
def tag() -> None:
    """Tag JSON lines {"id", "text"} from stdin; one JSON line per input on stdout."""
    settings = get_settings()
    errors = tag_stream(
        load_tagger(settings.tagger, settings.data_dir / "models"), sys.stdin, sys.stdout
    )
    if errors:
        typer.echo(f"{errors} 行无法处理", err=True)


def main() -> None:
    cli()
