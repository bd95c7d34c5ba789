"""The ctypes LightGBM path gives lightgbm.Booster's numbers bit for bit, without importing
the lightgbm package (and so scikit-learn and SciPy)."""

from __future__ import annotations

import subprocess
import sys

import lightgbm as lgb
import numpy as np
import pytest
import scipy.sparse as sp

from apprentice.errors import BundleError
from apprentice.modelfiles.lightgbm_capi import Booster


def _trained(task: str, n_classes: int = 3) -> tuple[str, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 5] = rng.integers(0, 4, size=400)  # a categorical feature
    signal = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + (X[:, 5] == 2)
    if task == "regression":
        y, params = signal, {"objective": "regression"}
    elif task == "binary":
        y, params = (signal > 0.3).astype(int), {"objective": "binary"}
    else:
        y = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))
        params = {"objective": "multiclass", "num_class": n_classes}
    data = lgb.Dataset(X, y, categorical_feature=[5], free_raw_data=False)
    params |= {"verbose": -1, "num_threads": 1, "num_leaves": 7, "min_data_in_leaf": 5}
    booster = lgb.train(params, data, num_boost_round=15)
    return booster.model_to_string(), X


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_predictions_and_contributions_are_lightgbms_own(task: str) -> None:
    text, X = _trained(task)
    ours, theirs = Booster(text), lgb.Booster(model_str=text)
    for matrix in (X, X.astype(np.float32), X[:1], np.nan_to_num(X).astype(np.int64)):
        expected = theirs.predict(matrix, num_threads=1)
        got = ours.predict(matrix, num_threads=1)
        assert got.shape == expected.shape
        assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(
        ours.predict(X, raw_score=True), theirs.predict(X, raw_score=True), equal_nan=True
    )
    for threads in (0, 2):
        assert np.array_equal(ours.predict(X, num_threads=threads), theirs.predict(X))
    expected = theirs.predict(X[:50], pred_contrib=True, num_threads=1)
    assert np.array_equal(ours.contributions(X[:50], num_threads=1), expected)
    csr = sp.csr_matrix(np.nan_to_num(X))
    assert np.array_equal(ours.predict(csr), theirs.predict(csr))
    assert np.array_equal(ours.contributions(csr), theirs.predict(csr.toarray(), pred_contrib=True))
    assert ours.num_model_per_iteration() == theirs.num_model_per_iteration()


def test_empty_batch_and_wrong_width() -> None:
    text, X = _trained("multiclass")
    booster = Booster(text)
    assert booster.predict(X[:0]).shape == (0, 3)
    with pytest.raises(BundleError, match="expects 6 features"):
        booster.predict(X[:, :4])


def test_lightgbm_refusal_keeps_its_message() -> None:
    with pytest.raises(BundleError, match="LightGBM refused the call"):
        Booster("tree\nversion=v4\nnum_class=1\n")


def test_loading_a_bundle_model_imports_no_lightgbm_package() -> None:
    text, _ = _trained("binary")
    code = (
        "import sys\n"
        "from apprentice.modelfiles.lightgbm_capi import Booster\n"
        f"b = Booster({text!r})\n"
        "import numpy as np\n"
        "print(b.predict(np.zeros((2, 6))).shape)\n"
        "print(sorted(m for m in ('lightgbm', 'sklearn', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "(2,)"
    assert out[1] == "[]"
