"""Similar concerns (同类问题): grouping new items, and what admins do with a group."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import TextClause, func, insert, select, text, update
from sqlmodel import Session, col

from app.accounts.access import select_visible_submissions, visible_units
from app.audit.service import record_audit
from app.core.errors import Invalid, NotFound
from app.dialogue.links import rating_url
from app.groups.similarity import THRESHOLD, band_keys, jaccard, shared_label, shingles
from app.models import (
    OPEN_STATUSES,
    AdminUser,
    ConcernBand,
    ConcernGroup,
    ConcernMember,
    OutboxKind,
    Submission,
    Unit,
    utcnow,
)
from app.outbox.service import queue_mail
from app.review.replies import reply_address, reply_email
from app.review.service import add_reply, get_item
from app.signoff.service import draft_reply, needs_signoff

# Items are compared with the open ones and with those of the last RECENT days.
RECENT = timedelta(days=90)
# Of the candidates the bands propose, only the ones sharing most bands get the exact check.
CANDIDATES = 20
# The newest items read per band key (see candidate_ids).
PER_KEY = 100
# Items are picked up by id; ones committed up to this many ids behind the newest grouped
# item (concurrent writers commit out of id order) are still found.
LOOKBACK_IDS = 1000


@dataclass(frozen=True)
class Member:
    id: int
    unit_name: str
    text: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class GroupView:
    id: int
    lead_id: int
    members: list[Member]  # the ones this admin may see, oldest first
    label: str


@dataclass(frozen=True)
class GroupSummary:
    id: int
    size: int
    member_ids: list[int]
    label: str


def _bureau_of(session: Session, unit_id: int) -> int:
    bureau = session.scalar(select(col(Unit.bureau_id)).where(col(Unit.id) == unit_id))
    assert bureau is not None
    return bureau


@cache
def _candidate_sql(keys: int) -> TextClause:
    """The candidate lookup for `keys` band keys, written out: as a SQLAlchemy expression
    its 32 subqueries took 50x longer to compile than the database took to run them."""
    # Only numbers are interpolated; every value is a bound parameter.
    per_key = " UNION ALL ".join(
        f"SELECT sid FROM (SELECT submission_id AS sid FROM concern_band"  # noqa: S608  # nosec B608 (only numbers interpolated)
        f" WHERE bureau_id = :bureau AND band = :k{n}"
        f" ORDER BY submission_id DESC LIMIT :per) AS b{n}"
        for n in range(keys)
    )
    return text(
        "SELECT top.sid FROM ("  # noqa: S608  # nosec B608
        f"SELECT shared.sid AS sid, count(*) AS hits FROM ({per_key}) AS shared"
        " GROUP BY shared.sid ORDER BY hits DESC, shared.sid DESC LIMIT :wide"
        ") AS top JOIN submission ON submission.id = top.sid"
        " WHERE submission.created_at >= :since OR submission.status IN (:s0, :s1, :s2)"
        " ORDER BY top.hits DESC, top.sid DESC LIMIT :narrow"
    )


def candidate_ids(session: Session, *, bureau_id: int, keys: list[int], now: datetime) -> list[int]:
    """Items of the bureau sharing most band keys with `keys`, open or recent.

    Each key contributes its newest PER_KEY items only, read in index order: a key common to
    thousands of letters (a band whose minimum fell on a bigram like 食堂) would otherwise
    make the lookup grow with the table; the rarer keys of a true match still find it.
    """
    distinct = sorted(set(keys))
    params: dict[str, object] = {f"k{n}": key for n, key in enumerate(distinct)}
    params |= {f"s{n}": status for n, status in enumerate(OPEN_STATUSES)}
    # created_at is stored as naive UTC (models.base.UTCDateTime).
    since = (now - RECENT).astimezone(UTC).replace(tzinfo=None)
    params |= {"bureau": bureau_id, "per": PER_KEY, "wide": CANDIDATES * 2, "since": since}
    params["narrow"] = CANDIDATES
    return list(session.scalars(_candidate_sql(len(distinct)), params).all())


@dataclass(frozen=True)
class Match:
    """What the comparison of a new item found: its bureau, band keys and closest item."""

    bureau_id: int
    keys: list[int]
    match_id: int | None  # None: nothing close enough


def find_match(session: Session, *, submission: Submission, now: datetime | None = None) -> Match:
    """Compare a new item with its bureau's open and recent items (reads only)."""
    bureau_id = _bureau_of(session, submission.unit_id)
    grams = shingles(submission.text)
    keys = band_keys(grams)
    found = candidate_ids(session, bureau_id=bureau_id, keys=keys, now=now or utcnow())
    if not keys or not found:
        return Match(bureau_id, keys, None)
    # An item an admin split out is matched by nothing: it was wrong to group it.
    texts = session.execute(
        select(col(Submission.id), col(Submission.text))
        .join(ConcernMember, col(ConcernMember.submission_id) == col(Submission.id))
        .where(col(Submission.id).in_(found), ~col(ConcernMember.split))
    ).all()
    scored = [(jaccard(grams, shingles(body)), sid) for sid, body in texts]
    best = max(scored, key=lambda s: (s[0], -s[1]), default=None)
    return Match(bureau_id, keys, best[1] if best is not None and best[0] >= THRESHOLD else None)


def record_match(session: Session, *, submission_id: int, match: Match) -> int | None:
    """Store a new item's band keys and join it to its match's group (founding the group
    with the match as lead if need be); returns the group id, None if alone."""
    group_id = None
    if match.match_id is not None:
        group_id = _join_match(session, bureau_id=match.bureau_id, match_id=match.match_id)
    session.add(ConcernMember(submission_id=submission_id, group_id=group_id))
    if match.keys:
        session.execute(
            insert(ConcernBand),
            [
                {"bureau_id": match.bureau_id, "band": k, "submission_id": submission_id}
                for k in set(match.keys)
            ],
        )
    session.flush()
    return group_id


def group_item(
    session: Session, *, submission: Submission, now: datetime | None = None
) -> int | None:
    """find_match, then record_match, in the session's transaction."""
    assert submission.id is not None
    match = find_match(session, submission=submission, now=now)
    return record_match(session, submission_id=submission.id, match=match)


def _join_match(session: Session, *, bureau_id: int, match_id: int) -> int:
    """The group of the matched item, founded with it as lead if it has none."""
    member = session.get(ConcernMember, match_id)
    assert member is not None
    if member.group_id is None:
        group = ConcernGroup(bureau_id=bureau_id, lead_submission_id=match_id, created_at=utcnow())
        session.add(group)
        session.flush()
        member.group_id = group.id
        session.add(member)
    assert member.group_id is not None
    return member.group_id


def pending_items(session: Session, *, limit: int) -> list[Submission]:
    """Items stored since the grouping last ran (every channel), oldest first."""
    newest = session.scalar(select(func.max(col(ConcernMember.submission_id)))) or 0
    return list(
        session.scalars(
            select(Submission)
            .where(col(Submission.id) > newest - LOOKBACK_IDS)
            .where(
                ~select(col(ConcernMember.submission_id))
                .where(col(ConcernMember.submission_id) == col(Submission.id))
                .exists()
            )
            .order_by(col(Submission.id))
            .limit(limit)
        ).all()
    )


def _members(session: Session, group_id: int) -> list[int]:
    return list(
        session.scalars(
            select(col(ConcernMember.submission_id))
            .where(col(ConcernMember.group_id) == group_id)
            .order_by(col(ConcernMember.submission_id))
        ).all()
    )


def _group_of(session: Session, *, user: AdminUser, submission_id: int) -> ConcernGroup:
    sub = get_item(session, user=user, submission_id=submission_id)
    member = session.get(ConcernMember, sub.id)
    group = session.get(ConcernGroup, member.group_id) if member and member.group_id else None
    if group is None:
        raise NotFound("这条意见不属于任何同类问题。")
    return group


def load_group(session: Session, *, user: AdminUser, submission_id: int) -> GroupView | None:
    """The group of an item this admin may see, with the members they may see."""
    try:
        group = _group_of(session, user=user, submission_id=submission_id)
    except NotFound:
        return None
    assert group.id is not None
    rows = session.execute(
        select_visible_submissions(session, user=user)
        .join(ConcernMember, col(ConcernMember.submission_id) == col(Submission.id))
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .add_columns(col(Unit.name))
        .where(col(ConcernMember.group_id) == group.id)
        .order_by(col(Submission.id))
    ).all()
    members = [
        Member(s.id, name, s.text, s.status, s.created_at) for s, name in rows if s.id is not None
    ]
    return GroupView(
        id=group.id,
        lead_id=group.lead_submission_id,
        members=members,
        label=shared_label([m.text for m in members]),
    )


def _settle(session: Session, group: ConcernGroup) -> None:
    """A group left with one member dissolves; otherwise its lead is its first member."""
    assert group.id is not None
    left = _members(session, group.id)
    if len(left) < 2:
        session.execute(
            update(ConcernMember)
            .where(col(ConcernMember.group_id) == group.id)
            .values(group_id=None)
        )
        session.delete(group)
    else:
        group.lead_submission_id = left[0]
        session.add(group)
    session.flush()


def split_member(session: Session, *, user: AdminUser, submission_id: int) -> None:
    """Take a wrongly grouped item out of its group, for good (audited)."""
    group = _group_of(session, user=user, submission_id=submission_id)
    member = session.get(ConcernMember, submission_id)
    assert member is not None and group.id is not None
    member.group_id, member.split = None, True
    session.add(member)
    session.flush()
    record_audit(
        session,
        actor_id=user.id,
        action="group_split",
        submission_id=submission_id,
        detail={"group_id": group.id},
    )
    _settle(session, group)


def join_groups(session: Session, *, user: AdminUser, submission_id: int, other_id: int) -> int:
    """Merge the group of item `other_id` (or the item alone) into the group of item
    `submission_id` (audited); returns the merged group's id."""
    if other_id == submission_id:
        raise Invalid("不能把一条意见与它自己合并。", field="other")
    group = _group_of(session, user=user, submission_id=submission_id)
    other = get_item(session, user=user, submission_id=other_id)
    assert group.id is not None and other.id is not None
    if _bureau_of(session, other.unit_id) != group.bureau_id:
        raise Invalid("只能合并同一教育局辖下的同类问题。", field="other")
    member = session.get(ConcernMember, other.id)
    moved = [other.id]
    if member is not None and member.group_id is not None:
        if member.group_id == group.id:
            raise Invalid("这两条意见已在同一组。", field="other")
        old = session.get(ConcernGroup, member.group_id)
        assert old is not None
        moved = _members(session, member.group_id)
        session.execute(
            update(ConcernMember)
            .where(col(ConcernMember.group_id) == old.id)
            .values(group_id=group.id)
        )
        session.delete(old)
    elif member is None:
        session.add(ConcernMember(submission_id=other.id, group_id=group.id))
    else:
        member.group_id, member.split = group.id, False
        session.add(member)
    session.flush()
    record_audit(
        session,
        actor_id=user.id,
        action="group_join",
        submission_id=submission_id,
        detail={"group_id": group.id, "joined": moved},
    )
    _settle(session, group)
    return group.id


def reply_to_group(
    session: Session,
    *,
    user: AdminUser,
    submission_id: int,
    body: str,
    public: bool,
    from_addr: str | None,
    base_url: str,
    secret: str,
) -> int:
    """One reply to every member of the item's group this admin may act on: on each receipt
    page, and queued once per named member with an address (audited); where the unit wants
    replies signed off, a draft instead. Returns how many members got a draft."""
    view = load_group(session, user=user, submission_id=submission_id)
    if view is None:
        raise NotFound("这条意见不属于任何同类问题。")
    names = {u.id: u.name for u in visible_units(session, user=user)}
    mailed: list[int] = []
    drafted = 0
    for member in view.members:
        sub = get_item(session, user=user, submission_id=member.id)
        if needs_signoff(session, user=user, submission=sub):
            draft_reply(session, user=user, submission=sub, body=body, public=public)
            drafted += 1
            continue
        saved = add_reply(session, user=user, submission=sub, body=body, public=public)
        assert saved.id is not None
        to = reply_address(sub)
        if to is not None and from_addr:
            message = reply_email(
                to=to,
                unit_name=names.get(sub.unit_id, ""),
                body=body.strip(),
                from_addr=from_addr,
                base_url=base_url,
                rating_url=rating_url(base_url=base_url, secret=secret, reply_id=saved.id),
            )
            queue_mail(
                session,
                kind=OutboxKind.reply,
                submission_id=member.id,
                to_addr=to,
                message=message,
                send_at=utcnow(),
            )
            mailed.append(member.id)
    record_audit(
        session,
        actor_id=user.id,
        action="group_reply",
        submission_id=submission_id,
        detail={"group_id": view.id, "members": len(view.members), "mailed": len(mailed)},
    )
    return drafted


def list_groups(session: Session, *, unit_slug: str) -> list[GroupSummary]:
    """The groups with members in a unit, largest first (members of every unit listed)."""
    unit = session.scalar(select(Unit).where(col(Unit.slug) == unit_slug))
    if unit is None:
        raise NotFound(f"没有这个单位：{unit_slug}")
    ids = (
        select(col(ConcernMember.group_id))
        .join(Submission, col(Submission.id) == col(ConcernMember.submission_id))
        .where(col(Submission.unit_id) == unit.id, col(ConcernMember.group_id).is_not(None))
    )
    rows = session.execute(
        select(col(ConcernMember.group_id), col(Submission.id), col(Submission.text))
        .join(Submission, col(Submission.id) == col(ConcernMember.submission_id))
        .where(col(ConcernMember.group_id).in_(ids))
        .order_by(col(Submission.id))
    ).all()
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for gid, sid, body in rows:
        members[gid].append((sid, body))
    return sorted(
        (
            GroupSummary(
                id=gid,
                size=len(m),
                member_ids=[sid for sid, _ in m],
                label=shared_label([t for _, t in m]),
            )
            for gid, m in members.items()
        ),
        key=lambda g: (-g.size, g.id),
    )


def fast_growing_groups(
    session: Session, *, since: datetime, min_new: int
) -> list[tuple[int, int]]:
    """Groups that gained at least `min_new` items since `since`: (group id, new items),
    most first. For the fast-growth alert."""
    new = func.count().label("new")
    rows = session.execute(
        select(col(ConcernMember.group_id), new)
        .join(Submission, col(Submission.id) == col(ConcernMember.submission_id))
        .where(col(ConcernMember.group_id).is_not(None), col(Submission.created_at) >= since)
        .group_by(col(ConcernMember.group_id))
        .having(new >= min_new)
        .order_by(new.desc(), col(ConcernMember.group_id))
    ).all()
    return [(gid, n) for gid, n in rows]


@dataclass(frozen=True)
class HotGroup:
    id: int
    label: str
    size: int  # members in the period
    previous: int  # members in the period before

    @property
    def change(self) -> int:
        return self.size - self.previous


def hot_groups(
    session: Session,
    *,
    unit_ids: list[int],
    start: datetime,
    end: datetime,
    previous_start: datetime,
    limit: int = 5,
) -> tuple[list[HotGroup], list[HotGroup]]:
    """The largest and the fastest-growing groups among these units' items of [start, end),
    with their counts in [previous_start, start)."""
    rows = session.execute(
        select(col(ConcernMember.group_id), col(Submission.created_at), col(Submission.text))
        .join(Submission, col(Submission.id) == col(ConcernMember.submission_id))
        .where(
            col(ConcernMember.group_id).is_not(None),
            col(Submission.unit_id).in_(unit_ids),
            col(Submission.created_at) >= previous_start,
            col(Submission.created_at) < end,
        )
    ).all()
    now_n: dict[int, int] = defaultdict(int)
    before_n: dict[int, int] = defaultdict(int)
    texts: dict[int, list[str]] = defaultdict(list)
    for gid, at, body in rows:
        if at >= start:
            now_n[gid] += 1
            texts[gid].append(body)
        else:
            before_n[gid] += 1
    hot = [
        HotGroup(gid, shared_label(texts[gid]), n, before_n.get(gid, 0))
        for gid, n in now_n.items()
        if n >= 2
    ]
    largest = sorted(hot, key=lambda g: (-g.size, g.id))[:limit]
    growing = sorted((g for g in hot if g.change > 0), key=lambda g: (-g.change, g.id))[:limit]
    return largest, growing
