"""Numbers as people write them.

Thousands separators in both conventions (``1,234.5`` and ``1.234,5``, also spaces and
apostrophes), decimal comma, scientific notation, accounting negatives ``(1,234)``, trailing
minus, currency symbols and codes (``$``, ``EUR``, ``£``), percent (``12%`` -> 0.12 or 12, the
choice recorded), a dominant unit suffix (``12.0 oz``, ``12 oz.``, ``5 kg``: the value is kept,
the unit recorded) and numbers written as words when the whole column is (``two``, ``four``).

Detection works on a column's distinct values (Python regular expressions on at most a few
thousand strings). The format it learns is compiled into one RE2 pattern that parses a whole
column at once with pyarrow, so the serving path and the training path are the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apprentice.clean._arrow import bool_np

CURRENCY_GROUPS: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "USD": "USD",
    "€": "EUR",
    "EUR": "EUR",
    "£": "GBP",
    "GBP": "GBP",
    "¥": "JPY",
    "JPY": "JPY",
    "₹": "INR",
    "INR": "INR",
    "₽": "RUB",
    "RUB": "RUB",
    "₩": "KRW",
    "KRW": "KRW",
    "₺": "TRY",
    "TRY": "TRY",
    "₪": "ILS",
    "ILS": "ILS",
    "฿": "THB",
    "THB": "THB",
    "CHF": "CHF",
    "CAD": "CAD",
    "AUD": "AUD",
    "NZD": "NZD",
    "CNY": "CNY",
    "RMB": "CNY",
    "SEK": "SEK",
    "NOK": "NOK",
    "DKK": "DKK",
    "PLN": "PLN",
    "CZK": "CZK",
    "HUF": "HUF",
    "BRL": "BRL",
    "MXN": "MXN",
    "ZAR": "ZAR",
    "SGD": "SGD",
    "HKD": "HKD",
}
_CURRENCY_SYMBOLS = "$€£¥₹₽₩₺₪฿"

_UNIT_TABLE: dict[str, tuple[str, ...]] = {
    "mg": ("mg", "milligram", "milligrams"),
    "g": ("g", "gr", "gram", "grams", "gramme", "grammes"),
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"),
    "lb": ("lb", "lbs", "pound", "pounds"),
    "oz": ("oz", "ounce", "ounces", "fl oz", "fl. oz", "floz"),
    "t": ("tonne", "tonnes", "ton", "tons"),
    "mm": ("mm", "millimeter", "millimeters", "millimetre", "millimetres"),
    "cm": ("cm", "centimeter", "centimeters", "centimetre", "centimetres"),
    "m": ("m", "meter", "meters", "metre", "metres"),
    "km": ("km", "kms", "kilometer", "kilometers", "kilometre", "kilometres"),
    "in": ("in", "inch", "inches", '"'),
    "ft": ("ft", "foot", "feet"),
    "yd": ("yd", "yds", "yard", "yards"),
    "mi": ("mi", "mile", "miles"),
    "ml": ("ml", "milliliter", "milliliters", "millilitre", "millilitres"),
    "cl": ("cl",),
    "l": ("l", "liter", "liters", "litre", "litres", "ltr"),
    "gal": ("gal", "gallon", "gallons"),
    "ms": ("ms", "msec", "millisecond", "milliseconds"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "min": ("min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "d": ("day", "days"),
    "wk": ("wk", "wks", "week", "weeks"),
    "yr": ("yr", "yrs", "year", "years"),
    "b": ("byte", "bytes"),
    "kb": ("kb", "kib", "kilobyte", "kilobytes"),
    "mb": ("mb", "mib", "megabyte", "megabytes"),
    "gb": ("gb", "gib", "gigabyte", "gigabytes"),
    "tb": ("tb", "tib", "terabyte", "terabytes"),
    "w": ("w", "watt", "watts"),
    "kw": ("kw", "kilowatt", "kilowatts"),
    "kwh": ("kwh",),
    "hp": ("hp", "bhp"),
    "kcal": ("kcal", "cal", "calories"),
    "mph": ("mph",),
    "km/h": ("km/h", "kmh", "kph"),
    "m/s": ("m/s",),
    "°c": ("°c", "degc", "º c", "°celsius"),
    "°f": ("°f", "degf"),
    "rpm": ("rpm",),
    "hz": ("hz",),
    "khz": ("khz",),
    "mhz": ("mhz",),
    "ghz": ("ghz",),
    "v": ("v", "volt", "volts"),
    "psi": ("psi",),
    "kpa": ("kpa",),
    "ppm": ("ppm",),
    "px": ("px", "pixels"),
    "sqft": ("sqft", "sq ft", "sq. ft", "ft²", "ft2"),
    "m²": ("m²", "m2", "sqm", "sq m"),
}
UNIT_ALIASES: dict[str, str] = {a: canon for canon, al in _UNIT_TABLE.items() for a in al}

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words() -> dict[str, int]:
    words = {w: i for i, w in enumerate(_ONES)}
    for t, tens in enumerate(_TENS):
        base = 20 + 10 * t
        words[tens] = base
        for u in range(1, 10):
            words[f"{tens}-{_ONES[u]}"] = base + u
            words[f"{tens} {_ONES[u]}"] = base + u
    words.update({"hundred": 100, "one hundred": 100, "a hundred": 100, "dozen": 12, "a dozen": 12})
    words.update({"thousand": 1000, "one thousand": 1000, "none": 0})
    del words["none"]  # "none" is a missing-value marker, never a number
    return words


NUMBER_WORDS: dict[str, int] = _number_words()

# Permissive shape used only to gather evidence; parsing uses ``number_pattern``.
_SHAPE = re.compile(
    r"""^(?P<neg1>[-−+])?\s*(?P<open>\()?\s*
    (?P<cur1>[$€£¥₹₽₩₺₪฿]|US\$|[A-Z]{3}(?=\s?[-−+(\d.,]))?\s*
    (?P<neg2>[-−+])?\s*
    (?P<num>\d+(?:[,.'’\u00a0\u202f ]\d+)*(?:[.,]\d*)?|[.,]\d+)
    (?P<exp>[eE][-+]?\d+)?
    \s*(?P<pct>%)?
    \s*(?P<cur2>[$€£¥₹₽₩₺₪฿]|[A-Z]{3}\b)?
    \s*(?P<close>\))?(?P<neg3>-)?
    \s*(?P<unit>[^\W\d_][^\d]*?|°\s?[A-Za-z]+|["²])?\s*$""",
    re.X,
)
_SPACE_SEPS = "'’\u00a0\u202f "
_NEG = ("-", "−")


@dataclass
class NumberFormat:
    """How a numeric column is written (part of the recipe)."""

    decimal: str = "."
    thousands: list[str] = field(default_factory=lambda: [","])
    currency: list[str] = field(default_factory=list)
    currency_code: str | None = None
    unit: str | None = None
    unit_aliases: list[str] = field(default_factory=list)
    unit_note: bool = False
    percent: str = "fraction"
    words: bool = False
    integer: bool = False
    semantic: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # what dataclasses.asdict gives (the lists copied), written out: asdict's recursive
        # deep copy, or a loop over the fields, costs more than the rest of a plain column's
        # report (tests/clean/test_numbers.py checks it against asdict)
        return {
            "decimal": self.decimal,
            "thousands": list(self.thousands),
            "currency": list(self.currency),
            "currency_code": self.currency_code,
            "unit": self.unit,
            "unit_aliases": list(self.unit_aliases),
            "unit_note": self.unit_note,
            "percent": self.percent,
            "words": self.words,
            "integer": self.integer,
            "semantic": self.semantic,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumberFormat:
        return cls(**data)

    @property
    def plain(self) -> bool:
        return self.decimal == "." and not self.words

    def describe(self) -> str:
        parts = []
        if self.decimal != ".":
            parts.append(
                f"decimal {self.decimal!r}, thousands " + "/".join(repr(t) for t in self.thousands)
            )
        if self.currency:
            parts.append(f"currency {self.currency_code or '/'.join(self.currency)}")
        if self.unit:
            parts.append(f"unit {self.unit!r}")
        if self.words:
            parts.append("numbers written as words")
        return ", ".join(parts)


def _class(chars: str) -> str:
    return "[" + "".join("\\." if c == "." else c for c in chars) + "]"


def _body(decimal: str, thousands: list[str]) -> str:
    d = "\\." if decimal == "." else decimal
    seps = "".join(t for t in thousands if t != decimal)
    alts = []
    if seps:
        alts.append(rf"\d{{1,3}}(?:{_class(seps)}\d{{3}})+(?:{d}\d*)?")
    alts.append(rf"\d+(?:{d}\d*)?")
    alts.append(rf"{d}\d+")
    return "|".join(alts)


def _alternation(tokens: list[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(tokens, key=lambda t: (-len(t), t)))


def number_pattern(fmt: NumberFormat) -> str:
    """One RE2/Python-compatible pattern that parses exactly the cells ``fmt`` accepts."""
    p = r"^(?P<neg1>[-−+])?\s*(?P<open>\()?\s*"
    cur = _alternation(fmt.currency) if fmt.currency else ""
    if cur:
        p += rf"(?P<cur1>{cur})?\s*"
    p += r"(?P<neg2>[-−+])?\s*(?P<num>" + _body(fmt.decimal, fmt.thousands) + r")"
    p += r"(?P<exp>[eE][-+]?\d+)?\s*(?P<pct>%)?\s*"
    if cur:
        p += rf"(?P<cur2>{cur})?\s*"
    p += r"(?P<close>\))?(?P<neg3>-)?"
    if fmt.unit_aliases:
        p += rf"\s*(?P<unit>(?i:{_alternation(fmt.unit_aliases)})\.?)?"
        if fmt.unit_note:
            p += r"(?:(?P<notesp>\s+)(?P<note>[^\d\s][^\d]*))?"
    return p + "$"


_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}


_KEY_CACHE: dict[tuple[Any, ...], re.Pattern[str]] = {}


def _compiled(fmt: NumberFormat) -> re.Pattern[str]:
    key = (
        fmt.decimal,
        tuple(fmt.thousands),
        tuple(fmt.currency),
        tuple(fmt.unit_aliases),
        fmt.unit_note,
    )
    compiled = _KEY_CACHE.get(key)
    if compiled is None:
        pattern = number_pattern(fmt)
        compiled = _PATTERN_CACHE.get(pattern)
        if compiled is None:
            compiled = re.compile(pattern, re.ASCII)
            _PATTERN_CACHE[pattern] = compiled
        _KEY_CACHE[key] = compiled
    return compiled


def parse_one(text: str, fmt: NumberFormat) -> tuple[float | None, list[str]]:
    """Parse one stripped cell: (value or None, the decorations removed to get it)."""
    if fmt.words and text.casefold() in NUMBER_WORDS:
        return float(NUMBER_WORDS[text.casefold()]), ["written as a word"]
    m = _compiled(fmt).match(text)
    if m is None:
        return None, []
    return _match_value(m.groupdict(), fmt)


def _match_value(g: dict[str, Any], fmt: NumberFormat) -> tuple[float | None, list[str]]:
    if bool(g.get("open")) != bool(g.get("close")):
        return None, []
    num = g["num"]
    dec: list[str] = []
    seps = [t for t in fmt.thousands if t != fmt.decimal]
    if any(s in num for s in seps):
        dec.append("thousands separators removed")
    for s in seps:
        num = num.replace(s, "")
    if fmt.decimal != ".":
        num = num.replace(fmt.decimal, ".")
        if "." in num:
            dec.append("decimal comma read as a point")
    value = float(num + (g.get("exp") or ""))
    if g.get("open"):
        dec.append("accounting parentheses read as a minus sign")
    negative = (
        g.get("neg1") in _NEG
        or g.get("neg2") in _NEG
        or g.get("neg3") == "-"
        or bool(g.get("open"))
    )
    if g.get("neg3"):
        dec.append("trailing minus sign")
    if negative:
        value = -value
    if g.get("cur1") or g.get("cur2"):
        dec.append(f"currency {g.get('cur1') or g.get('cur2')!r} removed")
    if g.get("pct"):
        if fmt.percent == "fraction":
            value = value / 100.0
            dec.append("percent sign: divided by 100")
        else:
            dec.append("percent sign removed (value kept in percent points)")
    if g.get("note") and not g.get("unit"):
        return None, []
    if g.get("unit"):
        dec.append(f"unit {g['unit']!r} removed (column unit {fmt.unit!r})")
    if g.get("note"):
        dec.append(f"note {g['note']!r} after the unit dropped")
    return value, dec


@dataclass
class NumberEvidence:
    share: float = 0.0
    n_fit: int = 0
    n_total: int = 0
    conventions: dict[str, int] = field(default_factory=dict)
    percent_share: float = 0.0
    unit_share: float = 0.0
    decisions: list[str] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    failing_with_digits: float = 0.0
    # distinct non-numbers that carry digits, and the most frequent of them (count and share)
    failing_digit_values: int = 0
    failing_top_count: int = 0
    failing_top_with_digits: float = 0.0


def _body_kind(body: str) -> str:
    if body.isdigit():
        return "int"
    if re.fullmatch(r"\d{1,3}\.\d{3}", body):
        return "amb_dot"
    if re.fullmatch(r"\d{1,3},\d{3}", body):
        return "amb_comma"
    if re.fullmatch(r"\d*\.\d*", body):
        return "dot"
    if re.fullmatch(r"\d*,\d*", body):
        return "comma"
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?", body):
        return "dot"
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d*)?", body):
        return "comma"
    m = re.fullmatch(r"\d{1,3}(?:[" + _SPACE_SEPS + r"]\d{3})+(?P<tail>[.,]\d*)?", body)
    if m:
        tail = m.group("tail")
        return "space" if not tail else ("space_dot" if tail[0] == "." else "space_comma")
    return "invalid"


def detect_number(
    values: list[str], counts: np.ndarray, *, percent_as: str = "fraction", name: str = ""
) -> tuple[NumberFormat | None, NumberEvidence]:
    """Learn how the (non-missing, stripped) ``values`` write numbers, with the evidence."""
    ev = NumberEvidence(n_total=int(counts.sum()))
    if ev.n_total == 0:
        return None, ev
    conv = {"dot": 0, "comma": 0, "ambiguous_dot": 0, "ambiguous_comma": 0}
    spaces: set[str] = set()
    known_units: dict[str, int] = {}
    unit_spellings: dict[str, set[str]] = {}
    generic_units: dict[str, int] = {}
    currencies: dict[str, int] = {}
    shaped = 0
    words = 0
    notes: dict[str, int] = {}
    for text, w in zip(values, counts.tolist(), strict=True):
        if text.casefold() in NUMBER_WORDS:
            words += w
            continue
        m = _SHAPE.match(text)
        if m is None:
            continue
        shaped += w
        kind = _body_kind(m.group("num"))
        if kind in ("dot", "space_dot"):
            conv["dot"] += w
        elif kind in ("comma", "space_comma"):
            conv["comma"] += w
        elif kind == "amb_dot":
            conv["ambiguous_dot"] += w
        elif kind == "amb_comma":
            conv["ambiguous_comma"] += w
        if kind.startswith("space"):
            spaces.update(c for c in m.group("num") if c in _SPACE_SEPS)
        cur = m.group("cur1") or m.group("cur2")
        if cur:
            currencies[cur] = currencies.get(cur, 0) + w
        unit = m.group("unit")
        if unit:
            key = unit.casefold().rstrip(".").strip()
            canon = UNIT_ALIASES.get(key)
            if canon is None:
                # a known unit followed by a note: "12.0 oz. Alumi-Tek"
                head = re.match(r"(?P<u>[^\s.]+(?: [^\s.]+)?)\.?\s+\S", unit.casefold())
                if head is not None and head.group("u") in UNIT_ALIASES:
                    key = head.group("u")
                    canon = UNIT_ALIASES[key]
                    notes[canon] = notes.get(canon, 0) + w
            if canon is not None:
                known_units[canon] = known_units.get(canon, 0) + w
                unit_spellings.setdefault(canon, set()).add(key)
            elif text[m.start("unit") - 1].isspace() and re.fullmatch(r"[^\W\d_]+", key):
                generic_units[key] = generic_units.get(key, 0) + w
    ev.conventions = conv

    fmt = NumberFormat(percent=percent_as)
    if words and words >= 0.5 * ev.n_total:
        fmt.words = True
        ev.decisions.append("numbers written as words")
    # decimal convention
    if conv["comma"] > conv["dot"]:
        fmt.decimal, fmt.thousands = ",", ["."]
        ev.decisions.append(
            f"decimal comma: {conv['comma']} cells use ',' as decimal mark, {conv['dot']} use '.'"
        )
    else:
        fmt.decimal, fmt.thousands = ".", [","]
        if conv["dot"]:
            ev.decisions.append(f"decimal point: {conv['dot']} cells use '.' as decimal mark")
        amb = conv["ambiguous_comma"] + conv["ambiguous_dot"]
        if amb and not conv["dot"] and not conv["comma"]:
            ev.decisions.append(
                f"ambiguous separators in {amb} cells (like 1,234): read ',' as thousands and "
                "'.' as decimal mark"
            )
    fmt.thousands += sorted(spaces)
    # currency
    if currencies:
        groups: dict[str, int] = {}
        for tok, w in currencies.items():
            code = CURRENCY_GROUPS.get(tok)
            if code is not None:
                groups[code] = groups.get(code, 0) + w
        if groups:
            code = max(sorted(groups), key=lambda c: groups[c])
            fmt.currency_code = code
            fmt.currency = sorted(t for t, c in CURRENCY_GROUPS.items() if c == code)
            ev.decisions.append(f"currency {code} ({sum(groups.values())} cells)")
    # unit
    if known_units and shaped:
        canon = max(sorted(known_units), key=lambda c: known_units[c])
        if known_units[canon] >= 0.5 * shaped:
            fmt.unit = canon
            fmt.unit_aliases = sorted(set(_UNIT_TABLE[canon]) | unit_spellings[canon])
            ev.unit_share = known_units[canon] / shaped
            spelled = ", ".join(repr(s) for s in sorted(unit_spellings[canon]))
            ev.decisions.append(
                f"unit {canon!r} on {ev.unit_share:.0%} of numbers (written {spelled}); value kept"
            )
            if notes.get(canon):
                fmt.unit_note = True
                ev.decisions.append(
                    f"{notes[canon]} cells add a note after the unit (like '12 oz. Can'): the "
                    "note is dropped from the value and kept in the raw text"
                )
    if fmt.unit is None and generic_units and shaped:
        word = max(sorted(generic_units), key=lambda u: generic_units[u])
        if generic_units[word] >= 0.9 * shaped:
            fmt.unit = word
            alias = {word, word.rstrip("s")} if len(word) > 3 else {word}
            fmt.unit_aliases = sorted(alias)
            ev.unit_share = generic_units[word] / shaped
            ev.decisions.append(f"unit {word!r} on {ev.unit_share:.0%} of numbers; value kept")

    # strict pass with the learned format
    plain_vals: list[float] = []
    pct_vals: list[float] = []
    pct_w = 0
    decimals = False
    fit = 0
    failing_digits = 0
    compiled = _compiled(fmt)
    points = replace(fmt, percent="points")
    for text, w in zip(values, counts.tolist(), strict=True):
        if fmt.words and text.casefold() in NUMBER_WORDS:
            fit += w
            plain_vals.append(float(NUMBER_WORDS[text.casefold()]))
            continue
        m = compiled.match(text)
        if (
            m is None
            or bool(m.group("open")) != bool(m.group("close"))
            or (m.groupdict().get("note") and not m.groupdict().get("unit"))
        ):
            if len(ev.failing) < 10:
                ev.failing.append(text)
            if any(c.isdigit() for c in text):
                failing_digits += w
                ev.failing_digit_values += 1
                ev.failing_top_count = max(ev.failing_top_count, w)
            continue
        fit += w
        num = m.group("num")
        if fmt.decimal in num or m.group("exp"):
            decimals = True
        val = float(_match_value(m.groupdict(), points)[0] or 0)
        if m.group("pct"):
            pct_w += w
            pct_vals.append(abs(val))
        else:
            plain_vals.append(abs(val))
    ev.n_fit = fit
    ev.share = fit / ev.n_total
    ev.failing_with_digits = failing_digits / ev.n_total
    ev.failing_top_with_digits = ev.failing_top_count / ev.n_total
    if fit:
        ev.percent_share = pct_w / fit
    if pct_vals:
        if not plain_vals or ev.percent_share >= 0.9:
            fmt.percent = percent_as
            how = "divided by 100" if percent_as == "fraction" else "kept in percent points"
            ev.decisions.append(f"percent sign on {ev.percent_share:.0%} of numbers: {how}")
        else:
            med_pct = float(np.median(pct_vals))
            if max(plain_vals) <= 1.0 and med_pct > 1.0:
                fmt.percent = "fraction"
                ev.decisions.append(
                    f"percent sign on {ev.percent_share:.0%} of numbers; the others are fractions "
                    "(all <= 1), so percents are divided by 100 to match"
                )
            else:
                fmt.percent = "points"
                ev.decisions.append(
                    f"percent sign on {ev.percent_share:.0%} of numbers; the others are on the "
                    "same scale, so the sign is dropped and the value kept"
                )
    fmt.integer = fit > 0 and not decimals and not (pct_w and fmt.percent == "fraction")
    return fmt, ev


def parse_numbers(
    stripped: pa.Array, fmt: NumberFormat, missing: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a whole column: (float64 values, parsed mask, reformatted mask)."""
    n = len(stripped)
    values = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    decorated = np.zeros(n, dtype=bool)
    todo = ~missing
    if not todo.any():
        return values, ok, decorated
    if fmt.plain:
        masked = (
            pc.if_else(pa.array(missing), pa.scalar(None, stripped.type), stripped)
            if missing.any()
            else stripped
        )
        try:
            cast = pc.cast(masked, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast = None
        if cast is not None:
            vals = np.array(pc.fill_null(cast, np.nan).to_numpy(zero_copy_only=False), dtype=float)
            if np.isfinite(vals[todo]).all():
                return vals, todo.copy(), decorated
    m = pc.extract_regex(stripped, number_pattern(fmt))
    matched = bool_np(pc.is_valid(m)) & todo

    def field_eq(name: str, *tokens: str) -> np.ndarray:
        if name not in {f.name for f in m.type}:
            return np.zeros(n, dtype=bool)
        col = pc.struct_field(m, name)
        hit = np.zeros(n, dtype=bool)
        for t in tokens:
            hit |= bool_np(pc.equal(col, t))
        return hit

    def field_set(name: str) -> np.ndarray:
        if name not in {f.name for f in m.type}:
            return np.zeros(n, dtype=bool)
        col = pc.struct_field(m, name)
        return bool_np(pc.greater(pc.utf8_length(col), 0))

    opened, closed = field_set("open"), field_set("close")
    matched &= opened == closed
    noted = field_set("note")
    matched &= ~noted | field_set("unit")
    if matched.any():
        num = pc.struct_field(m, "num")
        seps = "".join(t for t in fmt.thousands if t != fmt.decimal)
        has_sep = np.zeros(n, dtype=bool)
        if seps:
            pattern = _class(seps)
            has_sep = bool_np(pc.match_substring_regex(num, pattern))
            num = pc.replace_substring_regex(num, pattern, "")
        if fmt.decimal != ".":
            num = pc.replace_substring(num, fmt.decimal, ".")
        exp = pc.cast(pc.fill_null(pc.struct_field(m, "exp"), ""), num.type)
        num = pc.binary_join_element_wise(num, exp, pa.scalar("", num.type))
        num = pc.if_else(pa.array(matched), num, pa.scalar("0", num.type))
        vals = np.asarray(pc.cast(pc.fill_null(num, "0"), pa.float64()).to_numpy(), dtype=float)
        negative = (
            field_eq("neg1", *_NEG) | field_eq("neg2", *_NEG) | field_eq("neg3", "-") | opened
        )
        vals = np.where(negative, -vals, vals)
        pct = field_set("pct")
        if fmt.percent == "fraction":
            vals = np.where(pct, vals / 100.0, vals)
        decor = (
            has_sep
            | opened
            | pct
            | field_set("cur1")
            | field_set("cur2")
            | field_set("unit")
            | noted
            | field_set("neg3")
            | (fmt.decimal != ".")
        )
        values[matched] = vals[matched]
        decorated[matched] = decor[matched]
        ok |= matched
    if fmt.words:
        rest = todo & ~ok
        if rest.any():
            keys = sorted(NUMBER_WORDS)
            idx = pc.index_in(pc.utf8_lower(stripped), value_set=pa.array(keys))
            pos = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
            hit = rest & (pos >= 0)
            table = np.array([NUMBER_WORDS[k] for k in keys], dtype=float)
            values[hit] = table[pos[hit]]
            ok |= hit
            decorated |= hit
    return values, ok, decorated


def name_tokens(name: str) -> list[str]:
    """Lower-case words of a column name: ``'GarageYrBlt'`` -> ``['garage', 'yr', 'blt']``."""
    return [t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def number_semantic(name: str, values: np.ndarray, integer: bool) -> str | None:
    """Year, month or clock-time (HHMM) numbers, from the column name and the values."""
    if not integer:
        return None
    tokens = set(name_tokens(name))
    if not tokens & {"year", "yr", "yyyy", "years", "month", "mo", "mon", "mnth", "time", "hhmm"}:
        return None
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if tokens & {"year", "yr", "yyyy", "years"} and lo >= 1000 and hi <= 2200:
        return "year"
    if tokens & {"month", "mo", "mon", "mnth"} and lo >= 1 and hi <= 12:
        return "month"
    if (
        tokens & {"time", "hhmm", "hhmmss"}
        and lo >= 0
        and hi <= 2400
        and hi > 24
        and bool(np.all(np.mod(finite, 100) < 60))
    ):
        return "clock time (HHMM)"
    return None
