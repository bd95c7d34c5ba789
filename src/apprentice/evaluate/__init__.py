"""The evaluate stage: holdout metrics with intervals, paired comparisons, calibration."""

from apprentice.evaluate.calibration import Calibration, calibration
from apprentice.evaluate.compare import Comparison, paired_test
from apprentice.evaluate.metrics import (
    HOLDOUT_METRICS,
    Interval,
    holdout_metrics,
    metrics_to_dict,
    weighted_metric,
)

__all__ = [
    "HOLDOUT_METRICS",
    "Calibration",
    "Comparison",
    "Interval",
    "calibration",
    "holdout_metrics",
    "metrics_to_dict",
    "paired_test",
    "weighted_metric",
]
