"""The one decision rule (probabilities to classes) that training, evaluation and serving share."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from apprentice.decision import check_threshold, decide

probabilities = st.floats(min_value=0.0, max_value=1.0)


@given(
    p1=arrays(np.float64, st.integers(0, 50), elements=probabilities),
    threshold=st.floats(min_value=0.001, max_value=0.999),
)
def test_binary_rows_are_positive_from_the_threshold_on(p1: np.ndarray, threshold: float) -> None:
    proba = np.column_stack([1 - p1, p1])
    labels = decide(proba, threshold)
    assert labels.dtype == np.int64 and len(labels) == len(p1)
    assert np.array_equal(labels == 1, p1 >= threshold)
    if len(p1):
        assert decide(proba[0], threshold).tolist() == [int(p1[0] >= threshold)]  # one row


@given(
    proba=arrays(
        np.float64, st.tuples(st.integers(1, 30), st.integers(3, 6)), elements=probabilities
    )
)
def test_more_than_two_classes_take_the_most_probable(proba: np.ndarray) -> None:
    assert np.array_equal(decide(proba, 0.3), proba.argmax(axis=1))  # a threshold is ignored
    assert np.array_equal(decide(proba), proba.argmax(axis=1))


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.2, float("nan"), float("inf"), "x", None])
def test_a_threshold_must_lie_strictly_between_0_and_1(bad: object) -> None:
    with pytest.raises(ValueError, match="decision threshold must"):
        check_threshold(bad)
    assert check_threshold("0.25") == 0.25
