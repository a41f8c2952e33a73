"""The write path for what the public sends: one Writer per server process.

Routes call `writer.store(new, state) -> Stored` for a submission (form, API) and
`writer.run(job)` for a plain job (evaluation votes, a roster member's idea). Either
resolves only once its transaction has committed, so a receipt is shown only for a row on
disk. Concurrent writes share one transaction (group commit, up to YIJIAN_WRITER_BATCH):
at synchronous=FULL the fsync, not the insert, is the cost.

Which writer runs (start_writer):

- SQLite file and YIJIAN_WRITER_PROCESS (the default): ProcessWriter (process.py). Each
  server process starts a child process that tags and inserts its submissions on a second
  core; in the server process storing ran intake at about 40% of a no-op form POST.
  Plain jobs stay in the server process's LoopWriter.
- SQLite otherwise (YIJIAN_WRITER_PROCESS off, as in most tests, or in memory): LoopWriter
  (writer.py). Statements run on the event loop, only BEGIN IMMEDIATE and COMMIT in a
  helper thread: a writer thread spent more on winning the GIL back than on the inserts.
- PostgreSQL: ThreadWriter (writer.py). Each statement is a network round trip that the
  event loop must not wait for.

On SQLite all writers of one database, children included, take turns on the write lock
through `<db>.writer-lock` (WriteQueue): SQLite's own busy wait let one process starve
another.
"""

from __future__ import annotations

from sqlalchemy import Engine

from app.core.config import Settings
from app.storage.process import ProcessWriter
from app.storage.writer import Submissions, Writer, make_writer
from app.tagging import Tagger


def uses_process(settings: Settings) -> bool:
    """Whether this configuration stores submissions through a writer process."""
    in_memory = ":memory:" in settings.database_url
    return settings.writer_process and settings.is_sqlite and not in_memory


async def start_writer(settings: Settings, engine: Engine, tagger: Tagger | None) -> Writer:
    """The writer this configuration runs (see above), started; engine is the write engine."""
    writer = make_writer(
        engine, Submissions(settings.secret_key, tagger), max_batch=settings.writer_batch
    )
    if not uses_process(settings):
        return writer
    child = ProcessWriter(writer, settings)
    await child.start()
    return child
