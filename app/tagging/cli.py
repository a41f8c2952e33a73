"""Command line: `tagger eval|retrain|tag` and `tag` (JSON lines in, JSON lines out)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.core.cli import cli_engine, cli_session
from app.core.config import get_settings
from app.tagging.base import Tagger
from app.tagging.corrections import iter_corrections
from app.tagging.evaluate import evaluate, format_report
from app.tagging.registry import TAGGERS, load_tagger, read_also, read_examples, retrain
from app.tagging.text import validate_text

__all__ = ["register", "tag_stream", "tagger_app", "validate_text"]

BATCH = 256

tagger_app = typer.Typer(help="Five-checks tagger: evaluate, retrain, tag.", no_args_is_help=True)

Shipped = Annotated[
    bool,
    typer.Option(
        "--shipped", help="Use the model shipped with Yijian, not one retrained in the database."
    ),
]
TaggerName = Annotated[str, typer.Option("--tagger", help=f"Backend: {', '.join(TAGGERS)}.")]


def _tagger(name: str, *, shipped: bool) -> Tagger:
    """The model the servers use now (from the configured database), or the shipped one."""
    if shipped:
        return load_tagger(name)
    with cli_engine() as engine:
        try:
            return load_tagger(name, engine)
        except SQLAlchemyError:
            # No tagger_model table yet (or no database): the shipped model is still useful.
            typer.echo(
                "提示：数据库不可用或未迁移（yijian db upgrade），改用随 Yijian 发布的模型。"
                " / Database unavailable or not migrated: using the shipped model.",
                err=True,
            )
            return load_tagger(name)


def register(root: typer.Typer) -> None:
    """Add `tag` and `tagger` to the root command."""
    root.command("tag")(tag)
    root.add_typer(tagger_app, name="tagger")


def _parse(line: str) -> tuple[Any, str]:
    """Return (id, text) of one input line or raise ValueError(id, message)."""
    try:
        obj = json.loads(line)
    except ValueError:
        raise ValueError(None, "line is not valid JSON") from None
    if not isinstance(obj, dict):
        raise ValueError(None, 'line must be a JSON object like {"id": ..., "text": ...}')
    ident = obj.get("id")
    if "text" not in obj:
        raise ValueError(ident, "missing 'text'")
    try:
        return ident, validate_text(obj["text"])
    except ValueError as exc:
        raise ValueError(ident, str(exc)) from None


def tag_stream(tagger: Tagger, infile: TextIO, outfile: TextIO) -> int:
    """Tag JSON lines {"id", "text"}; one output line per input line, in order.

    A bad line yields {"id", "error"} and tagging goes on. Lines are tagged in batches
    because suggest_many is much faster per text than suggest. Returns the error count.
    """
    errors = 0
    pending: list[tuple[Any, str | None, str]] = []  # (id, text or None, error)

    def flush() -> None:
        texts = [t for _, t, _ in pending if t is not None]
        suggestions = iter(tagger.suggest_many(texts))
        for ident, text, error in pending:
            obj = (
                next(suggestions).to_json(ident)
                if text is not None
                else {"id": ident, "error": error}
            )
            outfile.write(json.dumps(obj, ensure_ascii=False) + "\n")
        pending.clear()

    for line in infile:
        try:
            ident, text = _parse(line)
            pending.append((ident, text, ""))
        except ValueError as exc:
            errors += 1
            pending.append((exc.args[0], None, exc.args[1]))
        if len(pending) >= BATCH:
            flush()
    flush()
    return errors


@tagger_app.command("eval")
def eval_command(
    file: Annotated[
        Path, typer.Argument(help='JSON lines with "text", "check" and optionally "also".')
    ],
    tagger: TaggerName = "ngram",
    shipped: Shipped = False,
) -> None:
    """Print accuracy, per-check precision/recall/F1 and the confusion matrix."""
    try:
        examples, also = read_examples(file), read_also(file)
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    report = evaluate(_tagger(tagger, shipped=shipped), examples, also=also)
    typer.echo(format_report(report))


@tagger_app.command("tag")
def tag_command(tagger: TaggerName = "ngram", shipped: Shipped = False) -> None:
    """Read {"id", "text"} JSON lines on stdin, write suggestions as JSON lines to stdout."""
    errors = tag_stream(_tagger(tagger, shipped=shipped), sys.stdin, sys.stdout)
    if errors:
        typer.echo(f"{errors} line(s) could not be tagged", err=True)


@tagger_app.command("retrain")
def tagger_retrain(
    extra: Annotated[
        Path | None, typer.Option("--extra", help="More labelled JSON lines to learn from.")
    ] = None,
) -> None:
    """Retrain on the shipped corpus plus every admin correction; every running server and
    worker picks the new model up from the database within seconds."""
    try:
        more = read_examples(extra) if extra else []
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    with cli_session() as session:
        corrections = list(iter_corrections(session))
        name = retrain(session, extra=corrections + more)
    typer.echo(f"已用 {len(corrections)} 条人工更正重新训练，新模型 {name} 已存入数据库。")


def tag() -> None:
    """Tag JSON lines {"id", "text"} from stdin; one JSON line per input on stdout."""
    errors = tag_stream(_tagger(get_settings().tagger, shipped=False), sys.stdin, sys.stdout)
    if errors:
        typer.echo(f"{errors} 行无法处理", err=True)
