"""Group fairness: hand-computed on a small frame, checked against Fairlearn on COMPAS."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from apprentice.errors import ConfigError
from apprentice.evaluate.fairness import (
    check_sensitive,
    fairness_report,
    suggest_sensitive,
    wilson,
)
from tests.learn._data import needs_tables, text_table


def _small() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    # group a: 6 rows, group b: 6 rows
    y_true = np.array([1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1])
    groups = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6})
    return y_true, y_pred, groups


def test_hand_computation_on_a_small_frame() -> None:
    y_true, y_pred, groups = _small()
    report = fairness_report(y_true, y_pred, groups, task="binary", min_group=1, n_boot=50)
    table = report.table.set_index("group")
    # a: predicted positive 3/6; TPR 2/3; FPR 1/3; accuracy 4/6
    # b: predicted positive 2/6; TPR 1/2; FPR 1/4; accuracy 4/6
    assert table.loc["a", "n"] == 6 and table.loc["b", "n"] == 6
    assert table.loc["a", "selection_rate"] == pytest.approx(3 / 6)
    assert table.loc["b", "selection_rate"] == pytest.approx(2 / 6)
    assert table.loc["a", "tpr"] == pytest.approx(2 / 3)
    assert table.loc["b", "tpr"] == pytest.approx(1 / 2)
    assert table.loc["a", "fpr"] == pytest.approx(1 / 3)
    assert table.loc["b", "fpr"] == pytest.approx(1 / 4)
    assert table.loc["a", "accuracy"] == pytest.approx(4 / 6)
    s = report.summary["g"]
    assert s["demographic_parity_difference"] == pytest.approx(1 / 6)
    assert s["demographic_parity_ratio"] == pytest.approx((2 / 6) / (3 / 6))
    assert s["equalized_odds_difference"] == pytest.approx(max(2 / 3 - 1 / 2, 1 / 3 - 1 / 4))
    # intervals around every rate
    low, high = table.loc["a", "selection_rate_low"], table.loc["a", "selection_rate_high"]
    assert low < 0.5 < high
    # and Fairlearn agrees
    assert s["fairlearn"]["demographic_parity_difference"] == pytest.approx(1 / 6)
    assert s["fairlearn"]["equalized_odds_difference"] == pytest.approx(1 / 6)
    json.dumps(report.to_dict())


def test_wilson_interval() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0


def test_small_groups_are_flagged_not_hidden() -> None:
    y_true, y_pred, groups = _small()
    groups = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 5 + [None]})
    report = fairness_report(y_true, y_pred, groups, task="binary", min_group=6)
    table = report.table.set_index("group")
    assert list(table.index) == ["a", "b", "(missing)"]
    assert not table.loc["a", "small"] and table.loc["b", "small"]
    s = report.summary["g"]
    assert s["small_groups"] == ["b", "(missing)"]
    assert s["judged_groups"] == 1 and s["demographic_parity_difference"] is None
    assert any("too small to judge" in n for n in report.notes)


@needs_tables
def test_compas_against_fairlearn() -> None:
    """COMPAS' own decile score (>= 5 means 'high risk') against two-year recidivism."""
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    frame = text_table("compas_two_year.csv")
    y_true = frame["two_year_recid"].astype(int).to_numpy()
    y_pred = (frame["decile_score"].astype(int) >= 5).astype(int).to_numpy()
    sensitive = frame[["race", "sex"]]
    report = fairness_report(y_true, y_pred, sensitive, task="binary", min_group=1, n_boot=100)
    for column in ("race", "sex"):
        mf = MetricFrame(
            metrics={"sel": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=frame[column],
        )
        ours = report.table[report.table["column"] == column].set_index("group")
        for group, row in mf.by_group.iterrows():
            assert ours.loc[group, "selection_rate"] == pytest.approx(row["sel"])
            assert ours.loc[group, "tpr"] == pytest.approx(row["tpr"])
            assert ours.loc[group, "fpr"] == pytest.approx(row["fpr"])
            assert ours.loc[group, "n"] == (frame[column] == group).sum()
        s = report.summary[column]
        for key in (
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equalized_odds_difference",
        ):
            assert s[key] == pytest.approx(s["fairlearn"][key]), (column, key)
        low, high = s["demographic_parity_difference_interval"]
        assert low <= s["demographic_parity_difference"] <= high
    # ProPublica's finding: a higher false positive rate for African-American defendants
    race = report.table[report.table["column"] == "race"].set_index("group")
    assert race.loc["African-American", "fpr_low"] > race.loc["Caucasian", "fpr_high"]


@needs_tables
def test_compas_small_groups_with_the_default_size() -> None:
    frame = text_table("compas_two_year.csv")
    y_true = frame["two_year_recid"].astype(int).to_numpy()
    y_pred = (frame["decile_score"].astype(int) >= 5).astype(int).to_numpy()
    report = fairness_report(y_true, y_pred, frame[["race"]], task="binary", n_boot=50)
    s = report.summary["race"]
    assert "Native American" in s["small_groups"]  # 18 people: flagged
    assert "Native American" in set(report.table["group"])  # and shown
    assert s["judged_groups"] == s["groups"] - len(s["small_groups"])


def test_group_names_mask_pii_but_not_categories() -> None:
    n = 40
    y = np.arange(n) % 2
    frame = pd.DataFrame(
        {
            "race": ["Native American"] * 3 + ["White"] * (n - 3),
            "name": [f"Mrs. Quintessa Zyxara{i}" if i else "Olga Smith" for i in range(n)],
            "doctor": ["Dr. Quentin Vale", "Dr. Mira Holt"] * (n // 2),
            "contact": ["x.person@example.org"] * n,
        }
    )
    report = fairness_report(y, y, frame, task="binary", n_boot=0, pii_columns=["doctor"])
    groups = set(report.table["group"])
    assert "Native American" in groups  # a category level, shown
    assert not any("Quintessa" in g or "Olga" in g for g in groups)  # a name per row: masked
    assert not any("Quentin" in g or "Mira" in g for g in groups)  # flagged as PII: masked
    assert not any("x.person" in g for g in groups)  # validated PII: always masked


def test_regression_errors_by_group() -> None:
    y_true = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0])
    y_pred = np.array([1.5, 2.0, 2.0, 4.0, 12.0, 16.0, 30.0, 50.0])
    groups = pd.DataFrame({"region": ["n"] * 4 + ["s"] * 4})
    report = fairness_report(y_true, y_pred, groups, task="regression", min_group=2, n_boot=100)
    table = report.table.set_index("group")
    assert table.loc["n", "mae"] == pytest.approx((0.5 + 0 + 1 + 0) / 4)
    assert table.loc["s", "mae"] == pytest.approx((2 + 4 + 0 + 10) / 4)
    assert table.loc["s", "mean_error"] == pytest.approx((2 - 4 + 0 + 10) / 4)
    s = report.summary["region"]
    assert s["mae_difference"] == pytest.approx(4.0 - 0.375)
    assert table.loc["s", "mae_low"] <= table.loc["s", "mae"] <= table.loc["s", "mae_high"]
    low, high = s["mae_difference_interval"]
    assert low <= s["mae_difference"] <= high


def test_multiclass_accuracy_by_group() -> None:
    y_true = np.array(["x", "y", "z", "x", "y", "z"])
    y_pred = np.array(["x", "y", "x", "x", "z", "z"])
    report = fairness_report(
        y_true, y_pred, pd.Series(["a", "a", "a", "b", "b", "b"], name="g"), task="multiclass",
        min_group=1, n_boot=20,
    )  # fmt: skip
    table = report.table.set_index("group")
    assert table.loc["a", "accuracy"] == pytest.approx(2 / 3)
    assert "selection_rate" not in report.table.columns
    assert any("multiclass" in n for n in report.notes)


def test_suggest_sensitive() -> None:
    columns = ["age", "age_cat", "sex", "race", "Gender", "isMale", "dob", "race1",
               "marital_status", "page", "usage", "percentage", "stage", "priors_count",
               "c_charge_desc", "storage"]  # fmt: skip
    assert suggest_sensitive(columns) == [
        "age", "age_cat", "sex", "race", "Gender", "isMale", "dob", "race1", "marital_status",
    ]  # fmt: skip


def test_bad_input() -> None:
    y_true, y_pred, groups = _small()
    with pytest.raises(ConfigError, match="sensitive column 'gender' is not in the table"):
        check_sensitive(["gender"], ["age", "sex", "race"])
    with pytest.raises(ConfigError, match="did you mean 'Sex'"):
        check_sensitive(["sex"], ["age", "Sex"])
    with pytest.raises(ConfigError, match="one value per row"):
        fairness_report(y_true[:5], y_pred, groups, task="binary")
    with pytest.raises(ConfigError, match="unknown task"):
        fairness_report(y_true, y_pred, groups, task="ranking")
    with pytest.raises(ConfigError, match="at least one column"):
        fairness_report(y_true, y_pred, pd.DataFrame(index=range(12)), task="binary")
    with pytest.raises(ConfigError, match="proba="):
        fairness_report(y_true, np.zeros((12, 2)), groups, task="binary")
