"""The reviewer's leakage checks on tables made for them: a post-outcome indicator for one
class (the exit-interview pattern), a noisy copy of a numeric target, and strong but
legitimate features that must not be flagged; then the findings through ``run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.learn.features import infer_kind
from apprentice.learn.leak_review import THRESHOLDS, Thresholds, judge, review_leakage
from tests.learn._data import needs_tables, text_table, typed_table


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): infer_kind(frame[c]) for c in frame.columns}


def _churn(rows: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    frame = typed_table("telco_churn.csv", rows=rows).drop(columns=["customerID"])
    y = (frame.pop("Churn").astype(str) == "Yes").to_numpy().astype(int)
    return frame, y


def _exit_interview(y: np.ndarray, seed: int = 0) -> pd.Categorical:
    """Yes for 97% of the leavers and 2% of the stayers: recorded after the outcome."""
    rng = np.random.default_rng(seed)
    done = np.where(y == 1, rng.random(len(y)) < 0.97, rng.random(len(y)) < 0.02)
    return pd.Categorical(np.where(done, "yes", "no"))


@needs_tables
def test_the_exit_interview_pattern_is_flagged_with_its_evidence() -> None:
    frame, y = _churn()
    before = frame.copy()
    frame["exit_interview_done"] = _exit_interview(y)
    review = review_leakage(frame, y, "binary", _kinds(frame), class_names=["No", "Yes"])
    assert [f.column for f in review.findings] == ["exit_interview_done"]
    finding = review.findings[0]
    assert finding.severity == "high"
    assert {"dominates", "one_class"} <= set(finding.rules)
    ev = finding.evidence
    assert ev["full_score"] - ev["without_score"] > 0.1  # the jump the others never reach
    assert ev["drop"] > 10 * max(ev["next_drop"], 0.001)
    assert ev["share_of_class"] > 0.9 and ev["share_of_others"] < 0.05
    text = finding.message
    assert "'exit_interview_done' = yes in 9" in text and "of the 'Yes' rows" in text
    assert "too good to be true" in text
    assert f"{ev['without_score']:.3f} without it" in text
    assert "--drop-column exit_interview_done" in text
    assert review.metric == "ROC AUC" and review.rows == len(frame)
    pd.testing.assert_frame_equal(frame.drop(columns=["exit_interview_done"]), before)


@needs_tables
def test_a_noisy_copy_of_a_numeric_target_is_flagged() -> None:
    frame = typed_table("insurance.csv")
    y = frame.pop("charges").to_numpy(dtype=float)
    rng = np.random.default_rng(1)
    # the amount later reimbursed: the charges, give or take a third of their spread
    frame["amount_reimbursed"] = y + rng.normal(0, 0.35 * y.std(), len(y))
    review = review_leakage(frame, y, "regression", _kinds(frame))
    assert [f.column for f in review.findings] == ["amount_reimbursed"]
    finding = review.findings[0]
    assert finding.evidence["single_score"] > 0.8
    assert "'amount_reimbursed' alone reaches R² 0." in finding.message
    assert "--drop-column amount_reimbursed" in finding.message
    assert review.metric == "R2"


@needs_tables
def test_strong_legitimate_features_are_not_flagged() -> None:
    # smoking drives medical charges (R² about 0.6 alone, far above age): strong, not a leak
    frame = typed_table("insurance.csv")
    y = frame.pop("charges").to_numpy(dtype=float)
    review = review_leakage(frame, y, "regression", _kinds(frame))
    assert review.findings == [], [f.message for f in review.findings]
    assert review.measures["single"]["smoker"] > 0.5
    # the sex of a passenger decided much of who survived: the strongest column, no leak
    titanic = typed_table("titanic.csv").drop(columns=["PassengerId", "Name", "Ticket"])
    survived = titanic.pop("Survived").to_numpy(dtype=int)
    review = review_leakage(titanic, survived, "binary", _kinds(titanic))
    assert review.findings == [], [f.message for f in review.findings]


def test_a_synthetic_strong_score_with_many_helpers_is_not_flagged() -> None:
    # a credit score that alone gives AUC ~0.85, with five weaker honest columns
    rng = np.random.default_rng(4)
    n = 3000
    score = rng.normal(size=n)
    others = rng.normal(size=(n, 5))
    logit = 2.2 * score + others @ np.array([0.4, 0.3, 0.3, 0.2, 0.2])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"credit_score": score, **{f"x{i}": others[:, i] for i in range(5)}})
    review = review_leakage(frame, y, "binary", _kinds(frame))
    assert review.findings == [], [f.message for f in review.findings]


def test_a_multiclass_leak_for_one_class_names_the_class() -> None:
    rng = np.random.default_rng(5)
    n = 1500
    X = rng.normal(size=(n, 4))
    y = np.argmax(X[:, :3] + rng.normal(scale=1.0, size=(n, 3)), axis=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    # 'refund_issued' is yes for 95% of class 2 ("returned") and 1% of the others
    frame["refund_issued"] = pd.Categorical(
        np.where(np.where(y == 2, rng.random(n) < 0.95, rng.random(n) < 0.01), "yes", "no")
    )
    review = review_leakage(
        frame, y, "multiclass", _kinds(frame), class_names=["kept", "exchanged", "returned"]
    )
    assert [f.column for f in review.findings] == ["refund_issued"]
    assert "of the 'returned' rows" in review.findings[0].message


def test_the_limits_are_applied_by_judge() -> None:
    rng = np.random.default_rng(6)
    n = 800
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"x": rng.normal(size=n) + y, "leak": y + rng.normal(0, 0.3, n)})
    review = review_leakage(frame, y, "binary", _kinds(frame))
    assert [f.column for f in review.findings] == ["leak"]
    never = Thresholds(drop_min=9, near_full_min=9, one_class_j=9)
    assert judge(review.measures, never) == []
    assert [f.column for f in judge(review.measures, THRESHOLDS)] == ["leak"]


def test_too_few_rows_are_not_reviewed() -> None:
    frame = pd.DataFrame({"x": np.arange(30.0)})
    review = review_leakage(frame, np.arange(30) % 2, "binary", _kinds(frame))
    assert review.findings == [] and "too few rows" in review.note


@needs_tables
def test_a_leak_reaches_the_record_the_report_and_the_summary(tmp_path: Path) -> None:
    from apprentice.config import Settings
    from apprentice.report.limits import risks
    from apprentice.workflows.run import run

    raw = text_table("telco_churn.csv", rows=1500, seed=2).drop(columns=["customerID"])
    y = (raw["Churn"] == "Yes").to_numpy().astype(int)
    raw["exit_interview_done"] = np.asarray(_exit_interview(y, seed=3))
    path = tmp_path / "attrition.csv"
    raw.to_csv(path, index=False)
    ws = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    result = run(
        path,
        target="Churn",
        track=False,
        settings=ws,
        time_budget=None,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
    )
    findings = result.leakage["findings"]
    assert [f["column"] for f in findings] == ["exit_interview_done"]
    assert findings[0]["severity"] == "high" and findings[0]["evidence"]["without_score"] < 0.9
    assert any(w.startswith("possible target leak (high): 'exit_interview_done'")
               for w in result.warnings)  # fmt: skip
    summary = "\n".join(result.summary_lines())
    assert "leak?      'exit_interview_done' (high): alone ROC AUC 0.9" in summary
    record = json.loads((result.path / "run.json").read_text(encoding="utf-8"))
    assert record["leakage"]["findings"][0]["column"] == "exit_interview_done"
    assert record["leakage"]["review"]["seconds"] > 0
    found = {r["title"]: r for r in risks(record)}
    leak = found["Possible target leak: exit_interview_done"]
    assert leak["level"] == "high" and "--drop-column exit_interview_done" in leak["detail"]
    assert not any(r["title"] == "Training warning" and "exit_interview" in r["detail"]
                   for r in risks(record))  # fmt: skip
    html = (result.path / "report.html").read_text(encoding="utf-8")
    assert "Possible target leak: exit_interview_done" in html
    assert len(pd.read_csv(path)) == 1500  # the input is untouched


def _titanic() -> tuple[pd.DataFrame, np.ndarray]:
    frame = typed_table("titanic.csv").drop(columns=["PassengerId", "Name", "Ticket"])
    return frame, frame.pop("Survived").to_numpy(dtype=int)


def _records_of_the_outcome(y: np.ndarray, seed: int) -> dict[str, Any]:
    """Three columns written after the voyage, each right for most passengers, each wrong for
    a few others (independent slips): every one tells who survived almost alone."""
    rng = np.random.default_rng(seed)
    n = len(y)

    def slip(share: float) -> np.ndarray:
        return np.where(rng.random(n) < share, 1 - y, y).astype(bool)

    boat = np.where(slip(0.04), rng.choice(["5", "7", "13", "C", "D"], n), None)
    rescued = np.where(slip(0.05), "yes", "no")
    landed = np.where(slip(0.05), rng.normal(30.0, 5.0, n).round(1), np.nan)
    return {
        "lifeboat": pd.Categorical(boat),
        "on_rescue_list": pd.Categorical(rescued),
        "hours_to_landing": landed,
    }


@needs_tables
def test_leaks_that_hide_each_other_are_found_by_dropping_them_together() -> None:
    frame, y = _titanic()
    before = frame.copy()
    planted = _records_of_the_outcome(y, seed=8)
    for name, values in planted.items():
        frame[name] = values
    review = review_leakage(frame, y, "binary", _kinds(frame), class_names=["died", "survived"])
    assert sorted(f.column for f in review.findings) == sorted(planted)
    for finding in review.findings:
        ev = finding.evidence
        assert "masking_group" in finding.rules and finding.severity == "high"
        assert sorted(ev["group"]) == sorted(planted)
        # one at a time, each costs little: the others stand in for it
        assert ev["full_score"] - ev["without_score"] < 0.05
        # all at once, the model falls back to what the honest columns know
        assert ev["full_score"] - ev["group_without_score"] > 0.1
        assert ev["outside_single_score"] < 0.85
        assert "without all of them" in finding.message
        assert f"--drop-column {finding.column}" in finding.message
    assert any(" + " in checked for checked in review.dropped_checked)
    pd.testing.assert_frame_equal(frame[before.columns], before)


@needs_tables
def test_a_single_record_of_the_outcome_is_not_a_group() -> None:
    # one such column is caught by the single-column rules; the honest ones stay unflagged
    frame, y = _titanic()
    frame["on_rescue_list"] = _records_of_the_outcome(y, seed=9)["on_rescue_list"]
    review = review_leakage(frame, y, "binary", _kinds(frame))
    assert [f.column for f in review.findings] == ["on_rescue_list"]
    assert "masking_group" not in review.findings[0].rules
    assert review.measures["group"] == []


def _four_classes(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Honest columns that tell classes 0, 1 and 2 apart, and class 3 from 2 only weakly."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centre = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [0.6, 3.4]])[y]
    X = centre + rng.normal(size=(n, 2))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": rng.normal(size=n) + 0.3 * y})
    return frame, y


def test_a_number_that_tells_one_class_apart_is_flagged_for_that_class() -> None:
    frame, y = _four_classes(2400, seed=10)
    rng = np.random.default_rng(11)
    # days until the refund: shorter for the 'returned' orders (class 3), recorded afterwards
    frame["days_to_refund"] = np.exp(3.0 - 2.0 * (y == 3) + rng.normal(0, 0.6, len(y)))
    names = ["kept", "exchanged", "repaired", "returned"]
    review = review_leakage(frame, y, "multiclass", _kinds(frame), class_names=names)
    assert [f.column for f in review.findings] == ["days_to_refund"]
    finding = review.findings[0]
    ev = finding.evidence
    assert "class_alone_near_full" in finding.rules and ev["class_alone"] == "returned"
    assert ev["class_single_score"] > 0.97 and ev["class_next_single_score"] < 0.9
    # over all four classes it is an ordinary column: the averaged rule alone cannot see it
    assert ev["single_score"] < 0.8
    assert "tells the 'returned' rows from the others with ROC AUC 0.9" in finding.message


def test_honest_columns_that_tell_classes_apart_are_not_flagged() -> None:
    # 'a' and 'b' each mark one class out well, with the other and 'c' adding to it
    frame, y = _four_classes(2400, seed=12)
    review = review_leakage(frame, y, "multiclass", _kinds(frame))
    assert review.findings == [], [f.message for f in review.findings]
    assert max(review.measures["single_by_class"]["1"].values()) > 0.8


@needs_tables
def test_penguin_species_from_their_measures_are_not_a_leak() -> None:
    # flipper length alone marks out the Gentoo penguins: a real, honest, strong feature
    frame = typed_table("penguins.csv")
    species = frame.pop("species").astype(str)
    y = pd.factorize(species, sort=True)[0]
    review = review_leakage(frame, y, "multiclass", _kinds(frame))
    assert review.findings == [], [f.message for f in review.findings]
    assert review.full_score is not None and review.full_score > 0.98


@needs_tables
def test_a_class_of_a_few_rows_is_not_marked_out_by_chance() -> None:
    # shuttle: 'A2' separates a class of 36 rows in 10,000 (about 14 in the review's sample);
    # too few rows to tell a leak from a coincidence: the one-class rule needs 30
    frame = typed_table("shuttle.csv", rows=10_000)
    y = pd.factorize(frame.pop("class").astype(str), sort=True)[0]
    review = review_leakage(frame, y, "multiclass", _kinds(frame))
    assert review.findings == [], [f.message for f in review.findings]
    assert review.rows == 4000 and review.full_score is not None and review.full_score > 0.99
