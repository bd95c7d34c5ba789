"""The monitor stage: reference profile, drift, data quality, performance with labels and
estimated without them (CBPE), the alert policy.

Imports only stages to its left (bundle, read, clean, guard); scipy and scikit-learn inside
the functions that need them.
"""

from __future__ import annotations

from apprentice.monitor.check import MonitorResult, check
from apprentice.monitor.drift import (
    ColumnDrift,
    benjamini_hochberg,
    categorical_drift,
    chi_square,
    numeric_drift,
)
from apprentice.monitor.policy import Policy, load_policy
from apprentice.monitor.profile import attach_profile, build_profile, load_profile

__all__ = [
    "ColumnDrift",
    "MonitorResult",
    "Policy",
    "attach_profile",
    "benjamini_hochberg",
    "build_profile",
    "categorical_drift",
    "check",
    "chi_square",
    "load_policy",
    "load_profile",
    "numeric_drift",
]
