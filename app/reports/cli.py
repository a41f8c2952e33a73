"""`yijian report summary|selfcheck|rectification|ideas`: write a report to a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from app.reports.service import REPORT_LABELS, ReportKind

report_cli = typer.Typer(
    help="The campaign's written reports (Word drafts or PDF).", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    """Add `report` to the root command."""
    root.add_typer(report_cli, name="report")


def _command(kind: ReportKind) -> Callable[..., None]:
    def command(
        out: Annotated[Path, typer.Option("--out", help="The file to write.")],
        unit: Annotated[str | None, typer.Option(help="The unit's slug.")] = None,
        bureau: Annotated[
            bool, typer.Option("--bureau", help="Every unit of the (unit's) bureau.")
        ] = False,
        start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
        fmt: Annotated[
            str | None, typer.Option("--format", help="docx or pdf (default: from --out).")
        ] = None,
    ) -> None:
        from sqlmodel import select

        from app.core.cli import cli_session
        from app.core.time import parse_day
        from app.models import Unit
        from app.reports.service import (
            build_report,
            parse_format,
            render_report,
            report_scope,
        )
        from app.stats.service import choose_period

        chosen = parse_format(fmt or (out.suffix.lstrip(".").lower() or "docx"))
        with cli_session() as session:
            units = list(session.exec(select(Unit).order_by(Unit.name)).all())
            scope = report_scope(session, units=units, slug=unit, bureau=bureau)
            period = choose_period(
                session,
                bureau_id=scope.bureau_id,
                start=parse_day(start, field="from") if start else None,
                end=parse_day(end, field="to") if end else None,
                phase_id=None,
            )
            document = build_report(session, kind=kind, scope=scope, period=period)
            data = render_report(document, fmt=chosen)
        out.write_bytes(data)
        typer.echo(
            f"已写入{REPORT_LABELS[kind]}：{out}（{scope.name}，{period.start}至{period.end}）"
        )

    command.__doc__ = f"Write the {REPORT_LABELS[kind]} ({kind.value}) to --out."
    return command


for _kind in ReportKind:
    report_cli.command(_kind.value)(_command(_kind))
