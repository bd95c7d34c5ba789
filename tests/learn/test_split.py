"""The holdout split and the folds inside training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apprentice.errors import ConfigError
from apprentice.learn.split import (
    SplitSpec,
    cv_folds,
    holdout_split,
    parse_split,
    parse_time,
)


def test_parse_split() -> None:
    assert parse_split(None) == SplitSpec("auto")
    assert parse_split("random") == SplitSpec("random")
    assert parse_split("group:patient") == SplitSpec("group", "patient")
    assert parse_split("time: when ") == SplitSpec("time", "when")
    for bad in ("group", "time:", "shuffle", "random:x"):
        with pytest.raises(ConfigError, match="not understood"):
            parse_split(bad)


def test_stratified_holdout_keeps_class_shares() -> None:
    y = np.array([0] * 90 + [1] * 10)
    train, test = holdout_split(100, SplitSpec("auto"), y=y, task="binary", test_size=0.2)
    assert len(test) == 20 and len(set(train) & set(test)) == 0
    assert y[test].sum() == 2


def test_group_split_keeps_groups_together() -> None:
    groups = np.repeat(np.arange(20), 5)
    y = np.arange(100) % 2
    train, test = holdout_split(
        100, SplitSpec("group", "g"), y=y, task="binary", groups=groups, seed=1
    )
    assert not set(groups[train]) & set(groups[test])
    folds = cv_folds(
        SplitSpec("group", "g"), y=y[train], task="binary", n_folds=3, groups=groups[train]
    )
    for tr, va in folds:
        assert not set(groups[train][tr]) & set(groups[train][va])


def test_time_split_holds_out_the_latest_rows_and_folds_never_train_on_the_future() -> None:
    times = np.random.default_rng(0).permutation(100).astype(float)
    y = np.arange(100) % 2
    train, test = holdout_split(100, SplitSpec("time", "t"), y=y, task="binary", times=times)
    assert times[train].max() < times[test].min()
    folds = cv_folds(
        SplitSpec("time", "t"), y=y[train], task="binary", n_folds=3, times=times[train]
    )
    for tr, va in folds:
        assert times[train][tr].max() < times[train][va].min()


def test_time_column_that_does_not_parse_is_an_error() -> None:
    good = pd.Series([f"2024-01-0{i % 9 + 1}" for i in range(50)])
    assert np.isfinite(parse_time(good, "when")).all()
    bad = pd.Series(["soon", "later", "2024-01-01"] * 20)
    with pytest.raises(ConfigError, match="does not parse") as info:
        parse_time(bad, "when")
    assert "soon" not in str(info.value)


def test_test_size_is_checked() -> None:
    with pytest.raises(ConfigError, match="between"):
        holdout_split(100, SplitSpec("random"), y=np.zeros(100), task="regression", test_size=0.9)
