"""Printed campaign material for a unit: letter, poster, QR codes and evaluation forms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.campaign.service import IntakeState, get_intake_state
from app.core.errors import NotFound
from app.documents.pdf import Phase, evaluation_forms_pdf, poster_pdf, solicitation_letter_pdf
from app.models import Bureau, Campaign, PhaseKind

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
        form_url=form_url(base_url=base_url, slug=state.unit_slug),
        email=state.unit_email,
        phases=[Phase(p.label, p.starts_on, p.ends_on) for p in state.phases],
        audience_urls={
            label: form_url(base_url=base_url, slug=state.unit_slug, audience=code)
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
        form_url=form_url(base_url=base_url, slug=state.unit_slug),
        email=state.unit_email,
        deadline=solicit.ends_on,
    )


def evaluation_forms(context: PrintContext, *, base_url: str, codes: list[str]) -> bytes:
    """Printable one-time evaluation forms, one per code."""
    return evaluation_forms_pdf(
        unit_name=context.state.unit_name,
        campaign_title=context.campaign_title,
        eval_url=evaluation_url(base_url=base_url, slug=context.state.unit_slug),
        codes=codes,
    )
