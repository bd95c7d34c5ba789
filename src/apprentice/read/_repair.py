"""Repair of broken rows, only when the repair is unambiguous.

A row with too many or too few fields, a stray quote, or a row written with another delimiter
is re-parsed under small edits of its raw text (delete or insert one delimiter, delete one
quote, re-split with another delimiter, join neighbouring fields, pad or trim empty trailing
fields). Every edit that yields exactly the table's width is scored by the column profiles of
the rows that parsed cleanly; the best is taken only when it is clearly more likely than the
runner-up with different cells. Otherwise the row is quarantined with its line number.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from apprentice.read._tokenize import Format, parse_text
from apprentice.read.dialect import DELIMITERS

MARGIN = math.log(30.0)  # the best repair must be 30x more likely than any other
_EDIT_COST = 1.0
_QUOTE_COST = 0.5
_STRAY_QUOTE = 2.0
_MAX_INSERT_LEN = 4000
_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"
)


@dataclass(frozen=True)
class Repair:
    fields: list[str]
    how: str
    score: float


Scorer = Callable[[Sequence[str]], float]


_MALFORMED = 5.0  # extra cost of a parse that needs the lenient reading of a bad quote
_UNTERMINATED = 12.0  # ... and of one whose line ends inside an open quote


def _one_record(text: str, fmt: Format, width: int) -> tuple[list[str], float] | None:
    """The fields of ``text`` when it is one record of ``width`` fields, and a malformation cost."""
    cost = 0.0
    try:
        rows = parse_text(text, fmt, strict=True)
    except csv.Error as exc:
        rows = parse_text(text, fmt)
        cost = _malformed_cost(exc)
    if len(rows) != 1 or len(rows[0]) != width:
        return None
    return rows[0], cost


def _malformed_cost(exc: csv.Error) -> float:
    return _UNTERMINATED if "end of data" in str(exc) else _MALFORMED


def _strictness_cost(text: str, fmt: Format) -> float:
    """0 for text that parses strictly, else the cost of the lenient reading it needs."""
    try:
        parse_text(text, fmt, strict=True)
    except csv.Error as exc:
        return _malformed_cost(exc)
    return 0.0


def _strict_ok(text: str, fmt: Format) -> bool:
    return _strictness_cost(text, fmt) == 0.0


def _candidates(
    raw: str, fields: list[str], fmt: Format, width: int
) -> Iterator[tuple[list[str], str, float]]:
    """Edited parses of ``raw`` with exactly ``width`` fields: (fields, how, edit cost)."""
    delim = fmt.delimiter
    n = len(fields)
    malformed = _strictness_cost(raw, fmt)
    if n > width:
        # delete one delimiter
        start = 0
        while (pos := raw.find(delim, start)) >= 0:
            got = _one_record(raw[:pos] + raw[pos + len(delim) :], fmt, width)
            if got is not None:
                yield got[0], "removed an extra delimiter", _EDIT_COST + got[1]
            start = pos + 1
        # trailing empty fields
        if all(not f.strip() for f in fields[width:]):
            yield fields[:width], "dropped empty trailing fields", _EDIT_COST * 0.5 + malformed
        # join neighbours: a delimiter that belongs inside a field
        for got_fields, how, cost in _segmentations(
            fields, width, delim, _quoted(fields, raw, fmt.quotechar)
        ):
            yield got_fields, how, cost + malformed

    if n >= width and fmt.quotechar is not None:
        # a delimiter lost before a quoted field lets the quoted commas split the row
        quote = fmt.quotechar
        for pos in sorted({p + d for p, ch in enumerate(raw) if ch == quote for d in (0, 1)}):
            got = _one_record(raw[:pos] + delim + raw[pos:], fmt, width)
            if got is not None:
                yield got[0], "inserted a missing delimiter", _EDIT_COST - 0.5 + got[1]
    if n < width:
        if len(raw) <= _MAX_INSERT_LEN:
            q = fmt.quotechar
            for pos in range(len(raw) + 1):
                got = _one_record(raw[:pos] + delim + raw[pos:], fmt, width)
                if got is not None:
                    # a delimiter lost between a closing and an opening quote is the usual case
                    at_quote = q is not None and (
                        raw[pos - 1 : pos] == q or raw[pos : pos + 1] == q
                    )
                    cost = _EDIT_COST - (0.5 if at_quote else 0.0)
                    yield got[0], "inserted a missing delimiter", cost + got[1]
        yield (
            fields + [""] * (width - n),
            "padded missing trailing fields",
            _EDIT_COST * (width - n) + malformed,
        )
    if fmt.quotechar is not None and fmt.quotechar in raw:
        q = fmt.quotechar
        start = 0
        while (pos := raw.find(q, start)) >= 0:
            got = _literal_parse(raw, [pos], fmt, width)
            if got is not None:
                yield got[0], "kept a stray quote as text", _QUOTE_COST + got[1]
            start = pos + 1
        inner = _inner_quotes(raw, fmt)
        if inner:
            got = _literal_parse(raw, inner, fmt, width)
            if got is not None:
                yield got[0], "kept unescaped quotes inside a field as text", _QUOTE_COST + got[1]
    for other in DELIMITERS:
        if other != delim and other in raw:
            alt = Format(other, fmt.quotechar, fmt.escapechar, fmt.doublequote)
            rows = parse_text(raw, alt)
            if len(rows) == 1 and rows[0]:
                if len(rows[0]) == width:
                    yield rows[0], f"row written with delimiter {other!r}", _EDIT_COST
                elif len(rows[0]) > width:
                    for seg, _, cost in _segmentations(
                        rows[0], width, other, _quoted(rows[0], raw, fmt.quotechar)
                    ):
                        yield seg, f"row written with delimiter {other!r}", _EDIT_COST + cost


_PLACEHOLDER = "\ue000"


def _literal_parse(
    raw: str, positions: list[int], fmt: Format, width: int
) -> tuple[list[str], float] | None:
    """Parse ``raw`` with the quote characters at ``positions`` taken as plain text."""
    if _PLACEHOLDER in raw:
        return None
    chars = list(raw)
    for pos in positions:
        chars[pos] = _PLACEHOLDER
    got = _one_record("".join(chars), fmt, width)
    if got is None:
        return None
    q = fmt.quotechar or ""
    # marked so that best_repair can judge the row without them; they stay in the cells
    return [f.replace(_PLACEHOLDER, q + _PLACEHOLDER) for f in got[0]], got[1]


def _inner_quotes(raw: str, fmt: Format) -> list[int]:
    """Quote characters that neither open a field nor close one (followed by a delimiter)."""
    q = fmt.quotechar
    delim = fmt.delimiter
    out = []
    for pos, ch in enumerate(raw):
        if ch != q:
            continue
        opens = (
            pos == 0
            or raw.startswith(delim, pos - len(delim))
            or (raw[pos - 1] == " " and fmt.skipinitialspace)
        )
        closes = pos == len(raw) - 1 or raw.startswith(delim, pos + 1)
        doubled = (pos + 1 < len(raw) and raw[pos + 1] == q) or (pos > 0 and raw[pos - 1] == q)
        if not (opens or closes or doubled):
            out.append(pos)
    return out


def _quoted(tokens: list[str], raw: str, quote: str | None) -> set[int]:
    """Indexes of tokens that were written quoted: whole fields, never joined."""
    if quote is None:
        return set()
    return {
        i for i, t in enumerate(tokens) if f"{quote}{t.replace(quote, quote * 2)}{quote}" in raw
    }


def _segmentations(
    tokens: list[str], width: int, joiner: str, quoted: set[int] | None = None
) -> Iterator[tuple[list[str], str, float]]:
    """Every way of joining neighbouring tokens into ``width`` fields (bounded).

    Tokens in ``quoted`` were quoted in the raw text and are never joined to another.
    """
    quoted = quoted or set()
    extra = len(tokens) - width
    if extra <= 0 or len(tokens) > 80 or extra > 12:
        return
    # choose which of the len-1 gaps are joins: bounded enumeration via recursion
    n = len(tokens)
    count = 0

    def rec(i: int, out: list[str], joins_left: int) -> Iterator[list[str]]:
        nonlocal count
        if count > 5000:
            return
        if i == n:
            if joins_left == 0:
                count += 1
                yield out
            return
        # start a new field with tokens[i], optionally extended by joining following tokens
        cur = tokens[i]
        j = i
        while True:
            yield from rec(j + 1, [*out, cur], joins_left - (j - i))
            j += 1
            # an empty token is an extra delimiter (deleted elsewhere), not part of a field
            if (
                j >= n
                or j - i > joins_left
                or not tokens[j]
                or not tokens[i]
                or j in quoted
                or i in quoted
            ):
                break
            cur = cur + joiner + tokens[j]

    for fields in rec(0, [], extra):
        if len(fields) == width:
            yield fields, "joined fields split by an unquoted delimiter", _EDIT_COST * 0.5 * extra


def header_score(cells: Sequence[str]) -> float:
    """How much a row looks like a header: named, distinct, non-numeric cells."""
    score = 0.0
    seen: set[str] = set()
    for cell in cells:
        s = cell.strip()
        if not s:
            score -= 4.0
            continue
        if s in seen:
            score -= 2.0
        seen.add(s)
        if s[0].isdigit() or s[0] in "+-$€£.(":
            score -= 3.0
        if s[0] in ",;|\t:" or s[-1] in ",;|\t:":
            score -= 3.0
        if len(s) > 60:
            score -= 2.0
    return score


def _camel_bonus(original: Sequence[str], cells: Sequence[str]) -> float:
    """Favour splits at a case or letter/digit boundary (``TIMEQty`` -> ``TIME|Qty``)."""
    merged = {c for c in original if c}
    bonus = 0.0
    for x, y in itertools.pairwise(cells):
        if x and y and (x + y) in merged:
            joined = x + y
            if any(m.start() == len(x) for m in _CAMEL.finditer(joined)):
                bonus += 2.0
    return bonus


def rank_repairs(
    raw: str,
    fields: list[str],
    fmt: Format,
    width: int,
    score: Scorer,
    *,
    header: bool = False,
) -> list[Repair]:
    """Every distinct reading of a broken row with ``width`` fields, most likely first.

    A row that already has ``width`` fields competes as it is (``how`` is empty), paying
    the cost of the lenient quote reading it needed.
    """
    seen: dict[tuple[str, ...], Repair] = {}
    cands = _candidates(raw, fields, fmt, width)
    if len(fields) == width:
        current: list[tuple[list[str], str, float]] = [(fields, "", _strictness_cost(raw, fmt))]
        cands = itertools.chain(current, cands)
    listed = list(cands)
    q = fmt.quotechar or ""
    literal = q + _PLACEHOLDER
    # a quote taken as literal text stays in the cells, but the row is judged without it:
    # by hypothesis it is noise, and the profiles have never seen it
    kept = [[c.replace(_PLACEHOLDER, "") for c in cand] for cand, _, _ in listed]
    judged = [[c.replace(literal, "") for c in cand] for cand, _, _ in listed]
    counts = [sum(c.count(q) for c in cells) for cells in judged] if q else [0] * len(listed)
    fewest = min(counts, default=0)
    for (_, how, cost), cells, judge, quotes in zip(listed, kept, judged, counts, strict=True):
        # every quote character left in the cells beyond the fewest any reading leaves
        cost += _STRAY_QUOTE * (quotes - fewest)
        value = (
            header_score(judge) + _camel_bonus(fields, judge) if header else score(judge)
        ) - cost
        key = tuple(cells)
        prev = seen.get(key)
        if prev is None or value > prev.score:
            seen[key] = Repair(cells, how, value)
    return sorted(seen.values(), key=lambda r: r.score, reverse=True)


def best_repair(
    raw: str,
    fields: list[str],
    fmt: Format,
    width: int,
    score: Scorer,
) -> tuple[Repair | None, str]:
    """The unambiguous repair of a broken row, or ``None`` and the reason there is none.

    When the row as it was read wins, ``None`` is returned with an empty reason.
    """
    ranked = rank_repairs(raw, fields, fmt, width, score)
    if not ranked:
        return (
            None,
            f"{len(fields)} fields where the table has {width}, and no edit of the row fits",
        )
    if not ranked[0].how or ranked[0].fields == fields:
        return None, ""
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < MARGIN:
        return None, (
            f"{len(fields)} fields where the table has {width}; {len(ranked)} repairs fit "
            "and none is clearly right"
        )
    return ranked[0], ""
