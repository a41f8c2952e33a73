"""Small-cell suppression: no count of 1–4 is shown, and none can be worked out by subtraction."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from app.stats.disclosure import FEW, HIDDEN, show_row


def _possible(texts: Sequence[str], total: str) -> list[set[int]]:
    """What a reader can work out about each cell, by brute force over every row consistent
    with what the page shows (independent of the suppression code's own interval reasoning)."""
    known_total = None if total == HIDDEN else int(total)
    choices = []
    for text in texts:
        if text == FEW:
            choices.append(range(5))
        elif text == HIDDEN:
            choices.append(range(5, 5 + 40))  # wide enough for the vectors drawn below
        else:
            choices.append(range(int(text), int(text) + 1))
    # Sums reachable by each prefix and suffix, so the brute force stays small.
    prefix: list[set[int]] = [{0}]
    for options in choices:
        prefix.append({s + v for s in prefix[-1] for v in options})
    suffix: list[set[int]] = [{0}]
    for options in reversed(choices):
        suffix.append({s + v for s in suffix[-1] for v in options})
    suffix.reverse()
    possible = []
    for i, options in enumerate(choices):
        rest = {a + b for a in prefix[i] for b in suffix[i + 1]}
        possible.append({v for v in options if known_total is None or known_total - v in rest})
    return possible


counts = st.lists(st.one_of(st.integers(0, 6), st.integers(0, 30)), min_size=2, max_size=7)


@given(counts)
def test_no_small_count_is_shown_or_recoverable(values: list[int]) -> None:
    cells, total = show_row(values)
    texts = [c.text for c in cells]
    for value, cell in zip(values, cells, strict=True):
        if 1 <= value <= 4:
            assert cell.text == FEW
        if cell.value is not None:
            assert cell.value == value and not 1 <= value <= 4
        else:
            assert cell.text == (FEW if value < 5 else HIDDEN)  # the label never lies
    possible = _possible(texts, total.text)
    for value, cell, options in zip(values, cells, possible, strict=True):
        assert value in options
        if cell.value is None:
            assert len(options) >= 2, (values, texts, total.text)
    if total.value is not None:
        assert total.value == sum(values)


def test_a_single_small_cell_takes_a_zero_with_it() -> None:
    cells, total = show_row([3, 0, 12, 7])
    assert [c.text for c in cells] == [FEW, FEW, "12", "7"]
    assert total.text == "22"


def test_without_a_zero_the_smallest_other_cell_is_hidden() -> None:
    cells, _total = show_row([2, 9, 12, 7])
    assert [c.text for c in cells] == [FEW, "9", "12", HIDDEN]


def test_two_small_cells_that_hide_each_other_need_nothing_more() -> None:
    cells, _total = show_row([3, 2, 12])
    assert [c.text for c in cells] == [FEW, FEW, "12"]


def test_cells_all_four_hide_the_total_too() -> None:
    cells, total = show_row([4, 4])
    assert [c.text for c in cells] == [FEW, FEW]
    assert total.text == HIDDEN


def test_nothing_small_nothing_hidden() -> None:
    cells, total = show_row([0, 5, 0, 17])
    assert [c.text for c in cells] == ["0", "5", "0", "17"]
    assert total.text == "22"
