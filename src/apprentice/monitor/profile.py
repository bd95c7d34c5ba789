"""The reference profile, as the monitor reads it.

The profile is built at training time and stored in the bundle, so it lives in
:mod:`apprentice.bundle.profile` (training may not import the monitor, which sits after it in
the flow); this module re-exports it for the monitor's code and users.
"""

from apprentice.bundle.profile import (
    apply_calibration,
    attach_profile,
    build_profile,
    categorical_profile,
    category_counts,
    column_profile,
    encode_target,
    fit_calibration,
    frame_profile,
    load_profile,
    missing_markers,
    numeric_profile,
    numeric_values,
    prediction_profile,
    sorted_quantile,
    typed_features,
    unparsed,
    unreadable_share,
    unreadable_shares,
)

__all__ = [
    "apply_calibration",
    "attach_profile",
    "build_profile",
    "categorical_profile",
    "category_counts",
    "column_profile",
    "encode_target",
    "fit_calibration",
    "frame_profile",
    "load_profile",
    "missing_markers",
    "numeric_profile",
    "numeric_values",
    "prediction_profile",
    "sorted_quantile",
    "typed_features",
    "unparsed",
    "unreadable_share",
    "unreadable_shares",
]
