"""``clean_table``: a text table in, typed columns and a ledger of every decision out."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from apprentice.clean import infer as _infer
from apprentice.clean._arrow import column_arrays, to_text_array
from apprentice.clean.categories import learn_categories
from apprentice.clean.dates import detect_date
from apprentice.clean.gc_pause import paused_gc
from apprentice.clean.infer import (
    Hint,
    Inference,
    Options,
    infer_column,
    is_native,
    parse_hint,
    refine_sentinels,
)
from apprentice.clean.ledger import MAX_EXAMPLES, ColumnReport, Ledger, TableReport
from apprentice.clean.names import clean_names
from apprentice.clean.numbers import number_semantic
from apprentice.clean.recipe import (
    MISSING_RULES,
    Applied,
    ColumnRecipe,
    Recipe,
    Rule,
    apply_column,
    coercions_from_counts,
    mark_sentinels,
)
from apprentice.config import get_settings
from apprentice.errors import ConfigError, EmptyTableError, SchemaError, TargetError
from apprentice.read.result import ReadResult

if TYPE_CHECKING:
    from apprentice.clean.explain import CellExplanation

PERCENT_CHOICES = ("fraction", "points")
SENTINEL_CHOICES = ("flag", "missing", "ignore")

SentinelPolicy = str | Mapping[str, Sequence[float]]


@dataclass
class CleanResult:
    """What :func:`clean_table` returns.

    ``table`` is the typed frame (float64 numbers, ``boolean`` booleans, ``datetime64[us]``
    dates, ``timedelta64[us]`` clock times, ``category`` categories, ``str`` identifiers and
    text); ``ledger`` every decision; ``recipe`` the learned recipe (JSON via
    ``recipe.to_json()``); ``codes`` the :class:`~apprentice.clean.recipe.Rule` of each cell.
    """

    table: pd.DataFrame
    ledger: Ledger
    recipe: Recipe
    codes: dict[str, np.ndarray] = field(repr=False)
    raw: pd.DataFrame = field(repr=False)
    line_numbers: np.ndarray | None = field(default=None, repr=False)

    def coerced(self, column: str) -> pd.Series:
        """Raw text of the cells of ``column`` that became missing because they did not fit
        the column's type (or were confirmed sentinels), indexed by data row."""
        rec = self.recipe.column(column)
        codes = self.codes[rec.name]
        mask = (codes == int(Rule.UNPARSEABLE)) | (codes == int(Rule.SENTINEL))
        pos = self.raw.columns.get_loc(rec.name)
        return self.raw.iloc[np.flatnonzero(mask), pos]

    def explain(self, row: int, column: str | int) -> CellExplanation:
        """Where the cleaned value of one cell came from (``row`` is the 0-based data row)."""
        from apprentice.clean.explain import explain_in

        return explain_in(self.raw, self.recipe, self.line_numbers, row=row, column=column)


def _frame_of(
    raw: ReadResult | pd.DataFrame,
) -> tuple[pd.DataFrame, list[Any], np.ndarray | None, str | None]:
    if isinstance(raw, ReadResult):
        frame = raw.table
        originals = list(raw.original_columns) or list(frame.columns)
        if len(originals) != frame.shape[1]:
            originals = list(frame.columns)
        lines = raw.line_numbers if len(raw.line_numbers) == len(frame) else None
        return frame, originals, lines, raw.source
    if isinstance(raw, pd.DataFrame):
        return raw, list(raw.columns), None, None
    raise TypeError(
        f"clean_table takes a ReadResult or a pandas DataFrame, not {type(raw).__name__}; "
        "read the file with apprentice.read(path) first"
    )


def check_settings(percent_as: str, sentinels: Any) -> None:
    if percent_as not in PERCENT_CHOICES:
        raise ConfigError(
            f"percent_as={percent_as!r} is not a choice; use 'fraction' (12% -> 0.12) or "
            "'points' (12% -> 12)"
        )
    if isinstance(sentinels, str):
        if sentinels not in SENTINEL_CHOICES:
            raise ConfigError(
                f"sentinels={sentinels!r} is not a choice; use 'flag' (report, keep the value), "
                "'missing' (suspected sentinels become missing), 'ignore', or a mapping "
                "{column: [values]} of confirmed sentinels"
            )
    elif not isinstance(sentinels, Mapping):
        raise ConfigError(
            "sentinels must be 'flag', 'missing', 'ignore' or a mapping {column: [values]}"
        )


def check_hints(
    type_hints: Mapping[str, str] | None, names: list[tuple[str, str, list[str]]]
) -> dict[str, Hint]:
    """Parsed hints keyed by output column name; unknown columns and types are errors."""
    if not type_hints:
        return {}
    by_name = {new: new for new, _, _ in names} | {orig: new for new, orig, _ in names}
    out: dict[str, Hint] = {}
    unknown = [c for c in type_hints if c not in by_name]
    if unknown:
        raise SchemaError(
            "type hints name columns that are not in the table: "
            + ", ".join(repr(c) for c in unknown[:10])
            + "; the table's columns are "
            + ", ".join(repr(n) for n, _, _ in names[:20])
        )
    for col, hint in type_hints.items():
        out[by_name[col]] = parse_hint(col, hint)
    return out


def _sentinel_policy(sentinels: Any, names: list[tuple[str, str, list[str]]]) -> Any:
    if isinstance(sentinels, str):
        return sentinels
    by_name = {new: new for new, _, _ in names} | {orig: new for new, orig, _ in names}
    unknown = [c for c in sentinels if c not in by_name]
    if unknown:
        raise SchemaError(
            "sentinels name columns that are not in the table: "
            + ", ".join(repr(c) for c in unknown[:10])
        )
    out: dict[str, list[float]] = {}
    for col, values in sentinels.items():
        try:
            out[by_name[col]] = [float(v) for v in values]
        except (TypeError, ValueError):
            raise ConfigError(f"sentinels for column {col!r} must be a list of numbers") from None
    return out


def _json_policy(policy: Any) -> Any:
    return policy if isinstance(policy, str) else {k: list(v) for k, v in policy.items()}


def _examples_of(
    applied: Applied,
    raw: pd.Series | Callable[[], pd.Series],
    mask: np.ndarray,
    lines: np.ndarray | None,
) -> list[dict[str, Any]]:
    """Distinct raw texts of the masked cells with counts and their first rows (``raw``: the
    raw column, or a function that gives it, called only when a cell is masked)."""
    if not mask.any():
        return []
    if callable(raw):
        raw = raw()
    rows = np.flatnonzero(mask)
    texts = raw.iloc[rows]
    vc = texts.value_counts(dropna=False).head(MAX_EXAMPLES)
    out = []
    for text, count in vc.items():
        hit = rows[(texts == text).to_numpy(dtype=bool, na_value=False)][:3]
        entry: dict[str, Any] = {"raw": text, "count": int(count), "rows": [int(r) for r in hit]}
        if lines is not None:
            entry["lines"] = [int(lines[r]) for r in hit]
        out.append(entry)
    del applied
    return out


def _report(
    inf: Inference,
    applied: Applied,
    raw: pd.Series | Callable[[], pd.Series],
    sentinels: list[dict[str, Any]],
    lines: np.ndarray | None,
) -> ColumnReport:
    rec = inf.recipe
    codes = applied.codes
    counts = np.bincount(codes, minlength=len(Rule))
    n = len(codes)
    rep = ColumnReport(
        name=rec.name,
        original=rec.source,
        kind=rec.kind,
        dtype=rec.dtype,
        semantic=rec.semantic,
        n_cells=n,
        n_missing=int(sum(counts[r] for r in MISSING_RULES)),
        n_missing_in_source=int(counts[Rule.NULL] + counts[Rule.EMPTY]),
    )
    rep.evidence = {
        "reason": inf.reason,
        "share_fit": round(float(inf.share_fit), 6),
        "shares": inf.shares,
        "not_fitting": list(inf.not_fitting[:MAX_EXAMPLES]),
        "decisions": list(inf.decisions),
        "sampled_rows": inf.sampled,
        **inf.extra,
    }
    fmt: dict[str, Any] = {}
    if rec.number is not None:
        fmt["describe"] = rec.number.describe()
        fmt["number"] = rec.number.to_dict()
    if rec.date is not None:
        fmt["describe"] = rec.date.describe()
        fmt["date"] = rec.date.to_dict()
    if rec.boolean is not None:
        fmt["describe"] = (
            "true: " + "/".join(rec.boolean.true) + "; false: " + "/".join(rec.boolean.false)
        )
    if rec.categories is not None:
        fmt["describe"] = f"{len(rec.categories)} categories"
        fmt["n_categories"] = len(rec.categories)
        fmt["categories"] = list(rec.categories[:50])
    rep.format = fmt
    # markers, exactly, from the per-cell codes
    tokens = applied.token_counts((Rule.MARKER, Rule.NEW_MARKER))
    rep.markers = sorted(
        ({"token": t, "count": c} for t, c in tokens.items()),
        key=lambda m: (-int(m["count"]), str(m["token"])),
    )
    rep.kept_markers = list(inf.kept_markers)
    rep.merges = list(inf.merges)
    rep.coercions = coercions_from_counts(counts, applied.whitespace_stripped())
    rep.unparseable = _examples_of(applied, raw, codes == int(Rule.UNPARSEABLE), lines)
    rep.sentinels = sentinels
    if rep.coercions["unparseable"]:
        rep.notes.append(
            f"{rep.coercions['unparseable']:,} cells do not fit the column's type ({rec.kind}); "
            "they are missing in the cleaned table and their raw text is kept (see unparseable)"
        )
    return rep


class DuplicateKey:
    """A 64-bit key per row folded from each column's cheap per-cell token: rows with equal
    raw cells always share it, so only rows sharing a key need an exact comparison."""

    def __init__(self, n: int) -> None:
        self.key = np.zeros(n, dtype=np.uint64)

    def add(self, applied: Applied) -> None:
        tok = applied.row_token()
        if tok is not None:
            self.key ^= tok
            self.key *= np.uint64(0x100000001B3)


def _duplicates(frame: pd.DataFrame, key: np.ndarray, lines: np.ndarray | None) -> dict[str, Any]:
    """Rows whose every raw cell equals an earlier row's (kept, reported)."""
    n = len(frame)
    if n < 2:
        return {"count": 0, "examples": [], "action": "kept"}
    cand = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy())
    if cand.size == 0:
        return {"count": 0, "examples": [], "action": "kept"}
    hashes = pd.util.hash_pandas_object(frame.iloc[cand], index=False).to_numpy()
    dup_local = pd.Series(hashes).duplicated(keep="first").to_numpy()
    dup_rows = cand[dup_local]
    examples = []
    for r in dup_rows[:MAX_EXAMPLES]:
        local = int(np.searchsorted(cand, r))
        first = int(cand[np.flatnonzero(hashes == hashes[local])[0]])
        ex: dict[str, Any] = {"row": int(r), "same_as_row": first}
        if lines is not None:
            ex["line"], ex["same_as_line"] = int(lines[r]), int(lines[first])
        examples.append(ex)
    return {"count": int(dup_rows.size), "examples": examples, "action": "kept"}


def _is_constant(s: pd.Series) -> bool:
    """Exactly one distinct non-missing value."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        codes = codes[codes >= 0]
        return codes.size > 0 and bool((codes == codes[0]).all())
    if s.dtype.kind == "f":
        arr = s.to_numpy()
        nan = np.isnan(arr)
        if nan.all():
            return False
        if not nan.any():  # (min and max: what nanmin and nanmax give without a NaN)
            return bool(arr.min() == arr.max())
        return bool(np.nanmin(arr) == np.nanmax(arr))
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
        lo, hi = s.min(), s.max()
        return bool(pd.notna(lo) and lo == hi)
    values = s.dropna()
    if values.empty:
        return False
    if values.dtype.kind in "iumM":
        arr = values.to_numpy()
        return bool((arr == arr[0]).all())
    return bool(values.nunique() == 1)


# what fitting one column gives: its inference, cleaned cells, sentinels found, and its raw
# column (or a function that gives it)
Fitted = tuple[Inference, Applied, list[dict[str, Any]], "pd.Series | Callable[[], pd.Series]"]


def _workers(shape: tuple[int, int]) -> int:
    """Threads for the columns: 2 for big tables when a second core is idle, else 1.

    pyarrow kernels release the GIL, so a second column overlaps well on an idle core; on a
    busy machine the two threads only contend (measured), so the load average decides.
    """
    import os

    rows, cols = shape
    threads = min(get_settings().threads, 2, cols)
    if threads < 2 or rows * cols < 2_000_000:
        return 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - platforms without a load average
        return 1
    return 2 if (os.cpu_count() or 1) - load >= 1.0 else 1


@paused_gc()  # tens of thousands of small objects on a wide table: see clean.gc_pause
def fit_frame(
    frame: pd.DataFrame,
    originals: list[Any],
    *,
    type_hints: Mapping[str, str] | None = None,
    percent_as: str = "fraction",
    sentinels: Any = "flag",
    dayfirst: bool | None = None,
    lines: np.ndarray | None = None,
    source: str | None = None,
) -> CleanResult:
    """Learn the recipe of ``frame`` and clean it (shared by clean_table and Cleaner.fit)."""
    check_settings(percent_as, sentinels)
    if frame.shape[1] == 0:
        raise EmptyTableError(
            "the table has no columns; check the file and its delimiter (apprentice read FILE "
            "shows how it was parsed)"
        )
    if frame.shape[0] == 0:
        raise EmptyTableError(
            f"the table has {frame.shape[1]} columns but no data rows; a cleaning recipe needs "
            "at least one row"
        )
    names = clean_names(originals)
    hints = check_hints(type_hints, names)
    policy = _sentinel_policy(sentinels, names)
    options = Options(percent_as=percent_as, dayfirst=dayfirst)
    recipes: list[ColumnRecipe] = []
    inferences: list[Inference] = []
    applied_cols: list[Applied] = []
    sentinel_found: list[list[dict[str, Any]]] = []

    # each column's array once, with no Series (a Series per column costs more than a plain
    # column's cleaning on a wide frame); a column's Series is made only when its path needs it
    columns = column_arrays(frame)
    # the plain-number check is made for a window of columns at a time (one cast for all of
    # them: a wide table has thousands of such columns); a window's arrays and results are
    # kept only until their columns are fitted
    window = max(1, _infer.BATCH_CELLS // max(len(frame), 1))
    pending_plain: dict[int, tuple[Any, Inference | bool | None]] = {}
    lock = threading.Lock()
    constant: dict[int, bool] = {}  # columns whose constancy is already known

    def text_and_plain(j: int) -> tuple[Any, Inference | bool | None]:
        with lock:
            if j not in pending_plain:
                lo = j - j % window
                arrays = {}
                for k in range(lo, min(lo + window, len(columns))):
                    col = columns[k]
                    arrays[k] = None if is_native(col) else to_text_array(col)
                    columns[k] = None  # (the text array, or the Series later, stands for it)
                asked = [k for k, a in arrays.items() if a is not None and names[k][0] not in hints]
                found = _infer.plain_number_columns(
                    [arrays[k] for k in asked],
                    [names[k][0] for k in asked],
                    [names[k][1] for k in asked],
                    options,
                )
                decided = dict(zip(asked, found, strict=True))
                for k, a in arrays.items():
                    pending_plain[k] = (a, decided.get(k))
            return pending_plain.pop(j)

    def fit_one(j: int) -> Fitted:
        name, orig, _ = names[j]
        arr, plain = text_and_plain(j)
        col: pd.Series | None = None
        extremes = None
        if isinstance(plain, Inference):
            extremes = plain.plain_range if plain.plain_values is not None else None
            # a plain-number text column (the batched check holds its cast): no Series
            inf = plain
            applied = apply_column(
                inf.recipe, arr, index=frame.index, cast=inf.plain, values=inf.plain_values
            )
        else:
            col = frame.iloc[:, j]
            inf = infer_column(
                col,
                name=name,
                source=orig,
                hint=hints.get(name),
                options=options,
                arr=arr,
                plain=plain,
            )
            source_col: pd.Series | pa.Array = col if arr is None else arr
            applied = apply_column(inf.recipe, source_col, index=col.index, cast=inf.plain)
        inf.plain = inf.plain_values = inf.plain_range = None
        found: list[dict[str, Any]] = []
        rec = inf.recipe
        if rec.kind == "category" and (applied.codes == int(Rule.UNSEEN)).any():
            # the sampled rows missed some categories: learn them from every cell
            tokens = applied.token_counts((Rule.VALUE, Rule.MERGED, Rule.UNSEEN))
            cs = learn_categories(list(tokens), np.asarray(list(tokens.values()), dtype=np.int64))
            rec.categories, inf.merges = cs.categories, cs.merges
            applied = apply_column(rec, col if arr is None else arr, index=frame.index)
        if rec.kind in ("integer", "float"):
            vals = applied.values.to_numpy(dtype=np.float64)
            if rec.semantic is None and rec.number is not None:
                rec.semantic = number_semantic(name, vals, rec.kind == "integer")
                rec.number.semantic = rec.semantic
            found = refine_sentinels(rec, vals, policy, extremes)
            if found:
                mark_sentinels(rec, applied)
            elif extremes is not None:
                constant[j] = extremes[0] == extremes[1]  # (no NaN: what _is_constant finds)
        raw_col: pd.Series | Callable[[], pd.Series]
        raw_col = (
            col if col is not None else functools.partial(frame.iloc.__getitem__, (slice(None), j))
        )
        return inf, applied, found, raw_col

    raw = frame.copy(deep=False)
    raw.columns = pd.Index([n for n, _, _ in names], dtype=object)
    reports: list[ColumnReport] = []
    dup_key = DuplicateKey(len(frame))

    def consume(j: int, fitted: Fitted) -> None:
        # stream: report on the column, fold it into the duplicate-row key, drop its buffers
        inf, applied, found, raw_col = fitted
        reports.append(_report(inf, applied, raw_col, found, lines))
        dup_key.add(applied)
        applied.release()
        pa.default_memory_pool().release_unused()  # hand the column's scratch memory back
        recipes.append(inf.recipe)
        inferences.append(inf)
        applied_cols.append(applied)
        sentinel_found.append(found)

    workers = _workers(frame.shape)
    if workers > 1:
        # columns are independent and consumed in column order, so the outcome is the same as
        # one at a time; at most `workers` columns are in flight, which bounds the memory
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: deque[Future[Fitted]] = deque()
            for j in range(frame.shape[1]):
                pending.append(pool.submit(fit_one, j))
                if len(pending) >= workers:
                    consume(j - len(pending) + 1, pending.popleft().result())
            first = frame.shape[1] - len(pending)
            for k, fut in enumerate(pending):
                consume(first + k, fut.result())
    else:
        for j in range(frame.shape[1]):
            consume(j, fit_one(j))
    for j in _resolve_ambiguous_dates(frame, inferences, applied_cols):
        reports[j] = _report(inferences[j], applied_cols[j], raw.iloc[:, j], [], lines)
        applied_cols[j].release()
    table = pd.DataFrame(
        {rec.name: a.values for rec, a in zip(recipes, applied_cols, strict=True)},
        index=frame.index,
        copy=False,
    )
    treport = TableReport(n_rows=len(frame), n_columns=frame.shape[1])
    treport.duplicate_rows = _duplicates(frame, dup_key.key, lines)
    treport.renamed_columns = [{"original": o, "name": n, "reasons": r} for n, o, r in names if r]
    for j, (rep, rec, a) in enumerate(zip(reports, recipes, applied_cols, strict=True)):
        if rep.n_missing == rep.n_cells:
            treport.empty_columns.append(rec.name)
        elif constant[j] if j in constant else _is_constant(a.values):
            # (a.values: the table's column is made of them)
            treport.constant_columns.append(rec.name)
    recipe = Recipe(
        columns=recipes,
        settings={
            "percent_as": percent_as,
            "sentinels": _json_policy(policy),
            "type_hints": dict(type_hints or {}),
            "dayfirst": dayfirst,
        },
    )
    ledger = Ledger(columns=reports, table=treport, source=source, recipe=recipe.to_dict())
    codes = {rec.name: a.codes for rec, a in zip(recipes, applied_cols, strict=True)}
    return CleanResult(table, ledger, recipe, codes, raw, lines)


def _resolve_ambiguous_dates(
    frame: pd.DataFrame, inferences: list[Inference], applied: list[Applied]
) -> list[int]:
    """An ambiguous day/month order takes the order another date column of the table proves."""
    decided = [
        inf
        for inf in inferences
        if inf.recipe.date is not None
        and inf.recipe.date.dayfirst is not None
        and not inf.recipe.date.ambiguous
        and any(d.startswith(("day-first:", "month-first:")) for d in inf.decisions)
    ]
    if not decided:
        return []
    changed: list[int] = []
    ref = decided[0]
    ref_dayfirst = bool(ref.recipe.date.dayfirst)  # type: ignore[union-attr]
    for j, inf in enumerate(inferences):
        rec = inf.recipe
        if rec.date is None or not rec.date.ambiguous or rec.date.dayfirst == ref_dayfirst:
            if rec.date is not None and rec.date.ambiguous and rec.date.dayfirst == ref_dayfirst:
                inf.decisions.append(
                    f"the order agrees with column {ref.recipe.name!r}, whose values prove it"
                )
            continue
        col = frame.iloc[:, j]
        from apprentice.clean._arrow import distinct_counts

        d = distinct_counts(to_text_array(col))
        all_vals, all_cnts = d.head()
        vals = [v for v in all_vals if v]
        cnts = np.asarray([c for v, c in zip(all_vals, all_cnts.tolist(), strict=True) if v])
        fmt, _ = detect_date(vals, cnts, dayfirst=ref_dayfirst)
        if fmt is None:
            continue
        fmt.ambiguous = True
        fmt.kind = rec.date.kind
        rec.date = fmt
        inf.decisions.append(
            f"ambiguous order resolved as {'day' if ref_dayfirst else 'month'}-first, the order "
            f"column {ref.recipe.name!r} of the same table proves"
        )
        applied[j] = apply_column(rec, col)
        changed.append(j)
    return changed


def clean_table(
    raw: ReadResult | pd.DataFrame,
    *,
    type_hints: Mapping[str, str] | None = None,
    percent_as: str = "fraction",
    sentinels: SentinelPolicy = "flag",
    dayfirst: bool | None = None,
    target: str | None = None,
) -> CleanResult:
    """Type every column of a text table, with evidence, and record every change.

    ``raw`` is what :func:`apprentice.read` returns (or a DataFrame of text cells).
    ``type_hints`` forces types (``{"zip": "identifier", "when": "date:dayfirst"}``); an
    unknown column or type is an error. ``percent_as`` decides what ``12%`` becomes
    (``"fraction"``: 0.12, ``"points"``: 12). ``sentinels``: ``"flag"`` reports suspected
    sentinels such as -200 and keeps them, ``"missing"`` makes them missing, ``"ignore"`` skips
    the check, a mapping ``{column: [values]}`` confirms sentinels (``[]`` rejects a column's
    suspicion). ``target``, when given, must be a column (else :class:`TargetError`).
    """
    frame, originals, lines, source = _frame_of(raw)
    if target is not None:
        names = [str(o).lstrip("\ufeff").strip() for o in originals]
        if target not in names and target not in [str(o) for o in originals]:
            raise TargetError(
                f"target column {target!r} is not in the table; its columns are "
                + ", ".join(repr(n) for n in names[:30])
            )
    result = fit_frame(
        frame,
        originals,
        type_hints=type_hints,
        percent_as=percent_as,
        sentinels=sentinels,
        dayfirst=dayfirst,
        lines=lines,
        source=source,
    )
    if target is not None:
        rec = result.recipe.column(target)
        rep = result.ledger.column(rec.name)
        if rep.n_missing == rep.n_cells:
            raise TargetError(
                f"target column {target!r} has no values after cleaning (every cell is empty or "
                "a missing-value marker); choose another target"
            )
        if rep.n_missing:
            result.ledger.table.notes.append(
                f"target {rec.name!r} is missing in {rep.n_missing:,} rows (kept; the train "
                "stage drops them)"
            )
    return result


@dataclass
class TargetResult:
    """A cleaned target: values, the recipe (apply it to a test split), and the merges made."""

    values: pd.Series
    recipe: ColumnRecipe
    report: ColumnReport

    @property
    def kind(self) -> str:
        return self.recipe.kind

    @property
    def merges(self) -> list[dict[str, Any]]:
        return self.report.merges


def clean_target(
    y: pd.Series,
    *,
    recipe: ColumnRecipe | dict[str, Any] | None = None,
    kind: str | None = None,
) -> TargetResult:
    """Clean a target column by the same rules as any column.

    Class labels that differ only in whitespace, case or a trailing full stop (``>50K.`` and
    `` >50K``) become one class, recorded in ``report.merges``. Pass the ``recipe`` of the
    training target to clean a test split the same way (unseen labels become missing and are
    counted in ``report.coercions['unseen']``). ``kind`` (a type hint such as ``'float'``)
    reads the column as that type whatever the evidence; cells that do not fit are missing and
    listed in ``report.unparseable``. Raises :class:`TargetError` when nothing is left.
    """
    if not isinstance(y, pd.Series):
        y = pd.Series(y)
    name = str(y.name) if y.name is not None else "target"
    if len(y) == 0:
        raise TargetError("the target is empty (no rows); pass the column to predict")
    if recipe is None:
        hint = Hint(kind) if kind is not None else None
        inf = infer_column(y, name=name, source=name, hint=hint, options=Options())
    else:
        rec = recipe if isinstance(recipe, ColumnRecipe) else ColumnRecipe.from_dict(recipe)
        inf = Inference(rec, reason="recipe of the training target")
    applied = apply_column(inf.recipe, y)
    raw = y if isinstance(y.dtype, pd.StringDtype) else y.astype("str")
    rep = _report(inf, applied, raw, [], None)
    if rep.n_missing == rep.n_cells:
        raise TargetError(
            f"target {name!r} has no values (every cell is empty, a missing-value marker or an "
            "unseen label); check the target column"
        )
    values = applied.values
    values.name = y.name
    return TargetResult(values, inf.recipe, rep)
