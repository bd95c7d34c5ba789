"""Dialect detection: delimiter, quote, escape and line terminator, from the data.

Each candidate dialect parses a sample; its score is the consistency of the row lengths it
produces (the pattern score of van den Burg et al., "Wrangling messy CSV files by detecting
row and type patterns", 2019) times the share of cells that look like a value of a known kind.
We implement the idea ourselves (CleverCSV does too, but it is slow on wide files, has no
notion of preambles or of our hints, and we need the per-candidate scores for the account).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from apprentice.read._tokenize import Format, parse_text

DELIMITERS = (",", ";", "\t", "|", " ", ":", "^", "~", "#")
QUOTES: tuple[str | None, ...] = ('"', "'", None)
_SAMPLE_LINES = 400
_COMMENT_MARKS = ("#", "//")
_SAMPLE_CHARS = 256 * 1024

_KNOWN = re.compile(
    r"""^(?:
      [+-]?[$€£¥]?\s?[+-]?(?:\d{1,3}(?:[,.' ]\d{3})+|\d+)(?:[.,]\d+)?  # numbers, money
        (?:[eE][+-]?\d+)?\s?%?(?:\s?[A-Za-z]{1,4}\.?)?                 # exponent, percent, unit
     |\(?[$€£]?\d[\d,.]*\)?                                            # accounting
     |\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}                                 # dates
        (?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:[AaPp][Mm]|Z|[+-]\d{2}:?\d{2})?)?  # + time
     |\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:[AaPp][Mm])?                # times
     |(?:https?|ftp)://\S+|www\.\S+                                    # URLs
     |[\w.+-]+@[\w-]+\.[\w.-]+                                         # emails
     |[\w\u00c0-\u024f][\w\u00c0-\u024f .,'&()/+\-!?%$*:;#@’]*          # words and text
    )$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class DialectGuess:
    """A detected tokenizer format and the evidence for it."""

    format: Format
    lineterminator: str
    score: float
    runner_up: tuple[Format, float] | None


def detect_lineterminator(text: str) -> str:
    """The dominant line terminator: CRLF, LF or CR."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    best = max((crlf, "\r\n"), (lf, "\n"), (cr, "\r"))
    return best[1] if best[0] > 0 else "\n"


def _typed(cell: str, quote: str | None) -> bool:
    s = cell.strip()
    if not s:
        return True
    if quote is not None and quote in s and quote != "'":
        return False
    if s[-1] in ",;|\t":  # a cell ending in a delimiter was split at the wrong character
        return False
    return bool(_KNOWN.match(s))


def _pattern_score(rows: list[list[str]]) -> float:
    lengths = Counter(len(r) for r in rows if r)
    if not lengths:
        return 0.0
    total = 0.0
    for length, count in lengths.items():
        total += count * max(length - 1, 0.001) / length
    # van den Burg et al.'s pattern score, divided by the row count to compare samples
    return total / len(lengths) / max(sum(lengths.values()), 1)


def _type_score(rows: list[list[str]], quote: str | None) -> float:
    cells = [c for r in rows for c in r]
    if not cells:
        return 0.0
    return sum(_typed(c, quote) for c in cells) / len(cells)


def _candidates(sample: str, hints: dict[str, str | None]) -> list[Format]:
    counts = Counter(sample)
    delims: list[str]
    hinted = hints.get("delimiter")
    if hinted is not None:
        delims = [hinted]
    else:
        delims = [d for d in DELIMITERS if counts.get(d, 0) > 0] or [","]
    if hints.get("quotechar") is not None:
        quotes: list[str | None] = [hints["quotechar"] or None]
    else:
        quotes = [q for q in QUOTES if q is None or counts.get(q, 0) > 0]
        if quotes == [None]:
            # no quote in the sample: the standard one costs nothing and guards later rows
            quotes = ['"']
    if hints.get("escapechar") is not None:
        escapes: list[str | None] = [hints["escapechar"] or None]
    else:
        escapes = [None]
    out = []
    if hints.get("delimiter") is None:
        for d in (",", ";", "|", "\t"):
            if counts.get(d, 0) and sample.count(d + " ") >= 0.6 * counts[d]:
                delims.insert(0, d + " ")
    for d in delims:
        for q in quotes:
            for e in escapes:
                if e is not None and q is None:
                    continue
                out.append(Format(delimiter=d, quotechar=q, escapechar=e))
    return out


def _sample(text: str) -> str:
    head = text[:_SAMPLE_CHARS]
    # cut at a line end so the last record is whole
    if len(text) > _SAMPLE_CHARS:
        cut = max(head.rfind("\n"), head.rfind("\r"))
        if cut > 0:
            head = head[: cut + 1]
    lines = head.splitlines(keepends=True)[:_SAMPLE_LINES]
    # comment lines ("# ..." , "// ...": the documentation block of agency and instrument
    # exports) are not rows: their words and marks would vote for a delimiter of their own
    kept = [ln for ln in lines if not ln.lstrip().startswith(_COMMENT_MARKS)]
    if len(kept) >= 2 and len(kept) < len(lines):
        return "".join(kept)
    return "".join(lines)


def detect_format(text: str, hints: dict[str, str | None] | None = None) -> DialectGuess:
    """Detect the tokenizer format of ``text`` (only a sample is parsed)."""
    hints = hints or {}
    sample = _sample(text)
    term = detect_lineterminator(sample)
    scored: list[tuple[float, int, Format]] = []
    for order, fmt in enumerate(_candidates(sample, hints)):
        rows = parse_text(sample, fmt)
        rows = [r for r in rows if r and any(c.strip() for c in r)]
        if not rows:
            continue
        score = _pattern_score(rows) * _type_score(rows, fmt.quotechar)
        scored.append((score, -order, fmt))
    if not scored:
        fmt = Format(
            delimiter=hints.get("delimiter") or ",",
            quotechar=(hints.get("quotechar") or None)
            if hints.get("quotechar") is not None
            else '"',
            escapechar=hints.get("escapechar") or None,
        )
        return DialectGuess(fmt, term, 0.0, None)
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    best = scored[0][2]
    best = _refine_spaces(sample, best, hints)
    if hints.get("escapechar") is None:
        best = _refine_escape(sample, best)
    runner = (scored[1][2], scored[1][0]) if len(scored) > 1 else None
    return DialectGuess(best, term, scored[0][0], runner)


def _refine_escape(sample: str, fmt: Format) -> Format:
    """Use a backslash escape only when it makes the rows strictly more consistent."""
    q = fmt.quotechar
    if q is None or ("\\" + q) not in sample:
        return fmt
    esc = Format(
        delimiter=fmt.delimiter,
        quotechar=q,
        escapechar="\\",
        doublequote=fmt.doublequote,
        skipinitialspace=fmt.skipinitialspace,
    )

    def consistency(f: Format) -> float:
        rows = [r for r in parse_text(sample, f) if r and any(c.strip() for c in r)]
        return _pattern_score(rows) * _type_score(rows, q)

    return esc if consistency(esc) > consistency(fmt) * 1.001 else fmt


def _refine_spaces(sample: str, fmt: Format, hints: dict[str, str | None]) -> Format:
    """Comma+space (or semicolon+space) files: skip the space after each delimiter."""
    if fmt.delimiter == " " or len(fmt.delimiter) != 1 or hints.get("delimiter"):
        return fmt
    rows = [r for r in parse_text(sample, fmt) if len(r) > 1]
    later = [c for r in rows for c in r[1:]]
    if later and sum(c.startswith(" ") for c in later) >= 0.9 * len(later):
        return Format(
            delimiter=fmt.delimiter + " ",
            quotechar=fmt.quotechar,
            escapechar=fmt.escapechar,
            doublequote=fmt.doublequote,
            skipinitialspace=True,
        )
    return fmt
