"""Small units: names, markers, sentinels, categories, identifiers, text."""

from __future__ import annotations

import numpy as np

from apprentice.clean.categories import (
    classify_text,
    key_of,
    leading_zero_identifier,
    learn_categories,
)
from apprentice.clean.markers import is_marker
from apprentice.clean.names import clean_names
from apprentice.clean.sentinels import find_sentinels, sentinel_shaped


def test_clean_names() -> None:
    out = clean_names(["\ufeffa", "a", " b ", "", None, "a_2"])
    assert [n for n, _, _ in out] == ["a", "a_3", "b", "column_4", "column_5", "a_2"]
    assert out[0][1] == "\ufeffa" and "byte-order mark removed" in out[0][2]


def test_marker_vocabulary() -> None:
    for token in (
        "",
        "NA",
        "n/a",
        "NULL",
        "None",
        "nan",
        "?",
        "-",
        "--",
        ".",
        "missing",
        "unknown",
    ):
        assert is_marker(token), token
    for token in ("0", "no", "N", "x", "NaNa", "Namibia"):
        assert not is_marker(token), token


def test_sentinel_shapes() -> None:
    assert (
        sentinel_shaped(-200, "low") and sentinel_shaped(-1, "low") and sentinel_shaped(-999, "low")
    )
    assert sentinel_shaped(9999, "high") and sentinel_shaped(99, "high")
    assert not sentinel_shaped(8, "high") and not sentinel_shaped(0, "low")
    assert not sentinel_shaped(-1.5, "low") and not sentinel_shaped(1000, "high")


def test_find_sentinels_needs_frequency_and_distance() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(50, 10, 500)
    found = find_sentinels(np.concatenate([base, [9999.0] * 10]))
    assert [s["value"] for s in found] == [9999.0]
    assert not find_sentinels(np.concatenate([base, [9999.0]]))  # once is an outlier, not a code
    ages = np.concatenate([rng.integers(0, 90, 500).astype(float), [99.0] * 8])
    assert not find_sentinels(ages)  # 99 right after 89: not far outside
    assert not find_sentinels(np.array([2.0] * 80 + [4.0] * 100))  # two-valued columns


def test_category_keys_and_merges() -> None:
    assert key_of(" Private ") == key_of("private") == key_of("PRIVATE.")
    assert key_of(">50K.") == key_of(">50K")
    cs = learn_categories(["Yes", "yes", "No", "YES"], np.array([10, 3, 5, 1]))
    assert cs.categories == ["No", "Yes"]
    assert {(m["variant"], m["canonical"]) for m in cs.merges} == {("yes", "Yes"), ("YES", "Yes")}


def test_identifiers_and_text() -> None:
    assert leading_zero_identifier(["01907", "15122", "02134"], np.array([1, 1, 1]))
    assert leading_zero_identifier(["01", "02", "12"], np.array([5, 5, 5])) is None
    codes = [f"SC{i:06d}" for i in range(100)]
    assert classify_text(codes, np.ones(100, dtype=np.int64), 100)[0] == "identifier"
    sentences = [f"this is comment number {i} about the thing" for i in range(60)]
    assert classify_text(sentences, np.ones(60, dtype=np.int64), 60)[0] == "text"
    assert classify_text(["red", "blue"], np.array([50, 50]), 2)[0] == "category"
