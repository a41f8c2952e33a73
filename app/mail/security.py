"""How a mail connection is secured: the one spelling of it for settings, forms and adapters."""

from __future__ import annotations

from typing import Literal, get_args

# "ssl": implicit TLS (IMAP 993, SMTP 465); "starttls": upgrade a plain connection (143, 587);
# "none": plain text, for a server on this machine only.
Security = Literal["ssl", "starttls", "none"]
SECURITIES: tuple[Security, ...] = get_args(Security)
