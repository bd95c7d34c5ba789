"""Task detection and target preparation.

The target column is cleaned by the same rules as any other column (``' >50K.'`` and ``'>50K'``
are one class), rows with a missing target are dropped and counted, and the task (binary,
multiclass or regression) is detected from the cleaned values unless the caller names it.
Every change is returned as ledger records; error messages name columns and counts, never
data values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from apprentice.errors import ConfigError, TargetError

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")

MIN_ROWS = 20
#: An integer-valued numeric target with at most this many distinct values is a class label.
MAX_INTEGER_CLASSES = 10

_MISSING_MARKERS = frozenset(
    {"", "?", "na", "n/a", "nan", "null", "none", "-", "--", "missing", "#n/a", "nil", "."}
)


@dataclass
class TargetInfo:
    """A prepared target: encoded values for the kept rows and an account of the changes.

    ``y`` holds class indices (``int64``, into ``classes``) for classification and ``float64``
    values for regression. ``kept`` is a boolean mask over the input rows.
    """

    name: str
    task: Task
    y: np.ndarray
    kept: np.ndarray
    classes: list[Any] | None
    n_missing: int
    ledger: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes is not None else 0


def _is_missing_text(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING_MARKERS


def _to_number(value: str) -> float | None:
    text = value.strip().replace(",", "") if value.count(",") and "." in value else value.strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _merge_labels(labels: pd.Series) -> tuple[pd.Series, list[dict[str, Any]]]:
    """Fallback label cleaning: strip spaces, merge ``'x.'`` into ``'x'`` and case variants."""
    stripped = labels.str.strip()
    records: list[dict[str, Any]] = []
    changed = int((stripped != labels).sum())
    if changed:
        records.append(
            {"action": "strip_target_whitespace", "rows": changed, "reason": "outer spaces"}
        )
    counts = stripped.value_counts()
    present = set(counts.index)
    mapping: dict[str, str] = {}
    for label in present:
        if label.endswith(".") and label[:-1] in present:
            mapping[label] = label[:-1]
    # Case variants: map to the most frequent spelling.
    by_fold: dict[str, list[str]] = {}
    for label in present:
        if label not in mapping:
            by_fold.setdefault(label.casefold(), []).append(label)
    for variants in by_fold.values():
        if len(variants) > 1:
            keep = max(variants, key=lambda v: (counts[v], v))
            for v in variants:
                if v != keep:
                    mapping[v] = keep
    for source, dest in sorted(mapping.items()):
        records.append(
            {
                "action": "merge_target_labels",
                "from": source,
                "to": dest,
                "rows": int(counts[source]),
                "reason": "trailing period" if source[:-1] == dest else "letter case",
            }
        )
    return (stripped.replace(mapping) if mapping else stripped), records


def _clean_labels(values: pd.Series) -> tuple[pd.Series, list[dict[str, Any]]]:
    """Clean target labels by the clean stage's rules (one class for ``>50K.`` and ``>50K``).

    The clean stage decides label merges when it sees categories; labels it would turn into
    booleans or numbers keep their text (predictions come back as the labels users wrote),
    with the same whitespace, full-stop and case merges.
    """
    from apprentice.clean import clean_target

    result = clean_target(values.astype("str"))
    if result.kind != "category":
        return _merge_labels(values)
    cleaned = result.values.astype(object).where(result.values.notna(), None)
    records: list[dict[str, Any]] = [
        {
            "action": "merge_target_labels",
            "from": m.get("variant"),
            "to": m.get("canonical"),
            "rows": m.get("count"),
            "reason": "same label written differently (spaces, case or a trailing full stop)",
        }
        for m in result.merges
    ]
    return pd.Series(cleaned.to_numpy(), index=values.index, dtype=object), records


def detect_task(values: pd.Series) -> Task:
    """Binary, multiclass or regression from cleaned, non-missing target values."""
    uniques = values.unique()
    if len(uniques) <= 2:
        return "binary"
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float)
        integral = bool(np.all(np.equal(np.mod(numbers, 1), 0)))
        if integral and len(uniques) <= MAX_INTEGER_CLASSES:
            return "multiclass"
        return "regression"
    return "multiclass"


def _class_label(value: Any) -> Any:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def prepare_target(
    values: pd.Series | np.ndarray | list[Any], *, name: str = "target", task: str | None = None
) -> TargetInfo:
    """Clean, check and encode a target column.

    Raises :class:`~apprentice.errors.TargetError` when the target cannot be learned: fewer
    than 20 labelled rows, a constant target, or one row per class.
    """
    if task is not None and task not in TASKS:
        raise ConfigError(f"task {task!r} is not one of {', '.join(TASKS)}; pick one or omit it")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    series = series.reset_index(drop=True)
    ledger: list[dict[str, Any]] = []
    warnings: list[str] = []

    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(object).where(series.notna(), None)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numeric = series.astype(float)
        missing = ~np.isfinite(numeric.to_numpy())
        labels: pd.Series = numeric
    else:
        obj = series.astype(object)
        missing = np.array([_is_missing_text(v) for v in obj], dtype=bool)
        text = obj[~missing].map(lambda v: v if isinstance(v, str) else str(v))
        parsed = text.map(_to_number)
        if len(text) and parsed.notna().all():
            labels = pd.Series(np.nan, index=series.index, dtype=float)
            labels[~missing] = parsed.astype(float)
        else:
            cleaned, records = _clean_labels(text.astype(str))
            ledger.extend(records)
            labels = pd.Series(None, index=series.index, dtype=object)
            labels[~missing] = cleaned.to_numpy(dtype=object)
            missing = missing | labels.map(_is_missing_text).to_numpy(dtype=bool)

    n_missing = int(missing.sum())
    if n_missing:
        ledger.append(
            {
                "action": "drop_rows_missing_target",
                "column": name,
                "rows": n_missing,
                "reason": "the target is missing",
            }
        )
        warnings.append(f"{n_missing:,} row(s) with a missing target '{name}' were dropped")
    kept = ~missing
    present = labels[kept]
    if len(present) < MIN_ROWS:
        raise TargetError(
            f"only {len(present)} row(s) have a target value in '{name}'; at least {MIN_ROWS} "
            "are needed to train and test a model: add labelled rows"
        )
    if present.nunique() < 2:
        raise TargetError(
            f"the target '{name}' has a single value in every labelled row; there is nothing "
            "to learn: choose another target column"
        )
    detected = detect_task(present)
    chosen: Task = task if task is not None else detected  # type: ignore[assignment]
    if chosen == "regression":
        if not pd.api.types.is_numeric_dtype(present.dtype):
            raise TargetError(
                f"the target '{name}' is not numeric, so it cannot be a regression target: "
                "use --task binary or multiclass"
            )
        y = present.to_numpy(dtype=float)
        return TargetInfo(name, "regression", y, kept, None, n_missing, ledger, warnings)

    counts = present.value_counts()
    if chosen == "binary" and len(counts) != 2:
        raise TargetError(
            f"the target '{name}' has {len(counts)} classes, not 2: use --task multiclass"
        )
    if len(counts) > 1 and int(counts.max()) == 1:
        raise TargetError(
            f"every class of the target '{name}' has a single row ({len(counts):,} classes); "
            "a model cannot learn or be tested on that: is it an identifier? choose another "
            "target, or --task regression for a numeric target"
        )
    singles = counts[counts < 2]
    if len(singles):
        drop = present.isin(set(singles.index)).to_numpy()
        kept_idx = np.flatnonzero(kept)
        kept[kept_idx[drop]] = False
        present = present[~drop]
        ledger.append(
            {
                "action": "drop_rows_single_row_class",
                "column": name,
                "rows": int(drop.sum()),
                "classes": len(singles),
                "reason": "a class with one row cannot be both trained on and tested",
            }
        )
        warnings.append(
            f"{len(singles)} class(es) of '{name}' have a single row; those rows were dropped"
        )
        if present.nunique() < 2:
            raise TargetError(
                f"after dropping single-row classes the target '{name}' has one class left: "
                "add rows for the other classes"
            )
        if len(present) < MIN_ROWS:
            raise TargetError(
                f"only {len(present)} row(s) remain after dropping single-row classes of "
                f"'{name}'; at least {MIN_ROWS} are needed"
            )
    classes = sorted(present.unique().tolist(), key=lambda v: (isinstance(v, str), v))
    if chosen == "binary" and len(classes) != 2:
        raise TargetError(
            f"the target '{name}' has {len(classes)} classes after cleaning, not 2: "
            "use --task multiclass"
        )
    if chosen == "multiclass" and len(classes) == 2:
        chosen = "binary"
    index = {c: i for i, c in enumerate(classes)}
    y = np.fromiter((index[v] for v in present.tolist()), dtype=np.int64, count=len(present))
    return TargetInfo(
        name,
        chosen,
        y,
        kept,
        [_class_label(c) for c in classes],
        n_missing,
        ledger,
        warnings,
    )
