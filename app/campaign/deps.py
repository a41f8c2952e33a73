"""What the campaign's admin pages share: the unit an admin works on, a form's text fields."""

from __future__ import annotations

from sqlmodel import Session

from app.accounts.access import visible_units
from app.accounts.deps import Admin
from app.core.errors import NotFound
from app.models import Unit

# Printed material and codes must not linger in a shared computer's cache.
PDF_HEADERS = {"Cache-Control": "no-store"}


def admin_unit(session: Session, admin: Admin, value: str | int | None) -> Unit:
    """A unit this admin may work on, chosen by id or slug; NotFound otherwise."""
    text = str(value or "").strip()
    for unit in visible_units(session, user=admin.user):
        if text in (str(unit.id), unit.slug):
            return unit
    raise NotFound("请选择您负责的单位。", field="unit")

