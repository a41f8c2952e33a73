"""Arbitrary input must never break tagging: the writer thread tags whatever citizens send."""

from __future__ import annotations

import io
import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from app.tagging import CHECKS, load_tagger
from app.tagging.cli import tag_stream

TAGGER = load_tagger()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=400), max_size=20))
def test_suggest_many_any_text(texts: list[str]) -> None:
    suggestions = TAGGER.suggest_many(texts)
    assert len(suggestions) == len(texts)
    for text, s in zip(texts, suggestions, strict=True):
        assert s.check in CHECKS
        assert math.isclose(sum(s.scores.values()), 1.0, abs_tol=1e-3)
        assert len(s.evidence) <= 5
        assert all(e in text for e in s.evidence)  # quoted from the original text


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.builds(
                json.dumps,
                st.dictionaries(
                    st.sampled_from(["id", "text", "x"]),
                    st.one_of(st.text(max_size=30), st.integers()),
                ),
            ),
        ),
        max_size=15,
    )
)
def test_tag_stream_one_output_line_per_input_line(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    out = io.StringIO()
    errors = tag_stream(TAGGER, io.StringIO("".join(f"{line}\n" for line in lines)), out)
    results = [json.loads(x) for x in out.getvalue().split("\n")[:-1]]
    assert len(results) == len(lines)
    assert errors == sum("error" in r for r in results)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789０１２３４５６７８９", min_size=1, max_size=20))
def test_digits_say_nothing_about_the_check(digits: str) -> None:
    # A named sender's phone number or a fee's amount must not pull a letter towards
    # 未归类 (check 0), where digit runs of tests and spam would otherwise lead it.
    letter = "我是张伟，电话{}，反映校长收受家长礼品，我的孩子在三年级二班。"
    plain = TAGGER.suggest(letter.format("13812345678"))
    other = TAGGER.suggest(letter.format(digits))
    assert plain.check == 4
    assert other.scores == plain.scores
