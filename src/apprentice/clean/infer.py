"""Decide each column's type from its data, with the evidence.

Order of the checks: all-missing -> caller's type hint -> native (non-text) dtype -> digit codes
with leading zeros (identifier) -> boolean -> number or date, whichever fits the majority of
the non-missing cells -> identifier / free text / category. Missing-value markers are removed
before the type is decided and then judged per column (see :mod:`apprentice.clean.markers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from apprentice.clean._arrow import (
    DIGITS,
    MAX_DETECT_VALUES,
    SAMPLE_ROWS,
    ByteView,
    Distinct,
    bool_np,
    count_bytes_in,
    distinct_counts,
    is_in,
    to_text_array,
    trim,
)
from apprentice.clean.booleans import BooleanFormat, detect_boolean
from apprentice.clean.categories import (
    classify_text,
    leading_zero_identifier,
    learn_categories,
)
from apprentice.clean.dates import DateFormat, detect_date
from apprentice.clean.markers import MISSING_TOKENS
from apprentice.clean.numbers import (
    NumberEvidence,
    NumberFormat,
    detect_number,
    name_tokens,
    number_semantic,
)
from apprentice.clean.recipe import ColumnRecipe
from apprentice.errors import ConfigError

HINT_KINDS = (
    "integer",
    "float",
    "number",
    "boolean",
    "date",
    "datetime",
    "time",
    "category",
    "identifier",
    "text",
)
MAJORITY = 0.5
# Cells that are not numbers but carry digits are dirt (a typo like ``1x5``) while they are rare
# and scattered; once they are common or one of them recurs, they are values of the column
# (ticket codes like ``PC 17599``, a band label like ``50000+``) and the column is text: reading
# it as numbers would turn those values into missing cells.
CODES_SHARE = 0.1  # share of cells: non-numbers with digits, in at least CODES_VALUES forms
CODES_VALUES = 3
RECURRING_SHARE = 0.05  # share of cells: one non-number with digits that occurs more than once


@dataclass
class Options:
    percent_as: str = "fraction"
    dayfirst: bool | None = None


@dataclass
class Inference:
    recipe: ColumnRecipe
    shares: dict[str, float] = field(default_factory=dict)
    share_fit: float = 1.0
    not_fitting: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    reason: str = ""
    marker_tokens: dict[str, int] = field(default_factory=dict)
    kept_markers: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    sampled: bool = False
    n_values: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # the cells cast to float64 when the column was found plain numbers by one cast (handed
    # to apply_column so that the cells are not parsed twice, then dropped)
    plain: pa.Array | None = field(default=None, repr=False, compare=False)
    # the same cells as numpy float64 when the check already holds them (every cell finite,
    # no null): a row of the batched check's columns x rows matrix, or the one column's cast
    plain_values: np.ndarray | None = field(default=None, repr=False, compare=False)
    # (min, max) of plain_values, computed for the whole batch at once
    plain_range: tuple[float, float] | None = field(default=None, repr=False, compare=False)


@dataclass
class Hint:
    kind: str
    dayfirst: bool | None = None
    date_format: str | None = None


def parse_hint(column: str, hint: str) -> Hint:
    """``'date:dayfirst'``, ``'date:%d/%m/%Y'``, ``'number'``, ... -> :class:`Hint`."""
    text = str(hint).strip()
    kind, _, option = text.partition(":")
    kind = kind.strip().lower()
    if kind not in HINT_KINDS:
        raise ConfigError(
            f"type hint for column {column!r} is {kind!r}, which is not a type; use one of "
            f"{', '.join(HINT_KINDS)} (dates also as 'date:dayfirst', 'date:monthfirst' or "
            "'date:<strftime format>')"
        )
    out = Hint("float" if kind == "number" else kind)
    option = option.strip()
    if option:
        if kind not in ("date", "datetime"):
            raise ConfigError(
                f"type hint {text!r} for column {column!r}: only date and datetime hints take an "
                "option (dayfirst, monthfirst or a strftime format)"
            )
        if option.lower() == "dayfirst":
            out.dayfirst = True
        elif option.lower() == "monthfirst":
            out.dayfirst = False
        elif "%" in option:
            out.date_format = option
        else:
            raise ConfigError(
                f"type hint {text!r} for column {column!r}: the option must be dayfirst, "
                "monthfirst or a strftime format such as %d/%m/%Y"
            )
    return out


def _split_markers(d: Distinct) -> tuple[Distinct, dict[str, int]]:
    """(the non-marker distinct values, {marker token: count})."""
    if len(d.values) == 0:
        return d, {}
    lower = pc.utf8_lower(d.values)
    mask = is_in(lower, MISSING_TOKENS) | bool_np(pc.equal(d.values, ""))
    markers: dict[str, int] = {}
    if mask.any():
        for v, c in zip(
            d.values.filter(pa.array(mask)).to_pylist(), d.counts[mask].tolist(), strict=True
        ):
            markers[v] = markers.get(v, 0) + int(c)
    return d.filter(~mask), markers


LONG_INTEGERS = (
    "integers of more than 15 digits (account or record numbers) do not fit a float64 "
    "exactly: kept as text"
)


def _too_long_for_float(values: pa.Array) -> bool:
    """Whether some integer has more than 15 digits (float64 would change it)."""
    digits = count_bytes_in(values, DIGITS)
    return bool(digits.size and int(digits.max()) > 15)


def _plain_numbers(values: pa.Array) -> bool:
    """Whether every value is a plain number that pyarrow parses as is (the common case)."""
    if len(values) == 0:
        return False
    try:
        cast = pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    vals = np.asarray(cast.to_numpy(zero_copy_only=False), dtype=float)
    return bool(np.isfinite(vals).all())


def is_native(column: Any) -> bool:
    """Numbers, booleans or datetimes that need no text parsing (a Series or its array)."""
    dtype = column.dtype
    if isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype)):
        return False
    return dtype.kind in "iufbM"


def infer_column(
    column: pd.Series,
    *,
    name: str,
    source: str,
    hint: Hint | None,
    options: Options,
    arr: pa.Array | None = None,
    plain: Inference | bool | None = None,
) -> Inference:
    """Learn the recipe of one column (before sentinel review).

    ``plain``: this column's entry of :func:`plain_number_columns`, when the caller batched
    the plain-number check (an inference, ``False`` for not plain, ``None`` for not known)."""
    dtype = column.dtype
    if dtype.kind in "iuf" and not isinstance(dtype, pd.StringDtype):
        vals = column.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = vals[np.isfinite(vals)]
        integer = bool(np.all(finite == np.floor(finite))) if finite.size else dtype.kind in "iu"
        num_kind = "integer" if integer else "float"
        if hint is not None and hint.kind in ("integer", "float"):
            num_kind = hint.kind
        fmt = NumberFormat(integer=integer, percent=options.percent_as)
        fmt.semantic = number_semantic(name, vals, integer)
        rec = ColumnRecipe(
            name=name, source=source, kind=num_kind, number=fmt, semantic=fmt.semantic
        )
        return Inference(rec, {"number": 1.0}, reason="numeric input column", n_values=finite.size)
    if dtype.kind == "b":
        rec = ColumnRecipe(name=name, source=source, kind="boolean", boolean=BooleanFormat())
        return Inference(rec, {"boolean": 1.0}, reason="boolean input column")
    if dtype.kind == "M":
        fmt_d = DateFormat(
            formats=["%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"], kind="datetime"
        )
        rec = ColumnRecipe(name=name, source=source, kind="datetime", date=fmt_d)
        return Inference(rec, {"date": 1.0}, reason="datetime input column")

    if arr is None:
        arr = to_text_array(column)
    if hint is None and plain is not False:
        quick = (
            plain
            if isinstance(plain, Inference)
            else _plain_number_column(arr, name=name, source=source, options=options)
        )
        if quick is not None:
            return quick
    d = distinct_counts(arr)
    nm, markers = _split_markers(d)
    n_values = nm.total
    inf = Inference(ColumnRecipe(name=name, source=source, kind="empty"))
    inf.sampled = d.sampled
    inf.n_values = n_values
    inf.marker_tokens = markers
    if n_values == 0 and hint is None:
        inf.reason = "every cell is empty or a missing-value marker"
        inf.recipe.markers = sorted(markers)
        return inf
    rec = inf.recipe
    tokens = set(name_tokens(name))
    allow_compact = bool(tokens & {"date", "dt", "day", "yyyymmdd", "ymd"})
    dayfirst = hint.dayfirst if hint is not None else options.dayfirst
    n_distinct = len(nm.values)
    det_values, det_counts = nm.head(MAX_DETECT_VALUES)

    kind: str | None = None
    if hint is not None:
        kind = hint.kind
        inf.reason = f"type {hint.kind!r} given by the caller"
    else:
        why_id = leading_zero_identifier(det_values, det_counts)
        if why_id:
            kind, inf.reason = "identifier", why_id
    if kind is None and not allow_compact and _plain_numbers(nm.values):
        # every value is a plain number: no need for the slower, per-value detectors
        bfmt, bev = detect_boolean(det_values, det_counts) if n_distinct <= 4 else (None, None)
        if bfmt is not None and bev is not None:
            kind = "boolean"
            inf.shares = {"boolean": 1.0, "number": 1.0, "date": 0.0}
            inf.reason = "0/1 only: read as boolean"
            rec.boolean = bfmt
        else:
            decimals = bool(count_bytes_in(nm.values, ".eE").any())
            kind = "float" if decimals else "integer"
            if not decimals and _too_long_for_float(nm.values):
                rec.kind = "identifier"
                rec.markers = sorted(markers)
                inf.reason = LONG_INTEGERS
                inf.shares = {"boolean": 0.0, "number": 1.0, "date": 0.0}
                return inf
            inf.shares = {"boolean": 0.0, "number": 1.0, "date": 0.0}
            inf.reason = PLAIN_NUMBERS
            rec.number = NumberFormat(integer=not decimals, percent=options.percent_as)
            inf.extra = {"percent_share": 0.0, "unit_share": 0.0}
        rec.kind = kind
        rec.markers = sorted(markers)
        return inf
    # evidence for every candidate type, so the ledger can show why one won
    bfmt, bev = detect_boolean(det_values, det_counts)
    nfmt, nev = detect_number(det_values, det_counts, percent_as=options.percent_as, name=name)
    dfmt, dev = detect_date(
        det_values, det_counts, dayfirst=dayfirst, allow_compact=allow_compact, name=name
    )
    if hint is not None and hint.date_format:
        dfmt = DateFormat(formats=[hint.date_format], kind="date", dayfirst=dayfirst)
        if any(t in hint.date_format for t in ("%H", "%I")):
            dfmt.kind = "datetime"
        dev.decisions.append(f"format {hint.date_format} given by the caller")
    inf.shares = {
        "boolean": round(bev.share, 6),
        "number": round(nev.share, 6),
        "date": round(dev.share, 6),
    }
    if kind is None:
        if bfmt is not None:
            kind = "boolean"
            inf.reason = (
                "0/1 only: read as boolean" if bev.zero_one else f"{bev.share:.0%} boolean words"
            )
        else:
            number_ok = (
                nfmt is not None
                and nev.share >= MAJORITY
                and nev.failing_with_digits < 0.3
                and not _values_not_dirt(nev)
            )
            date_ok = dfmt is not None and dev.share >= MAJORITY
            if date_ok and (not number_ok or dev.share > nev.share or allow_compact):
                kind = dfmt.kind if dfmt else "date"
                inf.reason = f"{dev.share:.0%} of values are dates"
            elif number_ok and nfmt is not None:
                kind = "integer" if nfmt.integer else "float"
                inf.reason = f"{nev.share:.0%} of values are numbers"
                if kind == "integer" and _too_long_for_float(nm.values):
                    kind, inf.reason = "identifier", LONG_INTEGERS
            else:
                kind, inf.reason = classify_text(det_values, det_counts, n_distinct)
    rec.kind = kind
    if kind in ("integer", "float"):
        rec.number = nfmt or NumberFormat(percent=options.percent_as)
        rec.number.integer = kind == "integer"
        inf.share_fit = nev.share
        inf.not_fitting = nev.failing
        inf.decisions += nev.decisions
        inf.extra = {
            "percent_share": round(nev.percent_share, 6),
            "unit_share": round(nev.unit_share, 6),
            "conventions": nev.conventions,
        }
    elif kind == "boolean":
        rec.boolean = bfmt or BooleanFormat()
        inf.share_fit = bev.share
        inf.not_fitting = bev.failing[:10]
    elif kind in ("date", "datetime", "time"):
        rec.date = dfmt or DateFormat(formats=["%Y-%m-%d"], kind=kind)
        if kind != rec.date.kind and hint is not None:
            rec.date.kind = kind
        rec.kind = rec.date.kind if hint is None else kind
        inf.share_fit = dev.share
        inf.not_fitting = dev.failing
        inf.decisions += dev.decisions
    else:
        _categorical_markers(inf, det_values, det_counts, int(nm.counts.max()))
        if kind == "category":
            # from the sample; categories the sample missed are added after the first pass
            cat_values, cat_counts = nm.head()
            for k in inf.kept_markers:
                cat_values.append(k["token"])
                cat_counts = np.append(cat_counts, np.int64(k["count"]))
            cs = learn_categories(cat_values, cat_counts)
            rec.categories = cs.categories
            inf.merges = cs.merges
        inf.share_fit = 1.0
    rec.markers = sorted(t for t in markers if t not in {m["token"] for m in inf.kept_markers})
    return inf


PLAIN_NUMBERS = "every value is a plain number"


def _plain_number_column(
    arr: pa.Array, *, name: str, source: str, options: Options
) -> Inference | None:
    """The inference of a text column whose every cell is a plain number or null, without
    counting its distinct values (a wide table has thousands of such columns); None when the
    column is anything else, and the full path decides.

    It gives exactly what the full path gives (tests/clean/test_wide.py compares both):
    pyarrow's cast to float64 refuses surrounding whitespace, empty cells and every marker but
    ``nan``/``-nan`` (not finite, so refused here), so when it succeeds with finite values the
    trimmed distinct values are the cells, there are no markers, and ``_plain_numbers`` holds.
    The full path's other checks are made on every cell instead of on its sample of distinct
    values; where that could differ (a digit string with a leading zero, four distinct values
    or fewer, a sampled long column, integers too long for a float, a date-like name) this
    returns None.
    """
    n_cells = len(arr)
    if n_cells == 0 or n_cells > SAMPLE_ROWS:
        return None
    if set(name_tokens(name)) & {"date", "dt", "day", "yyyymmdd", "ymd"}:
        return None
    try:
        cast = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    n_values = n_cells - cast.null_count
    if n_values == 0:
        return None
    vals = np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
    if cast.null_count:
        vals = vals[np.asarray(cast.is_valid().to_numpy(zero_copy_only=False), dtype=bool)]
    if not np.isfinite(vals).all() or _at_most_distinct(vals, 4):
        return None  # not finite: a marker or inf; four values or fewer: maybe 0/1 booleans
    view = ByteView(arr)
    lens = view.lengths()
    digits, points = view.count2(DIGITS, ".eE")
    if ((lens > 1) & (digits == lens) & (view.first() == ord("0"))).any():
        return None  # digit codes with leading zeros: maybe an identifier
    decimals = bool(points.any())
    if not decimals and int(digits.max()) > 15:
        return None  # too long for a float: an identifier
    return _plain_inference(name, source, options, decimals, n_values, cast)


def _plain_inference(
    name: str,
    source: str,
    options: Options,
    decimals: bool,
    n_values: int,
    cast: pa.Array,
    values: np.ndarray | None = None,
) -> Inference:
    rec = ColumnRecipe(name=name, source=source, kind="float" if decimals else "integer")
    rec.number = NumberFormat(integer=not decimals, percent=options.percent_as)
    inf = Inference(rec, {"boolean": 0.0, "number": 1.0, "date": 0.0}, reason=PLAIN_NUMBERS)
    inf.n_values = n_values
    inf.extra = {"percent_share": 0.0, "unit_share": 0.0}
    inf.plain = cast
    inf.plain_values = values
    return inf


# the bytes a cell may hold to be tried by the batched cast (anything else is decided per column)
_NUMBER_BYTES = "0123456789.eE+-"
BATCH_CELLS = 1_000_000  # cells cast together at most (bounds the batch's memory)


def plain_number_columns(
    arrays: Sequence[pa.Array | pa.ChunkedArray],
    names: Sequence[str],
    sources: Sequence[str],
    options: Options,
) -> list[Inference | bool | None]:
    """:func:`_plain_number_column` of many text columns at once, for wide tables: one cast
    and one pass over the bytes for all of them instead of a few pyarrow calls per column.

    Each entry is the column's plain-number inference, ``False`` where
    :func:`_plain_number_column` is certain to return None, or ``None`` where this batch
    cannot tell (a null cell, a byte that is not part of a plain number, a different length,
    a name that needs the per-column check): the caller then asks the column alone. Only
    null-free columns of equal length whose every cell holds nothing but digits, ``.eE+-``
    are batched; their cells are concatenated and cast to float64 once (halves are retried
    when some cell does not cast), and the per-column tests of :func:`_plain_number_column`
    are made on the ``columns x rows`` matrix. tests/clean/test_wide.py checks both agree.
    """
    out: list[Inference | bool | None] = [None] * len(arrays)
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        return out
    n = lengths.pop()
    if n == 0 or n > SAMPLE_ROWS:
        return out
    date_words = {"date", "dt", "day", "yyyymmdd", "ymd"}
    candidates = [
        j
        for j, a in enumerate(arrays)
        if a.null_count == 0
        and (pa.types.is_large_string(a.type) or pa.types.is_string(a.type))
        and not set(name_tokens(names[j])) & date_words
    ]
    per_batch = max(1, BATCH_CELLS // n)
    large = pa.large_string()
    # digits, [.eE] and [+-] counted in one pass over the bytes, packed 10 bits apart in a
    # uint32 whose running sum may wrap: a cell's difference is exact below 1,024 bytes
    table = np.zeros(256, dtype=np.uint32)
    for chars, weight in ((DIGITS, 1), (".eE", 1 << 10), ("+-", 1 << 20)):
        for ch in chars:
            table[ord(ch)] += weight
    for start in range(0, len(candidates), per_batch):
        batch = candidates[start : start + per_batch]
        chunks: list[pa.Array] = []
        for j in batch:
            a = arrays[j]
            for p in a.chunks if isinstance(a, pa.ChunkedArray) else (a,):
                chunks.append(p if p.type == large else p.cast(large))
        cells = pa.concat_arrays(chunks)
        view = ByteView(cells)
        lens = view.lengths().reshape(len(batch), n)
        if int(lens.max(initial=0)) >= 1 << 10:
            continue  # a cell too long for the packed counts: each column decides alone
        cum = np.zeros(len(view.data) + 1, dtype=np.uint32)
        np.cumsum(table[view.data], out=cum[1:])
        packed = (cum[view.offsets[1:]] - cum[view.offsets[:-1]]).reshape(len(batch), n)
        digits = (packed & 0x3FF).astype(np.int64)
        points = (packed >> 10) & 0x3FF
        signs = packed >> 20
        numeric = ((lens > 0) & (digits + points + signs == lens)).all(axis=1)
        rows = [k for k in range(len(batch)) if numeric[k]]
        runs = _cast_rows(cells, n, rows)
        if not runs:
            continue
        # the per-column tests of _plain_number_column, on the cast columns x rows at once
        runs.sort(key=lambda run: run[0][0])
        done = np.asarray([k for run, _ in runs for k in run], dtype=np.int64)
        vals = np.concatenate(
            [
                np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64).reshape(-1, n)
                for _, cast in runs
            ]
        )
        lens, digits, points = lens[done], digits[done], points[done]
        first = view.first().reshape(len(batch), n)[done]
        plain = np.isfinite(vals).all(axis=1)
        plain &= ~_at_most_distinct_rows(vals, 4)
        plain &= ~((lens > 1) & (digits == lens) & (first == ord("0"))).any(axis=1)
        decimals = points.any(axis=1)
        plain &= decimals | (digits.max(axis=1) <= 15)
        lows, highs = vals.min(axis=1).tolist(), vals.max(axis=1).tolist()
        i = 0
        for run, cast in runs:
            for r, k in enumerate(run):
                j = batch[k]
                if plain[i]:
                    inf = _plain_inference(
                        names[j],
                        sources[j],
                        options,
                        bool(decimals[i]),
                        n,
                        cast.slice(r * n, n),
                        vals[i],
                    )
                    inf.plain_range = (lows[i], highs[i])
                    out[j] = inf
                else:
                    out[j] = False
                i += 1
    return out


def _cast_rows(cells: pa.Array, n: int, rows: list[int]) -> list[tuple[list[int], pa.Array]]:
    """``(run, the float64 cast of the run's cells)`` for runs of consecutive ``rows`` (row
    ``k`` holds ``cells[k*n:(k+1)*n]``) whose cells all cast: a run that fails is halved."""
    out: list[tuple[list[int], pa.Array]] = []
    runs: list[list[int]] = []
    for k in rows:
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    while runs:
        run = runs.pop()
        try:
            cast = pc.cast(cells.slice(run[0] * n, len(run) * n), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if len(run) > 1:
                half = len(run) // 2
                runs.extend([run[:half], run[half:]])
            continue
        out.append((run, cast))
    return out


def _at_most_distinct_rows(values: np.ndarray, limit: int) -> np.ndarray:
    """:func:`_at_most_distinct` of each row of a 2-D array: the first remaining value of
    every row is removed from it, ``limit`` times."""
    rest = np.ones(values.shape, dtype=bool)
    every = np.arange(values.shape[0])
    for _ in range(limit):
        firsts = values[every, rest.argmax(axis=1)]
        rest &= values != firsts[:, None]
    return np.asarray(~rest.any(axis=1), dtype=bool)


def _at_most_distinct(values: np.ndarray, limit: int) -> bool:
    """Whether ``values`` hold at most ``limit`` distinct numbers (a few passes, no sort)."""
    rest = values
    for _ in range(limit):
        if rest.size == 0:
            return True
        rest = rest[rest != rest[0]]
    return rest.size == 0


def _values_not_dirt(ev: NumberEvidence) -> bool:
    """Whether the non-numbers with digits in a mostly numeric column are values, not dirt."""
    common = ev.failing_with_digits > CODES_SHARE and ev.failing_digit_values >= CODES_VALUES
    recurring = ev.failing_top_count >= 2 and ev.failing_top_with_digits >= RECURRING_SHARE
    return common or recurring


def _categorical_markers(inf: Inference, values: list[str], counts: np.ndarray, top: int) -> None:
    """In a categorical column a marker is a value when it is the most frequent value."""
    if not inf.marker_tokens or not values:
        return
    w = counts.astype(float)
    avg_len = float((np.array([len(v) for v in values]) * w).sum() / w.sum())
    if inf.recipe.kind != "category" or avg_len > 25:
        return  # in free text or codes a marker means "nothing written"
    for token, count in sorted(inf.marker_tokens.items(), key=lambda kv: -kv[1]):
        if token == "":
            continue
        if count > top:
            inf.kept_markers.append(
                {
                    "token": token,
                    "count": int(count),
                    "reason": (
                        f"{token!r} is the most frequent value ({count} cells), so it is a "
                        "category here, not a missing-value marker"
                    ),
                }
            )
            inf.recipe.kept_markers.append(token.casefold())
            break


def refine_sentinels(
    rec: ColumnRecipe,
    values: np.ndarray,
    policy: str | dict[str, Any],
    extremes: tuple[float, float] | None = None,
) -> list[dict[str, Any]]:
    """Suspected sentinels of a numeric column and what to do with each (recorded in the recipe).

    ``extremes``: ``(min, max)`` of ``values`` when every value is finite and they are known."""
    from apprentice.clean.sentinels import find_sentinels

    if rec.kind not in ("integer", "float") or rec.semantic:
        return []
    confirmed = policy.get(rec.name, policy.get(rec.source)) if isinstance(policy, dict) else None
    if policy == "ignore":
        return []
    found = [] if confirmed is not None else find_sentinels(values, extremes)
    out: list[dict[str, Any]] = []
    if confirmed is not None:
        for v in confirmed:
            hits = int(np.sum(values == float(v)))
            out.append(
                {
                    "value": float(v),
                    "count": hits,
                    "action": "missing",
                    "reason": f"confirmed by the caller ({hits} cells)",
                }
            )
    for s in found:
        s["action"] = "missing" if policy == "missing" else "flag"
        out.append(s)
    rec.sentinels = [{"value": s["value"], "action": s["action"]} for s in out]
    return out


def distinct_stripped(arr: pa.Array) -> pa.Array:
    return pc.unique(trim(arr))
