"""A bundle written before the transforms moved into ``apprentice.features`` still loads and
predicts identically: frame, record and compiled serving paths, to 1e-12.

``tests/data/features/bundle_v1`` was trained (at fcec658, the commit before the move) on 240
real rows covering every feature kind: telco churn (booleans, categories, numbers), NYC taxi
pickup times (datetime) and SMS messages (text); an ensemble of LightGBM (tree view) and a
linear model (linear view, sparse TF-IDF). Its predictions were recorded then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.serve.compiled import CompiledModel
from tests.features._golden import DATA

BUNDLE = DATA / "bundle_v1"


def test_a_bundle_written_before_predicts_as_it_did(monkeypatch: pytest.MonkeyPatch) -> None:
    # written before bundles were signed: loaded as a bundle the user explicitly trusts
    monkeypatch.setenv("APPRENTICE_TRUST_BUNDLES", "1")
    recorded = np.load(DATA / "bundle_v1.predictions.npz")
    raw = pd.read_csv(DATA / "bundle_v1.rows.csv", dtype="str", keep_default_na=False)
    X = raw.drop(columns=["Churn"])
    bundle = load_bundle(BUNDLE)
    kinds = {c.kind for view in bundle.predictor.features.values() for c in view.columns}
    assert kinds == {"numeric", "boolean", "datetime", "categorical", "text"}
    records = X.to_dict("records")
    np.testing.assert_allclose(bundle.predict_proba(X), recorded["frame"], rtol=0, atol=1e-12)
    rows = np.vstack([bundle.predict_proba(r) for r in records])
    np.testing.assert_allclose(rows, recorded["rows"], rtol=0, atol=1e-12)
    compiled = CompiledModel(bundle)
    served = np.vstack([compiled.predict_record(r)[0] for r in records])
    np.testing.assert_allclose(served, recorded["compiled"], rtol=0, atol=1e-12)
