"""Receipt slips: the code with its unit, its day and the way back in, to print or to save.

Senders lose codes; a slip they keep (on paper, or as an image in the phone's album) brings
them back. The slip repeats what the holder of the code may already see, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.core.time import TZ
from app.documents.slip import receipt_slip_png
from app.intake import receipts
from app.intake.service import lookup_receipt


@dataclass(frozen=True)
class Slip:
    """What a slip shows: no name, no contact, no time of day, no text of the opinion."""

    code: str  # grouped in fours for reading aloud
    unit_name: str
    day: date
    lookup_url: str
    png: bytes


def receipt_slip(session: Session, *, secret: str, receipt: str, base_url: str) -> Slip:
    """The slip of a receipt, as a page's facts and a PNG image; NotFound for an unknown code."""
    view = lookup_receipt(session, secret=secret, receipt=receipt)
    code = receipts.format_receipt(receipts.parse_receipt(receipt))
    day = view.created_at.astimezone(TZ).date()
    lookup_url = f"{base_url}/r"
    png = receipt_slip_png(code=code, unit_name=view.unit_name, day=day, lookup_url=lookup_url)
    return Slip(code, view.unit_name, day, lookup_url, png)
