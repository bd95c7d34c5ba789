"""LightGBM's Dask estimators on a real 2-worker LocalCluster, against in-process LightGBM.

Each task: a template ``apprentice.train`` run on a 1,000-row sample, the full rows cleaned
with the template's recipe into a multi-partition dask DataFrame, then
``train_lightgbm_on_dask``. The same split, recomputed in pandas, gives the in-process
reference fit (same parameters, same rows, same rounds) and the raw holdout rows the written
bundle must predict exactly as the partition-wise predictions behind the metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests._tables import table_path

pytest.importorskip("distributed")
pytest.importorskip("lightgbm")


SAMPLE = 1000
PARTITIONS = 6


def _bank(n: int) -> tuple[pd.DataFrame, str]:
    import pyarrow.csv as pc

    raw = pc.read_csv(table_path("bank_marketing.csv")).to_pandas()
    raw = raw.drop(columns=["duration"])  # known after the call: a target leak (MANIFEST)
    rows = np.random.default_rng(0).permutation(len(raw))[:n]
    return raw.iloc[np.sort(rows)].reset_index(drop=True), "deposit"


def _flights(n: int) -> tuple[pd.DataFrame, str]:
    import pyarrow.parquet as pq

    table = pq.read_table(table_path("flights_3m.parquet"))
    rows = np.sort(np.random.default_rng(0).choice(table.num_rows, n, replace=False))
    return table.take(rows).to_pandas().reset_index(drop=True), "delay"


def _cleaned(template: Any, raw: pd.DataFrame, target: str, task: str) -> pd.DataFrame:
    """What the clean stage hands over: the template's recipe applied, the target typed."""
    from apprentice.bundle.cleaning import clean_frame

    typed = clean_frame(template.bundle.cleaner, raw[template.bundle.input_columns])
    if task == "binary":  # the clean stage types a yes/no column as boolean
        labels = raw[target].astype(str).str.strip().str.lower()
        typed[target] = labels.map({"yes": True, "no": False}).astype("boolean")
    else:
        typed[target] = raw[target].astype("float64")
    return typed


def _run(dask_client: Any, tmp: Path, loader: Any, n: int, task: str) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import get_task_stream

    import apprentice
    from apprentice.scale import clean_with_template, compute, train_lightgbm_on_dask

    raw, target = loader(n)
    sample = raw.sample(SAMPLE, random_state=1).reset_index(drop=True)
    template = apprentice.train(
        sample,
        target=target,
        time_budget=None,
        max_trials=0,
        families=["lightgbm"],
        ensemble=False,
        n_boot=50,
        out=tmp / "template",
    )
    if task == "binary":  # cleaned in pandas, the target typed as the clean stage types it
        cleaned = _cleaned(template, raw, target, task)
        data = dd.from_pandas(cleaned, npartitions=PARTITIONS, sort=False)
    else:  # raw rows cleaned on the workers with the template's recipe
        raw_data = dd.from_pandas(raw, npartitions=PARTITIONS, sort=False)
        data = clean_with_template(raw_data, template)
        cleaned = compute(dask_client, data)[0]
        expected = _cleaned(template, raw, target, task)
        pd.testing.assert_frame_equal(
            cleaned.reset_index(drop=True).drop(columns=[target]), expected.drop(columns=[target])
        )
        np.testing.assert_array_equal(cleaned[target].to_numpy(float), expected[target])
    with get_task_stream(client=dask_client) as stream:
        result = train_lightgbm_on_dask(
            data,
            target=target,
            template=template,
            client=dask_client,
            out=tmp / "dask_bundle",
            seed=3,
            n_boot=200,
        )
    return {
        "raw": raw,
        "target": target,
        "template": template,
        "cleaned": cleaned,
        "result": result,
        "tasks": stream.data,
    }


@pytest.fixture(scope="module")
def binary_run(dask_client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(dask_client, tmp_path_factory.mktemp("lgb_binary"), _bank, 16_000, "binary")


@pytest.fixture(scope="module")
def regression_run(dask_client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(
        dask_client, tmp_path_factory.mktemp("lgb_regression"), _flights, 20_000, "regression"
    )


def _split(run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The side of every row and its usable-target mask, recomputed in pandas."""
    from apprentice.scale.lightgbm import split_assignment

    result, cleaned, target = run["result"], run["cleaned"], run["target"]
    split = result.bundle.manifest["split"]
    side = split_assignment(
        cleaned,
        seed=split["seed"],
        test_size=split["test_size"],
        validation_size=split["validation_size"],
    )
    usable = cleaned[target].notna().to_numpy()
    return side, usable


def _in_process(run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """In-process LightGBM: same parameters, rows, features and rounds; holdout y and output."""
    import lightgbm as lgb

    from apprentice.bundle.runtime import FeatureRuntime
    from apprentice.learn.models import lightgbm_params
    from apprentice.scale.lightgbm import HOLDOUT, TRAIN, _lightgbm_choice, _tree_spec

    result, template, cleaned, target = (
        run["result"],
        run["template"],
        run["cleaned"],
        run["target"],
    )
    side, usable = _split(run)
    spec = _tree_spec(template)
    assert spec is not None
    runtime = FeatureRuntime(spec)
    y_all = cleaned[target].astype("float64").to_numpy()
    train = (side == TRAIN) & usable
    test = (side == HOLDOUT) & usable
    assert int(train.sum()) == result.n_train  # the partition-wise split is exact
    assert int(test.sum()) == result.n_holdout
    choice = _lightgbm_choice(template)
    n_classes = int(template.bundle.manifest.get("n_classes") or 0)
    params = lightgbm_params(choice.config, result.task, n_classes, 1, 3)
    booster = lgb.train(
        params,
        lgb.Dataset(
            runtime.transform(cleaned[train]),
            label=y_all[train],
            categorical_feature=list(spec.get("categorical_indices", [])) or "auto",
        ),
        num_boost_round=result.rounds,
    )
    raw = booster.predict(runtime.transform(cleaned[test]))
    pred = np.column_stack([1 - raw, raw]) if result.task == "binary" else raw
    return y_all[test], pred


def _workers_used(run: dict[str, Any], name: str) -> set[str]:
    return {t["worker"] for t in run["tasks"] if name in str(t["key"])}


def test_binary_trains_on_both_workers_with_the_dask_estimator(binary_run: dict[str, Any]) -> None:
    result = binary_run["result"]
    assert len(result.workers) == 2
    # lightgbm.dask submits one _train_part per worker holding training partitions
    assert _workers_used(binary_run, "_train_part") == set(result.workers)
    training = result.bundle.manifest["training"]
    assert training["estimator"] == "lightgbm.DaskLGBMClassifier"
    assert training["engine"] == "dask"
    assert training["rows"] == result.n_train
    assert training["sample_rows"] == binary_run["template"].bundle.manifest["split"]["train_rows"]
    assert training["sample_rows"] < SAMPLE < result.n_train
    assert training["partitions"] == PARTITIONS
    assert 1 <= result.rounds <= result.rounds_trained
    assert result.n_train + result.n_validation + result.n_holdout == len(binary_run["cleaned"])


def test_binary_quality_matches_in_process_lightgbm(binary_run: dict[str, Any]) -> None:
    from apprentice.evaluate import holdout_metrics

    result = binary_run["result"]
    y, pred = _in_process(binary_run)
    np.testing.assert_array_equal(y.astype(np.int64), result.holdout_y)
    local = holdout_metrics("binary", y.astype(np.int64), pred, n_boot=10)
    dask_auc = result.metrics["roc_auc"].value
    assert dask_auc > 0.7  # a real model, far from the 0.5 of a constant
    # not bit-equal: data-parallel LightGBM bins per worker, and the sample's champion
    # (extra_trees, feature sampling) draws its randomness per worker, with partitions placed
    # by the scheduler, so two Dask runs differ like two seeds; seen: |diff| up to 0.017
    assert abs(dask_auc - local["roc_auc"].value) < 0.03
    assert abs(result.metrics["log_loss"].value - local["log_loss"].value) < 0.015
    low, high = result.metrics["roc_auc"].low, result.metrics["roc_auc"].high
    assert low < dask_auc < high


def test_binary_bundle_predicts_raw_rows_like_the_metrics(binary_run: dict[str, Any]) -> None:
    import apprentice
    from apprentice.scale.lightgbm import HOLDOUT

    result = binary_run["result"]
    bundle = apprentice.load_bundle(result.path)  # every file checked against its SHA-256
    assert bundle.task == "binary"
    assert bundle.classes == ["no", "yes"]
    assert bundle.manifest["model"]["members"][0]["kind"] == "lightgbm"
    assert (result.path / "model_0.txt").read_text().startswith("tree")
    side, usable = _split(binary_run)
    raw_holdout = binary_run["raw"][(side == HOLDOUT) & usable].reset_index(drop=True)
    proba = bundle.predict_proba(raw_holdout)  # raw text-typed rows, target column included
    np.testing.assert_allclose(proba, result.holdout_pred, rtol=0, atol=1e-12)
    labels = bundle.predict(raw_holdout.head(3))
    assert set(labels) <= {"no", "yes"}
    record = raw_holdout.iloc[0].to_dict()  # one raw record: the serving path
    np.testing.assert_allclose(bundle.predict_proba(record)[0], result.holdout_pred[0], atol=1e-9)


def test_bundle_refuses_tampering(binary_run: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    import apprentice
    from apprentice.errors import BundleError

    copy = tmp_path / "copy"
    shutil.copytree(binary_run["result"].path, copy)
    with (copy / "model_0.txt").open("a") as handle:
        handle.write("\n")
    with pytest.raises(BundleError, match="SHA-256"):
        apprentice.load_bundle(copy)


def test_regression_on_dask_matches_in_process(regression_run: dict[str, Any]) -> None:
    import apprentice
    from apprentice.evaluate import holdout_metrics
    from apprentice.scale.lightgbm import HOLDOUT

    result = regression_run["result"]
    assert result.task == "regression"
    assert _workers_used(regression_run, "_train_part") == set(result.workers)
    assert result.bundle.manifest["training"]["estimator"] == "lightgbm.DaskLGBMRegressor"
    y, pred = _in_process(regression_run)
    np.testing.assert_array_equal(y, result.holdout_y)
    local = holdout_metrics("regression", y, pred, n_boot=10)
    constant = float(np.sqrt(np.mean((y - y.mean()) ** 2)))
    assert result.metrics["rmse"].value < constant  # better than predicting the mean
    assert abs(result.metrics["rmse"].value - local["rmse"].value) < 0.02 * constant
    bundle = apprentice.load_bundle(result.path)
    side, usable = _split(regression_run)
    raw_holdout = regression_run["raw"][(side == HOLDOUT) & usable].reset_index(drop=True)
    np.testing.assert_allclose(bundle.predict(raw_holdout), result.holdout_pred, atol=1e-9)


def test_split_is_deterministic_and_independent_of_partitioning() -> None:
    from apprentice.scale.lightgbm import HOLDOUT, TRAIN, VALIDATION, split_assignment

    frame = pd.DataFrame({"a": np.arange(20_000) % 97, "b": np.arange(20_000).astype(str)})
    whole = split_assignment(frame, seed=5, test_size=0.2, validation_size=0.1)
    parts = np.concatenate(
        [
            split_assignment(frame.iloc[i : i + 3000], seed=5, test_size=0.2, validation_size=0.1)
            for i in range(0, len(frame), 3000)
        ]
    )
    np.testing.assert_array_equal(whole, parts)
    shares = np.bincount(whole, minlength=3) / len(frame)
    assert abs(shares[HOLDOUT] - 0.2) < 0.015
    assert abs(shares[VALIDATION] - 0.1) < 0.015
    assert abs(shares[TRAIN] - 0.7) < 0.015
    other = split_assignment(frame, seed=6, test_size=0.2, validation_size=0.1)
    assert (other != whole).mean() > 0.2  # the seed matters


def test_a_template_without_lightgbm_is_refused(dask_client: Any, tmp_path: Path) -> None:
    import dask.dataframe as dd

    import apprentice
    from apprentice.errors import ConfigError
    from apprentice.scale import train_lightgbm_on_dask

    raw, target = _bank(1500)
    template = apprentice.train(
        raw.iloc[:600],
        target=target,
        time_budget=None,
        max_trials=0,
        families=["linear"],
        ensemble=False,
        n_boot=20,
        out=tmp_path / "linear",
    )
    data = dd.from_pandas(_cleaned(template, raw, target, "binary"), npartitions=2)
    with pytest.raises(ConfigError, match="no LightGBM candidate"):
        train_lightgbm_on_dask(
            data, target=target, template=template, client=dask_client, out=tmp_path / "b"
        )
    assert not (tmp_path / "b").exists()


def test_labels_are_matched_to_the_template_classes() -> None:
    from apprentice.scale.lightgbm import _class_lookup, _encode_target

    lookup = _class_lookup(["no", "yes"])
    booleans = pd.Series([True, False, None], dtype="boolean")
    np.testing.assert_array_equal(_encode_target(booleans, "binary", lookup), [1, 0, -1])
    text = pd.Series([" Yes", "no.", "maybe", None], dtype="str")
    np.testing.assert_array_equal(_encode_target(text, "binary", lookup), [1, 0, -1, -1])
    categories = pd.Series(["yes", None, "no"], dtype="category")
    np.testing.assert_array_equal(_encode_target(categories, "binary", lookup), [1, -1, 0])
    numbers = _class_lookup([0, 1, 2])
    floats = pd.Series([2.0, 0.0, np.nan])
    np.testing.assert_array_equal(_encode_target(floats, "multiclass", numbers), [2, 0, -1])
    values = _encode_target(pd.Series(["1.5", "x", None]), "regression", {})
    np.testing.assert_array_equal(np.isnan(values), [False, True, True])
