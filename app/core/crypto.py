"""Encryption at rest of the columns that identify a person or open another system.

AES-256-GCM (cryptography's AESGCM), not Fernet: a Fernet token carries its creation time to
the second in clear, which would put a precise time on anonymous senders' attachments, and
its base64 would grow every attachment by a third. A stored value is
``VERSION | key id (4 bytes) | nonce (12) | ciphertext+tag``; text columns hold it as
``enc1:`` + URL-safe base64. The key id says which key wrote a value, so rotation knows what
is left to re-encrypt and old keys stay readable until it is done.

Keys (32 random bytes in URL-safe base64, what Fernet.generate_key() prints) come from
YIJIAN_DATA_KEY (the current key) plus YIJIAN_DATA_KEY_OLD (comma-separated keys still to be
read), or YIJIAN_DATA_KEY_FILE (one key a line, the first current). In dev without either, a
key is generated once beside the SQLite database (``yijian.key``, mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Dialect, Engine, LargeBinary, Text, column, select, table, update
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator

VERSION = b"\x01"
TEXT_PREFIX = "enc1:"
_HEAD = 1 + 4 + 12


class DataKeyError(ValueError):
    """A data key is missing, malformed or cannot open a stored value."""


def generate_key() -> str:
    """A new data key in the YIJIAN_DATA_KEY format."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _parse_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise DataKeyError(
            "数据密钥格式不对：应是 32 个随机字节的 URL 安全 base64（44 个字符），可用 "
            "`yijian keys new` 生成。"
            "/ A data key must be 32 random bytes in URL-safe base64 (44 characters)."
        )
    return raw


@lru_cache(maxsize=8)
def _aead(key: bytes) -> AESGCM:
    # Built once per key: the key schedule cost more than sealing a contact.
    return AESGCM(key)


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"yijian-data-key-id:" + key).digest()[:4]


@dataclass(frozen=True)
class Keyring:
    """The current key (encrypts) and every key that may still be read."""

    current: bytes
    old: tuple[bytes, ...] = ()

    @classmethod
    def from_text(cls, keys: list[str]) -> Keyring:
        parsed = [_parse_key(k) for k in keys if k.strip()]
        if not parsed:
            raise DataKeyError("没有数据密钥。/ No data key given.")
        return cls(current=parsed[0], old=tuple(parsed[1:]))

    @property
    def current_id(self) -> bytes:
        return _key_id(self.current)

    def encrypt(self, plain: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return VERSION + self.current_id + nonce + _aead(self.current).encrypt(nonce, plain, None)

    def decrypt(self, blob: bytes) -> bytes:
        if len(blob) < _HEAD + 16 or blob[:1] != VERSION:
            raise DataKeyError("数据未加密或已损坏。/ A value is not encrypted or is damaged.")
        kid, nonce, body = blob[1:5], blob[5:17], blob[17:]
        for key in (self.current, *self.old):
            if _key_id(key) == kid:
                try:
                    return _aead(key).decrypt(nonce, body, None)
                except InvalidTag:
                    break
        raise DataKeyError(
            "无法用已配置的数据密钥解密：缺少写入它的旧密钥（YIJIAN_DATA_KEY_OLD）？"
            "/ No configured data key opens this value: is the old key missing?"
        )

    def is_current(self, blob: bytes) -> bool:
        return blob[1:5] == self.current_id

    def encrypt_text(self, plain: str) -> str:
        return TEXT_PREFIX + base64.urlsafe_b64encode(self.encrypt(plain.encode())).decode()

    def decrypt_text(self, stored: str) -> str:
        return self.decrypt(_text_blob(stored)).decode()


def _text_blob(stored: str) -> bytes:
    if not stored.startswith(TEXT_PREFIX):
        raise DataKeyError("数据未加密。/ A value is not encrypted.")
    return base64.urlsafe_b64decode(stored[len(TEXT_PREFIX) :].encode())


def dev_key_path(database_url: str) -> Path:
    """Where dev generates its key: beside the SQLite file, else under var/."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "yijian.key"
    return Path("var") / "yijian.key"


def read_key_file(path: Path) -> list[str]:
    """The keys of a key file, one a line (blank lines and # comments skipped)."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataKeyError(
            f"读不了数据密钥文件 {path}：{exc.strerror} / Cannot read {path}."
        ) from exc
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ensure_dev_key(path: Path) -> list[str]:
    """The dev key file's keys, creating it (0600) with a new key the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")
    return read_key_file(path)


_active: Keyring | None = None
_loader: Callable[[], Keyring] | None = None


def install(keyring: Keyring | None = None, *, loader: Callable[[], Keyring] | None = None) -> None:
    """Use this keyring (or load one with loader on first use) for every encrypted column."""
    global _active, _loader
    _active, _loader = keyring, loader


def active() -> Keyring:
    """The keyring of this process (DataKeyError when none is configured)."""
    global _active
    if _active is None:
        if _loader is None:
            from app.core.config import get_settings

            install(loader=get_settings().keyring)
        assert _loader is not None
        _active = _loader()
    return _active


@contextmanager
def using(keyring: Keyring) -> Iterator[None]:
    """Run a block under another keyring (rotation, tests), restoring the previous one."""
    global _active, _loader
    before = _active, _loader
    _active, _loader = keyring, None
    try:
        yield
    finally:
        _active, _loader = before


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; the code reads and writes plain strings."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else active().encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else active().decrypt_text(value)


class EncryptedBytes(TypeDecorator[bytes]):
    """A binary column stored encrypted; the code reads and writes plain bytes."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else active().encrypt(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else active().decrypt(bytes(value))


# Every encrypted column: (table, column, is_text). Rotation, the migration and the tests
# walk this list; a new encrypted column is added here too.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("submission", "name", True),
    ("submission", "contact", True),
    ("attachment", "data", False),
    ("roster_person", "email", True),
    ("roster_import", "rows", True),
    ("ack_outbox", "to_addr", True),
    ("ack_outbox", "message", False),
    ("mailbox", "password", True),
    ("inbound_message", "raw", False),
)


def recode_column(
    begin: Callable[[], AbstractContextManager[Connection]],
    *,
    table_name: str,
    column_name: str,
    is_text: bool,
    change: Callable[[str | bytes], str | bytes | None],
    batch: int = 200,
) -> int:
    """Apply change to every non-NULL stored value of a column, a batch per transaction.

    begin opens a transaction (engine.begin), or hands the migration's connection.
    change gets the stored value and returns the new one, or None to leave the row as it is.
    Each UPDATE matches the value it read, so a row the service rewrote meanwhile (with the
    current key) is left alone rather than overwritten. Returns the rows changed.
    """
    kind = Text() if is_text else LargeBinary()
    t = table(table_name, column("id"), column(column_name, kind))
    value_col, id_col = t.c[column_name], t.c.id
    done, last = 0, 0
    while True:
        with begin() as conn:
            rows = conn.execute(
                select(id_col, value_col)
                .where(id_col > last, value_col.is_not(None))
                .order_by(id_col)
                .limit(batch)
            ).all()
            for row_id, stored in rows:
                new = change(stored)
                if new is not None:
                    result = conn.execute(
                        update(t)
                        .where(id_col == row_id, value_col == stored)
                        .values({column_name: new})
                    )
                    done += result.rowcount
        if len(rows) < batch:
            return done
        last = rows[-1][0]


def rotate(engine: Engine, keyring: Keyring) -> dict[str, int]:
    """Re-encrypt every value not under the keyring's current key; counts per column."""

    def change(stored: str | bytes) -> str | bytes | None:
        blob = _text_blob(stored) if isinstance(stored, str) else bytes(stored)
        if keyring.is_current(blob):
            return None
        plain = keyring.decrypt(blob)
        fresh = keyring.encrypt(plain)
        return (
            TEXT_PREFIX + base64.urlsafe_b64encode(fresh).decode()
            if isinstance(stored, str)
            else fresh
        )

    return {
        f"{t}.{c}": recode_column(
            engine.begin, table_name=t, column_name=c, is_text=is_text, change=change
        )
        for t, c, is_text in ENCRYPTED_COLUMNS
    }


# Encrypted files (backups): MAGIC | key id | nonce prefix, then chunks of
# length (4 bytes) | AES-GCM(chunk). Each chunk's nonce is the prefix and its index, and its
# associated data says whether it is the last: chunks cannot be reordered, dropped or cut off.
FILE_MAGIC = b"YJBAK\x01\x00\x00"
_CHUNK = 1 << 20


def _chunk_aad(index: int, last: bool) -> bytes:
    return struct.pack(">I?", index, last)


def encrypt_file(keyring: Keyring, source: BinaryIO, target: BinaryIO) -> None:
    """Write source encrypted under the current key to target."""
    prefix = secrets.token_bytes(8)
    target.write(FILE_MAGIC + keyring.current_id + prefix)
    aead = AESGCM(keyring.current)
    index, chunk = 0, source.read(_CHUNK)
    while True:
        following = source.read(_CHUNK)
        last = not following
        sealed = aead.encrypt(prefix + struct.pack(">I", index), chunk, _chunk_aad(index, last))
        target.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        index, chunk = index + 1, following


def decrypt_file(keyring: Keyring, source: BinaryIO, target: BinaryIO) -> None:
    """Write the plain contents of a file encrypt_file wrote (DataKeyError if it is not one,
    was damaged or cut short, or no configured key wrote it)."""
    head = source.read(len(FILE_MAGIC) + 12)
    if not head.startswith(FILE_MAGIC) or len(head) < len(FILE_MAGIC) + 12:
        raise DataKeyError("这不是加密的备份文件。/ Not an encrypted backup.")
    kid, prefix = head[len(FILE_MAGIC) : -8], head[-8:]
    keys = [k for k in (keyring.current, *keyring.old) if _key_id(k) == kid]
    if not keys:
        raise DataKeyError(
            "备份是用另一个数据密钥加密的：请配置写入它的密钥。"
            "/ The backup was encrypted with a data key that is not configured."
        )
    aead, index = AESGCM(keys[0]), 0
    while True:
        size = source.read(4)
        if len(size) < 4:
            raise DataKeyError("备份文件不完整。/ The backup is cut short.")
        sealed = source.read(struct.unpack(">I", size)[0])
        nonce = prefix + struct.pack(">I", index)
        for last in (False, True):
            try:
                target.write(aead.decrypt(nonce, sealed, _chunk_aad(index, last)))
                break
            except InvalidTag:
                continue
        else:
            raise DataKeyError("备份文件已损坏。/ The backup is damaged.")
        if last:
            if source.read(1):
                raise DataKeyError("备份文件末尾有多余内容。/ Data after the backup's end.")
            return
        index += 1


def is_encrypted_file(head: bytes) -> bool:
    """Whether a file starting with head was written by encrypt_file."""
    return head.startswith(FILE_MAGIC)
