"""The alert policy: thresholds read from a TOML file, every one with a documented default.

Example ``monitor.toml`` (all keys optional; a missing key keeps its default; the README's
policy section lists the same keys and defaults)::

    [drift]
    alpha = 0.02            # false discovery rate across the columns' tests and the joint
                            # tests of feature pairs together (Benjamini-Hochberg)
    min_wasserstein = 0.1   # numeric: a significant column also needs W1/sd >= this ...
    min_psi = 0.1           # ... or a PSI >= this, to count as drifted
    min_jensen_shannon = 0.1  # categorical: a significant column needs JS distance >= this
    max_score = 0.3         # alert when the importance-weighted drifted share exceeds this
    important_feature = 0.1  # ... or when one drifted column carries this share of importance
    large_shift = 0.2       # ... or when one drifted column moved this far (W1/sd or JS),
                            #     whatever its importance (importance sets the severity)
    min_rows = 30           # fewer current rows: no drift verdict (and, within a category,
                            #     no joint test of that category)
    min_joint_shift = 0.05  # numbers within categories (a categorical feature with a numeric
                            #     one, the most important of each): a significant pair alerts
                            #     when a category's mean reference rank moved this much

    [quality]
    alpha = 0.01            # family-wise level of all quality tests together (Bonferroni)
    max_missing_increase = 0.1   # absolute jump of a column's missing rate (empty cells and
                                 # markers)
    max_unseen_share = 0.01      # share of values in categories the reference never saw,
                                 # beyond the share its own singletons predict
    max_out_of_range_share = 0.01  # share of numbers outside the reference range, beyond
                                   # 2 / (n_ref + 1)
    allow_missing_columns = false

    [prediction]
    alpha = 0.01            # prediction drift test level
    min_distance = 0.1      # W1/sd (regression, binary score) or JS distance (classes)

    [performance]
    alpha = 0.01            # one family (Bonferroni): all labelled rows together get half,
                            # the windows share the other half; each against the reference
                            # holdout by two-sample tests (so the holdout's own uncertainty
                            # counts): the metric (MAE, accuracy) and, for regression, the
                            # predictions' rank correlation with the labels
    max_drop = 0.05         # and worse than the reference by this much (relative for MAE,
                            # absolute for accuracy and the rank correlation)
    window_rows = 1000      # rows per window when no time column is given
    log_loss = true         # classifiers, in the watch loop: also test each window's mean
                            # log loss against the reference holdout's (alpha shared equally
                            # with the accuracy test); accuracy at the decision threshold
                            # is blind where the model's errors move the other way

    [alert]
    webhook = ""            # URL to POST the JSON result to on alert (empty: none)

One run of ``monitor`` makes one decision (its exit code). On data from the reference's own
distribution it alerts with probability at most drift.alpha + quality.alpha +
prediction.alpha + performance.alpha (a union bound over the four test families, each
controlled within itself; the joint tests are in the drift family): 0.05 with the defaults.
A threshold alone never raises an alert; each also needs its test.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from apprentice.errors import ConfigError


@dataclass
class DriftPolicy:
    alpha: float = 0.02
    min_wasserstein: float = 0.1
    min_psi: float = 0.1
    min_jensen_shannon: float = 0.1
    max_score: float = 0.3
    important_feature: float = 0.1
    large_shift: float = 0.2
    min_rows: int = 30
    min_joint_shift: float = 0.05


@dataclass
class QualityPolicy:
    alpha: float = 0.01
    max_missing_increase: float = 0.1
    max_unseen_share: float = 0.01
    max_out_of_range_share: float = 0.01
    allow_missing_columns: bool = False


@dataclass
class PredictionPolicy:
    alpha: float = 0.01
    min_distance: float = 0.1


@dataclass
class PerformancePolicy:
    alpha: float = 0.01
    max_drop: float = 0.05
    window_rows: int = 1000
    log_loss: bool = True


@dataclass
class AlertPolicy:
    webhook: str = ""


@dataclass
class Policy:
    drift: DriftPolicy = field(default_factory=DriftPolicy)
    quality: QualityPolicy = field(default_factory=QualityPolicy)
    prediction: PredictionPolicy = field(default_factory=PredictionPolicy)
    performance: PerformancePolicy = field(default_factory=PerformancePolicy)
    alert: AlertPolicy = field(default_factory=AlertPolicy)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy in ``path`` (TOML) over the defaults; the defaults alone for ``None``."""
    policy = Policy()
    if path is None:
        return policy
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no policy file at {path}; pass an existing monitor.toml")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    for section, values in document.items():
        target = getattr(policy, section, None)
        if target is None or not isinstance(values, dict):
            known = ", ".join(f.name for f in fields(Policy))
            raise ConfigError(f"unknown policy section [{section}] in {path}; use {known}")
        names = {f.name: f for f in fields(target)}
        for key, value in values.items():
            if key not in names:
                raise ConfigError(
                    f"unknown key '{key}' in [{section}] of {path}; use {', '.join(names)}"
                )
            default = getattr(target, key)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int | float):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            else:
                ok = isinstance(value, type(default))
            if not ok:
                raise ConfigError(
                    f"[{section}] {key} in {path} must be {type(default).__name__}, not {value!r}"
                )
            setattr(target, key, type(default)(value))
    return policy
