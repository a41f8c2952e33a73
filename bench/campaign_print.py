"""Time the campaign printables for the demo unit: python bench/campaign_print.py [CODES]."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from alembic import command

from app.campaign import evaluation, printables
from app.cli import alembic_config
from app.core.db import make_engine, session_scope
from app.units.service import ensure_demo

BASE = "https://yijian.example.cn"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        with session_scope(engine) as s:
            ensure_demo(s)
        with session_scope(engine) as s:
            context = printables.print_context(s, slug="demo")
            started = time.perf_counter()
            codes = evaluation.create_codes(
                s, secret="x" * 40, unit_id=context.state.unit_id, count=count
            )
            made = time.perf_counter() - started
        engine.dispose()
    for name, job in (
        ("letter", lambda: printables.letter_pdf(context, base_url=BASE)),
        ("poster", lambda: printables.poster(context, base_url=BASE)),
        (
            f"forms x{count}",
            lambda: printables.evaluation_forms(context, base_url=BASE, codes=codes),
        ),
    ):
        started = time.perf_counter()
        size = len(job())
        print(f"{name:>12}: {time.perf_counter() - started:6.2f} s  {size / 1024:8.0f} KiB")
    print(f"{'codes':>12}: {made:6.3f} s for {count}")


if __name__ == "__main__":
    main()
