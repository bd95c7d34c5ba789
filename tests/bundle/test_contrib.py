"""Per-row contributions in the bundle runtime: exact sums, raw column names, every model kind."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from apprentice.bundle.cleaning import as_text_frame, clean_frame
from apprentice.bundle.contrib import contributions, explain_rows
from apprentice.errors import BundleError
from tests.explain import _bundles as B
from tests.learn._data import needs_tables

pytestmark = needs_tables


def _holdout(n: int = 200):  # type: ignore[no-untyped-def]
    _, holdout = B.adult_rows()
    return holdout.drop(columns=["income"]).iloc[:n]


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def test_lightgbm_contributions_sum_to_the_raw_margin() -> None:
    result = B.adult_lightgbm()
    bundle = result.bundle
    rows = _holdout()
    c = contributions(bundle, rows)
    assert c.space == "log_odds" and c.method == "tree_shap"
    # the booster's own raw score on the bundle's feature matrix
    typed = clean_frame(bundle.cleaner, as_text_frame(bundle._select(rows)))
    X = bundle.predictor.features["tree"].transform(typed)
    raw = bundle.predictor.members[0][0].booster.predict(X, raw_score=True)
    np.testing.assert_allclose(c.base + c.values.sum(axis=1), raw, atol=1e-8)
    np.testing.assert_allclose(c.output, _logit(bundle.predict_proba(rows)[:, 1]), atol=1e-6)
    # raw names only: every column is one the user's file has
    assert set(c.columns) <= set(bundle.input_columns)
    assert {"age", "education", "marital_status"} <= set(c.columns)
    assert not any("=" in name or "__" in name for name in c.columns)


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier:UserWarning")
def test_lightgbm_matches_shap_tree_explainer() -> None:
    shap = pytest.importorskip("shap")
    bundle = B.adult_lightgbm().bundle
    rows = _holdout(50)
    typed = clean_frame(bundle.cleaner, as_text_frame(bundle._select(rows)))
    features = bundle.predictor.features["tree"]
    X = features.transform(typed)
    lgb = pytest.importorskip("lightgbm")
    (model_file,) = sorted(bundle.path.glob("model_*.txt"))
    booster = lgb.Booster(model_str=model_file.read_text(encoding="utf-8"))
    sv = np.asarray(shap.TreeExplainer(booster).shap_values(X))
    # one engineered column per raw column in the tree view: compare column by column
    names = [col.name for col in features.columns]
    c = contributions(bundle, rows)
    ours = c.frame()[names].to_numpy()
    np.testing.assert_allclose(ours, sv, atol=1e-6)


def test_explain_rows_top_contributions_in_raw_names() -> None:
    bundle = B.adult_lightgbm().bundle
    rows = _holdout(5)
    out = bundle.explain(rows, top=3)
    assert len(out) == 5
    for i, row in enumerate(out):
        assert row["space"] == "log_odds"
        assert row["explained_class"] == bundle.classes[1]
        assert len(row["contributions"]) == 3
        sizes = [abs(item["contribution"]) for item in row["contributions"]]
        assert sizes == sorted(sizes, reverse=True)
        total = row["base_value"] + sum(x["contribution"] for x in row["contributions"])
        assert total + row["rest"] == pytest.approx(row["output"], abs=1e-9)
        for item in row["contributions"]:
            assert item["feature"] in bundle.input_columns
            assert item["value"] == rows.iloc[i][item["feature"]]  # the raw cell as given
        assert row["prediction"] == bundle.predict(rows.iloc[[i]])[0]
    json.dumps(out)  # plain data for a server


def test_one_record_fast_path_matches_the_frame_path() -> None:
    bundle = B.adult_ensemble().bundle
    rows = _holdout(3)
    many = bundle.explain(rows, top=20)
    for i in range(3):
        one = bundle.explain(rows.iloc[i].to_dict(), top=20)
        assert len(one) == 1
        assert one[0]["output"] == pytest.approx(many[i]["output"], abs=1e-9)
        a = {x["feature"]: x["contribution"] for x in one[0]["contributions"]}
        b = {x["feature"]: x["contribution"] for x in many[i]["contributions"]}
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == pytest.approx(b[k], abs=1e-9)
    records = rows.to_dict(orient="records")
    assert [r["output"] for r in bundle.explain(records)] == pytest.approx(
        [r["output"] for r in many], abs=1e-9
    )


def test_ensemble_contributions_sum_to_the_probability() -> None:
    result = B.adult_ensemble()
    bundle = result.bundle
    rows = _holdout()
    c = contributions(bundle, rows)
    proba = bundle.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(c.output, proba, atol=1e-9)
    if len(bundle.predictor.members) > 1:
        assert c.space == "probability"
        assert c.method == "linear+tree_shap"


def test_linear_contributions_are_coefficient_times_value() -> None:
    bundle = B.blood_linear().bundle
    from tests.learn._data import text_table

    rows = text_table("blood_transfusion.csv").drop(columns=["Class"]).iloc[:100]
    c = contributions(bundle, rows)
    assert c.space == "log_odds" and c.method == "linear"
    model = bundle.predictor.members[0][0]
    typed = clean_frame(bundle.cleaner, as_text_frame(bundle._select(rows)))
    X = bundle.predictor.features["linear"].transform(typed)
    np.testing.assert_allclose(c.base, model.intercept[0])
    np.testing.assert_allclose(c.values.sum(axis=1), X @ model.coef[0], atol=1e-9)
    np.testing.assert_allclose(c.output, _logit(bundle.predict_proba(rows)[:, 1]), atol=1e-6)
    assert set(c.columns) <= {"Recency", "Frequency", "Monetary", "Time"}


def test_forest_path_attribution_sums_to_the_probability() -> None:
    bundle = B.blood_forest().bundle
    from tests.learn._data import text_table

    rows = text_table("blood_transfusion.csv").drop(columns=["Class"]).iloc[:60]
    c = contributions(bundle, rows)
    assert c.space == "probability" and c.method == "saabas"
    np.testing.assert_allclose(c.output, bundle.predict_proba(rows)[:, 1], atol=1e-9)


def test_multiclass_explains_the_predicted_class_or_the_one_asked() -> None:
    bundle = B.penguins_lightgbm().bundle
    from tests.learn._data import text_table

    rows = text_table("penguins.csv").drop(columns=["species"]).iloc[::20]
    c = contributions(bundle, rows)
    assert c.space == "margin"
    assert c.explained == list(bundle.predict(rows))
    typed = clean_frame(bundle.cleaner, as_text_frame(bundle._select(rows)))
    X = bundle.predictor.features["tree"].transform(typed)
    raw = bundle.predictor.members[0][0].booster.predict(X, raw_score=True)
    assert c.class_index is not None
    np.testing.assert_allclose(c.output, raw[np.arange(len(rows)), c.class_index], atol=1e-8)
    chosen = bundle.classes[0]
    fixed = contributions(bundle, rows, target_class=chosen)
    np.testing.assert_allclose(fixed.output, raw[:, 0], atol=1e-8)
    with pytest.raises(BundleError, match="not one of the model's classes"):
        contributions(bundle, rows, target_class="Dodo")


def test_regression_contributions_sum_to_the_prediction() -> None:
    model, holdout = B.housing()
    bundle = model.bundle
    rows = holdout.drop(columns=["median_house_value"]).iloc[:100]
    c = contributions(bundle, rows)
    assert c.space == "value"
    np.testing.assert_allclose(c.output, bundle.predict(rows), rtol=1e-9, atol=1e-6)
    out = explain_rows(bundle, rows.iloc[:2], top=2)
    assert "explained_class" not in out[0]
    assert isinstance(out[0]["prediction"], float)


def test_bad_input() -> None:
    bundle = B.adult_lightgbm().bundle
    with pytest.raises(BundleError, match="top"):
        bundle.explain(_holdout(2), top=-1)
    with pytest.raises(BundleError, match="DataFrame, a record"):
        bundle.explain("age=40")
    assert bundle.explain(_holdout(0)) == []
    assert contributions(bundle, _holdout(0)).values.shape == (0, len(bundle.input_columns))
    out = bundle.explain({"age": "40", "not_a_column": "x"}, top=2)  # absent columns: missing
    assert len(out) == 1 and len(out[0]["contributions"]) == 2


def test_explaining_imports_neither_learn_evaluate_explain_nor_shap() -> None:
    bundle = B.adult_ensemble().bundle
    code = (
        "import sys\n"
        "from apprentice.bundle import load_bundle\n"
        f"b = load_bundle({str(bundle.path)!r})\n"
        "out = b.explain({'age': '39', 'workclass': 'Private', 'education': 'Bachelors'})\n"
        "assert out[0]['contributions']\n"
        "bad = [m for m in sys.modules if m.startswith(('apprentice.learn', "
        "'apprentice.evaluate', 'apprentice.explain', 'apprentice.report', 'shap', "
        "'fairlearn', 'jinja2'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
