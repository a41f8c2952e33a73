"""`yijian keys new` and `yijian keys rotate`."""

from __future__ import annotations

import typer

from app.core import crypto
from app.core.cli import cli_engine, user_errors
from app.core.config import get_settings, load_keyring

keys_cli = typer.Typer(help="Data keys (encryption at rest).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `keys` to the root command."""
    root.add_typer(keys_cli, name="keys")


@keys_cli.command("new")
def new_key() -> None:
    """Print a new random data key (for YIJIAN_DATA_KEY or a key file)."""
    typer.echo(crypto.generate_key())


@keys_cli.command("rotate")
def rotate() -> None:
    """Re-encrypt every value under the current key (YIJIAN_DATA_KEY) while the service runs.

    Start the services with the new key as YIJIAN_DATA_KEY and the old one in
    YIJIAN_DATA_KEY_OLD first, so they read both while this runs; drop the old key after.
    """
    with user_errors():
        keyring = load_keyring(get_settings())
    with cli_engine() as engine, crypto.using(keyring):
        counts = crypto.rotate(engine, keyring)
    for column, count in counts.items():
        typer.echo(f"{column}: 重新加密 {count} 个 / re-encrypted {count}")
    total = sum(counts.values())
    typer.echo(f"共 {total} 个值已换用当前密钥。/ Done: every value is under the current key.")
