"""A thin IMAP client over IMAPClient: connect, identify, select, list, fetch, flag, idle.

It keeps no state beyond the connection; remembering UIDVALIDITY and the last UID is the
caller's job (in the database).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, NamedTuple, Self

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from app.mail.security import Security

log = logging.getLogger(__name__)


CLIENT_ID = {"name": "yijian", "version": "0.1", "vendor": "yijian"}
_SEEN = b"\\Seen"


class Fetched(NamedTuple):
    uid: int
    raw: bytes | None
    """None when the message was over the size limit and therefore not downloaded."""
    size: int


class MailboxError(Exception):
    """Any failure talking to the IMAP server; `kind` says which, for a generic message:
    "auth" (login refused), "connect" (no connection, TLS or IMAP greeting) or "protocol"."""

    def __init__(self, message: str, *, kind: str = "protocol") -> None:
        super().__init__(message)
        self.kind = kind


@contextmanager
def _errors(action: str, kind: str = "protocol") -> Iterator[None]:
    try:
        yield
    except LoginError as exc:
        raise MailboxError(f"IMAP {action} failed: {exc}", kind="auth") from exc
    except (IMAPClientError, OSError) as exc:
        # socket.timeout and ssl.SSLError are OSErrors; IMAP NO/BAD are IMAPClientErrors.
        raise MailboxError(f"IMAP {action} failed: {exc}", kind=kind) from exc


class Mailbox:
    """One logged-in IMAP session. Use `connect()` to get one, and as a context manager."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.folder: str | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Log out; if the server is already gone, just drop the socket."""
        try:
            self._client.logout()
        except (IMAPClientError, OSError):
            try:
                self._client.shutdown()
            except (IMAPClientError, OSError):
                log.debug("IMAP socket already closed")

    @property
    def has_idle(self) -> bool:
        with _errors("CAPABILITY"):
            return bool(self._client.has_capability("IDLE"))

    def select(self, folder: str = "INBOX") -> int:
        """Select a folder read-write and return its UIDVALIDITY.

        When UIDVALIDITY changes, every stored UID for the folder is meaningless.
        """
        with _errors(f"SELECT {folder}"):
            info = self._client.select_folder(folder, readonly=False)
        self.folder = folder
        return int(info[b"UIDVALIDITY"])

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs strictly greater than `last_uid`, ascending.

        "UID SEARCH UID n:*" always includes the highest UID even when it is below n (RFC 3501:
        "*" is the largest UID in use and n:* is a range either way), so filter client-side.
        """
        with _errors("UID SEARCH"):
            found = self._client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in (int(u) for u in found) if uid > last_uid)

    def unseen_uids(self) -> list[int]:
        with _errors("UID SEARCH UNSEEN"):
            return sorted(int(u) for u in self._client.search(["UNSEEN"]))

    def fetch(
        self, uids: Sequence[int], batch_size: int = 20, *, max_bytes: int | None = None
    ) -> Iterator[Fetched]:
        """Messages by UID, in batches. Sizes (RFC822.SIZE) come first: a message over
        max_bytes is reported with raw None and never downloaded. BODY.PEEK[] leaves \\Seen
        unset, so a crash before the message is stored does not lose it."""
        for start in range(0, len(uids), batch_size):
            batch = list(uids[start : start + batch_size])
            with _errors("UID FETCH RFC822.SIZE"):
                sizes = self._client.fetch(batch, ["RFC822.SIZE"])
            wanted: list[int] = []
            for uid in batch:
                size = sizes.get(uid, {}).get(b"RFC822.SIZE")
                if not isinstance(size, int):
                    # Expunged between SEARCH and FETCH; nothing to do.
                    log.info("IMAP UID %s vanished before fetch", uid)
                elif max_bytes is not None and size > max_bytes:
                    yield Fetched(uid, None, size)
                else:
                    wanted.append(uid)
            if not wanted:
                continue
            with _errors("UID FETCH"):
                response = self._client.fetch(wanted, ["BODY.PEEK[]"])
            for uid in wanted:
                data = response.get(uid, {}).get(b"BODY[]")
                if isinstance(data, bytes):
                    yield Fetched(uid, data, len(data))
                else:
                    log.info("IMAP UID %s vanished before fetch", uid)

    def mark_seen(self, uids: Sequence[int]) -> None:
        if not uids:
            return
        with _errors("UID STORE +FLAGS"):
            self._client.add_flags(list(uids), [_SEEN], silent=True)

    def flags(self, uids: Sequence[int]) -> dict[int, set[str]]:
        """Current flags per UID, as strings like "\\Seen"."""
        if not uids:
            return {}
        with _errors("UID FETCH FLAGS"):
            response = self._client.get_flags(list(uids))
        return {int(uid): {_str(f) for f in flags} for uid, flags in response.items()}

    def idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the server to announce a change.

        Returns True when something happened (new mail, expunge, flag change). Requires the
        IDLE capability; check `has_idle` first and poll otherwise.
        """
        if not self.has_idle:
            raise MailboxError("server does not support IDLE")
        with _errors("IDLE"):
            self._client.idle()
            try:
                responses = self._client.idle_check(timeout=timeout)
            finally:
                # Changes that raced with the end of IDLE arrive with its completion.
                _text, trailing = self._client.idle_done()
        return bool(responses or trailing)


def _str(flag: bytes | str) -> str:
    return flag.decode("ascii", "replace") if isinstance(flag, bytes) else flag


def connect(
    host: str,
    port: int,
    security: Security,
    user: str,
    password: str,
    timeout: float = 30.0,
    *,
    ssl_context: ssl.SSLContext | None = None,
    client_id: dict[str, str] | None = None,
) -> Mailbox:
    """Connect, log in and send IMAP ID (163.com/126.com refuse SELECT without it).

    `security` is "ssl" (implicit TLS, usually port 993), "starttls" (usually 143) or "none"
    (tests and loopback only).
    """
    context = ssl_context or ssl.create_default_context()
    with _errors(f"connect to {host}:{port}", "connect"):
        client = IMAPClient(
            host, port=port, ssl=security == "ssl", ssl_context=context, timeout=timeout
        )
    try:
        with _errors("STARTTLS", "connect"):
            if security == "starttls":
                client.starttls(context)
        with _errors("LOGIN"):
            client.login(user, password)
        with _errors("ID"):
            if client.has_capability("ID"):
                client.id_(client_id or CLIENT_ID)
    except MailboxError:
        try:
            client.shutdown()
        except (IMAPClientError, OSError):
            log.debug("IMAP socket already closed")
        raise
    return Mailbox(client)
