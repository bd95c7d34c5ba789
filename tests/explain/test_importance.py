"""Global importance: SHAP for trees, exact linear, permutation as the fallback; raw names."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from apprentice.errors import BundleError, ConfigError
from apprentice.explain import GlobalExplanation, explain_global
from tests.explain import _bundles as B
from tests.learn._data import needs_tables, text_table

pytestmark = needs_tables


def _check(g: GlobalExplanation, columns: list[str]) -> dict:
    doc = g.to_dict()
    json.dumps(doc)
    names = [i["feature"] for i in doc["importance"]]
    assert set(names) <= set(columns)
    values = [i["mean_abs"] for i in doc["importance"]]
    assert values == sorted(values, reverse=True)
    assert sum(i["share"] for i in doc["importance"]) == pytest.approx(1.0)
    return doc


def test_ensemble_global_importance_in_raw_names() -> None:
    bundle = B.adult_ensemble().bundle
    _, holdout = B.adult_rows()
    g = explain_global(bundle, holdout, max_rows=300, top=6, max_points=50)
    doc = _check(g, bundle.input_columns)
    assert g.method in ("tree_shap", "linear+tree_shap")
    assert g.n_rows == 300 and any("sample of 300" in n for n in g.notes)
    # the strong adult signals rank high
    assert {"relationship", "marital_status", "capital_gain", "age", "education_num"} & set(
        g.ranking[:4]
    )
    summary = doc["summary"]
    assert [s["feature"] for s in summary] == g.ranking[:6]
    by_name = {s["feature"]: s for s in summary}
    for s in summary:
        assert len(s["points"]) == 50
        colours = [p[1] for p in s["points"]]
        if s["kind"] == "numeric":
            assert all(c is None or 0.0 <= c <= 1.0 for c in colours)
        else:
            assert all(c is None for c in colours)
    if "age" in by_name:
        assert by_name["age"]["kind"] == "numeric"
    # no raw value of the data in the explanation (only names, numbers and ranks)
    text = json.dumps(doc)
    assert "Private" not in text and "Husband" not in text and "<script>" not in text


def test_lightgbm_global_is_tree_shap_in_log_odds() -> None:
    bundle = B.adult_lightgbm().bundle
    _, holdout = B.adult_rows()
    g = explain_global(bundle, holdout.iloc[:200])
    assert g.method == "tree_shap" and g.space == "log_odds"
    assert g.base_value is not None


def test_linear_model_global_is_linear() -> None:
    bundle = B.blood_linear().bundle
    frame = text_table("blood_transfusion.csv")
    g = explain_global(bundle, frame, frame["Class"])
    _check(g, ["Recency", "Frequency", "Monetary", "Time"])
    assert g.method == "linear"


def test_forest_uses_shap_tree_explainer() -> None:
    pytest.importorskip("shap")
    bundle = B.blood_forest().bundle
    frame = text_table("blood_transfusion.csv").iloc[:200]
    g = explain_global(bundle, frame)
    assert g.method == "tree_shap" and g.space == "probability"
    from apprentice.bundle.contrib import contributions
    from apprentice.explain.importance import _shap_hook

    c = contributions(bundle, frame.drop(columns=["Class"]), member_contrib=_shap_hook)
    np.testing.assert_allclose(c.output, bundle.predict_proba(frame)[:, 1], atol=1e-6)


def test_permutation_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    import apprentice.bundle.contrib as contrib

    def unsupported(*args: object, **kwargs: object) -> None:
        raise BundleError("per-row explanations are not available for a Test model")

    monkeypatch.setattr(contrib, "member_contributions", unsupported)
    bundle = B.blood_linear().bundle
    frame = text_table("blood_transfusion.csv")
    g = explain_global(bundle, frame, frame["Class"].to_numpy(), max_rows=400)
    assert g.method == "permutation" and g.space == "loss" and g.summary is None
    assert any("permutation" in n for n in g.notes)
    assert g.importance["mean_abs"].iloc[0] > 0
    no_y = explain_global(bundle, frame, max_rows=400)
    assert no_y.space == "prediction"
    assert set(no_y.ranking) == {"Recency", "Frequency", "Monetary", "Time"}


def test_bad_input() -> None:
    bundle = B.blood_linear().bundle
    frame = text_table("blood_transfusion.csv")
    with pytest.raises(ConfigError, match="at least one row"):
        explain_global(bundle, frame.iloc[:0])
    with pytest.raises(ConfigError, match="DataFrame"):
        explain_global(bundle, frame.to_dict(orient="records"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="y has"):
        explain_global(bundle, frame, frame["Class"].iloc[:3])
    with pytest.raises(ConfigError, match="max_rows"):
        explain_global(bundle, frame, max_rows=0)
    assert isinstance(explain_global(bundle, pd.DataFrame({"Recency": ["2"]})), GlobalExplanation)
