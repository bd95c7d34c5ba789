"""The holdout split the search never sees, and the cross-validation folds inside training.

A split is ``random``, ``stratified`` (the default for classification), ``group:COL`` (rows of
one group stay on one side) or ``time:COL`` (the latest rows are the holdout; folds inside
training are expanding windows, so no fold trains on its future).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from apprentice.errors import ConfigError

Fold = tuple[np.ndarray, np.ndarray]

#: The share of rows whose time may fail to parse before a time split is refused.
MAX_UNPARSED_TIME = 0.01


@dataclass(frozen=True)
class SplitSpec:
    """How rows are split: ``kind`` plus the group or time ``column`` when it needs one."""

    kind: str = "auto"
    column: str | None = None

    def describe(self) -> str:
        return f"{self.kind}:{self.column}" if self.column else self.kind


def parse_split(text: str | SplitSpec | None) -> SplitSpec:
    """``random``, ``stratified``, ``group:COL`` or ``time:COL`` (``None``: automatic)."""
    if text is None or text == "auto":
        return SplitSpec("auto")
    if isinstance(text, SplitSpec):
        return text
    kind, _, column = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("random", "stratified") and not column:
        return SplitSpec(kind)
    if kind in ("group", "time") and column.strip():
        return SplitSpec(kind, column.strip())
    raise ConfigError(
        f"split {text!r} is not understood: use random, stratified, group:COLUMN or time:COLUMN"
    )


def resolve_split(spec: SplitSpec, task: str) -> SplitSpec:
    if spec.kind == "auto":
        return SplitSpec("stratified" if task != "regression" else "random")
    if spec.kind == "stratified" and task == "regression":
        return SplitSpec("random")
    return spec


def parse_time(values: pd.Series, column: str) -> np.ndarray:
    """Times as float64 (nanoseconds for dates, the number itself for numbers); NaN if unknown.

    Raises :class:`~apprentice.errors.ConfigError` when more than 1% of the present values do
    not parse.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.to_datetime(values, utc=True)
        out = stamps.astype("int64").to_numpy(dtype=float)
        out[stamps.isna().to_numpy()] = np.nan
        return out
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float)
    text = values.astype(object).where(values.notna(), None)
    text = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    present = text.notna() & (text != "")
    n_present = int(present.sum())
    if n_present == 0:
        raise ConfigError(f"the time column '{column}' is empty; choose another split column")
    numbers = pd.to_numeric(text[present], errors="coerce")
    if numbers.notna().mean() >= 1 - MAX_UNPARSED_TIME:
        out = np.full(len(values), np.nan)
        out[present.to_numpy()] = numbers.to_numpy(dtype=float)
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stamps = pd.to_datetime(text[present], errors="coerce", format="mixed", utc=True)
        except (ValueError, TypeError):
            stamps = pd.Series(pd.NaT, index=text[present].index)
    failed = int(stamps.isna().sum())
    if failed > MAX_UNPARSED_TIME * n_present:
        raise ConfigError(
            f"the time column '{column}' does not parse as dates or numbers in {failed:,} of "
            f"{n_present:,} rows; clean it or choose another split (random, stratified, group:COL)"
        )
    out = np.full(len(values), np.nan)
    ns = stamps.astype("int64").to_numpy(dtype=float)
    ns[stamps.isna().to_numpy()] = np.nan
    out[present.to_numpy()] = ns
    return out


def _check_test_size(test_size: float) -> None:
    if not (test_size == 0 or 0.05 <= test_size <= 0.5):
        raise ConfigError(
            f"test size {test_size} must be between 0.05 and 0.5 (a share of rows), or 0 for "
            "no holdout"
        )


def holdout_split(
    n_rows: int,
    spec: SplitSpec,
    *,
    y: np.ndarray,
    task: str,
    test_size: float = 0.25,
    seed: int = 0,
    groups: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the training part and the holdout, both sorted."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    _check_test_size(test_size)
    spec = resolve_split(spec, task)
    positions = np.arange(n_rows)
    if test_size == 0:
        return positions, positions[:0]
    if spec.kind == "time":
        assert times is not None
        # Unknown times count as the earliest, so they can only be trained on.
        order = np.argsort(np.nan_to_num(times, nan=-np.inf), kind="stable")
        n_test = max(1, round(test_size * n_rows))
        return np.sort(order[:-n_test]), np.sort(order[-n_test:])
    if spec.kind == "group":
        assert groups is not None
        if len(np.unique(groups)) < 2:
            raise ConfigError(
                f"the group column '{spec.column}' has a single group; a group split needs two "
                "or more"
            )
        gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(gss.split(positions, groups=groups))
        return np.sort(train), np.sort(test)
    stratify = y if spec.kind == "stratified" else None
    train, test = train_test_split(
        positions, test_size=test_size, random_state=seed, shuffle=True, stratify=stratify
    )
    return np.sort(train), np.sort(test)


def choose_n_folds(n_rows: int) -> int:
    """Five folds for small data, three for larger data."""
    return 5 if n_rows <= 20_000 else 3


def cv_folds(
    spec: SplitSpec,
    *,
    y: np.ndarray,
    task: str,
    n_folds: int,
    seed: int = 0,
    groups: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> list[Fold]:
    """Folds over the training part: positions ``0..len(y)-1``.

    ``n_folds == 1`` gives one validation split of 20%. Time folds are expanding windows.
    """
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        ShuffleSplit,
        StratifiedGroupKFold,
        StratifiedKFold,
        StratifiedShuffleSplit,
    )

    n = len(y)
    positions = np.arange(n)
    spec = resolve_split(spec, task)
    if spec.kind == "time":
        assert times is not None
        order = np.argsort(np.nan_to_num(times, nan=-np.inf), kind="stable")
        k = max(1, n_folds)
        chunks = np.array_split(order, k + 1)
        return [
            (np.sort(np.concatenate(chunks[: i + 1])), np.sort(chunks[i + 1])) for i in range(k)
        ]
    splitter: object
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.kind == "group":
            assert groups is not None
            n_groups = len(np.unique(groups))
            k = min(max(2, n_folds), n_groups)
            if task != "regression":
                splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            else:
                splitter = GroupKFold(n_splits=k, shuffle=True, random_state=seed)
            return [(np.sort(a), np.sort(b)) for a, b in splitter.split(positions, y, groups)]  # type: ignore[attr-defined]
        stratified = (
            spec.kind == "stratified" and int(np.unique(y, return_counts=True)[1].min()) >= 2
        )
        if n_folds <= 1:
            if stratified:
                splitter = StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
            else:
                splitter = ShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
        elif stratified:
            splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        else:
            splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        return [(np.sort(a), np.sort(b)) for a, b in splitter.split(positions, y)]  # type: ignore[attr-defined]
