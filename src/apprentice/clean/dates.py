"""Dates, times and datetimes in mixed formats.

Each distinct value is matched against a small set of shapes (ISO, numeric day/month/year in
either order, month names, month-year, school-year ranges like ``2009-10``, clock times) that
each yield an exact ``strftime`` format. Whether ``03/04/2016`` is day-first or month-first is
decided from the column's own values (a first field above 12 proves day-first, a second field
above 12 proves month-first); when no value decides it, the column is marked ambiguous and the
choice and its reason are recorded, never guessed silently. Parsing a whole column is
vectorised: one ``pyarrow.compute.strptime`` pass per learned format, with a check that the
parsed day equals the written day (strptime would roll 31/02 over to March).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from apprentice.clean._arrow import bool_np

YEAR_RANGE = "YEAR_RANGE"

MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    start=1,
):
    MONTHS[_name] = _i
    MONTHS[_name[:3]] = _i

_TIME = (
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d{1,9})?)?"
    r"(?P<psp>\s?)(?P<p>[AaPp][Mm]|[AaPp]\.\s?[Mm]\.?)?"
)
_TZ = r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"
_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    (
        "iso",
        re.compile(
            r"^(?P<Y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})"
            r"(?:(?P<T>T|\s+)" + _TIME + _TZ + ")?$"
        ),
    ),
    (
        "dmy",
        re.compile(
            r"^(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"
            r"(?:(?P<T>T|\s+)" + _TIME + ")?$"
        ),
    ),
    (
        "d_mon_y",
        re.compile(
            r"^(?P<d>\d{1,2})(?P<s>[- ])(?P<mon>[A-Za-z]{3,9})(?P<dot>\.?)(?P=s)(?P<y>\d{4}|\d{2})"
            r"(?:(?P<T>\s+)" + _TIME + ")?$"
        ),
    ),
    (
        "mon_d_y",
        re.compile(
            r"^(?P<mon>[A-Za-z]{3,9})(?P<dot>\.?) (?P<d>\d{1,2})(?P<c>,?) (?P<y>\d{4})"
            r"(?:(?P<T>\s+)" + _TIME + ")?$"
        ),
    ),
    ("mon_y", re.compile(r"^(?P<mon>[A-Za-z]{3,9})(?P<dot>\.?)(?P<s>[- ])(?P<y>\d{4})$")),
    ("yrange", re.compile(r"^(?P<Y>\d{4})(?P<s>\s?[-/–]\s?)(?P<y2>\d{2}|\d{4})$")),
    ("ym", re.compile(r"^(?P<Y>\d{4})(?P<s>[-/])(?P<m>\d{2})$")),
    ("time", re.compile(r"^" + _TIME + "$")),
    ("compact", re.compile(r"^(?P<Y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")),
]


@dataclass
class DateFormat:
    """How a date/time column is written (part of the recipe)."""

    formats: list[str] = field(default_factory=list)
    kind: str = "date"  # date | datetime | time
    dayfirst: bool | None = None
    ambiguous: bool = False
    utc: bool = False
    year_window: int | None = None
    """First year of the 100 years a two-digit year is read in (``1947``: ``66`` is 1966,
    ``30`` is 2030); ``None`` for the POSIX rule (69-99 in the 1900s, 00-68 in the 2000s)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DateFormat:
        return cls(**data)

    def describe(self) -> str:
        order = ""
        if self.dayfirst is not None:
            order = ", day-first" if self.dayfirst else ", month-first"
            if self.ambiguous:
                order += " (ambiguous)"
        return "formats " + ", ".join(self.formats) + order


@dataclass
class DateEvidence:
    share: float = 0.0
    n_total: int = 0
    n_fit: int = 0
    dayfirst_votes: int = 0
    monthfirst_votes: int = 0
    decisions: list[str] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    has_numeric_order: bool = False
    separator: str | None = None
    two_digit_years: list[tuple[int, int]] = field(default_factory=list)  # (yy, count)
    four_digit_years: list[tuple[int, int]] = field(default_factory=list)  # (year, count)


def _time_format(g: dict[str, str | None]) -> str:
    if g.get("H") is None:
        return ""
    hour = "%I" if g.get("p") else "%H"
    fmt = f"{hour}:%M"
    if g.get("S"):
        fmt += ":%S"
        if g.get("f"):
            fmt += ".%f"
    if g.get("p"):
        fmt += (g.get("psp") or "") + "%p"
    return fmt


def _time_ok(g: dict[str, str | None]) -> bool:
    if g.get("H") is None:
        return True
    h, m = int(g["H"] or 0), int(g["M"] or 0)
    s = int(g["S"] or 0) if g.get("S") else 0
    if g.get("p"):
        return 1 <= h <= 12 and m < 60 and s < 60
    return h < 24 and m < 60 and s < 61


def _date_ok(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y += 2000 if y < 69 else 1900
    return y


def _classify(text: str, allow_compact: bool) -> tuple[str, str, dict[str, Any]] | None:
    """(shape, format or order-free key, fields) of one value, or None."""
    for shape, pattern in _SHAPES:
        m = pattern.match(text)
        if m is None:
            continue
        g = m.groupdict()
        if not _time_ok(g):
            return None
        tfmt = _time_format(g)
        tsep = g.get("T") or ""
        if shape == "iso":
            y, mo, d = int(g["Y"]), int(g["m"]), int(g["d"])
            if not _date_ok(y, mo, d):
                return None
            s = g["s"]
            fmt = f"%Y{s}%m{s}%d" + (tsep + tfmt if tfmt else "") + ("%z" if g.get("tz") else "")
            return shape, fmt, {"year": y}
        if shape == "dmy":
            a, b = int(g["a"]), int(g["b"])
            ylen = len(g["y"])
            key = f"{g['s']}|{ylen}|{tsep}|{tfmt}"
            yy = int(g["y"]) if ylen == 2 else None
            return shape, key, {"a": a, "b": b, "y": _year(g["y"]), "s": g["s"], "yy": yy}
        if shape in ("d_mon_y", "mon_d_y", "mon_y"):
            mon = MONTHS.get(g["mon"].casefold())
            if mon is None:
                return None
            full = len(g["mon"]) > 3
            mfmt = ("%B" if full else "%b") + (g.get("dot") or "")
            y = _year(g["y"])
            yfmt = "%Y" if len(g["y"]) == 4 else "%y"
            years = {"yy": int(g["y"])} if len(g["y"]) == 2 else {"year": y}
            if shape == "mon_y":
                return shape, f"{mfmt}{g['s']}{yfmt}", years
            d = int(g["d"])
            if not _date_ok(y, mon, d):
                return None
            if shape == "d_mon_y":
                fmt = f"%d{g['s']}{mfmt}{g['s']}{yfmt}"
            else:
                fmt = f"{mfmt} %d{g.get('c') or ''} {yfmt}"
            return shape, fmt + (tsep + tfmt if tfmt else ""), years
        if shape == "yrange":
            y1, y2 = int(g["Y"]), g["y2"]
            nxt = (y1 + 1) % 100 if len(y2) == 2 else y1 + 1
            if int(y2) != nxt:
                continue
            return shape, YEAR_RANGE, {}
        if shape == "ym":
            if not 1 <= int(g["m"]) <= 12:
                return None
            return shape, f"%Y{g['s']}%m", {}
        if shape == "time":
            return shape, tfmt, {}
        if shape == "compact":
            if not allow_compact or not _date_ok(int(g["Y"]), int(g["m"]), int(g["d"])):
                return None
            return shape, "%Y%m%d", {}
    return None


def _dmy_format(key: str, dayfirst: bool) -> str:
    s, ylen, tsep, tfmt = key.split("|")
    y = "%Y" if ylen == "4" else "%y"
    first, second = ("%d", "%m") if dayfirst else ("%m", "%d")
    return f"{first}{s}{second}{s}{y}" + (tsep + tfmt if tfmt else "")


def detect_date(
    values: list[str],
    counts: np.ndarray,
    *,
    dayfirst: bool | None = None,
    allow_compact: bool = False,
    name: str = "",
    today: dt.date | None = None,
) -> tuple[DateFormat | None, DateEvidence]:
    """Learn the date formats of the (non-missing, stripped) ``values``.

    Two-digit years are read in a 100-year window chosen from the column's evidence (see
    :func:`year_window`); ``name`` is the column's name, ``today`` the reference date."""
    ev = DateEvidence(n_total=int(counts.sum()))
    if ev.n_total == 0:
        return None, ev
    weights: dict[str, int] = {}
    dmy: list[tuple[str, dict[str, Any], int]] = []
    shapes: dict[str, int] = {}
    yy_counts: dict[int, int] = {}
    full_counts: dict[int, int] = {}
    for text, w in zip(values, counts.tolist(), strict=True):
        got = _classify(text, allow_compact)
        if got is None:
            if len(ev.failing) < 10:
                ev.failing.append(text)
            continue
        shape, key, fields = got
        shapes[shape] = shapes.get(shape, 0) + w
        yy = fields.get("yy")
        year = fields.get("year", fields.get("y"))
        if yy is not None:
            yy_counts[int(yy)] = yy_counts.get(int(yy), 0) + w
        elif year is not None:
            full_counts[int(year)] = full_counts.get(int(year), 0) + w
        if shape == "dmy":
            dmy.append((key, fields, w))
            a, b = fields["a"], fields["b"]
            if a > 12 and b <= 12:
                ev.dayfirst_votes += w
            elif b > 12 and a <= 12:
                ev.monthfirst_votes += w
            ev.separator = fields["s"]
        else:
            weights[key] = weights.get(key, 0) + w
    if not shapes:
        return None, ev
    # year-month vs school-year: "2009-10" fits both; a range column has consecutive years
    if shapes.get("yrange") and any(k in ("%Y-%m", "%Y/%m") for k in weights):
        ym = sum(v for k, v in weights.items() if k in ("%Y-%m", "%Y/%m"))
        if shapes["yrange"] >= ym:
            for k in ("%Y-%m", "%Y/%m"):
                weights.pop(k, None)
    fmt = DateFormat()
    if dmy:
        ev.has_numeric_order = True
        if dayfirst is not None:
            fmt.dayfirst = dayfirst
            ev.decisions.append(
                ("day-first" if dayfirst else "month-first") + " as given by the caller"
            )
        elif ev.dayfirst_votes and not ev.monthfirst_votes:
            fmt.dayfirst = True
            ev.decisions.append(
                f"day-first: {ev.dayfirst_votes} cells have a first field above 12 and none a "
                "second field above 12"
            )
        elif ev.monthfirst_votes and not ev.dayfirst_votes:
            fmt.dayfirst = False
            ev.decisions.append(
                f"month-first: {ev.monthfirst_votes} cells have a second field above 12 and "
                "none a first field above 12"
            )
        elif ev.dayfirst_votes and ev.monthfirst_votes:
            fmt.dayfirst = ev.dayfirst_votes >= ev.monthfirst_votes
            ev.decisions.append(
                f"conflicting orders: {ev.dayfirst_votes} cells prove day-first and "
                f"{ev.monthfirst_votes} prove month-first; the majority "
                f"({'day' if fmt.dayfirst else 'month'}-first) is used and the others become "
                "missing"
            )
        else:
            fmt.ambiguous = True
            fmt.dayfirst = ev.separator == "."
            ev.decisions.append(
                "ambiguous order: every value fits both day-first and month-first; read as "
                + (
                    "day-first (dotted dates are day-first by convention)"
                    if fmt.dayfirst
                    else "month-first"
                )
                + "; pass a type hint 'date:dayfirst' or 'date:monthfirst' to decide"
            )
        for key, fields, w in dmy:
            a, b = (fields["b"], fields["a"]) if fmt.dayfirst else (fields["a"], fields["b"])
            if not _date_ok(fields["y"], a, b):
                continue
            f = _dmy_format(key, bool(fmt.dayfirst))
            weights[f] = weights.get(f, 0) + w
    if not weights:
        return None, ev
    total = sum(weights.values())
    ordered = sorted(weights, key=lambda k: (-weights[k], k))
    kept = [k for k in ordered if weights[k] >= 0.001 * total][:8]
    fmt.formats = kept
    ev.n_fit = sum(weights[k] for k in kept)
    ev.share = ev.n_fit / ev.n_total
    time_only = all(_is_time_only(k) for k in kept)
    has_time = any("%H" in k or "%I" in k for k in kept)
    fmt.kind = "time" if time_only else ("datetime" if has_time else "date")
    fmt.utc = any("%z" in k for k in kept)
    if len(kept) > 1:
        ev.decisions.append(f"{len(kept)} formats: " + ", ".join(_show(k) for k in kept))
    elif kept:
        ev.decisions.append("format " + _show(kept[0]))
    ev.two_digit_years = sorted(yy_counts.items())
    ev.four_digit_years = sorted(full_counts.items())
    if yy_counts and any("%y" in k for k in kept):
        fmt.year_window, why = year_window(
            yy_counts, full_counts, name=name, today=today or dt.date.today()
        )
        ev.decisions.append(why)
    return fmt, ev


_PAST_WORDS = frozenset(
    {
        "birth", "born", "dob", "birthday", "birthdate", "publication", "published", "publish",
        "pub", "issued", "founded", "established", "death", "died", "deceased", "incorporated",
        "built", "enacted", "recorded", "released", "created", "signed", "opened",
    }
)  # fmt: skip


def year_window(
    yy_counts: dict[int, int], full_counts: dict[int, int], *, name: str, today: dt.date
) -> tuple[int, str]:
    """The first year of the 100 years two-digit years are read in, and why.

    In order of evidence: a column whose name says its dates are past (births, publications,
    deaths ...) is read in the 100 years up to this year; a column that also writes four-digit
    years is read in the century centred on their median; otherwise 80 years back and 20
    ahead of today. Years that would read in the future, or that fall near the window's edge,
    are named as ambiguous."""
    from apprentice.clean.numbers import name_tokens

    words = set(name_tokens(name))
    past = sorted(words & _PAST_WORDS)
    this = today.year
    if past:
        start = this - 99
        why = f"the column's name says past dates ({', '.join(past)})"
    elif full_counts:
        years = sorted(y for y, c in full_counts.items() for _ in range(min(c, 1000)))
        median = years[len(years) // 2]
        start = median - 50
        why = f"the column's four-digit years centre on {median}"
    else:
        start = this - 80
        why = "no other evidence: 80 years back and 20 ahead of today"
    total = sum(yy_counts.values())
    future = sum(c for yy, c in yy_counts.items() if _in_window(yy, start) > this)
    edge = sum(
        c
        for yy, c in yy_counts.items()
        if min(_in_window(yy, start) - start, start + 99 - _in_window(yy, start)) < 5
    )
    text = f"two-digit years read in {start}-{start + 99}: {why}"
    if future or edge:
        amb = []
        if future:
            amb.append(f"{future} of {total} would be in the future")
        if edge:
            amb.append(f"{edge} lie within 5 years of the window's edge")
        text += (
            "; ambiguous: " + " and ".join(amb) + " (pass a format with %Y or fix the years "
            "in the source if they are wrong)"
        )
    return start, text


def _in_window(yy: int, start: int) -> int:
    """The year ``yy`` (0-99) stands for in the 100 years from ``start``."""
    year = start - start % 100 + yy
    return year if year >= start else year + 100


def _show(fmt: str) -> str:
    return "school/fiscal year range (e.g. 2009-10)" if fmt == YEAR_RANGE else fmt


def _is_time_only(fmt: str) -> bool:
    return fmt != YEAR_RANGE and not any(t in fmt for t in ("%Y", "%y", "%d", "%m", "%b", "%B"))


_TOKEN_RE = {
    "%Y": r"\d{4}",
    "%y": r"\d{2}",
    "%m": r"\d{1,2}",
    "%d": r"(?P<day>\d{1,2})",
    "%H": r"\d{1,2}",
    "%I": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%f": r"\d{1,9}",
    "%b": r"[A-Za-z]{3,9}",
    "%B": r"[A-Za-z]{3,9}",
    "%p": r"(?:[AaPp][Mm]|[AaPp]\.\s?[Mm]\.?)",
    "%z": r"(?:Z|[+-]\d{2}:?\d{2})",
}


def format_regex(fmt: str) -> str:
    """An anchored RE2 pattern for ``fmt`` (with a ``day`` group where it has ``%d``)."""
    out = ["^"]
    i = 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in _TOKEN_RE:
            out.append(_TOKEN_RE[tok])
            i += 2
        else:
            ch = fmt[i]
            out.append(r"\s+" if ch == " " else re.escape(ch))
            i += 1
    out.append("$")
    return "".join(out)


_EPOCH_1900 = np.datetime64("1900-01-01T00:00:00", "us")
_ISO = re.compile(r"^%Y-%m-%d(?:[T ]%H:%M(?::%S(?:\.%f)?)?)?$")


#: the exact text each token of an ISO format (``_ISO``) writes, as an RE2 pattern
_ISO_SHAPES = {
    "%Y": r"\d{4}",
    "%m": r"\d{2}",
    "%d": r"\d{2}",
    "%H": r"\d{2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%f": r"\d{1,6}",
    ".": r"\.",
    "T": "T",
    " ": " ",
    "-": "-",
    ":": ":",
}


def _iso_shaped(stripped: pa.Array, formats: list[str], missing: np.ndarray) -> bool:
    """Whether every present cell is written exactly as one of the ISO ``formats`` writes it.

    pyarrow's cast also reads other ISO 8601 spellings (a time after a date-only format, ``T``
    for a space), which the formats refuse: only cells of the formats' exact shape may take
    the cast, so that a cell reads the same alone and among others.
    """
    shapes = ["".join(_ISO_SHAPES[t] for t in re.findall(r"%.|.", f)) for f in formats]
    fits = bool_np(pc.match_substring_regex(stripped, "^(?:" + "|".join(shapes) + ")$"))
    return bool((fits | missing).all())


def _strptime(sub: pa.Array, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """(microseconds since epoch, ok) for one format."""
    n = len(sub)
    if fmt == YEAR_RANGE:
        m = pc.extract_regex(sub, r"^(?P<Y>\d{4})\s?[-/–]\s?(?P<y2>\d{2}|\d{4})$")
        ok = bool_np(pc.is_valid(m))
        y1 = np.asarray(
            pc.cast(pc.fill_null(pc.struct_field(m, "Y"), "0"), pa.int64()).to_numpy(),
            dtype=np.int64,
        )
        y2s = pc.fill_null(pc.struct_field(m, "y2"), "0")
        y2 = np.asarray(pc.cast(y2s, pa.int64()).to_numpy(), dtype=np.int64)
        two = np.asarray(
            pc.equal(pc.utf8_length(y2s), 2).to_numpy(zero_copy_only=False), dtype=bool
        )
        ok &= np.where(two, y2 == (y1 + 1) % 100, y2 == y1 + 1) & (y1 >= 1)
        years = (np.where(ok, y1, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[us]")
        return years.astype(np.int64), ok
    if "%f" in fmt:
        parsed = pd.to_datetime(
            pd.Series(sub.to_pylist(), dtype=object), format=fmt, errors="coerce", utc="%z" in fmt
        )
        if "%z" in fmt:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        vals = parsed.to_numpy(dtype="datetime64[us]")
        ok = ~np.isnat(vals)
        return np.where(ok, vals.astype(np.int64), 0), ok
    if "%p" in fmt:
        # "7:10 a.m." / "p.m": the dotted meridiem as strptime reads it ("am", "pm")
        sub = pc.replace_substring_regex(sub, r"([AaPp])\.\s?([Mm])\.?$", r"\1\2")
    res = pc.strptime(sub, format=fmt, unit="us", error_is_null=True)
    ok = bool_np(pc.is_valid(res))
    if "%d" in fmt and ok.any():
        m = pc.extract_regex(sub, format_regex(fmt))
        day = pc.cast(pc.fill_null(pc.struct_field(m, "day"), "0"), pa.int64())
        same = pc.equal(pc.day(res), day)
        ok &= bool_np(same)
    if "%b" in fmt or "%B" in fmt:
        # strptime accepts any prefix of a month name; ours must be a real month name
        m = pc.extract_regex(sub, r"(?P<mon>[A-Za-z]{3,9})")
        mon = pc.utf8_lower(pc.fill_null(pc.struct_field(m, "mon"), ""))
        ok &= bool_np(pc.is_in(mon, value_set=pa.array(sorted(MONTHS))))
    raw = pc.cast(pc.fill_null(res, 0), pa.int64()) if res.type != pa.int64() else res
    vals = np.asarray(raw.to_numpy(zero_copy_only=False), dtype=np.int64)
    del n
    return np.where(ok, vals, 0), ok


def _shift_centuries(vals: np.ndarray, ok: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Move dates parsed with the POSIX two-digit-year rule into the window from ``start``."""
    stamps = pd.to_datetime(vals[ok].astype("datetime64[us]"))
    years = stamps.year.to_numpy()
    shift = np.where(years < start, 100, np.where(years > start + 99, -100, 0))
    if not shift.any():
        return vals, ok
    moved = pd.to_datetime(
        pd.DataFrame(
            {
                "year": years + shift,
                "month": stamps.month.to_numpy(),
                "day": stamps.day.to_numpy(),
            }
        ),
        errors="coerce",
    )
    day_us = (stamps - stamps.normalize()).to_numpy().astype("timedelta64[us]").astype(np.int64)
    new = moved.to_numpy().astype("datetime64[us]").astype(np.int64) + day_us
    bad = np.isnat(moved.to_numpy())  # 29 February in a century year that has none
    out = vals.copy()
    good = ok.copy()
    where = np.flatnonzero(ok)
    out[where] = np.where(bad, 0, new)
    good[where[bad]] = False
    return out, good


def parse_dates(
    stripped: pa.Array, fmt: DateFormat, missing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a whole column: (datetime64[us] values, parsed mask); times are since midnight."""
    n = len(stripped)
    out = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    if (
        fmt.formats
        and not fmt.utc
        and all(_ISO.match(f) for f in fmt.formats)
        and _iso_shaped(stripped, fmt.formats, missing)
    ):
        # strict ISO 8601 text: pyarrow's cast parses and validates it in one fast pass
        masked = (
            pc.if_else(pa.array(missing), pa.scalar(None, stripped.type), stripped)
            if missing.any()
            else stripped
        )
        try:
            cast = pc.cast(masked, pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast = None
        if cast is not None:
            got = ~missing
            vals = np.asarray(pc.fill_null(cast.cast(pa.int64()), 0).to_numpy(), dtype=np.int64)
            values = vals.view("datetime64[us]").copy()
            values[~got] = np.datetime64("NaT")
            return values, got
    for f in fmt.formats:
        todo = ~missing & ~ok
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        sub = stripped.take(pa.array(idx)) if len(idx) < n else stripped
        vals, got = _strptime(sub, f)
        if "%y" in f and fmt.year_window is not None:
            vals, got = _shift_centuries(vals, got, fmt.year_window)
        hit = idx[got]
        out[hit] = vals[got]
        ok[hit] = True
    values = out.view("datetime64[us]").copy()
    values[~ok] = np.datetime64("NaT")
    if fmt.kind == "time":
        values = values - _EPOCH_1900
    return values, ok
