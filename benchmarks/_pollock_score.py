"""Scoring for the Pollock data-loading benchmark (Vitagliano et al., PVLDB 16(8), 2023).

Reusable by ``benchmarks/pollock.py`` and ``tests/read/test_pollock_subset.py``; only the
standard library is imported at module level (pandas only inside :func:`frame_rows`).

What is compared
----------------
A loader's output is one header row (the column names it reports) and the data rows, written
as RFC 4180 CSV with the ``csv`` module and parsed back (:func:`to_rfc_csv`,
:func:`parse_rfc_csv`), so every loader is scored from the same kind of file, as in Pollock.

The ground truth is ``clean/<file>`` (RFC CSV, one header row at most: a multi-row header is
already merged there, e.g. ``"DATE DATE"``) with ``parameters/<file>_parameters.json``. Its first
row is the header when ``header_lines > 0``; otherwise (``file_no_header.csv``,
``file_no_payload.csv``) the true header is empty and every clean row is a record.

Per file there are 10 measures, each in [0, 1]:

* ``success``: 0 when the loader raised, timed out or crashed; then the other 9 are 0 too.
* precision, recall and F1 of the **header** cells, of the **records** (a record is the tuple of
  its normalised cells) and of the **cells** (every cell of every record, the header excluded),
  each computed on multisets: ``I = truth & loaded`` (multiset intersection),
  ``precision = |I| / |loaded|``, ``recall = |I| / |truth|``, ``F1 = 2PR / (P + R)``.

Cells are compared after :func:`normalize_cell`: surrounding whitespace stripped; text
case-folded (as Pollock does); ``true``/``false`` to ``1``/``0``; numbers to one canonical
decimal form (``2``, ``2.0``, ``+2.00`` are all ``2``); prices (``$74.69``, ``74.69 EUR``) to
their number; dates to ``YYYY-MM-DD`` (``28/01/2018``, ``2018-01-28``, ``28.01.2018``,
``28 Jan 2018`` ...; ``a/b/yyyy`` is read day-first unless that is impossible), times to
``HH:MM:SS[.ffffff]`` (12-hour clock with am/pm understood), date-times to
``YYYY-MM-DD HH:MM:SS``. The function is deterministic and does not depend on today's date
(Pollock's dateutil-based parser fills missing parts from the current date).

Edge cases (decided here, documented because they move scores):

* Truth and output both empty (for a measure): P = R = F1 = 1. So an empty clean file
  (``file_no_payload.csv``) read as an empty table scores 10.
* True header empty (``header_lines == 0``): header P = R = F1 = 1 whatever the loader reports.
  A table needs column names; whether the loader invents ``column0...`` or takes a data row for
  the header, it is judged on the records and cells: a data row taken as the header is a record
  missing from the output (record and cell recall drop). This is Pollock's rule
  ("if the source has no header cells, header measures are 1"). For apprentice, names are
  treated as generated (written as an empty header row) when ``result.header_generated``.
* Truth non-empty, output empty: P = R = F1 = 0 (as in Pollock).
* Records or cells: truth empty, output non-empty: P = 0, R = 1, F1 = 0 (Pollock gives 1 here;
  rows conjured from a header-only file are wrong, so we do not).
* Output rows with no cell at all (a blank line kept by a row-list loader such as CleverCSV)
  are not records; a row of empty cells is (a DataFrame cannot hold the former).

Deviations from Pollock's own code (``pollock/metrics.py`` in HPI-Information-Systems/Pollock),
all deliberate, and :func:`score_tables_pollock` reproduces its rules for comparison with the
published figures:

* Pollock names the two ratios the other way round (its "precision" is ``|I| / |truth|``);
  sums over the 10 measures are unaffected.
* It compares records as the concatenation of their normalised cells, so ``["ab", "c"]``
  equals ``["a", "bc"]`` and empty cells vanish: a row padded with extra empty columns, or one
  that lost its trailing empty field, still matches. We compare tuples: a record with a
  different number of fields is a different record (the cell measures say how many cells were
  right).
* Its CSV-era scorer always takes the clean file's first row as the header, even for
  ``file_no_header.csv``: a loader that rightly reports no header loses the three header
  measures on a file that carries 10.6 % of the total weight (the ground truth itself, read
  back, scores 9.681 weighted by those rules), while one that takes the first data row for
  the header scores 10. We use ``header_lines``.
* It compares raw, unnormalised cells and includes the header row in the cells; we compare
  normalised data cells only (the header has its own measures).
* An empty truth scores 1 there whatever the output; see the edge cases above.

Aggregates: simple score = sum over the 10 measures of their mean over files (max 10);
weighted score = sum over files of (the file's 10 measures summed) x weight / total weight.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

csv.field_size_limit(2**31 - 1)

MEASURES: tuple[str, ...] = (
    "success",
    "header_precision",
    "header_recall",
    "header_f1",
    "record_precision",
    "record_recall",
    "record_f1",
    "cell_precision",
    "cell_recall",
    "cell_f1",
)

# Published Pollock scores (simple, weighted) for reference.
PUBLISHED: dict[str, tuple[float, float]] = {
    "DuckDB, dialect given by hand": (9.962, 9.600),
    "pandas (partly hand-configured)": (9.89, 9.43),
    "CleverCSV": (9.19, 9.45),
    "DuckDB auto": (9.08, 8.44),
}
GOAL_SIMPLE = 9.95
GOAL_WEIGHTED = 9.65

# ---------------------------------------------------------------------------------------------
# Cell normalisation
# ---------------------------------------------------------------------------------------------

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_CURRENCY = r"(?:[$€£¥₹]|usd|eur|gbp|jpy|chf|us\$)"
_PRICE_RE = re.compile(
    rf"^(?P<s1>[+-]?)\s*{_CURRENCY}\s*(?P<n1>{_NUMBER})$|^(?P<n2>{_NUMBER})\s*{_CURRENCY}$"
)
_TIME = r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?P<f>\.\d{1,6})?)?\s*(?P<ap>[ap]\.?m\.?)?"
_TIME_RE = re.compile(rf"^{_TIME}$")
_DMY_RE = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})$")
_YMD_RE = re.compile(r"^(?P<y>\d{4})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})$")
_DATETIME_RE = re.compile(r"^(?P<date>\S+)(?:\s+|T)(?P<time>\d{1,2}:\d{2}\S*(?:\s*[ap]\.?m\.?)?)$")
_NAMED_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%b %d %Y")
_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|january|february|march|april|june|july|"
    "august|september|october|november|december"
)
_NAMED_DATE_HINT = re.compile(rf"\b(?:{_MONTHS})\b")


def _canonical_number(text: str) -> str | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == 0:
        return "0"
    value = value.normalize()
    if abs(value.adjusted()) > 40:  # keep absurd exponents short
        return str(value).lower()
    out = format(value, "f")
    return out


def _canonical_time(match: re.Match[str]) -> str | None:
    hour, minute = int(match["h"]), int(match["m"])
    second = int(match["s"] or 0)
    ampm = (match["ap"] or "").replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    out = f"{hour:02d}:{minute:02d}:{second:02d}"
    if match["f"]:
        frac = match["f"].rstrip("0")
        if frac != ".":
            out += frac
    return out


def _canonical_date(text: str) -> str | None:
    m = _YMD_RE.match(text)
    if m:
        return _iso(int(m["y"]), int(m["m"]), int(m["d"]))
    m = _DMY_RE.match(text)
    if m:
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        # day-first unless impossible (the benchmark's dates are dd/mm/yyyy)
        return _iso(y, b, a) or _iso(y, a, b)
    if _NAMED_DATE_HINT.search(text):
        for fmt in _NAMED_DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


@lru_cache(maxsize=1 << 17)
def normalize_cell(cell: str | None) -> str:
    """The canonical form of one cell (see the module docstring)."""
    if cell is None:
        return ""
    text = cell.strip()
    if not text:
        return ""
    low = text.casefold()
    if low in ("true", "false"):
        return "1" if low == "true" else "0"
    if _NUMBER_RE.match(low):
        num = _canonical_number(low)
        if num is not None:
            return num
    m = _PRICE_RE.match(low)
    if m:
        number = m["n1"] if m["n1"] is not None else m["n2"]
        num = _canonical_number((m["s1"] or "") + number if m["n1"] is not None else number)
        if num is not None:
            return num
    if ":" in low:
        m = _TIME_RE.match(low)
        if m:
            t = _canonical_time(m)
            if t is not None:
                return t
        m = _DATETIME_RE.match(low)
        if m:
            d = _canonical_date(m["date"])
            tm = _TIME_RE.match(m["time"])
            t = _canonical_time(tm) if tm else None
            if d is not None and t is not None:
                return f"{d} {t}"
    if any(ch.isdigit() for ch in low):
        d = _canonical_date(low)
        if d is not None:
            return d
    return low


# ---------------------------------------------------------------------------------------------
# Multiset precision / recall / F1
# ---------------------------------------------------------------------------------------------


def prf(
    truth: Counter[Any], loaded: Counter[Any], *, empty_truth: str = "strict"
) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``loaded`` against ``truth`` (multisets).

    ``empty_truth`` says what an empty truth against a non-empty output scores: ``"strict"``
    gives (0, 1, 0), ``"perfect"`` gives (1, 1, 1). Both empty always give (1, 1, 1).
    """
    n_truth = sum(truth.values())
    n_loaded = sum(loaded.values())
    if n_truth == 0:
        if n_loaded == 0 or empty_truth == "perfect":
            return 1.0, 1.0, 1.0
        return 0.0, 1.0, 0.0
    if n_loaded == 0:
        return 0.0, 0.0, 0.0
    inter = sum((truth & loaded).values())
    if inter == 0:
        return 0.0, 0.0, 0.0
    precision = inter / n_loaded
    recall = inter / n_truth
    return precision, recall, 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------------------------
# Tables: ground truth, RFC round trip, scoring
# ---------------------------------------------------------------------------------------------


@dataclass
class Table:
    """A loaded (or true) table: the header cells and the data rows, all strings."""

    header: list[str]
    rows: list[list[str]]


def to_rfc_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The RFC 4180 text of a header row followed by the data rows (CRLF line ends)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def parse_rfc_csv(text: str) -> Table:
    """The inverse of :func:`to_rfc_csv`: first row is the header, the rest are rows."""
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not rows:
        return Table([], [])
    return Table(rows[0], rows[1:])


def round_trip(table: Table) -> Table:
    """Write ``table`` as RFC CSV and read it back (what is scored)."""
    return parse_rfc_csv(to_rfc_csv(table.header, table.rows))


def load_parameters(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_truth(clean_path: str | Path, parameters: dict[str, Any]) -> Table:
    """The ground-truth table from a clean RFC CSV file and the file's true parameters."""
    with open(clean_path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh, strict=True) if r]
    if int(parameters.get("header_lines", 1)) > 0 and rows:
        return Table(rows[0], rows[1:])
    return Table([], rows)


def _records(rows: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    return [tuple(normalize_cell(c) for c in row) for row in rows if len(row)]


def score_tables(truth: Table, loaded: Table) -> dict[str, float]:
    """The 10 measures of a successful load (``success`` = 1)."""
    h = prf(
        Counter(normalize_cell(c) for c in truth.header),
        Counter(normalize_cell(c) for c in loaded.header),
        empty_truth="perfect",
    )
    t_rec = _records(truth.rows)
    l_rec = _records(loaded.rows)
    r = prf(Counter(t_rec), Counter(l_rec))
    c = prf(Counter(c for row in t_rec for c in row), Counter(c for row in l_rec for c in row))
    return dict(zip(MEASURES, (1.0, *h, *r, *c), strict=True))


def load_clean_rows(clean_path: str | Path) -> list[list[str]]:
    """Every row of a clean file, as Pollock's scorer reads it (blank lines kept as ``[]``)."""
    with open(clean_path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, strict=True))


def score_tables_pollock(clean_rows: list[list[str]], loaded: Table) -> dict[str, float]:
    """The 10 measures under the rules of Pollock's own CSV-era scorer, for comparison with the
    published figures (``pollock.py --rules pollock``); our :func:`normalize_cell` stands in for
    its dateutil/price-parser one. The clean file's first row is the header even when the file
    has none; records are the concatenations of their normalised cells; cells are compared
    raw (not normalised) over all rows, the header row included; an empty truth scores 1
    whatever the output; every loaded row counts, a blank one too."""
    loaded_rows = [list(loaded.header), *loaded.rows]
    if not clean_rows:
        return dict.fromkeys(MEASURES, 1.0)

    def _prf(truth: Counter[Any], out: Counter[Any]) -> tuple[float, float, float]:
        if not truth:
            return 1.0, 1.0, 1.0
        inter = sum((truth & out).values())
        if inter == 0:
            return 0.0, 0.0, 0.0
        p, r = inter / sum(out.values()), inter / sum(truth.values())
        return p, r, 2 * p * r / (p + r)

    h = _prf(
        Counter(normalize_cell(c) for c in clean_rows[0]),
        Counter(normalize_cell(c) for c in loaded_rows[0]),
    )
    rec = _prf(
        Counter("".join(normalize_cell(c) for c in r) for r in clean_rows[1:]),
        Counter("".join(normalize_cell(c) for c in r) for r in loaded_rows[1:]),
    )
    cell = _prf(
        Counter(c for r in clean_rows for c in r), Counter(c for r in loaded_rows for c in r)
    )
    return dict(zip(MEASURES, (1.0, *h, *rec, *cell), strict=True))


def failed_scores() -> dict[str, float]:
    """The measures of a file whose load failed: all 0."""
    return dict.fromkeys(MEASURES, 0.0)


def file_total(scores: dict[str, float]) -> float:
    return sum(scores[m] for m in MEASURES)


# ---------------------------------------------------------------------------------------------
# Loader output helpers
# ---------------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def frame_rows(frame: Any) -> list[list[str]]:
    """The rows of a pandas DataFrame as lists of strings (missing values as ``""``)."""
    n_rows, n_cols = frame.shape
    if n_cols == 0:
        return [[] for _ in range(n_rows)]
    columns = [[_cell_text(v) for v in frame.iloc[:, i].tolist()] for i in range(n_cols)]
    return [list(r) for r in zip(*columns, strict=True)]


def apprentice_table(result: Any) -> Table:
    """What apprentice reports for a file: its header (empty when ``result.header_generated``
    says the names were made up; else ``original_columns``, else the table's columns) and its
    kept rows (quarantined rows are not part of the table)."""
    if result.header_generated:
        header: list[str] = []
    else:
        header = [str(c) for c in (result.original_columns or list(result.table.columns))]
    return Table(header, frame_rows(result.table))


# ---------------------------------------------------------------------------------------------
# Files, categories, weights, aggregates
# ---------------------------------------------------------------------------------------------


def category(filename: str) -> str:
    """The pollution category of a benchmark file: ``row_*`` files with their numbers as
    ``N`` (``row_more_sep_row3_col2.csv`` -> ``row_more_sep_rowN_colN``); other files are
    their own category (``file_field_delimiter_0x3B``)."""
    stem = filename[:-4] if filename.endswith(".csv") else filename
    if stem.startswith("row_"):
        if stem.startswith("row_field_delimiter_"):
            # row_field_delimiter_<row>_<delimiter hex>: keep the delimiter
            parts = stem.split("_")
            return "_".join([*parts[:3], "N", *parts[4:]])
        return re.sub(r"\d+", "N", stem)
    return stem


@dataclass
class FileResult:
    file: str
    loader: str
    scores: dict[str, float]
    seconds: float = 0.0
    error: str | None = None
    scores_pollock: dict[str, float] | None = None  # under Pollock's own rules

    @property
    def total(self) -> float:
        return file_total(self.scores)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["total"] = self.total
        if self.scores_pollock is not None:
            d["total_pollock"] = file_total(self.scores_pollock)
        d["category"] = category(self.file)
        return d


def score_file(
    loaded: Table | None, clean_path: str | Path, parameters: dict[str, Any]
) -> dict[str, float]:
    """The 10 measures for one file; ``loaded is None`` means the load failed."""
    if loaded is None:
        return failed_scores()
    return score_tables(load_truth(clean_path, parameters), round_trip(loaded))


def resolve_weights(
    files: Sequence[str], weights: dict[str, float]
) -> tuple[dict[str, float], list[str]]:
    """Per-file weights for ``files``. A file absent from ``weights`` gets the mean weight of
    the weighted files of its category, or of all weighted files when its category has none.
    Returns the weights and the list of files that had no weight."""
    present = {f: float(weights[f]) for f in files if f in weights}
    missing = [f for f in files if f not in weights]
    if not missing:
        return present, []
    by_cat: dict[str, list[float]] = {}
    for f, w in weights.items():
        by_cat.setdefault(category(f), []).append(float(w))
    overall = list(present.values()) or [float(w) for w in weights.values()] or [1.0]
    out = dict(present)
    for f in missing:
        pool = by_cat.get(category(f)) or overall
        out[f] = sum(pool) / len(pool)
    return out, missing


def aggregate(
    results: Sequence[FileResult],
    weights: dict[str, float] | None = None,
    *,
    pollock_rules: bool = False,
) -> dict[str, Any]:
    """Simple and weighted score, per-measure means and failures over ``results`` (scored by
    our rules, or by Pollock's own with ``pollock_rules``)."""
    n = len(results)
    per_file = [
        (r.scores_pollock or failed_scores()) if pollock_rules else r.scores for r in results
    ]
    means = {m: (sum(s[m] for s in per_file) / n if n else 0.0) for m in MEASURES}
    simple = sum(means.values())
    weighted = None
    if weights is not None and n:
        total_w = sum(weights[r.file] for r in results)
        weighted = (
            sum(file_total(s) * weights[r.file] for s, r in zip(per_file, results, strict=True))
            / total_w
            if total_w
            else 0.0
        )
    return {
        "files": n,
        "simple": simple,
        "weighted": weighted,
        "failures": sum(1 for r in results if r.scores["success"] == 0),
        "seconds": sum(r.seconds for r in results),
        "measures": means,
    }
