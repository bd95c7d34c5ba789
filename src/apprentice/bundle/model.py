"""A loaded bundle: raw rows in, predictions out, in the order they came."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.bundle.cleaning import as_text_frame, clean_frame, row_cleaner
from apprentice.bundle.input_check import (
    InputContract,
    missing_columns_error,
    record_frame,
    warn_unread,
)
from apprentice.bundle.runtime import Predictor
from apprentice.decision import DEFAULT_THRESHOLD, decide
from apprentice.errors import BundleError

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _squash(name: str) -> str:
    """A column name without case, spaces or punctuation (``monthly_income`` ->
    ``monthlyincome``), to match near names."""
    return _NOT_ALNUM.sub("", name.lower())


@dataclass(frozen=True)
class ColumnCheck:
    """How the columns of a table meet a bundle's input contract.

    ``missing``: columns the model uses that the table lacks; ``unknown``: columns of the
    table that are not columns of the training file; ``suggestions``: a missing column ->
    the unknown column that is most likely it under another spelling.
    """

    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    suggestions: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unknown

    def describe(self) -> str:
        """One sentence naming the missing and unknown columns, with "did you mean"."""
        parts = []
        if self.missing:
            shown = ", ".join(
                f"'{m}' (did you mean '{self.suggestions[m]}'?)"
                if m in self.suggestions
                else f"'{m}'"
                for m in self.missing
            )
            parts.append(f"lacks {len(self.missing)} column(s) the model needs: {shown}")
        if self.unknown:
            shown = ", ".join(f"'{u}'" for u in self.unknown)
            parts.append(
                f"has {len(self.unknown)} column(s) that are not in the training file: {shown}"
            )
        return "; and ".join(parts)


class Bundle:
    """A verified bundle. Use :func:`apprentice.load_bundle` to get one.

    ``predict``, ``predict_proba`` and ``predict_frame`` accept raw rows as a DataFrame (text
    cells as in the training file, or already typed values), a list of records, or a single
    record (a mapping: the fast path, no pandas on the way). Rows keep their order.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], predictor: Predictor, cleaner: Any):
        self.path = Path(path)
        self.manifest = manifest
        self.predictor = predictor
        self.cleaner = cleaner
        self._clean_row = row_cleaner(cleaner)
        self.task: str = manifest["task"]
        self.target: str | None = manifest.get("target")
        raw_classes = manifest.get("classes")
        self.classes: list[Any] | None = list(raw_classes) if raw_classes is not None else None
        self._classes_array = (
            np.asarray(self.classes, dtype=object) if self.classes is not None else None
        )
        #: the decision threshold of a binary bundle: ``predict`` says the positive class
        #: (``classes[1]``) when its probability is at least this (bundles written before it
        #: was stored, whose ``threshold`` field was informative only, keep 0.5)
        self.threshold: float | None = None
        if self.task == "binary":
            stored = manifest.get("decision_threshold")
            self.threshold = float(stored) if stored is not None else DEFAULT_THRESHOLD
        self.metrics: dict[str, Any] = manifest.get("metrics", {})
        self.input_columns: list[str] = list(manifest.get("input_columns", []))
        self._input_contract: InputContract | None = None

    def __repr__(self) -> str:
        return f"Bundle({str(self.path)!r}, task={self.task!r}, target={self.target!r})"

    # -- inputs

    def _output(
        self, X: Any, allow_missing_columns: bool = False, report_unread: bool = False
    ) -> np.ndarray:
        """The model's output for raw rows; the public methods report values not read
        (``report_unread``), the training and profiling steps, on their own holdout, not."""
        if isinstance(X, Mapping):
            return self._record_output(X, allow_missing_columns, report_unread)
        if isinstance(X, pd.Series):
            return self._output(X.to_dict(), allow_missing_columns, report_unread)
        if isinstance(X, pd.DataFrame):
            if len(X) == 1:  # one raw row: the record path, no pandas machinery
                record = dict(zip(map(str, X.columns), X.iloc[0].tolist(), strict=True))
                return self._output(record, allow_missing_columns, report_unread)
            frame = X
        elif isinstance(X, Iterable) and not isinstance(X, str | bytes):
            records = list(X)
            if records and not all(isinstance(r, Mapping) for r in records):
                raise BundleError("pass a DataFrame, a record (mapping) or a list of records")
            frame = pd.DataFrame.from_records(records)
        else:
            raise BundleError("pass a DataFrame, a record (mapping) or a list of records")
        if len(frame) == 0:
            width = self.predictor.n_classes if self.task != "regression" else 0
            return np.zeros((0, width)) if width else np.zeros(0)
        contract = self._contract()
        if not allow_missing_columns and contract.absent_from({str(c) for c in frame.columns}):
            raise missing_columns_error(self.check_columns(list(frame.columns)), what="rows")
        if self.input_columns:
            frame = self._select(frame)
        elif self.target is not None and self.target in frame.columns:
            frame = frame.drop(columns=[self.target])
        typed = clean_frame(self.cleaner, frame)
        if report_unread and contract.frame_suspect(frame, typed):
            warn_unread(self.value_report(frame), len(frame))
        return self.predictor.predict_frame(typed)

    def _record_output(
        self, X: Mapping[str, Any], allow_missing_columns: bool, report_unread: bool
    ) -> np.ndarray:
        """One raw record (the fast path): its columns checked, its cells cleaned one by one;
        the cleaning report only when a cell may not have been read."""
        contract = self._contract()
        if not allow_missing_columns and contract.absent_from(X):
            raise missing_columns_error(self.check_columns(list(X)), what="record's fields")
        if self._clean_row is None:
            return self.predictor.predict_row(X)
        row = self._clean_row(X)
        if report_unread and contract.record_suspect(X, row):
            warn_unread(self.value_report(record_frame(X)), 1)
        return self.predictor.predict_row(row)

    def _contract(self) -> InputContract:
        if self._input_contract is None:
            recipe = getattr(self.cleaner, "recipe_", None)
            self._input_contract = InputContract(recipe, self.required_columns)
        return self._input_contract

    def raw_output(self, X: Any, *, allow_missing_columns: bool = False) -> np.ndarray:
        """The model's raw output for raw rows: probabilities ``(n, n_classes)`` for
        classification, values ``(n,)`` for regression (what ``predict*`` build on)."""
        return self._output(X, allow_missing_columns, report_unread=True)

    @property
    def required_columns(self) -> list[str]:
        """The columns of the training file the model uses (raw names, as in the file)."""
        sources = {}
        recipe = getattr(self.cleaner, "recipe_", None)
        for rec in getattr(recipe, "columns", None) or []:
            sources[str(rec.name)] = str(rec.source)
        used = list(getattr(self.predictor, "input_columns", None) or [])
        if not used:
            used = list(self.manifest.get("feature_columns") or [])
        return [sources.get(str(c), str(c)) for c in used]

    def known_columns(self) -> set[str]:
        """Every column name the bundle accepts: the training file's columns, their cleaned
        names and the target."""
        known = set(self.input_columns) | set(self.required_columns)
        recipe = getattr(self.cleaner, "recipe_", None)
        known |= {str(rec.name) for rec in getattr(recipe, "columns", None) or []}
        if self.target is not None:
            known.add(str(self.target))
        return known

    def check_columns(self, columns: Sequence[Any], *, ignore: Iterable[str] = ()) -> ColumnCheck:
        """Compare a table's columns with the input contract (``ignore``: columns the
        caller uses itself, such as an id copied to the output)."""
        names = [str(c) for c in columns]
        present = set(names)
        recipe = getattr(self.cleaner, "recipe_", None)
        alternates = {
            str(rec.source): str(rec.name) for rec in getattr(recipe, "columns", None) or []
        }
        missing = [
            c
            for c in self.required_columns
            if c not in present and alternates.get(c) not in present
        ]
        known = self.known_columns() | set(ignore)
        unknown = [n for n in dict.fromkeys(names) if n not in known]
        suggestions: dict[str, str] = {}
        pool = list(unknown)
        for name in missing:
            if not pool:
                break
            squashed = {_squash(u): u for u in pool}
            key = _squash(name)
            match = squashed.get(key)
            if match is None and len(key) >= 3:  # ``age`` in ``age_years``, ``income_usd``
                within = [u for k, u in squashed.items() if len(k) >= 3 and (key in k or k in key)]
                match = within[0] if len(within) == 1 else None
            if match is None:
                close = difflib.get_close_matches(key, list(squashed), n=1, cutoff=0.75)
                match = squashed[close[0]] if close else None
            if match is not None:
                suggestions[name] = match
                pool.remove(match)
        return ColumnCheck(tuple(missing), tuple(unknown), suggestions)

    def select_input(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The columns the bundle was trained on, in order (absent ones all missing)."""
        return self._select(frame) if self.input_columns else frame

    def _select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The columns the bundle was trained on, in order; absent ones are all missing."""
        names = [str(c) for c in frame.columns]
        if names == self.input_columns:
            return frame
        if any(not isinstance(c, str) for c in frame.columns):
            frame = frame.set_axis(names, axis=1)
        present = set(names)
        data = {
            c: frame[c] if c in present else pd.Series([None] * len(frame), index=frame.index)
            for c in self.input_columns
        }
        return pd.DataFrame(data, index=frame.index)

    def value_report(
        self, X: pd.DataFrame, ranges: Mapping[str, tuple[float, float]] | None = None
    ) -> Any:
        """What the cleaning recipe could not use in raw rows, per column: values it could not
        read as the column's type, new missing-value markers, categories not seen in training
        (a :class:`~apprentice.clean.TransformReport`; ``None`` without a recipe). Those
        values are missing to the model; this is a second cleaning pass, for a caller that
        must say so (``apprentice predict``).

        ``ranges`` (a numeric column's training ``(min, max)``) adds, per column, the values
        read that lie far outside it (beyond the range by more than its width: ``1e308``, a
        price with three zeros too many) as ``far_outside_range`` with ``range`` and
        examples: the model extrapolates there (trees flat, linear terms without bound)."""
        if self.cleaner is None or not hasattr(self.cleaner, "transform_with_report"):
            return None
        frame = self._select(X) if self.input_columns else X
        cleaned, report = self.cleaner.transform_with_report(as_text_frame(frame))
        for column, (low, high) in (ranges or {}).items():
            if column not in cleaned.columns:
                continue
            values = pd.to_numeric(cleaned[column], errors="coerce").to_numpy(dtype=float)
            width = (high - low) or abs(high) or 1.0
            far = np.isfinite(values) & ((values > high + width) | (values < low - width))
            far |= np.isinf(values)
            if not far.any():
                continue
            info = report.columns.setdefault(column, {})
            info["far_outside_range"] = int(far.sum())
            info["range"] = [float(low), float(high)]
            raw = frame[column] if column in frame.columns else cleaned[column]
            shown = pd.Series(raw.to_numpy()[far]).astype("str").value_counts().head(3)
            info.setdefault("examples", [])
            info["examples"] = [
                *info["examples"],
                *({"raw": str(k), "count": int(v), "far": True} for k, v in shown.items()),
            ]
        return report

    # -- outputs

    def predict_proba(self, X: Any, *, allow_missing_columns: bool = False) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in :attr:`classes` order."""
        if self.task == "regression":
            raise BundleError("predict_proba needs a classification bundle; use predict")
        return self._output(X, allow_missing_columns, report_unread=True)

    def decide(self, proba: Any) -> np.ndarray:
        """The class index of each row of probabilities, at the bundle's decision threshold."""
        return decide(proba, self.threshold)

    def predict(self, X: Any, *, allow_missing_columns: bool = False) -> np.ndarray:
        """Predicted classes (labels as in training) or values, one per row; a binary
        bundle predicts ``classes[1]`` when its probability reaches :attr:`threshold`.

        Rows that lack a column the model uses raise
        :class:`~apprentice.errors.ColumnMismatchError` (``allow_missing_columns=True``
        predicts with it missing in every row); values the cleaning recipe cannot read are
        predicted as missing with one :class:`~apprentice.bundle.InputWarning`."""
        out = self._output(X, allow_missing_columns, report_unread=True)
        if self.task == "regression":
            return out
        assert self._classes_array is not None
        return self._classes_array[self.decide(out)]

    def predict_frame(self, X: Any, *, allow_missing_columns: bool = False) -> pd.DataFrame:
        """``prediction`` and, for classification, one ``proba_<class>`` column per class
        (columns and unread values as in :meth:`predict`)."""
        out = self._output(X, allow_missing_columns, report_unread=True)
        index = X.index if isinstance(X, pd.DataFrame) else None
        if self.task == "regression":
            return pd.DataFrame({"prediction": out}, index=index)
        assert self._classes_array is not None and self.classes is not None
        data: dict[str, Any] = {"prediction": self._classes_array[self.decide(out)]}
        for j, label in enumerate(self.classes):
            data[f"proba_{label}"] = out[:, j]
        frame = pd.DataFrame(data, index=index)
        if all(isinstance(c, int) for c in self.classes):
            frame["prediction"] = frame["prediction"].astype("int64")
        return frame

    def explain(self, X: Any, top: int = 5) -> list[dict[str, Any]]:
        """The ``top`` largest contributions to each row's prediction, by raw column name.

        See :func:`apprentice.bundle.contrib.explain_rows` for the structure and units.
        """
        from apprentice.bundle.contrib import explain_rows

        return explain_rows(self, X, top=top)

    def contributions(self, X: Any, *, target_class: Any = None, member_contrib: Any = None) -> Any:
        """Every raw column's contribution to every row (a
        :class:`~apprentice.bundle.contrib.Contributions`); the explain stage builds on it."""
        from apprentice.bundle.contrib import contributions

        return contributions(self, X, target_class=target_class, member_contrib=member_contrib)
