"""What a bundle says about the raw rows it is given: columns the model uses that are absent,
and values its cleaning recipe could not read.

``apprentice predict`` refuses a file that lacks a column (``--allow-missing-columns`` to go
on) and reports the values it could not read; the Python API must not be quieter. A row
without a column the model uses, or with ``"15 years"`` in a number column, is predicted from
a missing value: a different number, and nothing says so. So :meth:`Bundle.predict` and its
siblings raise :class:`~apprentice.errors.ColumnMismatchError` for absent columns (unless
``allow_missing_columns=True``) and emit one :class:`~apprentice.errors.InputWarning`
naming the values not read.

The single-record path stays fast (it is the serving latency): the absent-column check is a
few dictionary lookups, and the cleaning report (a second cleaning pass) runs only when a
cleaned value is missing while its raw cell held text that is none of the column's
missing-value markers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import ColumnMismatchError, InputWarning

__all__ = ["InputContract", "InputWarning", "missing_columns_error", "record_frame", "warn_unread"]


class InputContract:
    """The raw columns a bundle's model uses and, per cleaned column, its raw source and the
    texts that mean "missing" there (learned by the recipe)."""

    def __init__(self, recipe: Any, required: Sequence[str]) -> None:
        columns = list(getattr(recipe, "columns", None) or [])
        alternates = {str(rec.source): str(rec.name) for rec in columns}
        #: per required raw column, the names that stand for it (raw, then cleaned)
        self.required: list[tuple[str, ...]] = [
            (c, alternates[c]) if alternates.get(c, c) != c else (c,) for c in required
        ]
        #: cleaned name -> (raw source, missing-value texts, stripped and lower-cased)
        self.sources: dict[str, tuple[str, frozenset[str]]] = {
            str(rec.name): (
                str(rec.source),
                frozenset(str(m).strip().lower() for m in [*rec.markers, *rec.kept_markers]),
            )
            for rec in columns
        }

    def absent_from(self, names: Any) -> bool:
        """Whether a required column is absent from a record's keys (or a set of names)."""
        return any(all(n not in names for n in alts) for alts in self.required)

    def record_suspect(self, raw: Mapping[str, Any], cleaned: Mapping[str, Any]) -> bool:
        """Whether a cleaned value is missing while its raw cell held text that is not a
        missing-value marker (the report then says whether it was read)."""
        for name, value in cleaned.items():
            if not _is_missing(value):
                continue
            source, markers = self.sources.get(name, (name, frozenset()))
            cell = raw.get(source, raw.get(name))
            if isinstance(cell, str) and cell.strip() and cell.strip().lower() not in markers:
                return True
        return False

    def frame_suspect(self, raw: pd.DataFrame, typed: pd.DataFrame) -> bool:
        """The same question for a frame: a column with more missing cleaned values than raw
        cells that are empty or markers."""
        present = {str(c): c for c in raw.columns}
        for name in typed.columns:
            source, markers = self.sources.get(str(name), (str(name), frozenset()))
            column = present.get(source, present.get(str(name)))
            if column is None:
                continue
            lost = int(typed[name].isna().sum())
            if lost == 0:
                continue
            cells = raw[column]
            if lost <= int(cells.isna().sum()):
                continue
            text = cells.dropna().astype("str").str.strip().str.lower()
            empty = int(cells.isna().sum()) + int((text.eq("") | text.isin(markers)).sum())
            if lost > empty:
                return True
        return False


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def missing_columns_error(check: Any, *, what: str) -> ColumnMismatchError:
    """The error for rows that lack columns the model uses (``check``: a ``ColumnCheck``)."""
    missing = ", ".join(
        f"'{m}' (did you mean '{check.suggestions[m]}'?)" if m in check.suggestions else f"'{m}'"
        for m in check.missing
    )
    return ColumnMismatchError(
        f"the {what} lack {len(check.missing)} column(s) the model uses: {missing}; pass "
        "them under the training file's names, or allow_missing_columns=True to predict with "
        "them missing in every row"
    )


def warn_unread(report: Any, n_rows: int) -> None:
    """One :class:`InputWarning` naming, per column, the values the recipe could not read or
    the new missing-value markers (a ``TransformReport``); nothing when there are none."""
    if report is None:
        return
    parts = []
    for column, info in report.columns.items():
        count = int(info.get("unparseable", 0)) + int(info.get("new_markers", 0))
        if not count:
            continue
        shown = [e["raw"] for e in info.get("examples", []) if not e.get("far")][:3]
        examples = ", ".join(repr(str(v)) for v in shown)
        parts.append(f"'{column}' {count:,}" + (f" (e.g. {examples})" if examples else ""))
    if parts:
        warnings.warn(
            f"values the model could not read, predicted as missing, in {n_rows:,} row(s): "
            + "; ".join(parts)
            + " (Bundle.value_report(X) gives the details)",
            InputWarning,
            stacklevel=4,
        )


def record_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    """One raw record as a one-row frame of its cells (for the cleaning report)."""
    return pd.DataFrame({str(k): [v] for k, v in record.items()}, index=np.arange(1))
