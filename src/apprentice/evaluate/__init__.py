"""The evaluate stage: holdout metrics with intervals, paired comparisons, calibration.

The package is also callable: ``apprentice.evaluate(bundle, labelled_frame)`` is
:func:`apprentice.evaluate.score.score` (a module attribute and a function cannot share the
name ``apprentice.evaluate``, so the module answers the call).
"""

import sys
import types
from typing import Any

from apprentice.decision import encode_labels
from apprentice.evaluate.calibration import Calibration, calibration
from apprentice.evaluate.compare import Comparison, paired_test
from apprentice.evaluate.metrics import (
    HOLDOUT_METRICS,
    Interval,
    holdout_metrics,
    metrics_to_dict,
    weighted_metric,
)
from apprentice.evaluate.score import Scores, score

__all__ = [
    "HOLDOUT_METRICS",
    "Calibration",
    "Comparison",
    "Interval",
    "Scores",
    "calibration",
    "encode_labels",
    "holdout_metrics",
    "metrics_to_dict",
    "paired_test",
    "score",
    "weighted_metric",
]


class _CallableModule(types.ModuleType):
    """``apprentice.evaluate(model, frame, ...)`` scores labelled rows (see :func:`score`)."""

    def __call__(self, model: Any, frame: Any, **options: Any) -> Scores:
        return score(model, frame, **options)


sys.modules[__name__].__class__ = _CallableModule
