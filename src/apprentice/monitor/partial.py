"""Monitoring statistics that merge across chunks of rows, so a check of a big file (or of a
Dask table's partitions) runs in memory bounded by the chunk, not the file.

:func:`partial_check` summarises one chunk of raw current rows; :func:`merge` adds two
summaries (the first one's rows first); :func:`finish` turns the total into the same
:class:`~apprentice.monitor.check.MonitorResult` as :func:`~apprentice.monitor.check.check`
on all the rows at once. What merges how:

- numeric columns (and the binary or regression prediction): counts of current values in
  bins of the reference's stored sorted sample: one bin per distinct sample point and one per
  gap between two, so the counts of current values ``<= r`` and ``< r`` at every sample point
  ``r`` are exact, and with them the two-sample KS statistic (between two reference points
  the reference's CDF is constant, so the supremum of the difference is at those counts);
  its p-value is the same function of the statistic and the sizes as in the whole-frame
  check (where that check uses the exact distribution, up to a current sample of
  ``EXACT_LIMIT / m`` values, the values themselves are kept and the same test runs on them).
  The PSI counts on the reference's decile edges, the missing and out-of-range counts are
  exact. The normalised Wasserstein distance comes from the same bins (plus 1,024 bins of
  1/16 of the reference's scale beyond each end of its range), each with the smallest and
  largest current value in it: a quantile is interpolated between them by rank, which is
  exact when a bin holds one distinct value (every current value on a reference point) or
  values evenly spread, and otherwise off by less than the bin's width; bins between two
  of the reference's 20,000 sample points hold about 1/20,000 of its mass, so the distance
  is off by a small fraction of its floor (0.1 by default): 0.1% relative on a test with
  values on a 0.1 grid and a current sample beyond the reference's range.
- categorical columns: counts of the reference's categories and of each unseen one (the
  rarest lumped beyond a bound).
- numbers within categories (the profile's ``joint`` pairs): per stored category the count,
  the sums of the reference ranks, of their squares and of the numbers, exact
  (:func:`~apprentice.monitor.joint.joint_sums`).
- data quality: the counts :func:`~apprentice.monitor.quality.quality_counts` gives.
- CBPE: the sums of the expected confusion matrix; labelled performance: per window of rows
  the errors (windows close as rows arrive, so at most one open window is kept) or, with a
  time column, per time window the counts and sums.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.decision import decide
from apprentice.monitor.drift import (
    EXACT_LIMIT,
    OTHER,
    ColumnDrift,
    categorical_drift_counts,
    ks_asymptotic_p,
    ks_test,
    psi_counts,
    scaled_distance,
    wasserstein_normalised,
)
from apprentice.monitor.policy import Policy

#: bins of 1/16 of the reference's scale beyond each end of its sample's range
TAIL_BINS = 1024
TAIL_STEP = 1 / 16
#: rows per chunk when a file is read chunk by chunk
CHUNK_ROWS = 100_000


# --------------------------------------------------------------------------- numeric


def _points(ref: dict[str, Any]) -> np.ndarray:
    return np.unique(np.asarray(ref["sample"], dtype=float))


def _step(ref: dict[str, Any], points: np.ndarray) -> float:
    scale = float(ref.get("scale") or 0.0)
    if scale > 0:
        return scale * TAIL_STEP
    span = float(np.max(np.abs(points))) if len(points) else 0.0
    return span * 1e-3 if span > 0 else 1e-3


@dataclass
class NumericPartial:
    """Counts of a numeric column's current values in the bins of its reference."""

    finite: int
    bins: np.ndarray  # counts per bin (in value order)
    low: np.ndarray  # smallest value per bin (inf when empty)
    high: np.ndarray  # largest value per bin (-inf when empty)
    psi_le: np.ndarray  # counts <= each PSI edge
    exact: np.ndarray | None  # the values themselves while the exact KS test applies

    @classmethod
    def of(cls, ref: dict[str, Any], values: np.ndarray) -> NumericPartial:
        values = np.asarray(values, dtype=float)
        values = np.sort(values[np.isfinite(values)])
        points = _points(ref)
        k = len(points)
        size = 2 * TAIL_BINS + 2 * k - 1 if k else 1
        idx = _bin_index(values, points, _step(ref, points)) if k else np.zeros(len(values), int)
        bins = np.bincount(idx, minlength=size).astype(np.int64)
        low = np.full(size, np.inf)
        high = np.full(size, -np.inf)
        if len(values):
            starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
            ends = np.r_[starts[1:], len(idx)] - 1
            low[idx[starts]] = values[starts]
            high[idx[ends]] = values[ends]
        edges = np.asarray(ref["edges"], dtype=float)
        m = len(ref["sample"])
        exact = values if m * len(values) <= EXACT_LIMIT else None
        return cls(
            finite=len(values),
            bins=bins,
            low=low,
            high=high,
            psi_le=np.searchsorted(values, edges, side="right").astype(np.int64),
            exact=exact,
        )

    def merge(self, other: NumericPartial, m: int) -> NumericPartial:
        exact = None
        if (
            self.exact is not None
            and other.exact is not None
            and m * (self.finite + other.finite) <= EXACT_LIMIT
        ):
            exact = np.sort(np.concatenate([self.exact, other.exact]))
        return NumericPartial(
            finite=self.finite + other.finite,
            bins=self.bins + other.bins,
            low=np.minimum(self.low, other.low),
            high=np.maximum(self.high, other.high),
            psi_le=self.psi_le + other.psi_le,
            exact=exact,
        )

    def drift(self, name: str, ref: dict[str, Any]) -> ColumnDrift:
        """The same test as :func:`~apprentice.monitor.drift.numeric_drift`."""
        sample = np.asarray(ref["sample"], dtype=float)
        m, n = len(sample), self.finite
        if self.exact is not None and m * n <= EXACT_LIMIT:
            d, p = ks_test(sample, self.exact)
        elif m == 0 or n == 0:
            d, p = math.nan, 1.0
        else:
            d = self._ks_statistic(sample)
            p = ks_asymptotic_p(d, m, n)
        counts = np.diff(np.concatenate([[0], self.psi_le, [n]]))
        distance = {
            "psi": psi_counts(np.asarray(ref["hist"]), counts),
            "wasserstein": self._wasserstein(sample, float(ref.get("scale") or 0.0)),
        }
        return ColumnDrift(name, "numeric", "ks", d, p, distance, int(ref["n"]), n)

    def _ks_statistic(self, sample: np.ndarray) -> float:
        points = np.unique(sample)
        k = len(points)
        m, n = len(sample), self.finite
        f_ref = np.searchsorted(sample, points, side="right") / m
        cum = np.cumsum(self.bins)
        point_bins = TAIL_BINS + 2 * np.arange(k)
        le = cum[point_bins]  # current values <= each point
        lt = le - self.bins[point_bins]  # current values < each point
        below = [lt[0] / n]  # before the first point: F_ref = 0
        # on [point j, point j+1): F_ref = f_ref[j], F_cur from le[j] up to lt[j+1]
        at = np.abs(f_ref - le / n)
        before_next = np.abs(f_ref[:-1] - lt[1:] / n)
        return float(max(np.max(below), np.max(at), np.max(before_next, initial=0.0)))

    def _wasserstein(self, sample: np.ndarray, scale: float, grid: int = 1000) -> float:
        n = self.finite
        if len(sample) == 0 or n == 0:
            return math.nan
        if self.exact is not None and len(self.exact) == n:
            return wasserstein_normalised(sample, self.exact, scale, grid)
        u = (np.arange(grid) + 0.5) / grid
        pos = u * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        frac = pos - lo
        q_c = self._order_statistic(lo) * (1 - frac) + self._order_statistic(hi) * frac
        from apprentice.monitor.profile import sorted_quantile

        q_r = sorted_quantile(sample, u)
        return scaled_distance(q_r, q_c, scale)

    def _order_statistic(self, rank: np.ndarray) -> np.ndarray:
        """The ``rank``-th smallest current value (0-based), interpolated inside its bin."""
        cum = np.cumsum(self.bins)
        b = np.searchsorted(cum, rank, side="right")
        start = cum[b] - self.bins[b]
        count = self.bins[b]
        within = (rank - start) / np.maximum(count - 1, 1)
        return self.low[b] + (self.high[b] - self.low[b]) * within


def _bin_index(values: np.ndarray, points: np.ndarray, step: float) -> np.ndarray:
    """Bins in value order: ``TAIL_BINS`` below the first point, then point, gap, point...,
    then ``TAIL_BINS`` above the last point."""
    k = len(points)
    left = np.searchsorted(points, values, side="left")
    right = np.searchsorted(points, values, side="right")
    idx = np.where(right > left, TAIL_BINS + 2 * left, TAIL_BINS + 2 * left - 1)
    below = left == 0
    below &= right == 0
    if below.any():
        with np.errstate(over="ignore"):  # 1e308 past the last point: the last tail bin
            t = np.minimum(np.floor((points[0] - values[below]) / step), TAIL_BINS - 1)
        idx[below] = TAIL_BINS - 1 - t.astype(np.int64)
    above = left == k
    if above.any():
        with np.errstate(over="ignore"):
            t = np.minimum(np.floor((values[above] - points[-1]) / step), TAIL_BINS - 1)
        idx[above] = TAIL_BINS + 2 * k - 1 + t.astype(np.int64)
    return idx.astype(np.int64)


# --------------------------------------------------------------------------- categorical


@dataclass
class CategoricalPartial:
    """Counts of a categorical column's reference categories and of the categories the
    reference never saw, each on its own (as the whole-frame test counts them), up to
    :data:`MAX_UNSEEN` of those; beyond that the rarest are lumped. When the reference
    lumped its own tail, every category it did not keep is lumped too."""

    counts: dict[str, int]
    known: frozenset[str] = frozenset()  # the reference's categories

    @classmethod
    def of(cls, ref: dict[str, Any], values: Any) -> CategoricalPartial:
        from apprentice.monitor.profile import category_counts

        known = ref["counts"]
        lumped = OTHER in known
        counts: dict[str, int] = {}
        other = 0
        for key, count in category_counts(values).items():
            if (key in known or not lumped) and key != OTHER:
                counts[key] = count
            else:
                other += count
        if other:
            counts[OTHER] = other
        return cls(_cap_unseen(counts, known), frozenset(known))

    def merge(self, other: CategoricalPartial) -> CategoricalPartial:
        out = dict(self.counts)
        for key, count in other.counts.items():
            out[key] = out.get(key, 0) + count
        return CategoricalPartial(_cap_unseen(out, self.known))

    def drift(self, name: str, ref: dict[str, Any]) -> ColumnDrift:
        return categorical_drift_counts(name, ref, self.counts)


#: distinct unseen categories a partial keeps apart (memory stays bounded on free text)
MAX_UNSEEN = 1_000


def _cap_unseen(counts: dict[str, int], known: Collection[str]) -> dict[str, int]:
    """``counts`` with all but the :data:`MAX_UNSEEN` most frequent unseen categories lumped
    into :data:`OTHER` (ties broken by name, so chunks merge to the same result)."""
    unseen = [(k, v) for k, v in counts.items() if k not in known and k != OTHER]
    if len(unseen) <= MAX_UNSEEN:
        return counts
    unseen.sort(key=lambda kv: (-kv[1], kv[0]))
    out = {k: v for k, v in counts.items() if k in known or k == OTHER}
    out.update(unseen[:MAX_UNSEEN])
    out[OTHER] = out.get(OTHER, 0) + sum(v for _, v in unseen[MAX_UNSEEN:])
    return out


Partial = NumericPartial | CategoricalPartial


def _column_partial(ref: dict[str, Any], values: Any) -> Partial:
    if ref["kind"] == "numeric":
        return NumericPartial.of(ref, values)
    return CategoricalPartial.of(ref, values)


def _merge_column(a: Partial, b: Partial, ref: dict[str, Any]) -> Partial:
    if isinstance(a, NumericPartial) and isinstance(b, NumericPartial):
        return a.merge(b, len(ref["sample"]))
    assert isinstance(a, CategoricalPartial) and isinstance(b, CategoricalPartial)
    return a.merge(b)


# --------------------------------------------------------------------------- performance


@dataclass
class PerformancePartial:
    """Labelled performance: the sums of closed windows of ``window_rows`` labelled rows and
    the open one's per-row sums, or (with a time column) the sums per time window (see
    :mod:`apprentice.monitor.performance`)."""

    task: str
    window_rows: int
    closed: list[np.ndarray] = field(default_factory=list)
    open: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    keyed: dict[str, np.ndarray] | None = None

    def merge(self, other: PerformancePartial) -> PerformancePartial:
        if self.keyed is not None or other.keyed is not None:
            keyed = {k: v.copy() for k, v in (self.keyed or {}).items()}
            for key, stats in (other.keyed or {}).items():
                keyed[key] = keyed[key] + stats if key in keyed else stats.copy()
            return PerformancePartial(self.task, self.window_rows, keyed=keyed)
        if other.closed:
            raise ValueError("merge partial checks in row order, each new one on the right")
        out = PerformancePartial(self.task, self.window_rows, list(self.closed))
        parts = [x for x in (self.open, other.open) if len(x)]
        out.open = np.concatenate(parts) if parts else self.open
        out._close(final=False)
        return out

    def _close(self, *, final: bool) -> None:
        size = self.window_rows
        while len(self.open) >= size or (final and len(self.open)):
            block, self.open = self.open[:size], self.open[size:]
            self.closed.append(block.sum(axis=0))

    def finish(self, profile: dict[str, Any], policy: Policy) -> dict[str, Any] | None:
        from apprentice.monitor.check import judge_windows

        if self.keyed is not None:
            return judge_windows(list(self.keyed.items()), self.task, profile, policy)
        done = PerformancePartial(self.task, self.window_rows, list(self.closed), self.open)
        done._close(final=True)
        sums = [(f"rows {i * self.window_rows + 1}-", s) for i, s in enumerate(done.closed)]
        return judge_windows(sums, self.task, profile, policy)


def _performance(
    output: np.ndarray,
    y: np.ndarray,
    task: str,
    policy: Policy,
    windows: np.ndarray | None,
    threshold: float | None = None,
    reference: dict[str, Any] | None = None,
) -> PerformancePartial:
    from apprentice.monitor.performance import row_stats

    ok = np.isfinite(y) if task == "regression" else y >= 0
    idx = np.flatnonzero(ok)
    correct = None if task == "regression" else decide(output[idx], threshold) == y[idx]
    stats = row_stats(task, output[idx], y[idx], correct, reference or {})
    size = max(policy.performance.window_rows, 1)
    if windows is None:
        return PerformancePartial(task, size, open=stats)
    keys = np.asarray(windows)[idx].astype(str)
    keyed = {key: stats[keys == key].sum(axis=0) for key in dict.fromkeys(keys.tolist())}
    return PerformancePartial(task, size, keyed=keyed)


# --------------------------------------------------------------------------- a whole check


@dataclass
class PartialCheck:
    """What :func:`partial_check` found in one chunk of rows (or several, merged)."""

    rows: int
    raw_columns: list[str] | None
    features: dict[str, Partial]
    quality: dict[str, dict[str, Any]]
    prediction: Partial | None
    cbpe: dict[str, float] | None
    performance: PerformancePartial | None
    #: the joint pairs' sums (``None``: the profile has none, or no rows yet)
    joint: list[np.ndarray | None] | None = None


def partial_check(
    bundle: Any,
    raw: pd.DataFrame,
    *,
    profile: dict[str, Any],
    policy: Policy | None = None,
    time_column: str | None = None,
    window: str = "1D",
) -> PartialCheck:
    """The mergeable statistics of one chunk of raw current rows (see the module's text)."""
    from apprentice.monitor import cbpe
    from apprentice.monitor.check import time_windows
    from apprentice.monitor.profile import encode_target, numeric_values, typed_features
    from apprentice.monitor.quality import quality_counts

    policy = policy or Policy()
    task = bundle.task
    raw = raw.reset_index(drop=True)
    raw.columns = pd.Index([str(c) for c in raw.columns])
    features = raw.drop(columns=[c for c in (bundle.target,) if c in raw.columns])
    empty = PartialCheck(len(raw), list(features.columns), {}, {}, None, None, None)
    if len(raw) == 0:
        return empty
    windows = time_windows(raw, time_column, window)
    typed = typed_features(bundle, features)
    output = np.asarray(bundle.predictor.predict_frame(typed), dtype=float)
    columns: dict[str, Partial] = {}
    for name, ref in profile["features"].items():
        if name in typed.columns and ref["kind"] != "text" and ref.get("n", 0) != 0:
            values = numeric_values(typed[name]) if ref["kind"] == "numeric" else typed[name]
            columns[name] = _column_partial(ref, values)
    quality = quality_counts(
        profile, typed, raw=bundle._select(features) if bundle.input_columns else None
    )
    prediction = None
    ref_pred = profile.get("prediction")
    if ref_pred is not None:
        if task == "regression":
            prediction = _column_partial(ref_pred, output)
        elif task == "binary":
            prediction = _column_partial(ref_pred, output[:, 1])
        else:
            prediction = _column_partial(ref_pred, pd.Series(output.argmax(axis=1).astype(str)))
    sums = None
    if task != "regression" and profile.get("calibration"):
        sums = cbpe.sums(profile["calibration"], output, task, bundle.threshold)
    performance = None
    if bundle.target is not None and bundle.target in raw.columns:
        labels = encode_target(raw[bundle.target], task, bundle.classes)
        performance = _performance(
            output,
            labels,
            task,
            policy,
            windows,
            bundle.threshold,
            profile.get("reference_metrics", {}),
        )
    joint = None
    if profile.get("joint") is not None:
        from apprentice.monitor.joint import joint_sums

        joint = joint_sums(profile["joint"], profile["features"], typed)
    return PartialCheck(
        len(raw), list(features.columns), columns, quality, prediction, sums, performance, joint
    )


def merge(a: PartialCheck, b: PartialCheck, profile: dict[str, Any]) -> PartialCheck:
    """Two chunks' statistics together (``a``'s rows come first)."""
    from apprentice.monitor.cbpe import merge_sums
    from apprentice.monitor.joint import merge_sums as merge_joint
    from apprentice.monitor.quality import merge_quality_counts

    features = dict(a.features)
    for name, part in b.features.items():
        features[name] = (
            _merge_column(features[name], part, profile["features"][name])
            if name in features
            else part
        )
    prediction = a.prediction if b.prediction is None else b.prediction
    if a.prediction is not None and b.prediction is not None:
        prediction = _merge_column(a.prediction, b.prediction, profile["prediction"])
    performance = a.performance if b.performance is None else b.performance
    if a.performance is not None and b.performance is not None:
        performance = a.performance.merge(b.performance)
    return PartialCheck(
        rows=a.rows + b.rows,
        raw_columns=a.raw_columns if a.raw_columns is not None else b.raw_columns,
        features={n: features[n] for n in profile["features"] if n in features},
        quality=merge_quality_counts(a.quality, b.quality),
        prediction=prediction,
        cbpe=merge_sums(a.cbpe, b.cbpe),
        performance=performance,
        joint=merge_joint(a.joint, b.joint),
    )


def finish(
    bundle: Any,
    total: PartialCheck,
    *,
    profile: dict[str, Any],
    policy: Policy | None = None,
    started: float | None = None,
) -> Any:
    """The :class:`~apprentice.monitor.check.MonitorResult` of the merged statistics."""
    from apprentice.monitor import cbpe
    from apprentice.monitor.check import conclude, finish_drift, prediction_verdict
    from apprentice.monitor.quality import quality_verdicts

    policy = policy or Policy()
    started = time.monotonic() if started is None else started
    drift = [part.drift(name, profile["features"][name]) for name, part in total.features.items()]
    joint = None
    if profile.get("joint") is not None:
        from apprentice.monitor.joint import joint_tests

        sums = total.joint
        if sums is None:  # no rows: nothing to test
            sums = [None] * len(profile["joint"].get("pairs", []))
        joint = joint_tests(profile["joint"], sums, policy.drift.min_rows)
    drift, score = finish_drift(drift, profile.get("importance", {}), policy.drift, joint)
    quality = quality_verdicts(
        profile,
        total.quality,
        rows=total.rows,
        raw_columns=total.raw_columns,
        input_columns=bundle.input_columns,
        policy=policy.quality,
    )
    prediction = None
    if total.prediction is not None and total.rows:
        col = total.prediction.drift("prediction", profile["prediction"])
        prediction = prediction_verdict(col, bundle.task, policy)
    estimated = None
    if total.cbpe is not None and profile.get("calibration"):
        estimated = cbpe.from_sums(profile["calibration"], total.cbpe, bundle.task)
    performance = None
    if total.performance is not None:
        performance = total.performance.finish(profile, policy)
    return conclude(
        profile,
        policy,
        rows=total.rows,
        drift=drift,
        score=score,
        quality=quality,
        prediction=prediction,
        performance=performance,
        estimated=estimated,
        started=started,
        joint=joint,
    )


def check_chunks(
    bundle: Any,
    chunks: Iterable[pd.DataFrame],
    *,
    policy: Policy | None = None,
    profile: dict[str, Any] | None = None,
    time_column: str | None = None,
    window: str = "1D",
) -> Any:
    """:func:`~apprentice.monitor.check.check` over chunks of rows, one chunk in memory at a
    time; the result equals the whole-frame check's (the Wasserstein distance up to the
    approximation the module's text bounds)."""
    from apprentice.monitor.profile import load_profile

    started = time.monotonic()
    policy = policy or Policy()
    profile = profile or load_profile(bundle)
    total: PartialCheck | None = None
    for chunk in chunks:
        part = partial_check(
            bundle, chunk, profile=profile, policy=policy, time_column=time_column, window=window
        )
        total = part if total is None else merge(total, part, profile)
    if total is None:
        total = PartialCheck(0, None, {}, {}, None, None, None)
    return finish(bundle, total, profile=profile, policy=policy, started=started)


# --------------------------------------------------------------------------- reading


def iter_chunks(path: str | Path, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of a file as text cells, ``rows`` at a time: Parquet by record batch, plain
    delimited text through pyarrow's streaming reader with the dialect detected on a sample;
    anything else (compressed, JSON, Excel, text the fast path refuses) read whole and then
    cut into chunks."""
    path = Path(path)
    head = b""
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(4)
    if head == b"PAR1":
        yield from _parquet_chunks(path, rows)
        return
    streamed = _csv_chunks(path, rows) if path.is_file() else None
    if streamed is not None:
        yield from streamed
        return
    from apprentice.read import read

    table = read(str(path)).table
    for start in range(0, max(len(table), 1), rows):
        yield table.iloc[start : start + rows]


def _parquet_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from apprentice.read.blocks import unique_names
    from apprentice.read.parquet import arrow_text

    pfile = pq.ParquetFile(path)
    names = unique_names([str(n) for n in pfile.schema_arrow.names])
    for batch in pfile.iter_batches(batch_size=rows, use_pandas_metadata=False):
        data = {
            name: pd.Series(
                pa.chunked_array([arrow_text(batch.column(j))], pa.large_string()).to_pandas(),
                dtype="str",
            )
            for j, name in enumerate(names)
        }
        frame = pd.DataFrame(data)
        frame.columns = pd.Index(names, dtype="object")
        yield frame


def _csv_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame] | None:
    """Chunks through pyarrow's streaming CSV reader, or ``None`` when the file needs the
    careful reader (broken rows, multi-line values, another table below, an odd dialect)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from apprentice.read.blocks import arrow_delimiter, parse_table, sample_text
    from apprentice.read.delimited import unique_names
    from apprentice.read.hints import ReadHints

    sample = sample_text(path)
    if sample is None:
        return None
    text, encoding = sample
    parsed = parse_table(text, ReadHints())
    fmt = parsed.format
    width = len(parsed.header)
    if (
        parsed.other_tables
        or parsed.multiline_rows
        or parsed.quarantine
        or parsed.header_generated
        or not arrow_delimiter(fmt, text)
        or width == 0
        or encoding.replace("-", "").lower() not in ("utf8", "ascii")
    ):
        return None
    names = unique_names([str(h) for h in parsed.header])
    codes = [f"c{i}" for i in range(width)]
    read_options = pacsv.ReadOptions(
        skip_rows=parsed.first_body_line,
        column_names=codes,
        block_size=max(1 << 20, min(rows * 200, 64 << 20)),
        use_threads=False,
    )
    parse_options = pacsv.ParseOptions(
        delimiter=fmt.delimiter[0],
        quote_char=fmt.quotechar or False,
        double_quote=fmt.doublequote,
        escape_char=fmt.escapechar or False,
        newlines_in_values=False,
        ignore_empty_lines=True,
        invalid_row_handler=lambda row: "skip",  # malformed rows: the reader quarantines them
    )
    trim = fmt.skipinitialspace or len(fmt.delimiter) > 1
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(codes, pa.large_string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )

    def chunks() -> Iterator[pd.DataFrame]:
        reader = pacsv.open_csv(path, read_options, parse_options, convert_options)
        pending: list[Any] = []
        count = 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            while count >= rows:
                table = pa.Table.from_batches(pending)
                yield _text_frame(table.slice(0, rows), names, trim)
                rest = table.slice(rows)
                pending, count = rest.to_batches(), rest.num_rows
        if count:
            yield _text_frame(pa.Table.from_batches(pending), names, trim)

    return chunks()


def _text_frame(table: Any, names: list[str], trim: bool) -> pd.DataFrame:
    """Text cells; with a ``", "`` delimiter the spaces after it belong to it (as the reader
    has it)."""
    import pyarrow.compute as pc

    columns = {}
    for j, name in enumerate(names):
        col = table.column(j)
        if trim and j > 0:
            col = pc.utf8_ltrim(col, " ")
        columns[name] = pd.Series(col.to_pandas(), dtype="str")
    frame = pd.DataFrame(columns)
    frame.columns = pd.Index(names, dtype="object")
    return frame
