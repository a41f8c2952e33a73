"""Who may see what: bureau admins every unit of their bureau, others their own unit."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import AdminRole, AdminUser, Unit


def visible_units(session: Session, *, user: AdminUser) -> list[Unit]:
    """The units an admin may see, by name."""
    query = select(Unit).where(Unit.bureau_id == user.bureau_id).order_by(col(Unit.name))
    if user.role != AdminRole.bureau_admin:
        query = query.where(Unit.id == user.unit_id)
    return list(session.exec(query).all())


def visible_unit_ids(session: Session, *, user: AdminUser) -> list[int]:
    """Ids of visible_units."""
    return [u.id for u in visible_units(session, user=user) if u.id is not None]
