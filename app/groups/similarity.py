"""Text similarity for grouping: character bigram shingles, MinHash, LSH band keys.

Pure functions, no database. Bigrams of the normalised text (simplified, lower case, CJK and
alphanumerics only) minus the filler every letter shares (尊敬的领导, 希望, 问题 …), which
would otherwise make different concerns look alike.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from app.tagging.text import normalize

# Chosen on tests/groups/corpus.py: paraphrases of one concern reach 0.10-0.45 with at least
# one other member, different concerns on the same topic stay below 0.10 (report in
# bench/RESULTS.md, "Grouping").
THRESHOLD = 0.12
# One MinHash value per band (r = 1): a pair at the threshold shares a band with probability
# 1 - (1 - 0.12)^32 = 98%; the exact Jaccard check then drops the chance meetings.
BANDS = 32
_PRIME = 4294967311  # the first prime above 2^32: (a*x + b) mod p stays inside uint64
_rng = np.random.default_rng(20261207)
_A = _rng.integers(1, 2**31, size=BANDS, dtype=np.uint64)
_B = _rng.integers(0, 2**31, size=BANDS, dtype=np.uint64)
_KEEP = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff0-9a-z]+")
_FILLER = frozenset(
    [
        "学校",
        "希望",
        "孩子",
        "家长",
        "问题",
        "老师",
        "领导",
        "尊敬",
        "反映",
        "我们",
        "请学",
        "建议",
        "一下",
        "关于",
        "现在",
        "每天",
        "太多",
        "太重",
        "严重",
        "加强",
        "尽快",
        "请尽",
        "管理",
        "学生",
        "一个",
        "没有",
        "我是",
        "我家",
        "恳请",
        "重视",
        "负担",
        "给个",
        "说法",
    ]
)


def shingles(text: str) -> frozenset[str]:
    """The text's character bigrams, filler removed."""
    out: set[str] = set()
    for run in _KEEP.findall(normalize(text)):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(out - _FILLER)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|; 0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def band_keys(grams: frozenset[str]) -> list[int]:
    """The item's LSH band keys (signed 64-bit, one per band); none for an empty text."""
    if not grams:
        return []
    # crc32, not hash(): keys must agree across processes and restarts.
    x = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64, count=len(grams))
    mins = ((np.outer(_A, x) + _B[:, None]) % _PRIME).min(axis=1)
    keys = []
    for band, value in enumerate(mins.tolist()):
        digest = hashlib.blake2b(f"{band}:{value}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def shared_label(texts: Sequence[str], *, limit: int = 3) -> str:
    """A short label: n-grams in most members, longer and commoner first, at most `limit`."""
    need = max(1, -(-len(texts) * 3 // 5))  # in at least 60% of the members
    counts: Counter[str] = Counter()
    for text in texts:
        seen: set[str] = set()
        for run in _KEEP.findall(normalize(text)):
            for n in (4, 3, 2):
                seen.update(run[i : i + n] for i in range(len(run) - n + 1))
        counts.update(seen - _FILLER)
    common = sorted(
        (g for g, c in counts.items() if c >= need), key=lambda g: (-counts[g] * len(g), g)
    )
    chosen: list[str] = []
    for gram in common:
        if not any(gram in c or c in gram for c in chosen):
            chosen.append(gram)
        if len(chosen) == limit:
            break
    return "·".join(chosen)
