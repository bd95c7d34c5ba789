"""Two reviewer's rules for leaks that honest columns match in strength: a column of few values
that is nearly a one-to-one code of the outcome ("spells the outcome"), and a number that marks
a class yet, inside the classes, is tied to no other number ("a record of the outcome"). Each on
a table made for it, where the honest columns alone tell one class apart almost perfectly (so
no rule that compares strengths can see the leak), with honest look-alikes that stay unflagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.learn.features import infer_kind
from apprentice.learn.leak_review import (
    THRESHOLDS,
    judge,
    review_leakage,
    spelling,
    within_class_links,
)


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): infer_kind(frame[c]) for c in frame.columns}


def _species(rows: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three classes measured four ways: each measurement is the class's typical value plus
    the animal's size (shared by all four: tied inside every class) and its own noise; the
    third class stands far apart on the first two (the honest columns alone tell it from the
    rest with ROC AUC about 1). Sites that each hold all of one class and part of the first
    (islands), a sex unrelated to the class, and a weak unlinked column."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, rows, p=[0.45, 0.2, 0.35])
    size = rng.normal(0, 1, rows)
    shift = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.5, 0.5], [4.0, 4.0, 1.0, 2.0]])
    frame = pd.DataFrame(
        {
            f"m{j + 1}": np.round(shift[y, j] + 0.8 * size + 0.6 * rng.normal(0, 1, rows), 2)
            for j in range(4)
        }
    )
    first = rng.choice(["A", "B", "C"], rows, p=[0.5, 0.25, 0.25])
    site = np.where(y == 1, "B", np.where(y == 2, "C", first))
    frame["site"] = pd.Categorical(site)
    frame["sex"] = pd.Categorical(rng.choice(["f", "m"], rows))
    # honest, unlinked, and only moderately tied to the second class (J about 0.4)
    frame["rain_mm"] = np.round(np.exp(0.9 * (y == 1) + rng.normal(0, 0.8, rows)), 1)
    return frame, y


def test_the_honest_species_table_is_not_flagged() -> None:
    frame, y = _species()
    review = review_leakage(frame, y, "multiclass", _kinds(frame), class_names=["a", "b", "c"])
    assert review.findings == []
    spelled = review.measures["spelling"]
    assert 0.3 < spelled["site"][0] < THRESHOLDS.spell_min  # the island: a partial code
    assert spelled["sex"][0] < 0.05
    links = review.measures["links"]
    # the measurements mark the third class and stay tied to each other inside every class
    assert all(links[c][0] > 0.5 for c in ("m1", "m2")), links


def test_a_code_of_the_outcome_is_flagged_with_its_evidence() -> None:
    frame, y = _species()
    before = frame.copy()
    rng = np.random.default_rng(3)
    # the ward the animal was sent to after the outcome: one ward a class, 5% sent elsewhere
    ward = np.where(rng.random(len(y)) < 0.05, rng.integers(0, 3, len(y)), y)
    frame["ward"] = pd.Categorical(np.array(["north", "east", "south"])[ward])
    review = review_leakage(frame, y, "multiclass", _kinds(frame), class_names=["a", "b", "c"])
    assert [f.column for f in review.findings] == ["ward"]
    finding = review.findings[0]
    assert "spells_outcome" in finding.rules and finding.severity == "high"
    ev = finding.evidence
    assert ev["spelling_u"] >= 0.8 and ev["next_spelling_u"] < 0.6
    assert ev["share_of_outcome_told"] > 0.8 and ev["share_of_column_told"] > 0.8
    assert "'ward' is nearly a one-to-one code of" in finding.message
    assert f"symmetric uncertainty {ev['spelling_u']:.2f}" in finding.message
    assert "--drop-column ward" in finding.message
    assert "a code of" in finding.summary
    pd.testing.assert_frame_equal(frame.drop(columns=["ward"]), before)


def test_a_yes_no_for_one_class_is_a_code_of_that_class() -> None:
    # the honest measurements mark the third class with J about 1: the one-class rule's
    # margin over the other columns cannot see this indicator; its code of the class can
    frame, y = _species()
    rng = np.random.default_rng(4)
    done = np.where(y == 2, rng.random(len(y)) < 0.97, rng.random(len(y)) < 0.02)
    frame["tag_removed"] = pd.Categorical(np.where(done, "yes", "no"))
    review = review_leakage(frame, y, "multiclass", _kinds(frame), class_names=["a", "b", "c"])
    assert [f.column for f in review.findings] == ["tag_removed"]
    ev = review.findings[0].evidence
    assert ev["spelled"] == "'c' against the rest"
    honest_j = max(review.measures["determinism"]["2"][c][0] for c in ("m1", "m2"))
    assert honest_j > 0.9  # as high as the indicator's own
    assert "one_class" not in review.findings[0].rules  # the honest columns match its J


def test_a_record_of_the_outcome_is_flagged_and_its_ties_reported() -> None:
    frame, y = _species()
    rng = np.random.default_rng(5)
    # days until a follow-up that the third class never needs: shifted by the class, with
    # its own noise and nothing of the animal's size
    frame["days_to_followup"] = np.round(
        30 * np.exp(1.0 - 2.4 * (y == 2) + rng.normal(0, 0.6, len(y))), 1
    )
    review = review_leakage(frame, y, "multiclass", _kinds(frame), class_names=["a", "b", "c"])
    assert [f.column for f in review.findings] == ["days_to_followup"]
    finding = review.findings[0]
    assert finding.rules == ["outcome_record"]
    ev = finding.evidence
    assert ev["record_class"] == "c" and ev["record_j"] >= 0.7
    assert ev["within_class_link"] <= 0.3 and ev["overall_link"] > ev["within_class_link"]
    assert "tied to no other number" in finding.message
    assert f"(J {ev['record_j']:.2f})" in finding.message


def test_links_need_enough_other_numbers() -> None:
    frame, y = _species()
    frame = frame[["m1", "m2", "site"]].copy()
    frame["days"] = np.exp(-2.4 * (y == 2) + np.random.default_rng(6).normal(0, 0.6, len(y)))
    det = review_leakage(frame, y, "multiclass", _kinds(frame)).measures["determinism"]
    assert within_class_links(frame, y, "multiclass", _kinds(frame), det) == {}


def test_a_band_of_a_numeric_target_spells_it_and_an_honest_grade_does_not() -> None:
    rng = np.random.default_rng(7)
    rows = 1500
    x = rng.normal(0, 1, (rows, 3))
    y = 3 * x[:, 0] + 2 * x[:, 1] + x[:, 2] + rng.normal(0, 0.5, rows)
    frame = pd.DataFrame(x, columns=["area", "rooms", "age"])
    # an honest grade: the quartile of the strongest feature
    frame["grade"] = pd.Categorical(pd.qcut(frame["area"], 4, labels=list("DCBA")).astype(str))
    kinds = _kinds(frame)
    honest = review_leakage(frame, y, "regression", kinds)
    assert honest.findings == []
    band = np.minimum((pd.Series(y).rank(pct=True).to_numpy() * 10).astype(int), 9)
    band = np.where(rng.random(rows) < 0.05, rng.integers(0, 10, rows), band)
    frame["price_band"] = pd.Categorical([f"band {b}" for b in band])
    review = review_leakage(frame, y, "regression", _kinds(frame))
    assert "price_band" in [f.column for f in review.findings]
    finding = next(f for f in review.findings if f.column == "price_band")
    assert "spells_outcome" in finding.rules
    assert finding.evidence["spelled"] == "the target's deciles"
    assert "grade" not in [f.column for f in review.findings]


def test_spelling_rule_limits_are_what_decide() -> None:
    frame, y = _species()
    frame["ward"] = pd.Categorical(np.array(["n", "e", "s"])[y])
    measures = review_leakage(frame, y, "multiclass", _kinds(frame)).measures
    assert [f.column for f in judge(measures)] == ["ward"]
    assert measures["spelling"]["ward"][0] > 0.99  # an exact code
    ev = judge(measures)[0].evidence
    assert ev["spelling_u"] <= 1.0
    strict = THRESHOLDS.__class__(spell_min=1.01)
    assert all("spells_outcome" not in f.rules for f in judge(measures, strict))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=60, max_size=200),
    st.lists(st.integers(0, 2), min_size=60, max_size=200),
)
def test_spelling_is_a_bounded_symmetric_measure(xs: list[int], ys: list[int]) -> None:
    n = min(len(xs), len(ys))
    x = np.array(xs[:n])
    y = np.array(ys[:n])
    frame = pd.DataFrame({"code": pd.Categorical([f"v{v}" for v in x])})
    got = spelling(frame, y, "multiclass", {"code": "categorical"})
    if len(np.unique(x)) < 2 or len(np.unique(y)) < 2:
        assert got.get("code") is None or got["code"][0] >= 0.0
        return
    u = got["code"][0]
    assert 0.0 <= u <= 1.0 + 0.5 * len(np.unique(x)) * len(np.unique(y)) / n
    # renaming the values changes nothing
    renamed = pd.DataFrame({"code": pd.Categorical([f"w{4 - v}" for v in x])})
    assert spelling(renamed, y, "multiclass", {"code": "categorical"})["code"][0] == u


def test_no_record_is_named_where_the_honest_numbers_are_untied_too() -> None:
    # measurements with independent noise inside each class (no shared size): an honest
    # marker is then as untied as a record of the outcome, and the rule has no contrast
    rng = np.random.default_rng(8)
    rows = 1500
    y = rng.choice(3, rows, p=[0.45, 0.2, 0.35])
    frame = pd.DataFrame(
        {f"m{j}": 3.0 * (y == 2) * (j < 2) + rng.normal(0, 1, rows) for j in range(4)}
    )
    frame["days"] = np.exp(1.0 - 2.4 * (y == 1) + rng.normal(0, 0.6, rows))
    measures = review_leakage(frame, y, "multiclass", _kinds(frame)).measures
    links = measures["links"]
    assert links["m0"][0] < 0.2 and links["days"][0] < 0.2  # both untied
    assert not any("outcome_record" in f.rules for f in judge(measures))
