"""The decision rule: class probabilities to predicted classes, and labels to class indices.

One copy for every stage that turns probabilities into labels (evaluation, the report, the
bundle, the API): a binary model predicts the positive class (index 1) when its probability
reaches the decision threshold, ``p1 >= threshold``; without a threshold, and for more than
two classes, the most probable class (the first one on a tie). numpy only, so serving can use
it without importing training or evaluation code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

#: the cut of a binary model when nothing else was chosen
DEFAULT_THRESHOLD = 0.5


def check_threshold(threshold: Any) -> float:
    """``threshold`` as a float strictly between 0 and 1, or ``ValueError`` saying why not."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"the decision threshold must be a number, not {threshold!r}") from None
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise ValueError(
            f"the decision threshold must lie strictly between 0 and 1 (got {threshold!r}): "
            "it is the probability of the positive class from which it is predicted"
        )
    return value


def decide(proba: Any, threshold: float | None = None) -> np.ndarray:
    """The predicted class index of each row of ``proba`` (``(n, k)``, or one row ``(k,)``).

    With two classes and a ``threshold``: ``1`` where ``proba[:, 1] >= threshold``, else
    ``0``. Otherwise the arg-max. Returns ``int64`` indices, one per row.
    """
    p = np.asarray(proba, dtype=float)
    if p.ndim == 1:
        p = p[None, :]
    if threshold is not None and p.shape[1] == 2:
        return (p[:, 1] >= threshold).astype(np.int64)
    if p.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(p.argmax(axis=1), dtype=np.int64)


def encode_labels(values: pd.Series, task: str, classes: list[Any] | None) -> np.ndarray:
    """Labels as class indices (``-1`` when unknown or missing) or floats (regression).

    Labels are matched as the cleaner writes them: spaces around, letter case and a final
    full stop do not count (``' >50K.'`` is ``'>50K'``). One copy for the monitor (labelled
    feedback) and the evaluate stage (``apprentice.evaluate``).
    """
    if task == "regression":
        return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)
    if classes is None:
        raise ValueError("a classification model without its classes cannot encode labels")
    lookup = {str(c).strip().casefold(): i for i, c in enumerate(classes)}
    text = values.astype("string").str.strip().str.casefold().str.rstrip(".")
    folded = {k.rstrip("."): v for k, v in lookup.items()}
    return np.asarray([folded.get(v, -1) if isinstance(v, str) else -1 for v in text], dtype=int)
