"""Small-cell suppression for the public pages: protecting the senders of small schools.

The rule (also on the public page and in docs/threat-model.md):
- a count of 1–4 items in a cell finer than the whole unit (a check, say) is shown as "少于5";
- whenever a row has a hidden cell, more cells of that row are hidden until no hidden cell
  can be worked out from the row's total minus the cells shown (complementary suppression):
  zeros first (also shown as "少于5", honestly: 0 is fewer than 5), then the smallest other
  counts (shown as "不公开");
- the whole unit's total is shown, unless hiding every cell still leaves them determined
  (every cell exactly 4), when the total is hidden too.
A reader knows "少于5" means 0–4 and "不公开" means 5 or more; `feasible` is what such a reader
can still work out, and a hidden cell is safe when it can take two or more values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LOW = 5
FEW = "少于5"
HIDDEN = "不公开"


@dataclass(frozen=True)
class Shown:
    """A count as the public page shows it; value is None when hidden."""

    value: int | None
    text: str


def _bounds(value: int, hidden: bool, total: int) -> tuple[int, int]:
    if not hidden:
        return value, value
    return (0, LOW - 1) if value < LOW else (LOW, total)


def feasible(values: Sequence[int], hidden: Sequence[bool]) -> list[tuple[int, int]]:
    """The range each cell may take for a reader who sees the shown cells, the labels of the
    hidden ones and the row's total (exact: one sum over cells with ranges)."""
    total = sum(values)
    bounds = [_bounds(v, h, total) for v, h in zip(values, hidden, strict=True)]
    low = sum(lo for lo, _hi in bounds)
    high = sum(hi for _lo, hi in bounds)
    return [(max(lo, total - (high - hi)), min(hi, total - (low - lo))) for lo, hi in bounds]


def _exposed(values: Sequence[int], hidden: Sequence[bool]) -> bool:
    ranges = feasible(values, hidden)
    return any(h and lo == hi for h, (lo, hi) in zip(hidden, ranges, strict=True))


def suppress(values: Sequence[int]) -> tuple[list[bool], bool]:
    """Which cells of a row to hide, and whether its total must be hidden too."""
    hidden = [1 <= v < LOW for v in values]
    if not any(hidden):
        return hidden, False
    # Zeros first (they hide the most for the least lost), then the smallest counts.
    order = sorted(
        (i for i, h in enumerate(hidden) if not h), key=lambda i: (values[i] != 0, values[i], i)
    )
    for i in order:
        if not _exposed(values, hidden):
            return hidden, False
        hidden[i] = True
    return hidden, _exposed(values, hidden)


def show_row(values: Sequence[int]) -> tuple[list[Shown], Shown]:
    """A row's cells and its total, as the public page shows them."""
    hidden, total_hidden = suppress(values)
    cells = [
        Shown(None, FEW if v < LOW else HIDDEN) if h else Shown(v, str(v))
        for v, h in zip(values, hidden, strict=True)
    ]
    total = sum(values)
    return cells, Shown(None, HIDDEN) if total_hidden else Shown(total, str(total))
