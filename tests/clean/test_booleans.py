"""Booleans: yes/no words; 0/1 only when the column holds nothing else."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.clean.booleans import FALSE_TOKENS, TRUE_TOKENS, detect_boolean, parse_booleans


def detect(values: list[str], counts: list[int] | None = None):  # type: ignore[no-untyped-def]
    w = np.asarray(counts or [1] * len(values), dtype=np.int64)
    return detect_boolean(values, w)


def test_word_pairs() -> None:
    for t, f in [("yes", "no"), ("Y", "N"), ("TRUE", "false"), ("t", "f"), ("on", "off")]:
        fmt, _ev = detect([t, f])
        assert fmt is not None, (t, f)


def test_zero_one_only_when_nothing_else() -> None:
    assert detect(["0", "1"])[0] is not None
    assert detect(["0", "1", "2"])[0] is None
    assert detect(["1"])[0] is None  # one polarity only: not enough evidence


def test_a_third_category_is_not_a_typo() -> None:
    # house prices PavedDrive: Y / N / P (partial) is a category, not a boolean
    fmt, ev = detect(["Y", "N", "P"], [1340, 90, 30])
    assert fmt is None and ev.blocking == ["P"]


def test_typos_of_boolean_words_do_not_block() -> None:
    fmt, ev = detect(["yes", "no", "yxs", "yex"], [600, 380, 10, 10])
    assert fmt is not None and ev.share < 1.0


def test_gender_letters_are_not_booleans() -> None:
    assert detect(["F", "M"], [500, 500])[0] is None


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.booleans(), min_size=2, max_size=40).filter(lambda b: len(set(b)) == 2),
    st.sampled_from(list(zip(TRUE_TOKENS, FALSE_TOKENS, strict=True))),
    st.sampled_from([str.lower, str.upper, str.title]),
)
def test_booleans_parse_back(values: list[bool], pair: tuple[str, str], case) -> None:  # type: ignore[no-untyped-def]
    texts = [case(pair[0] if v else pair[1]) for v in values]
    distinct = sorted(set(texts))
    fmt, _ = detect(distinct, [texts.count(d) for d in distinct])
    assert fmt is not None
    parsed, ok = parse_booleans(pc.utf8_lower(pa.array(texts)), fmt, np.zeros(len(texts), bool))
    assert ok.all() and parsed.tolist() == values
