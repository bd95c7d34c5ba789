"""Time left after the portfolio turns into accuracy: a search given more time tunes more and
refits its champion as k-fold bags; the bagged model round-trips through the bundle without
pickle and predicts exactly what it predicted before it was written."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle, write_bundle
from apprentice.learn.search import BAG_MAX_MODELS, SearchResult, search

TASKS = {"binary": 2, "multiclass": 3, "regression": 0}
#: the module (``apprentice.learn.search`` is also the name of its function in the package)
search_module = importlib.import_module("apprentice.learn.search")


def _frame(n: int = 500, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.gamma(2.0, size=n),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue", "grey"], size=n)),
        }
    )
    frame.loc[::9, "x"] = np.nan
    frame.loc[::13, "colour"] = np.nan
    score = frame["x"].fillna(0).to_numpy() + (frame["colour"] == "red").to_numpy() * 1.5
    score = score + np.sin(3 * frame["z"].to_numpy())
    return frame, score + rng.normal(scale=0.5, size=n)


def _target(task: str, score: np.ndarray) -> np.ndarray:
    if task == "binary":
        return (score > 0.3).astype(np.int64)
    if task == "multiclass":
        return np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    return score


def _search(task: str, **options: object) -> tuple[SearchResult, pd.DataFrame]:
    frame, score = _frame()
    y = _target(task, score)
    train = frame.iloc[:400].reset_index(drop=True)
    result = search(
        train,
        y[:400],
        task=task,
        n_classes=TASKS[task],
        n_threads=1,
        **options,  # type: ignore[arg-type]
    )
    return result, frame.iloc[400:].reset_index(drop=True)


def _bundle(result: SearchResult, out: Path) -> Path:
    k = result.n_classes
    manifest = {
        "target": "y",
        "input_columns": ["x", "z", "colour"],
        "classes": [f"c{i}" for i in range(k)] if result.task != "regression" else None,
    }
    return write_bundle(out, export=result.final.export(), recipe_json=None, manifest=manifest)


@pytest.mark.parametrize("task", list(TASKS))
def test_the_bagged_champion_round_trips_without_pickle(task: str, tmp_path: Path) -> None:
    result, test = _search(
        task,
        time_budget=None,
        max_trials=0,
        families=("lightgbm",),
        ensemble=False,
        bagging=True,
    )
    k = len(result.folds)
    assert result.bagged == {result.champion: k}
    members = result.final.members
    assert len(members) == k
    assert all(m.config.name == result.champion for m, _ in members)
    assert sum(w for _, w in members) == pytest.approx(1.0)
    assert len({m.n_iterations for m, _ in members}) > 1, "each fold model stops on its own"
    note = result.leaderboard.set_index("model").loc[result.champion, "note"]
    assert f"bagged: {result.champion} ×{k}" in note

    expected = result.final.predict(test)
    fold_mean = np.mean(
        [m.predict(result.final.pipelines["tree"].transform(test)) for m, _ in members], axis=0
    )
    np.testing.assert_allclose(expected, fold_mean, rtol=0, atol=1e-12)

    path = _bundle(result, tmp_path / "bundle")
    stored = json.loads((path / "manifest.json").read_text())["model"]["members"]
    assert len(stored) == k and {m["kind"] for m in stored} == {"lightgbm"}
    for member in stored:
        data = (path / member["file"]).read_bytes()
        assert not data.startswith(b"\x80"), "a pickle protocol header"
        assert b"tree" in data[:200], "LightGBM's own text model format"
    bundle = load_bundle(path)
    got = bundle.predict_proba(test) if task != "regression" else bundle.predict(test)
    np.testing.assert_allclose(np.asarray(got, dtype=float), expected, rtol=0, atol=1e-12)
    for i in (0, 1, len(test) - 1):  # the one-record path
        record = {c: test.at[i, c] for c in test.columns}
        one = bundle.predict_proba(record) if task != "regression" else bundle.predict(record)
        np.testing.assert_allclose(np.ravel(one), np.ravel(expected[i]), rtol=0, atol=1e-12)


def test_without_a_budget_nothing_is_bagged_unless_asked() -> None:
    result, _ = _search(
        "binary", time_budget=None, max_trials=0, families=("lightgbm",), ensemble=False
    )
    assert result.bagged == {}
    assert len(result.final.members) == 1


@pytest.mark.parametrize("max_trees", [10**6, 1])
def test_time_left_after_the_portfolio_goes_to_bagging_then_tuning(
    max_trees: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generous budget (the trials capped, so the test does not wait for it): the champion
    is refitted as k-fold bags, the tuning runs, and the comparison-only families (here the
    extra trees: not a champion candidate) run after the tuning, not before it. A cap on the
    trees (single-row latency) that bagging would exceed leaves the champion unbagged."""
    monkeypatch.setattr(search_module, "BAG_MAX_TREES", max_trees)
    result, test = _search(
        "regression",
        time_budget=600.0,
        max_trials=3,
        families=("linear", "lightgbm", "extra_trees"),
    )
    if max_trees == 1:
        assert result.bagged == {}
        assert len(result.final.members) == len(result.members)
        return
    assert result.bagged, result.leaderboard[["model", "status", "note"]].to_string()
    assert sum(result.bagged.values()) <= BAG_MAX_MODELS
    k = len(result.folds)
    assert set(result.bagged.values()) == {k}
    names = {m.config.name for m, _ in result.final.members}
    assert set(result.bagged) <= names
    order = [c.name for c in result.candidates]
    trials = [n for n in order if "_trial_" in n]
    assert len(trials) == 3
    comparisons = [c.name for c in result.candidates if c.family == "extra_trees"]
    assert order.index(trials[-1]) < order.index(comparisons[0])
    assert result.final.predict(test.head(3)).shape == (3,)


def test_a_search_given_more_time_uses_it() -> None:
    """The longer budget fits more candidates; both stay within the budget's limit."""
    runs = {}
    for budget in (2.0, 15.0):
        start = time.monotonic()
        result, _ = _search("binary", time_budget=budget)
        assert time.monotonic() - start <= budget * 1.05 + 5
        runs[budget] = sum(c.ok for c in result.candidates)
    assert runs[15.0] > runs[2.0]
