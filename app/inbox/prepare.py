"""Parsing and cleaning fetched mail before any transaction, each message within a time budget.

The work runs in a child process that is killed when one message overruns its budget: a
hostile message then costs one budget and is quarantined, and never holds a database lock
(on SQLite a write transaction open during a parse makes every web submission wait).
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import re
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from app.core.errors import TooLarge, Unsupported, UserError
from app.intake.uploads import CleanFile, clean_upload
from app.mail.imap import Fetched
from app.mail.parse import MalformedMail, ParsedMail, parse_message, strip_anonymous_marker
from app.models import InboundStatus

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# Parsing is linear (tests/mail/test_parse_hostile.py); the budget is the backstop for what
# nobody foresaw, generous enough for a message with several large photos on a busy server.
MESSAGE_SECONDS = 20.0
# Starting the child (a fresh interpreter importing the parser and image libraries) is not part
# of any message's budget.
START_SECONDS = 120.0
SUBJECT_TAG = re.compile(r"^\s*(?:【([^】]{1,100})】|\[([^\]]{1,100})\]|［([^］]{1,100})］)\s*")


@dataclass(frozen=True)
class Limits:
    """What the child needs to know to clean a message (all picklable)."""

    anonymous_mailbox: bool
    max_files: int
    max_upload_bytes: int


@dataclass(frozen=True)
class Prepared:
    """A message parsed and its attachments cleaned, or why it could not be."""

    mail: ParsedMail | None
    failure: tuple[InboundStatus, str] | None = None
    files: list[CleanFile] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    anonymous: bool = True
    """Whether the sender asked for (or the mailbox imposes) anonymity; True when unknown."""


def prepare_message(raw: bytes, *, limits: Limits) -> Prepared:
    """Parse one message and clean its attachments (in the child process)."""
    try:
        mail = parse_message(raw)
    except MalformedMail as exc:
        return Prepared(None, (InboundStatus.quarantined, f"malformed:{exc.reason}"))
    # The unit tag comes off the subject only when it names a unit (which takes the database);
    # reading the marker behind any tag can only make more mail anonymous, never less.
    tag = SUBJECT_TAG.match(mail.subject)
    behind_tag = mail.subject[tag.end() :] if tag else mail.subject
    anonymous = (
        limits.anonymous_mailbox
        or mail.anonymous
        or mail.from_addr is None
        or strip_anonymous_marker(behind_tag)[0]
    )
    files, dropped = _attachments(mail, anonymous=anonymous, limits=limits)
    # The cleaned files replace the originals, which need not travel back to the poller.
    mail = dataclasses.replace(mail, attachments=[])
    return Prepared(mail, None, files, dropped, anonymous)


def _attachments(
    mail: ParsedMail, *, anonymous: bool, limits: Limits
) -> tuple[list[CleanFile], list[str]]:
    """Attachments kept under the web form's limits, and why the others were dropped."""
    files: list[CleanFile] = []
    dropped: list[str] = []
    for attachment in mail.attachments:
        if len(files) >= limits.max_files:
            dropped.append("dropped:too-many")
            continue
        try:
            files.append(
                clean_upload(
                    filename=attachment.filename,
                    data=attachment.data,
                    index=len(files) + 1,
                    anonymous=anonymous,
                    max_bytes=limits.max_upload_bytes,
                )
            )
        except TooLarge:
            dropped.append("dropped:too-large")
        except Unsupported:
            dropped.append(f"dropped:{attachment.content_type}")
        except UserError:
            dropped.append("dropped:unreadable")
    return files, dropped


def _serve(connection: Connection) -> None:
    """The child's loop: say it is ready, then prepare each message sent and answer."""
    connection.send(None)
    while True:
        try:
            raw, limits = connection.recv()
        except EOFError:
            return
        try:
            result = prepare_message(raw, limits=limits)
        except Exception as exc:  # a bug meeting odd input: quarantine, keep serving
            result = Prepared(None, (InboundStatus.quarantined, f"error:{type(exc).__name__}"))
        connection.send(result)


class Preparer:
    """Prepares messages in a child process, killed and replaced when one overruns.

    Spawned, not forked: the poller may share its process with threads (tests, the CLI).
    """

    def __init__(self, *, seconds: float | None = None) -> None:
        self.seconds = seconds
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    def prepare(self, fetched: Fetched, *, limits: Limits) -> Prepared:
        """The prepared message, or a quarantine reason; never raises for the message."""
        if fetched.raw is None or len(fetched.raw) > MAX_MESSAGE_BYTES:
            return Prepared(None, (InboundStatus.too_large, "too-large"))
        connection = self._connected()
        seconds = MESSAGE_SECONDS if self.seconds is None else self.seconds
        try:
            connection.send((fetched.raw, limits))
            if connection.poll(seconds):
                result: Prepared = connection.recv()
                return result
        except (EOFError, OSError):
            # The child died (out of memory, killed): quarantine this one, start afresh.
            log.warning("mail preparer died on UID %s; message quarantined", fetched.uid)
            self.close()
            return Prepared(None, (InboundStatus.quarantined, "error:crashed"))
        log.warning("UID %s took over %s s to parse; message quarantined", fetched.uid, seconds)
        self.close()
        return Prepared(None, (InboundStatus.quarantined, f"timeout:{seconds:g}s"))

    def _connected(self) -> Connection:
        if self._connection is None or self._process is None or not self._process.is_alive():
            self.close()
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(child,), name="yijian-mail-preparer", daemon=True
            )
            process.start()
            child.close()
            self._process, self._connection = process, parent
            try:
                ready = parent.poll(START_SECONDS) and parent.recv() is None
            except (EOFError, OSError):
                ready = False
            if not ready:
                # Not this message's fault: the poll fails and is retried, nothing recorded.
                self.close()
                raise RuntimeError("the mail preparer did not start")
        return self._connection

    def close(self) -> None:
        """Stop the child (killing it if it is busy)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._process.close()
            self._process = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
