"""The reviewer's leakage checks on tables made for them: a post-outcome indicator for one
class (the exit-interview pattern), a noisy copy of a numeric target, and strong but
legitimate features that must not be flagged; then the findings through ``run``."""

from __future__ import annotations

import json
from pathlib import Path

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
