"""Task detection and target preparation.

The target column is cleaned by the same rules as any other column (``' >50K.'`` and ``'>50K'``
are one class), rows with a missing target are dropped and counted, and the task (binary,
multiclass or regression) is detected from the cleaned values unless the caller names it.

Targets are typed by evidence: a text column that the clean stage reads as numbers (a price
with a few typos such as ``cheap`` or ``n/a ok``) is a numeric target, and the rows whose cell
is not a number are quarantined (left out of training and testing, counted, with examples, in
the ledger and the warnings). When at most ``AUTO_NUMERIC_SHARE`` of its values are numbers the
column is ambiguous and the caller must name the task; ``--task regression`` is accepted while at
least ``MIN_NUMERIC_SHARE`` of the values are numbers. Every change is returned as ledger
records; examples of values are shown masked by the guard stage's rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from apprentice.errors import ConfigError, TargetError

if TYPE_CHECKING:
    from apprentice.clean import TargetResult

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")

MIN_ROWS = 20
#: A text target the clean stage reads as numbers is numeric without being asked when more than
#: this share of its (non-missing) cells are numbers ...
AUTO_NUMERIC_SHARE = 0.8
#: ... and ``task="regression"`` reads it as numbers while at least this share are.
MIN_NUMERIC_SHARE = 0.5
#: how many distinct unreadable values a message or ledger record shows
EXAMPLES = 5
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
    #: positions (in the input) of the rows set aside because their numeric target is not a
    #: number, and the most frequent of those values (``{"value", "count"}``, masked)
    quarantined: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quarantine_examples: list[dict[str, Any]] = field(default_factory=list)

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


@dataclass
class _Numbers:
    """A text target read as numbers: values (NaN where a cell is not one) and the evidence."""

    values: np.ndarray
    unreadable: np.ndarray
    share: float
    examples: list[dict[str, Any]]


def _examples(text: pd.Series) -> list[dict[str, Any]]:
    """The most frequent values of ``text``, masked where they could be personal data."""
    from apprentice.guard import safe_display

    counts = text.str.strip().value_counts()
    return [
        {"value": safe_display(str(v), limit=40), "count": int(c)}
        for v, c in counts.head(EXAMPLES).items()
    ]


def _shown(examples: list[dict[str, Any]], total: int) -> str:
    shown = ", ".join(f"{e['value']!r} ({e['count']:,})" for e in examples)
    more = total - sum(e["count"] for e in examples)
    return shown + (f" and {more:,} more" if more > 0 else "")


def _read_numbers(text: pd.Series, name: str, task: str | None) -> _Numbers | None:
    """The target's non-missing cells as numbers, when the clean stage reads the column as
    numbers (or the caller asks for regression), else ``None`` (class labels)."""
    if task in ("binary", "multiclass") or not len(text):
        return None
    from apprentice.clean import clean_target

    cells = text.astype(str).reset_index(drop=True)
    result: TargetResult | None = clean_target(cells)
    assert result is not None
    if result.kind not in ("integer", "float"):
        # the clean stage keeps a column as text when its non-numbers look like values (codes);
        # for a target, half its values being numbers is reason enough to ask
        shares = (result.report.evidence or {}).get("shares") or {}
        mostly = float(shares.get("number") or 0.0) >= MIN_NUMERIC_SHARE
        if task != "regression" and not mostly:
            return None
        try:
            result = clean_target(cells, kind="float")
        except TargetError:  # not one cell is a number
            result = None
    if result is None:
        values = np.full(len(cells), np.nan)
    else:
        values = pd.to_numeric(result.values, errors="coerce").to_numpy(dtype=float, copy=True)
    markers = {str(m.get("token")) for m in (result.report.markers if result else [])}
    marker = cells.str.strip().isin(markers).to_numpy()
    values[~np.isfinite(values)] = np.nan
    if task != "regression" and _collapses(cells.str.strip(), pd.Series(values)):
        return None
    unreadable = np.isnan(values) & ~marker
    share = float(np.mean(~np.isnan(values))) if len(values) else 0.0
    return _Numbers(values, unreadable, share, _examples(cells[unreadable]))


def _collapses(labels: pd.Series, numbers: pd.Series) -> bool:
    """Whether reading the labels as numbers would leave one value where the text has several
    labels: ' - 50000.' and ' 50000+.' are two classes, and reading one as a marker and the
    other as 50000 leaves nothing to learn (``1`` and ``1.0`` merging beside other values is
    only a number's spelling)."""
    return numbers.nunique(dropna=True) <= 1 and labels.astype(str).nunique() > 1


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


@dataclass
class _Labels:
    """The target's cells read as labels: values (missing as NaN / None), which rows are
    missing, which are quarantined (a numeric target whose cell is no number), and why."""

    labels: pd.Series
    missing: np.ndarray
    quarantine: np.ndarray
    numbers: _Numbers | None = None
    ledger: list[dict[str, Any]] = field(default_factory=list)


def _read_labels(series: pd.Series, name: str, task: str | None) -> _Labels:
    """The target's cells as numbers (a numeric column, or text the evidence reads as
    numbers) or as cleaned class labels."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(object).where(series.notna(), None)
    quarantine = np.zeros(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numeric = series.astype(float)
        return _Labels(numeric, ~np.isfinite(numeric.to_numpy()), quarantine)
    obj = series.astype(object)
    missing = np.array([_is_missing_text(v) for v in obj], dtype=bool)
    text = obj[~missing].map(lambda v: v if isinstance(v, str) else str(v))
    parsed = text.map(_to_number)
    if len(text) and parsed.notna().all() and not _collapses(text.str.strip(), parsed):
        labels = pd.Series(np.nan, index=series.index, dtype=float)
        labels[~missing] = parsed.astype(float)
        return _Labels(labels, missing, quarantine)
    numbers = _read_numbers(text, name, task)
    if numbers is not None:
        labels = _numeric_labels(numbers, missing, name, task, series.index)
        quarantine[np.flatnonzero(~missing)[numbers.unreadable]] = True
        missing = missing | (labels.isna().to_numpy() & ~quarantine)
        return _Labels(labels, missing, quarantine, numbers)
    cleaned, records = _clean_labels(text.astype(str))
    labels = pd.Series(None, index=series.index, dtype=object)
    labels[~missing] = cleaned.to_numpy(dtype=object)
    missing = missing | labels.map(_is_missing_text).to_numpy(dtype=bool)
    return _Labels(labels, missing, quarantine, ledger=records)


def _account_dropped(read: _Labels, name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Ledger records and warnings for the rows without a target and the quarantined ones."""
    ledger, warnings = list(read.ledger), []
    n_missing = int(read.missing.sum())
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
    n_quarantined = int(read.quarantine.sum())
    if n_quarantined:
        numbers = read.numbers
        assert numbers is not None
        ledger.append(
            {
                "action": "quarantine_rows_unreadable_target",
                "column": name,
                "rows": n_quarantined,
                "examples": numbers.examples,
                "reason": f"the target is numeric ({numbers.share:.1%} of its values are "
                "numbers); these cells are not",
            }
        )
        warnings.append(
            f"{n_quarantined:,} row(s) set aside (quarantined, neither trained nor tested on): "
            f"their target '{name}' is not a number: {_shown(numbers.examples, n_quarantined)}; "
            f"{numbers.share:.1%} of the target's values are numbers"
        )
    return ledger, warnings


def _check_learnable(present: pd.Series, name: str) -> None:
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


def _drop_single_row_classes(
    present: pd.Series,
    kept: np.ndarray,
    name: str,
    ledger: list[dict[str, Any]],
    warnings: list[str],
) -> pd.Series:
    """Rows of a class with one row leave (``kept`` is updated); the labels that remain."""
    counts = present.value_counts()
    if len(counts) > 1 and int(counts.max()) == 1:
        raise TargetError(
            f"every class of the target '{name}' has a single row ({len(counts):,} classes); "
            "a model cannot learn or be tested on that: is it an identifier? choose another "
            "target, or --task regression for a numeric target"
        )
    singles = counts[counts < 2]
    if not len(singles):
        return present
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
    shown = ", ".join(repr(str(v)) for v in list(singles.index)[:5])
    more = f" and {len(singles) - 5} more" if len(singles) > 5 else ""
    warnings.append(
        f"{len(singles)} class(es) of '{name}' have a single row ({shown}{more}); those rows "
        "were dropped: a class needs rows to train on and to test on (fix a mistyped label, "
        "or add rows of that class)"
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
    return present


def _encode_classes(
    present: pd.Series, chosen: Task, name: str
) -> tuple[Task, list[Any], np.ndarray]:
    """The task (two classes make a binary task), the sorted classes, and class indices."""
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
    return chosen, classes, y


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
    read = _read_labels(series.reset_index(drop=True), name, task)
    ledger, warnings = _account_dropped(read, name)
    examples = read.numbers.examples if read.quarantine.any() and read.numbers else []
    quarantined = np.flatnonzero(read.quarantine)
    n_missing = int(read.missing.sum())
    kept = ~read.missing & ~read.quarantine
    present = read.labels[kept]
    _check_learnable(present, name)
    chosen: Task = task if task is not None else detect_task(present)  # type: ignore[assignment]
    if chosen == "regression":
        if not pd.api.types.is_numeric_dtype(present.dtype):
            raise TargetError(
                f"the target '{name}' is not numeric, so it cannot be a regression target: "
                "use --task binary or multiclass"
            )
        y = present.to_numpy(dtype=float)
        return TargetInfo(
            name, "regression", y, kept, None, n_missing, ledger, warnings, quarantined, examples
        )
    counts = present.value_counts()
    if chosen == "binary" and len(counts) != 2:
        raise TargetError(
            f"the target '{name}' has {len(counts)} classes, not 2: use --task multiclass"
        )
    present = _drop_single_row_classes(present, kept, name, ledger, warnings)
    chosen, classes, y = _encode_classes(present, chosen, name)
    labels = [_class_label(c) for c in classes]
    return TargetInfo(
        name, chosen, y, kept, labels, n_missing, ledger, warnings, quarantined, examples
    )


def _numeric_labels(
    numbers: _Numbers, missing: np.ndarray, name: str, task: str | None, index: pd.Index
) -> pd.Series:
    """The target as floats (NaN: missing or quarantined), or a TargetError when the evidence
    does not support a numeric target."""
    n_bad = int(numbers.unreadable.sum())
    total = len(numbers.values)
    if task is None and numbers.share <= AUTO_NUMERIC_SHARE:
        raise TargetError(
            f"the target '{name}' is ambiguous: {numbers.share:.0%} of its {total:,} values "
            f"are numbers and {n_bad:,} are not ({_shown(numbers.examples, n_bad)}); choose: "
            "--task regression sets the others aside, --task multiclass makes every value "
            "a class"
        )
    if task == "regression" and numbers.share < MIN_NUMERIC_SHARE:
        raise TargetError(
            f"the target '{name}' is not numeric, so it cannot be a regression target: only "
            f"{numbers.share:.0%} of its {total:,} values are numbers ({n_bad:,} are not: "
            f"{_shown(numbers.examples, n_bad)}); use --task binary or multiclass, or fix "
            "the column"
        )
    labels = pd.Series(np.nan, index=index, dtype=float)
    labels[~missing] = numbers.values
    return labels
