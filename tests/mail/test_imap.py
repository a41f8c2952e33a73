from __future__ import annotations

import threading

import pytest

from app.mail.imap import Mailbox, MailboxError, connect
from tests.factories import incoming_mail
from tests.servers.dovecot import DovecotServer, free_port


def _connect(server: DovecotServer) -> Mailbox:
    return connect(server.host, server.port, "none", server.user, server.password, timeout=10)


def test_fetch_peek_seen_uidvalidity(dovecot: DovecotServer) -> None:
    for n in (1, 2, 3):
        dovecot.deliver(incoming_mail(n=n))
    with _connect(dovecot) as box:
        validity = box.select("INBOX")
        uids = box.uids_after(0)
        assert len(uids) == 3
        assert box.unseen_uids() == uids
        fetched = {f.uid: f.raw for f in box.fetch(uids, batch_size=2)}
        for n, uid in zip((1, 2, 3), uids, strict=True):
            # The LDA prepends Return-Path; IMAP serves CRLF line ends.
            raw = fetched[uid]
            assert raw is not None and raw.replace(b"\r\n", b"\n").endswith(incoming_mail(n=n))
        # BODY.PEEK[] must not set \Seen: an interrupted import loses nothing.
        assert all("\\Seen" not in f for f in dovecot.flags().values())
        box.mark_seen(uids[:2])
        assert box.unseen_uids() == uids[2:]
        assert "\\Seen" in box.flags(uids)[uids[0]]
    flags = dovecot.flags()
    assert "\\Seen" in flags[uids[0]] and "\\Seen" in flags[uids[1]]
    assert "\\Seen" not in flags[uids[2]]

    with _connect(dovecot) as box:
        assert box.select("INBOX") == validity
        # "UID n:*" returns the highest UID even when it is below n; it must be filtered out.
        assert box.uids_after(uids[-1]) == []
        assert box.uids_after(uids[0]) == uids[1:]


def test_sends_imap_id(dovecot: DovecotServer) -> None:
    with _connect(dovecot) as box:
        box.select()
    assert "yijian" in dovecot.log()


def test_idle_wakes_on_new_mail(dovecot: DovecotServer) -> None:
    with _connect(dovecot) as box:
        box.select()
        assert box.has_idle
        assert box.idle(0.3) is False
        timer = threading.Timer(0.3, dovecot.deliver, args=(incoming_mail(n=9),))
        timer.start()
        try:
            assert box.idle(10) is True
        finally:
            timer.join()
        assert len(box.uids_after(0)) == 1


def test_wrong_password(dovecot: DovecotServer) -> None:
    with pytest.raises(MailboxError):
        connect(dovecot.host, dovecot.port, "none", dovecot.user, "wrong", timeout=10)


def test_connection_refused() -> None:
    with pytest.raises(MailboxError):
        connect("127.0.0.1", free_port(), "none", "u", "p", timeout=5)
