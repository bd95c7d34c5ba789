"""Monitoring statistics merged across chunks equal the whole-frame check."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.monitor import check
from apprentice.monitor.drift import ks_test, numeric_drift
from apprentice.monitor.partial import NumericPartial, check_chunks, iter_chunks
from tests.monitor.conftest import Monitored


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal JSON documents, numbers to 1e-9 (the Wasserstein distance to 2e-3)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for key in a:
            if key not in ("seconds", "checked_at"):
                assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert isinstance(b, float | int), path
        tol = 2e-3 if path.endswith("wasserstein") else 1e-9
        assert math.isclose(a, b, rel_tol=tol, abs_tol=tol), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


def test_chunks_equal_whole_frame_with_exact_ks(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    current = monitored.current  # small: the exact KS distribution, on the kept values
    whole = check(bundle, current).to_dict()
    chunked = check_chunks(bundle, _chunks(current, 230)).to_dict()
    assert_same(whole, chunked)
    assert whole["performance"]["windows"]  # labels present: performance compared too
    assert whole["estimated_performance"]["accuracy"] > 0


def test_chunks_equal_whole_frame_from_counts_with_drift(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    rows = pd.concat([monitored.reference, monitored.current], ignore_index=True)
    shifted = rows.copy()
    age = pd.to_numeric(shifted["age"], errors="coerce")
    shifted["age"] = (age * 1.4 + 3).round().astype("Int64").astype(str)
    shifted.loc[shifted.index[:300], "workclass"] = "Space-agency"
    whole = check(bundle, shifted).to_dict()
    chunked = check_chunks(bundle, _chunks(shifted, 900)).to_dict()
    assert_same(whole, chunked)
    drifted = {c["column"] for c in whole["drift"]["columns"] if c["drifted"]}
    assert "age" in drifted
    assert whole["alerts"]  # the same alerts (compared above), and there are some


def test_ks_statistic_from_counts_matches_the_sample_test() -> None:
    rng = np.random.default_rng(3)
    reference = np.round(rng.normal(0, 1, 3000), 1)  # ties on both sides
    ref = {
        "n": len(reference),
        "sample": np.sort(reference).tolist(),
        "edges": np.quantile(reference, np.linspace(0.1, 0.9, 9)).tolist(),
        "hist": [0.1] * 10,
        "scale": float(reference.std()),
    }
    current = np.round(rng.normal(0.3, 1.5, 5000), 1)
    parts = [NumericPartial.of(ref, c) for c in np.array_split(current, 4)]
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part, len(reference))
    assert total.exact is None  # 3,000 x 5,000 is beyond the exact test: counts decide
    got = total.drift("x", ref)
    want = numeric_drift("x", ref, current)
    d, _ = ks_test(np.sort(reference), np.sort(current))
    assert got.statistic == pytest.approx(d, abs=1e-12)
    assert got.p_value == pytest.approx(want.p_value, rel=1e-9, abs=1e-300)
    assert got.distance["psi"] == pytest.approx(want.distance["psi"], rel=1e-12)
    # from bins: close, not exact (values beyond the reference's range share tail bins)
    assert got.distance["wasserstein"] == pytest.approx(want.distance["wasserstein"], rel=5e-3)


def test_iter_chunks_reads_what_the_reader_reads(tmp_path: Path) -> None:
    from apprentice.read import read
    from tests.learn._data import TABLES

    source = TABLES / "adult.csv"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)[:2501]
    csv_path = tmp_path / "adult.csv"
    csv_path.write_text("".join(lines), encoding="utf-8")
    whole = read(str(csv_path)).table
    chunks = list(iter_chunks(csv_path, rows=700))
    assert [len(c) for c in chunks] == [700, 700, 700, 400]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)

    parquet_path = tmp_path / "adult.parquet"
    frame = pd.read_csv(csv_path, skipinitialspace=True)
    frame.to_parquet(parquet_path, row_group_size=1000)
    whole = read(str(parquet_path)).table
    chunks = list(iter_chunks(parquet_path, rows=600))
    assert len(chunks) > 1
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_unseen_categories_are_kept_apart_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from apprentice.monitor import partial
    from apprentice.monitor.profile import OTHER

    ref = {"counts": {"a": 50, "b": 30}}
    values = pd.Series(["a"] * 5 + ["b"] * 3 + ["x"] * 4 + ["y"] * 2 + ["z", "w"])
    whole = partial.CategoricalPartial.of(ref, values)
    assert whole.counts == {"a": 5, "b": 3, "x": 4, "y": 2, "z": 1, "w": 1}
    chunks = [partial.CategoricalPartial.of(ref, values[i : i + 5]) for i in range(0, 16, 5)]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged.merge(chunk)
    assert merged.counts == whole.counts
    monkeypatch.setattr(partial, "MAX_UNSEEN", 2)
    capped = partial.CategoricalPartial.of(ref, values)
    assert capped.counts == {"a": 5, "b": 3, "x": 4, "y": 2, OTHER: 2}
    # a reference that lumped its own tail lumps every category it did not keep
    lumped = partial.CategoricalPartial.of({"counts": {"a": 50, OTHER: 30}}, values)
    assert lumped.counts == {"a": 5, OTHER: 11}
