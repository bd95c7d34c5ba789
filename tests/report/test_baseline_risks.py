"""Risk levels earned by evidence: the champion not shown to beat the constant model is a high
risk; not shown to beat the linear model a medium one, or a note when the linear model is part
of the champion; the runner-up is no risk; every verdict is worded "no evidence that X beats Y"."""

from __future__ import annotations

from typing import Any

from apprentice.report import render_model_card, risks


def _comparison(role: str, b: str, *, better: bool, weight: float | None = None) -> dict[str, Any]:
    return {
        "a": "ensemble",
        "b": b,
        "role": role,
        "metric": "roc_auc",
        "value_a": 0.84,
        "value_b": 0.83,
        "difference": 0.01,
        "low": -0.004,
        "high": 0.025,
        "p_value": 0.09,
        "better": better,
        "weight": weight,
    }


def _levels(*comparisons: dict[str, Any]) -> dict[str, str]:
    found = risks({"comparisons": list(comparisons), "metrics": {"roc_auc": {"value": 0.84}}})
    return {r["title"]: r["level"] for r in found if "baseline" in r["title"]}


def test_levels_follow_the_evidence() -> None:
    assert _levels(_comparison("constant baseline", "dummy", better=False)) == {
        "No evidence of beating the constant baseline": "high"
    }
    assert _levels(_comparison("linear baseline", "linear", better=False)) == {
        "No evidence of beating the linear baseline": "medium"
    }
    member = _comparison("linear baseline", "linear", better=False, weight=0.64)
    assert _levels(member) == {"No evidence of beating the linear baseline": "note"}
    assert _levels(_comparison("runner-up", "lightgbm", better=False)) == {}
    assert (
        _levels(
            _comparison("constant baseline", "dummy", better=True),
            _comparison("linear baseline", "linear", better=True),
        )
        == {}
    )


def test_records_of_earlier_versions_keep_a_meaning() -> None:
    assert _levels(_comparison("baseline", "dummy", better=False)) == {
        "No evidence of beating the constant baseline": "high"
    }
    assert _levels(_comparison("baseline", "linear", better=False)) == {
        "No evidence of beating the linear baseline": "medium"
    }


def test_the_card_words_each_test_once_as_evidence() -> None:
    record = {
        "task": "binary",
        "comparisons": [
            _comparison("constant baseline", "dummy", better=True),
            _comparison("linear baseline", "linear", better=False, weight=0.64),
        ],
    }
    card = render_model_card(record)
    assert card.count("Against dummy (constant baseline): ensemble beats dummy;") == 1
    assert (
        card.count(
            "Against linear (linear baseline): no evidence that ensemble beats linear "
            "(linear is 64% of ensemble); roc\\_auc gain 0.01, 95% CI \\[-0.004, 0.025\\]"
        )
        == 1
    )
    assert "not shown" not in card


def test_the_leaderboard_names_each_baseline_once() -> None:
    from apprentice.report.render import context

    def row(model: str, family: str, score: float, status: str = "ok") -> dict[str, Any]:
        return {"model": model, "family": family, "cv_roc_auc": score, "cv_std": 0.01,
                "folds": 5, "status": status, "note": ""}  # fmt: skip

    board = [
        row("lightgbm_default", "lightgbm", 0.86),
        row("linear_trial_2", "linear", 0.84),
        row("linear", "linear", 0.83),
        row("dummy", "dummy", 0.5),
    ]
    rows = context({"metric": "roc_auc", "leaderboard": board})["leaderboard"]["rows"]
    notes = {r["model"]: r["note"] for r in rows}
    assert notes == {
        "lightgbm_default": "",
        "linear_trial_2": "linear baseline",
        "linear": "",
        "dummy": "constant baseline",
    }
