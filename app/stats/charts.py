"""Chart geometry for the stats page, drawn by small SVG templates (templates/stats/_*.svg.html).

Why not pygal: its SVG carries an inline <style> element and a script tag (tooltips, from a
CDN); our Content-Security-Policy (style-src 'self', script-src 'self') blocks both, so its
charts would lose their colours. Here every colour and size is a presentation attribute,
every bar is a link to the queue, and the SVG scales to the page width (viewBox) down to a
360 px phone. The numbers are also in a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.stats.service import Row

WIDTH = 360  # the viewBox width: a phone's width in CSS pixels, scaled up on wider screens
BAR_HEIGHT = 22
LABEL_WIDTH = 96
LABEL_CHARS = 7  # what fits LABEL_WIDTH at 12 px, with "…"; the full name is in the <title>
VALUE_WIDTH = 44
LEGEND_HEIGHT = 20
RECEIVED_FILL = "#9db7d5"
ANSWERED_FILL = "#2f6fa7"
OVERDUE_FILL = "#c0392b"
HEAT_RGB = (47, 111, 167)


@dataclass(frozen=True)
class Bar:
    label: str
    short: str  # the label as drawn, cut to fit
    href: str
    y: float
    received_width: float
    answered_width: float
    received: int
    answered: int


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars: received (light) with the answered part over it (dark)."""

    title: str
    width: int
    height: int
    label_width: int
    bar_height: int
    legend_y: int
    bars: tuple[Bar, ...]
    received_fill: str = RECEIVED_FILL
    answered_fill: str = ANSWERED_FILL


@dataclass(frozen=True)
class Column:
    label: str
    href: str
    x: float
    width: float
    received_height: float
    answered_height: float
    received: int
    answered: int
    show_label: bool


@dataclass(frozen=True)
class ColumnChart:
    """Week-by-week columns; every few labels only when the weeks are many."""

    title: str
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    peak: int
    columns: tuple[Column, ...]
    received_fill: str = RECEIVED_FILL
    answered_fill: str = ANSWERED_FILL


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    count: int
    href: str
    fill: str
    text_fill: str
    label: str  # "unit · check: n" for the cell's <title>


@dataclass(frozen=True)
class HeatMap:
    title: str
    width: int
    height: int
    label_width: int
    cell_width: int
    cell_height: int
    header_height: int
    columns: tuple[tuple[float, str], ...]  # (x centre, check name)
    rows: tuple[tuple[float, str], ...]  # (y centre, unit name)
    cells: tuple[HeatCell, ...]


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(title: str, rows: Sequence[Row], link: Callable[[Row], str]) -> BarChart:
    """Bars of received and answered items per row, under a legend."""
    peak = max((r.received for r in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = tuple(
        Bar(
            label=r.label,
            short=_short(r.label),
            href=link(r),
            y=LEGEND_HEIGHT + 4 + i * (BAR_HEIGHT + 6),
            received_width=round(span * r.received / peak, 1),
            answered_width=round(span * r.answered / peak, 1),
            received=r.received,
            answered=r.answered,
        )
        for i, r in enumerate(rows)
    )
    height = LEGEND_HEIGHT + 8 + len(bars) * (BAR_HEIGHT + 6)
    return BarChart(title, WIDTH, height, LABEL_WIDTH, BAR_HEIGHT, LEGEND_HEIGHT - 6, bars)


def column_chart(title: str, rows: Sequence[Row], link: Callable[[Row], str]) -> ColumnChart:
    """Columns of received (light) and answered (dark, in front) items per week."""
    height, top, bottom = 200, 16, 160
    peak = max((r.received for r in rows), default=0) or 1
    slot = (WIDTH - 8) / max(len(rows), 1)
    every = max(1, round(len(rows) / 6))  # about six date labels fit on a phone
    columns = tuple(
        Column(
            label=r.label,
            href=link(r),
            x=round(4 + i * slot + slot * 0.1, 1),
            width=round(slot * 0.8, 1),
            received_height=round((bottom - top) * r.received / peak, 1),
            answered_height=round((bottom - top) * r.answered / peak, 1),
            received=r.received,
            answered=r.answered,
            show_label=i % every == 0,
        )
        for i, r in enumerate(rows)
    )
    return ColumnChart(title, WIDTH, height, top, bottom, peak, columns)


def heat_map(
    title: str,
    units: Sequence[Row],
    cells: dict[str, dict[str, Row]],
    checks: Sequence[tuple[str, str]],
    link: Callable[[Row, Row], str],
) -> HeatMap:
    """Units down, checks across; the darker the cell, the more items it received."""
    label_width, cell_w, cell_h, header = 120, 44, 26, 34
    peak = max((c.received for per in cells.values() for c in per.values()), default=0) or 1
    out = []
    for i, unit in enumerate(units):
        for j, (key, name) in enumerate(checks):
            cell = cells[unit.key][key]
            share = cell.received / peak
            red, green, blue = (round(255 - (255 - c) * share) for c in HEAT_RGB)
            out.append(
                HeatCell(
                    x=label_width + j * cell_w,
                    y=header + i * cell_h,
                    count=cell.received,
                    href=link(unit, cell),
                    fill=f"#{red:02x}{green:02x}{blue:02x}",
                    text_fill="#ffffff" if share > 0.55 else "#1f2328",
                    label=f"{unit.label} · {name}：{cell.received}",
                )
            )
    return HeatMap(
        title=title,
        width=label_width + len(checks) * cell_w + 4,
        height=header + len(units) * cell_h + 4,
        label_width=label_width,
        cell_width=cell_w,
        cell_height=cell_h,
        header_height=header,
        columns=tuple(
            (label_width + j * cell_w + cell_w / 2, name) for j, (_key, name) in enumerate(checks)
        ),
        rows=tuple((header + i * cell_h + cell_h / 2, u.label) for i, u in enumerate(units)),
        cells=tuple(out),
    )
