"""Campaigns and their phases: what is open for a unit on a given day."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.core.errors import Closed, Invalid, NotFound
from app.core.time import today_local
from app.models import (
    PHASE_LABELS,
    Bureau,
    Campaign,
    CampaignPhase,
    Channel,
    ChannelOverride,
    PhaseKind,
    Unit,
    utcnow,
)
from app.workdays.service import DEFAULT_ANSWER_WORKING_DAYS, add_working_days, sync_calendar

ALL_CHANNELS = " ".join(c.value for c in Channel)


@dataclass(frozen=True)
class PhaseView:
    kind: PhaseKind
    label: str
    starts_on: date
    ends_on: date
    channels: frozenset[str]
    evaluation_open: bool = False


EVALUATION = "evaluation"  # the override key for public evaluation, beside channel names


@dataclass(frozen=True)
class IntakeState:
    unit_id: int
    unit_name: str
    unit_slug: str
    unit_email: str | None
    campaign_id: int | None
    campaign_title: str | None
    phases: tuple[PhaseView, ...]
    current: PhaseView | None
    open_channels: frozenset[str]
    evaluation_open: bool = False
    # The unit's promised answer time, and the due day of what it receives on received_on.
    answer_days: int = DEFAULT_ANSWER_WORKING_DAYS
    received_on: date | None = None
    due_on: date | None = None
    bureau_answer_days: int = DEFAULT_ANSWER_WORKING_DAYS  # for items sent to the bureau

    def require_open(self, channel: Channel) -> None:
        """Refuse intake on a channel that is closed today."""
        if channel.value in self.open_channels:
            return
        if not self.phases:
            raise Closed("本单位目前没有开放意见征集。")
        first, last = self.phases[0], self.phases[-1]
        today = today_local()
        if today < first.starts_on:
            raise Closed(f"意见征集尚未开始（{first.starts_on:%Y年%m月%d日}起）。")
        if today > last.ends_on:
            raise Closed("本次意见征集已经结束，感谢关注。")
        raise Closed("当前阶段不接收这一渠道的意见，请查看各阶段时间安排。")


def get_unit(session: Session, *, slug: str) -> Unit:
    """The unit with this slug, or NotFound."""
    unit = session.exec(select(Unit).where(Unit.slug == slug)).first()
    if unit is None:
        raise NotFound("没有找到这个单位，请核对链接或二维码。")
    return unit


def get_intake_state(session: Session, *, slug: str, today: date | None = None) -> IntakeState:
    """Which channels of a unit are open today, from its bureau's latest campaign."""
    unit = get_unit(session, slug=slug)
    assert unit.id is not None
    day = today or today_local()
    sync_calendar(session)
    due_on = add_working_days(day, unit.answer_days)
    bureau = session.get(Bureau, unit.bureau_id)
    bureau_days = bureau.answer_days if bureau is not None else DEFAULT_ANSWER_WORKING_DAYS
    campaign = session.exec(
        select(Campaign)
        .where(Campaign.bureau_id == unit.bureau_id)
        .order_by(col(Campaign.id).desc())
    ).first()
    overrides = list_overrides(session, unit_id=unit.id)
    if campaign is None:
        # No campaign set up: the unit's mailbox is simply always open.
        channels, evaluation = _override(frozenset(ALL_CHANNELS.split()), False, overrides)
        return IntakeState(
            unit.id,
            unit.name,
            unit.slug,
            unit.email,
            None,
            None,
            (),
            None,
            channels,
            evaluation,
            answer_days=unit.answer_days,
            received_on=day,
            due_on=due_on,
            bureau_answer_days=bureau_days,
        )
    rows = session.exec(
        select(CampaignPhase)
        .where(CampaignPhase.campaign_id == campaign.id)
        .order_by(col(CampaignPhase.starts_on))
    ).all()
    phases = tuple(
        PhaseView(
            p.kind,
            PHASE_LABELS[p.kind],
            p.starts_on,
            p.ends_on,
            frozenset(p.channels.split()),
            p.evaluation_open,
        )
        for p in rows
    )
    current = next((p for p in phases if p.starts_on <= day <= p.ends_on), None)
    channels, evaluation = _override(
        current.channels if current else frozenset(),
        current.evaluation_open if current else False,
        overrides,
    )
    return IntakeState(
        unit.id,
        unit.name,
        unit.slug,
        unit.email,
        campaign.id,
        campaign.title,
        phases,
        current,
        channels,
        evaluation,
        answer_days=unit.answer_days,
        received_on=day,
        due_on=due_on,
        bureau_answer_days=bureau_days,
    )


class IntakeCache:
    """Recently read intake states by slug, so a burst of submissions does not re-read
    the unit and campaign for each one. Entries live `ttl` seconds: a phase or channel
    change by an admin takes effect within that time."""

    def __init__(self, *, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[str, date], tuple[float, IntakeState]] = {}

    def peek(self, slug: str) -> IntakeState | None:
        """The cached state for today, if still fresh."""
        entry = self._entries.get((slug, today_local()))
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def load(self, session: Session, *, slug: str) -> IntakeState:
        """Read the state from the database and remember it (NotFound is not cached)."""
        state = get_intake_state(session, slug=slug)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[(slug, today_local())] = (time.monotonic(), state)
        return state


def _override(
    channels: frozenset[str], evaluation: bool, overrides: dict[str, bool]
) -> tuple[frozenset[str], bool]:
    # An admin's hand setting wins over the phase plan, channel by channel.
    opened = {c for c, is_open in overrides.items() if is_open and c != EVALUATION}
    closed = {c for c, is_open in overrides.items() if not is_open}
    return frozenset((channels | opened) - closed), overrides.get(EVALUATION, evaluation)


def create_campaign(
    session: Session,
    *,
    bureau_id: int,
    title: str,
    intro: str,
    solicit_start: date,
    solicit_days: int = 21,
    mobilize_days: int = 24,
    rectify_days: int = 15,
) -> Campaign:
    """Create a campaign with the plan's three phases around the solicitation window."""
    campaign = Campaign(bureau_id=bureau_id, title=title, intro=intro)
    session.add(campaign)
    session.flush()
    assert campaign.id is not None
    solicit_end = solicit_start + timedelta(days=solicit_days - 1)
    spans = [
        (
            PhaseKind.mobilize,
            solicit_start - timedelta(days=mobilize_days),
            solicit_start - timedelta(days=1),
            "",
            False,
        ),
        (PhaseKind.solicit, solicit_start, solicit_end, ALL_CHANNELS, False),
        (
            PhaseKind.rectify,
            solicit_end + timedelta(days=1),
            solicit_end + timedelta(days=rectify_days),
            "",
            True,
        ),
    ]
    for kind, start, end, channels, evaluation in spans:
        session.add(
            CampaignPhase(
                campaign_id=campaign.id,
                kind=kind,
                starts_on=start,
                ends_on=end,
                channels=channels,
                evaluation_open=evaluation,
            )
        )
    return campaign


def set_override(session: Session, *, unit_id: int, channel: str, is_open: bool | None) -> None:
    """Open or close a channel (or "evaluation") of a unit by hand; None follows the phases."""
    if channel != EVALUATION and channel not in ALL_CHANNELS.split():
        raise Invalid("没有这个渠道。", field="channel")
    row = session.get(ChannelOverride, (unit_id, channel))
    if is_open is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ChannelOverride(unit_id=unit_id, channel=channel, open=is_open)
    row.open = is_open
    row.updated_at = utcnow()
    session.add(row)


def list_overrides(session: Session, *, unit_id: int) -> dict[str, bool]:
    """The hand overrides of a unit, by channel."""
    rows = session.exec(select(ChannelOverride).where(ChannelOverride.unit_id == unit_id))
    return {o.channel: o.open for o in rows}
