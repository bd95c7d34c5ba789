"""The watch loop's retrain budget: where the number comes from, and what is refused."""

from __future__ import annotations

import math

import pytest

from apprentice.errors import ConfigError
from apprentice.workflows.watch import (
    MIN_RETRAIN_BUDGET,
    WatchOptions,
    retrain_budget,
)


def test_the_option_first_then_the_champions_budget_then_its_training_time() -> None:
    trained = {"time_budget": 120, "timings": {"search": 50.0, "refit": 10.0}}
    assert retrain_budget(WatchOptions(retrain_budget=45), trained) == (45.0, "--retrain-budget")
    assert retrain_budget(WatchOptions(), trained) == (120.0, "the champion's time budget")
    # trained without a budget (bounded by trials): 3 x what its training took
    by_trials = {"time_budget": None, "max_trials": 0, "timings": {"search": 50.0, "fit": 10.0}}
    budget, source = retrain_budget(WatchOptions(), by_trials)
    assert budget == 180.0 and "3 x the champion's training (60.0 s)" in source
    # ... but never under the least a retrain needs, nor unbounded when nothing was recorded
    quick = {"timings": {"search": 2.5}}
    assert retrain_budget(WatchOptions(), quick)[0] == MIN_RETRAIN_BUDGET
    assert retrain_budget(WatchOptions(), {})[0] == MIN_RETRAIN_BUDGET


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan, math.inf])
def test_a_budget_that_is_not_a_positive_number_of_seconds_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="is not a positive number of seconds") as caught:
        WatchOptions(retrain_budget=bad)
    assert "--retrain-budget" in caught.value.message
