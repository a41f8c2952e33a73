"""Printed campaign material for a unit: letter, poster, QR codes and evaluation forms."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session, select

from app.campaign.service import IntakeState, get_intake_state
from app.core.errors import NotFound
from app.documents.pdf import (
    Link,
    Phase,
    evaluation_forms_pdf,
    poster_pdf,
    solicitation_letter_pdf,
)
from app.models import Bureau, Campaign, PhaseKind, Unit

# Printed audiences: a QR code per group pre-selects the role on the form (AUDIENCES in
# app.web.public) and identifies nobody.
AUDIENCE_LABELS = {
    "parent": "家长",
    "retiree": "离退休干部",
    "staff": "教职工",
    "community": "社会各界",
}


def form_url(*, base_url: str, slug: str, audience: str | None = None) -> str:
    """The public form of a unit, optionally for one audience."""
    url = f"{base_url}/u/{slug}"
    return f"{url}?a={audience}" if audience else url


def evaluation_url(*, base_url: str, slug: str) -> str:
    """The public evaluation page of a unit."""
    return f"{base_url}/u/{slug}/evaluate"


# Short links are typed from paper: no 0/o, 1/l/i to mistake for one another.
SHORT_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
SHORT_LENGTH = 6
# The short link's target besides the form and its audiences: the evaluation page.
EVALUATE = "evaluate"


def short_code(*, unit_id: int, target: str | None = None) -> str:
    """The code of a unit's short link /s/CODE for its form (target None), the form of one
    audience, or its evaluation page (EVALUATE).

    Derived from the unit's id, not its slug or a secret, so links on paper already handed
    out keep working when either changes; nothing is stored, so no table is needed.
    """
    digest = hashlib.sha256(f"short-link|{unit_id}|{target or ''}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    letters = []
    for _ in range(SHORT_LENGTH):
        number, index = divmod(number, len(SHORT_ALPHABET))
        letters.append(SHORT_ALPHABET[index])
    return "".join(letters)


def short_url(*, base_url: str, unit_id: int, target: str | None = None) -> str:
    """The short link of a unit's form, an audience's form or its evaluation page."""
    return f"{base_url}/s/{short_code(unit_id=unit_id, target=target)}"


def _short_targets(slug: str) -> dict[str | None, str]:
    targets: dict[str | None, str] = {None: form_url(base_url="", slug=slug)}
    for audience in AUDIENCE_LABELS:
        targets[audience] = form_url(base_url="", slug=slug, audience=audience)
    targets[EVALUATE] = evaluation_url(base_url="", slug=slug)
    return targets


def form_link(*, base_url: str, unit_id: int, slug: str, audience: str | None = None) -> Link:
    """A unit's form: the full address for QR codes, the short link for printed text."""
    return Link(
        full=form_url(base_url=base_url, slug=slug, audience=audience),
        short=short_url(base_url=base_url, unit_id=unit_id, target=audience),
    )


def resolve_short_link(session: Session, *, code: str) -> str:
    """The path (a form, with its audience, or an evaluation page) a short link stands for."""
    wanted = code.strip().lower()
    for unit_id, slug in session.exec(select(Unit.id, Unit.slug)).all():
        if unit_id is None:
            continue
        for target, path in _short_targets(slug).items():
            if short_code(unit_id=unit_id, target=target) == wanted:
                return path
    raise NotFound("没有这个网址。请核对纸上印的网址，或直接扫描二维码。")


@dataclass(frozen=True)
class PrintContext:
    state: IntakeState
    campaign_title: str
    campaign_intro: str
    bureau_name: str


def print_context(session: Session, *, slug: str) -> PrintContext:
    """The unit's campaign and dates; printing needs a campaign."""
    state = get_intake_state(session, slug=slug)
    campaign = session.get(Campaign, state.campaign_id) if state.campaign_id else None
    if campaign is None:
        raise NotFound("还没有设置活动，无法生成宣传材料。")
    bureau = session.get(Bureau, campaign.bureau_id)
    return PrintContext(state, campaign.title, campaign.intro, bureau.name if bureau else "")


def letter_pdf(context: PrintContext, *, base_url: str) -> bytes:
    """The A4 solicitation letter of a unit."""
    state = context.state
    return solicitation_letter_pdf(
        unit_name=state.unit_name,
        bureau_name=context.bureau_name,
        campaign_title=context.campaign_title,
        intro_text=context.campaign_intro,
        form=form_link(base_url=base_url, unit_id=state.unit_id, slug=state.unit_slug),
        email=state.unit_email,
        phases=[Phase(p.label, p.starts_on, p.ends_on) for p in state.phases],
        audience_links={
            label: form_link(
                base_url=base_url, unit_id=state.unit_id, slug=state.unit_slug, audience=code
            )
            for code, label in AUDIENCE_LABELS.items()
        },
    )


def poster(context: PrintContext, *, base_url: str) -> bytes:
    """The A4 poster of a unit, with the end of the solicitation phase as its deadline."""
    state = context.state
    solicit = next((p for p in state.phases if p.kind == PhaseKind.solicit), None)
    if solicit is None:
        raise NotFound("活动没有“查找差距·征求意见”阶段，无法确定截止日期。")
    return poster_pdf(
        unit_name=state.unit_name,
        campaign_title=context.campaign_title,
        form=form_link(base_url=base_url, unit_id=state.unit_id, slug=state.unit_slug),
        email=state.unit_email,
        deadline=solicit.ends_on,
    )


def evaluation_forms(context: PrintContext, *, base_url: str, codes: list[str]) -> bytes:
    """Printable one-time evaluation forms, one per code."""
    return evaluation_forms_pdf(
        unit_name=context.state.unit_name,
        campaign_title=context.campaign_title,
        eval_url=evaluation_url(base_url=base_url, slug=context.state.unit_slug),
        printed_url=short_url(base_url=base_url, unit_id=context.state.unit_id, target=EVALUATE),
        codes=codes,
    )
