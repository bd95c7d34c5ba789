"""From decoded text to a table: dialect, preamble, header, body, footer, other tables.

The steps, each recorded in the result's notes:

1. detect the tokenizer format on a sample (:mod:`apprentice.read.dialect`);
2. tokenize every record with its line span; the table's width is the most common record
   width (line by line when a runaway quote swallowed the rest of the file);
3. leading records that are not table rows (titles, sparse preamble lines) are the preamble,
   unless a short first row holds values of its columns' kinds; runs of rows of another
   width, or a repeated header, start another table; the largest table is read and the
   others reported; notes after the table (short lines, sentences padded with delimiters,
   a long run set apart by a blank line) are footnotes;
4. the header (none, one or several rows) is decided by comparing the first rows with the
   body: typed columns (a name is text over numbers), text columns of few repeated values
   (a name is none of them), a blank corner over a column of labels (a crosstab), group
   names spanning blank cells over a row that names each column of the group (joined);
   rows under a complete row of distinct names (units, labels, ids) are column metadata;
5. body rows of the wrong width are repaired when unambiguous (:mod:`apprentice.read._repair`),
   otherwise quarantined with their line number, raw text and reason; a headerless file
   whose rows of other widths parse cleanly is read again as a ragged table; unnamed,
   always-empty trailing columns are dropped.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from apprentice.read._profile import TableProfile, coarse_shape
from apprentice.read._repair import (
    MARGIN,
    Repair,
    _inner_quotes,
    _strict_ok,
    best_repair,
    header_score,
    rank_repairs,
)
from apprentice.read._tokenize import (
    Format,
    Record,
    iter_records,
    parse_text,
    raw_text,
    split_lines,
)
from apprentice.read.dialect import detect_format
from apprentice.read.hints import ReadHints
from apprentice.read.result import Dialect, TableRegion

_TYPED = {"INT", "DEC", "NUMLIKE", "CODE", "URL", "EMPTY"}
_MAX_REPAIRS = 2000
_COMMENT = ("#", "//")
_PROFILE_ROWS = 5000
_PROFILE_CELLS = 200_000  # a wide table is profiled on fewer rows: cost stays linear in cells
_FLOOR_CELLS = 100_000


@dataclass
class ParsedTable:
    header: list[str]
    header_generated: bool
    rows: list[list[str]]
    lines: list[int]  # 1-based first physical line of each row
    quarantine: list[tuple[int, str, str]]
    dialect: Dialect
    notes: list[str] = field(default_factory=list)
    repaired: int = 0
    other_tables: list[TableRegion] = field(default_factory=list)
    format: Format = field(default_factory=Format)
    profile: TableProfile | None = None
    first_body_line: int = 0  # 0-based physical line where the body starts
    multiline_rows: bool = False  # some kept row spans more than one physical line
    line_roles: list[str] = field(default_factory=list)  # what each physical line became
    ragged: bool = False  # short rows were padded to the widest row's width
    # the score a repaired row must reach, computed when first asked (most reads repair
    # nothing, and scoring the clean rows costs a Python call per cell of a wide table)
    floor_of: Callable[[], float] | None = field(default=None, repr=False, compare=False)

    @property
    def repair_floor(self) -> float:
        """A repaired row must score at least this."""
        return float("-inf") if self.floor_of is None else self.floor_of()


def _nonempty(fields: list[str]) -> int:
    return sum(1 for f in fields if f.strip())


def _is_blank(rec: Record) -> bool:
    return not any(f.strip() for f in rec.fields)


def _width(records: list[Record], lines: list[str] | None = None) -> tuple[int, float]:
    """The table's width: the most common field count of the non-blank rows. With ``lines``,
    rows on comment lines ("# ...", "// ...") do not vote unless nothing else is left: a
    documentation block longer than the table must not set its width."""
    rows = [r for r in records if not _is_blank(r)]
    if lines is not None:
        data = [r for r in rows if not lines[r.first].lstrip().startswith(_COMMENT)]
        if len(data) >= 2:
            rows = data
    widths = Counter(len(r.fields) for r in rows)
    if not widths:
        return 0, 0.0
    # the most common width; ties go to the wider one (a preamble is narrow)
    width, count = max(widths.items(), key=lambda kv: (kv[1], kv[0]))
    return width, count / sum(widths.values())


def _linewise(lines: list[str], fmt: Format) -> list[Record]:
    out = []
    for i, line in enumerate(lines):
        rows = list(iter_records([line], fmt))
        fields = rows[0].fields if rows else []
        out.append(Record(i, i, fields))
    return out


# cells that mark a missing value in any column: they neither make nor break a header row
_MISSING_WORDS = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "nil", "?", "-", "--", ".", "missing", "#n/a"}
)


def _categorical(values: set[str], n_filled: int) -> bool:
    """A text column of few distinct values, each used again and again (answers, codes)."""
    distinct = sum(1 for v in values if v.lower() not in _MISSING_WORDS)
    return n_filled >= 8 and 0 < distinct <= max(2, n_filled // 4)


def _header_like(
    fields: list[str],
    profile: TableProfile,
    body_values: list[set[str]],
    *,
    first: bool,
    filled: list[int] | None = None,
    counting: frozenset[int] = frozenset(),
) -> bool:
    """A row is a header when, in the columns whose body is typed, it is not.

    A text column of few distinct values (survey answers, categories) is evidence too: a
    name is a value it never holds, a data row holds one of its values. In an all-text
    table without such columns the only evidence is the names themselves: the first row is
    a header when its cells are distinct, short, and not values the column holds elsewhere;
    a further header row needs the evidence of typed columns. The cells in ``counting``
    (years or numbers that count the columns, see :func:`_counting_names`) are names.
    """
    votes_for = votes_against = 0
    for i, cell in enumerate(fields):
        if i in counting:
            votes_for += 1
            continue
        col = profile.columns[i]
        top = col.most_common_kind()
        if not top:
            continue
        kind, n = top[0]
        typed_col = kind in _TYPED and kind != "EMPTY" and n >= 0.8 * max(profile.n_rows, 1)
        cell_kind = coarse_shape(cell)
        stripped = cell.strip()
        if stripped.lower() in _MISSING_WORDS:
            continue  # a missing-value marker says nothing about a header
        seen = i < len(body_values) and stripped in body_values[i]
        if not first and seen:
            votes_against += 1  # a value the column holds elsewhere: data, not a name
            continue
        if typed_col:
            if cell_kind == kind or (cell_kind in _NUMBERS and kind in _NUMERIC):
                votes_against += 1
            else:
                votes_for += 1
        elif filled is not None and i < len(filled) and _categorical(body_values[i], filled[i]):
            if seen:
                votes_against += 1
            else:
                votes_for += 1
    if votes_for or votes_against:
        return votes_for > votes_against
    if not first:
        return False
    cells = [c.strip() for c in fields]
    reused = sum(1 for c, seen in zip(cells, body_values, strict=False) if c in seen)
    return (
        all(cells)
        and len(set(cells)) == len(cells)
        and max(len(c) for c in cells) <= 40
        and reused * 2 < len(cells)
    )


def quarantine_reason(n_fields: int, width: int, rep: Repair | None, why: str) -> str:
    """Why a row is quarantined, in words (never its values)."""
    if rep is not None:
        return (
            f"{n_fields} fields where the table has {width}; the only fitting repair "
            f"({rep.how}) leaves a row unlike any other"
        )
    return why or f"{n_fields} fields where the table has {width}; no repair fits"


def acceptable(rep: Repair, floor: float) -> bool:
    """A repair that changes the row's structure must leave it as likely as real rows; one that
    only keeps a stray quote as text changes no cell's content and needs no such proof."""
    return rep.score >= floor or rep.how.startswith("kept")


def _records_from(
    records: list[Record], lines: list[str], fmt: Format, start: int
) -> Iterator[Record]:
    """Records from line ``start`` on, reusing the first tokenization when it lines up."""
    lo, hi = 0, len(records)
    while lo < hi:
        mid = (lo + hi) // 2
        if records[mid].first < start:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(records) and records[lo].first == start:
        yield from records[lo:]
    elif lo == len(records) and (not records or records[-1].last < start):
        return
    else:
        yield from iter_records(lines, fmt, start)


def _fix_header_quotes(rec: Record, lines: list[str], fmt: Format, width: int) -> list[str]:
    """A header row read leniently (a stray quote) is re-read with the quote as text."""
    raw = raw_text(lines, rec.first, rec.first)
    if fmt.quotechar is None or fmt.quotechar not in raw or _strict_ok(raw, fmt):
        return rec.fields
    fields = parse_text(raw, fmt)
    if not fields or len(fields[0]) != width:
        return rec.fields
    ranked = rank_repairs(raw, fields[0], fmt, width, lambda c: 0.0, header=True)
    return ranked[0].fields if ranked else rec.fields


_NUMERIC = {"INT", "DEC", "NUMLIKE"}
_NUMBERS = {"INT", "DEC"}  # a header cell like "A1" or "Q3" is a name, not a number


def _opens_table(run: list[Record]) -> bool:
    """A run of rows starts a table when its first row names columns its other rows fill
    with numbers (a run of ragged rows without such a header is just ragged rows)."""
    first = [coarse_shape(c) for c in run[0].fields]
    if any(k in _NUMERIC or k == "EMPTY" for k in first):
        return False
    return any(coarse_shape(c) in _NUMERIC for r in run[1:] for c in r.fields)


def _names_over_numbers(run: list[Record]) -> bool:
    """The first row of ``run`` is a complete header: distinct non-empty text cells, none a
    number, over rows that hold numbers (in most rows) in a column it names."""
    if len(run) < 3:
        return False
    names = [c.strip() for c in run[0].fields]
    if not all(names) or len(set(n.lower() for n in names)) != len(names):
        return False
    if any(coarse_shape(c) in _NUMERIC for c in names):
        return False
    body = [r for r in run[1:] if not _is_blank(r) and len(r.fields) == len(names)]
    if len(body) < 2:
        return False
    for i in range(len(names)):
        numeric = sum(1 for r in body if coarse_shape(r.fields[i]) in _NUMBERS)
        if numeric * 5 >= 4 * len(body):
            return True
    return False


def _same_header(a: list[str], b: list[str]) -> bool:
    if (
        not a
        or not b
        or (
            a[0].strip().lower() != b[0].strip().lower()
            and (len(a) < 2 or len(b) < 2 or a[1].strip().lower() != b[1].strip().lower())
        )
    ):
        return False
    na = [c.strip().lower() for c in a]
    nb = [c.strip().lower() for c in b]
    common = sum(1 for x, y in zip(na, nb, strict=False) if x and x == y)
    return common >= max(2, int(0.6 * min(len(na), len(nb))))


HEADER = "header"
PREAMBLE = "preamble"
COMMENT = "comment"
FOOTNOTE = "footnote"
OTHER_TABLE = "other table"
KEPT = "kept"
QUARANTINED = "quarantined"
BLANK = "blank"
METADATA = "column metadata"  # rows under the header that describe the columns (units, labels)
LINE_ROLES = (
    HEADER,
    METADATA,
    PREAMBLE,
    COMMENT,
    BLANK,
    KEPT,
    QUARANTINED,
    FOOTNOTE,
    OTHER_TABLE,
)
_LONG_PREAMBLE = 5  # more non-blank preamble lines than this is a finding


def _mark(roles: list[str], first: int, last: int, role: str) -> None:
    for ln in range(max(first, 0), min(last, len(roles) - 1) + 1):
        roles[ln] = role


def _fill_roles(roles: list[str], lines: list[str], body_line: int, last_line: int) -> None:
    """Lines no step claimed: blank, or preamble before the body, or a footnote after it."""
    for ln, role in enumerate(roles):
        if role:
            continue
        text = lines[ln].strip()
        if not text:
            roles[ln] = BLANK
        elif text.startswith(_COMMENT):
            roles[ln] = COMMENT
        elif ln < body_line or last_line < 0:
            roles[ln] = PREAMBLE
        else:
            roles[ln] = FOOTNOTE


def _line_findings(roles: list[str], lines: list[str], fmt: Format, width: int) -> list[str]:
    """Findings about lines that did not become rows: a long preamble, preamble lines with
    the shape of the table's rows, and a table that kept a small share of the file."""
    out = []
    pre = [ln for ln, r in enumerate(roles) if r == PREAMBLE]
    if pre:
        shaped = 0
        for ln in pre:
            got = parse_text(lines[ln], fmt)
            cells = got[0] if got else []
            if len(cells) >= 2 and (
                len(cells) == width or any(coarse_shape(c) in _NUMBERS for c in cells)
            ):
                shaped += 1
        span = f"line {pre[0] + 1}" if len(pre) == 1 else f"lines {pre[0] + 1}-{pre[-1] + 1}"
        if len(pre) > _LONG_PREAMBLE or shaped >= 2:
            out.append(
                f"finding: {len(pre)} line(s) before the table ({span}) were read as preamble"
                + (f", {shaped} of them shaped like rows of the table" if shaped else "")
                + "; if they are data, pass --skip-rows and --header"
            )
    counted = Counter(roles)
    content = len(roles) - counted[BLANK]
    if content >= 10 and counted[KEPT] * 2 < content:
        others = ", ".join(
            f"{role} {counted[role]}"
            for role in LINE_ROLES
            if role not in (KEPT, BLANK) and counted[role]
        )
        out.append(
            f"finding: only {counted[KEPT]} of {content} non-blank lines became rows of the "
            f"table ({others})"
        )
    return out


def _note_line(rec: Record, width: int) -> bool:
    """A line after a table that is no row of it: a few fields where the table has many, or a
    sentence in the first cell of a line padded with delimiters to the table's width."""
    if width <= 2:
        return False
    if len(rec.fields) != width:
        return len(rec.fields) <= width // 2
    return _nonempty(rec.fields) == 1 and len(rec.fields[0].split()) >= 4


def _short_data_row(rec: Record, body: list[Record], width: int) -> bool:
    """A row with fewer fields than the table whose every cell has the kind of its column's
    values, in at least two typed columns: a first row cut short, not a title or a header."""
    n = len(rec.fields)
    if _is_blank(rec) or not 2 <= n < width:
        return False
    rows = [r.fields for r in body if len(r.fields) == width]
    if len(rows) < 3:
        return False
    matches = 0
    for i, cell in enumerate(rec.fields):
        kinds = Counter(coarse_shape(r[i]) for r in rows)
        kind, count = kinds.most_common(1)[0]
        if kind not in _TYPED or kind == "EMPTY" or count < 0.8 * len(rows):
            continue
        got = coarse_shape(cell)
        if got == kind or (got in _NUMBERS and kind in _NUMERIC):
            matches += 1
        else:
            return False
    return matches >= 2


def _preamble_tables(structure: list[Record], end: int) -> list[tuple[int, int]]:
    """Tables before the one read: runs of at least three rows of one width (two or more
    fields) whose first row names columns the others fill with numbers."""
    out = []
    k = 0
    while k < end:
        n = len(structure[k].fields)
        j = k
        while j < end and len(structure[j].fields) == n and not _is_blank(structure[j]):
            j += 1
        if n >= 2 and j - k >= 3 and _opens_table(structure[k:j]):
            out.append((k, j))
        k = max(j, k + 1)
    return out


def _ragged(records: list[Record]) -> bool:
    """No width holds half of the rows, the rows take at least three widths, and the width
    changes from row to row (not in blocks, which are several tables)."""
    widths = Counter(len(r.fields) for r in records if not _is_blank(r))
    total = sum(widths.values())
    if total < 5 or len(widths) < 3 or max(widths) < 2:
        return False
    if max(widths.values()) * 2 >= total:
        return False
    # widths that change from row to row, not in blocks (blocks are several tables)
    seq = [len(r.fields) for r in records if not _is_blank(r)]
    changes = sum(1 for a, b in itertools.pairwise(seq) if a != b)
    return changes * 3 >= total


def _padded(rec: Record, width: int) -> Record:
    if _is_blank(rec) or len(rec.fields) >= width:
        return rec
    return Record(rec.first, rec.last, rec.fields + [""] * (width - len(rec.fields)))


_NAME_KINDS = frozenset({"WORD", "W2", "W4", "W9", "W21", "CODE"})


def _repeated_headers(structure: list[Record], start: int, width: int) -> set[int]:
    """Indexes of records after ``start`` that repeat the first row as a header.

    A row that matches the first one in most cells is a repeated header only when the
    matching cells look like names: text (not numbers, times or missing-value markers) that
    the column holds nowhere but in such rows. Rows of a 0/1 matrix, ``1:00:00,NaN`` or a
    survey answer given twice match the first row too, but their cells are values.
    """
    if start >= len(structure):
        return set()
    first = structure[start].fields
    cands = [
        k
        for k in range(start + 1, len(structure))
        if len(structure[k].fields) == width and _same_header(structure[k].fields, first)
    ]
    norm = [c.strip().lower() for c in first]
    filled = [i for i, c in enumerate(norm) if c]
    cands = [
        k
        for k in cands
        if sum(1 for i in filled if _cell(structure[k], i) == norm[i]) >= 0.8 * len(filled)
    ]
    if not cands:
        return set()
    names = [
        i
        for i, c in enumerate(norm)
        if c and c not in _MISSING_WORDS and coarse_shape(c) in _NAME_KINDS
    ]
    if len(names) < min(2, width):
        return set()
    in_cands = Counter(
        i for k in [start, *cands] for i in names if _cell(structure[k], i) == norm[i]
    )
    everywhere = Counter(
        i
        for rec in structure[start:]
        if len(rec.fields) == width
        for i in names
        if _cell(rec, i) == norm[i]
    )
    only_names = [i for i in names if everywhere[i] == in_cands[i]]
    if len(only_names) < max(2, int(0.6 * len(names))) and len(only_names) < len(names):
        return set()
    keep = set(only_names)
    return {
        k
        for k in cands
        if sum(1 for i in keep if _cell(structure[k], i) == norm[i]) >= max(1, int(0.6 * len(keep)))
    }


def _index_column(records: list[Record], width: int) -> bool:
    """The first column of these rows is an index: a distinct, filled value in every row,
    and the last column is not an always-empty one (a header short of a trailing column)."""
    rows = [r.fields for r in records if len(r.fields) == width]
    if len(rows) < 3:
        return False
    firsts = [r[0].strip() for r in rows]
    if not all(firsts) or len(set(firsts)) < len(firsts):
        return False
    return any(r[-1].strip() for r in rows)


def _is_title(fields: list[str]) -> bool:
    """A row with one or two filled cells, the first, over a wider table: a title."""
    filled = [i for i, c in enumerate(fields) if c.strip()]
    return len(fields) >= 4 and 0 < len(filled) <= 2 and filled[0] == 0


def _fill_spans(parts: list[list[str]]) -> int:
    """Fill, in every header row but the last, blank cells under a name spanning columns.

    A blank cell takes the name to its left (``Sun2014-bp,,`` over ``X,Y``), as a
    spreadsheet's merged cell is written; blank cells before the first name stay blank.
    Returns how many."""
    if len(parts) < 2:
        return 0
    filled = 0
    for row in parts[:-1]:
        for i in range(1, len(row)):
            if not row[i].strip() and row[i - 1].strip():
                row[i] = row[i - 1]
                filled += 1
    return filled


def _corner(rec: Record, body: list[list[str]], notes: list[str]) -> bool:
    if not _corner_header(rec.fields, body):
        return False
    notes.append(
        f"line {rec.first + 1} has a blank corner over a column of labels filled in every row, "
        "then a distinct name in every other cell: a crosstab's header"
    )
    return True


def _progression(cells: list[str]) -> int | None:
    """The common step of integers in arithmetic progression, or None."""
    try:
        nums = [int(c.strip().strip("\"'")) for c in cells]
    except ValueError:
        return None
    steps = {b - a for a, b in itertools.pairwise(nums)}
    return steps.pop() if len(steps) == 1 and 0 not in steps else None


def _counting_names(fields: list[str], body: list[list[str]]) -> frozenset[int]:
    """Integers in neighbouring cells of a first row that count the columns (``1990,1991,
    1992``, waves ``1,2,3``): at least three, in arithmetic progression, where at most one
    body row in ten has a progression in those columns. They are names, not values."""
    out: set[int] = set()
    i = 0
    while i < len(fields):
        j = i
        while j < len(fields) and coarse_shape(fields[j]) == "INT":
            j += 1
        if j - i >= 3 and _progression(fields[i:j]) is not None:
            rows = [r for r in body if len(r) >= j]
            alike = sum(1 for r in rows if _progression(r[i:j]) is not None)
            if len(rows) >= 3 and alike * 10 <= len(rows):
                out.update(range(i, j))
        i = max(j, i + 1)
    return frozenset(out)


def _typed_clash(fields: list[str], profile: TableProfile) -> bool:
    """Some cell has the kind of its typed column's values: a data row, not names."""
    for i, cell in enumerate(fields):
        if i >= len(profile.columns) or cell.strip().lower() in _MISSING_WORDS:
            continue
        top = profile.columns[i].most_common_kind()
        if not top:
            continue
        kind, n = top[0]
        if kind not in _TYPED or kind == "EMPTY" or n < 0.8 * max(profile.n_rows, 1):
            continue
        got = coarse_shape(cell)
        if got == kind or (got in _NUMBERS and kind in _NUMERIC):
            return True
    return False


def _spanning_pair(top: list[str], below: list[str], body_values: list[set[str]]) -> bool:
    """Two rows that name the columns together: the upper row names groups that span blank
    cells, the lower row names every column of a group (distinctly within it), and the lower
    row's names are mostly not values of the body (``Q1,,`` over ``Yes,No,Other``)."""
    t = [c.strip() for c in top]
    b = [c.strip() for c in below]
    named = [i for i, c in enumerate(t) if c]
    if len(t) < 3 or len(named) < 2 or len(set(t[i] for i in named)) < len(named):
        return False
    groups: list[list[int]] = []
    for i in range(named[0], len(t)):
        if t[i]:
            groups.append([i])
        else:
            groups[-1].append(i)
    spans = [g for g in groups if len(g) > 1]
    if not spans:
        return False
    for g in spans:
        cells = [b[i] for i in g]
        if not all(cells) or len(set(cells)) < len(cells):
            return False
    filled = [i for i, c in enumerate(b) if c]
    reused = sum(1 for i in filled if i < len(body_values) and b[i] in body_values[i])
    return reused * 2 < len(filled)


def _complete_names(recs: list[Record]) -> bool:
    """The first of these header rows names every column by itself: distinct names that run
    without a gap (a blank corner before them aside), and no lower row names a column after
    them. (A name repeated over several columns, ``Age,Age`` over ``min,max``, is a group
    the lower row divides: the rows name the columns together.)"""
    top = [c.strip() for c in recs[0].fields]
    named = [i for i, c in enumerate(top) if c]
    if len(named) < 2 or len({top[i] for i in named}) < len(named):
        return False
    first, last = named[0], named[-1]
    if first > 1 or len(named) != last - first + 1:
        return False
    return not any(c.strip() for r in recs[1:] for c in r.fields[last + 1 :])


def _corner_header(fields: list[str], body: list[list[str]]) -> bool:
    """A crosstab's header: a blank corner over a column of labels filled in every row,
    then a distinct name in every other cell (years, groups) whatever their kind."""
    if len(fields) < 3 or fields[0].strip():
        return False
    names = [c.strip() for c in fields[1:]]
    while names and not names[-1]:
        names.pop()  # a delimiter ending the line
    if len(names) < 2 or not all(names) or len(set(names)) < len(names):
        return False
    labels = [r[0].strip() for r in body if r]
    if len(labels) < 3 or sum(1 for x in labels if x) < 0.95 * len(labels):
        return False
    return all(coarse_shape(x) not in _NUMBERS for x in labels if x)


def _cell(rec: Record, i: int) -> str:
    return rec.fields[i].strip().lower() if i < len(rec.fields) else ""


def parse_table(text: str, hints: ReadHints, *, force_ragged: bool = False) -> ParsedTable:
    """Parse decoded text into a table of text cells with a full account.

    ``force_ragged`` reads the rows as a ragged table (the widest row's width, shorter rows
    padded); it is how a headerless file whose rows of other widths cannot be repaired is
    read again instead of quarantining them."""
    guess = detect_format(
        text,
        {
            "delimiter": hints.delimiter,
            "quotechar": hints.quotechar,
            "escapechar": hints.escapechar,
        },
    )
    fmt = guess.format
    lines = split_lines(text)
    notes: list[str] = []
    if len(fmt.delimiter) > 1 or fmt.skipinitialspace:
        notes.append(
            f"fields are separated by {fmt.delimiter[0]!r} and a space: the space after each "
            "delimiter is read as part of the delimiter, not of the value"
        )
    records = list(iter_records(lines, fmt))
    spans = [r.last - r.first for r in records]
    structure = records
    width, _ = _width(structure, lines)
    if spans and max(spans) > 10:
        # a runaway quote may have swallowed the file: compare with a line-by-line reading
        # by the share of physical lines that rows of the table's width explain
        linewise = _linewise(lines, fmt)
        lw_width, _ = _width(linewise, lines)

        def explained(recs: list[Record], w: int) -> int:
            return sum(r.last - r.first + 1 for r in recs if len(r.fields) == w and w > 1)

        if explained(linewise, lw_width) > explained(records, width):
            structure, width = linewise, lw_width

    # -- a ragged table: no width holds half of the rows (a list, rows cut short); its width
    # is the widest row's and shorter rows are padded with empty cells
    # (not with a space delimiter: there, text cells with spaces make rows of many widths)
    ragged = fmt.delimiter.strip() != "" and (force_ragged or _ragged(structure))
    if ragged:
        width = max(len(r.fields) for r in structure)
        shortest = min(len(r.fields) for r in structure if not _is_blank(r))
        notes.append(
            f"rows have {shortest} to {width} fields and no width holds half of them: read as "
            f"a ragged table of {width} columns, shorter rows padded with empty cells"
        )
        structure = [_padded(r, width) for r in structure]

    # -- preamble: skip leading lines that are not rows of the table
    idx = 0
    if hints.skip_rows is not None:
        while idx < len(structure) and structure[idx].first < hints.skip_rows:
            idx += 1
    else:
        while idx < len(structure):
            rec = structure[idx]
            if (
                not _is_blank(rec)
                and len(rec.fields) == width
                and (_nonempty(rec.fields) >= min(2, width))
            ):
                break
            idx += 1
    short_first = -1  # the first line of a first row cut short (padded, not repaired)
    if (
        hints.skip_rows is None
        and 0 < idx < len(structure)
        and not ragged
        and all(_is_blank(r) for r in structure[: idx - 1])
        and _short_data_row(structure[idx - 1], structure[idx : idx + 50], width)
    ):
        idx -= 1
        short_first = structure[idx].first
        notes.append(
            f"line {structure[idx].first + 1} has {len(structure[idx].fields)} of {width} "
            "fields, each of the kind its column holds: the first row, cut short, not preamble"
        )
    preamble_lines = structure[idx].first if idx < len(structure) else len(lines)

    # -- a broken header just before the first full-width row
    broken_header: list[str] | None = None
    header_end_line: int | None = None  # last line of a repaired header
    if hints.skip_rows is None and idx > 0 and width > 1 and not ragged:
        prev = structure[idx - 1]
        first_names = _names_over_numbers(structure[idx : idx + 50])
        if first_names and not _is_blank(prev) and len(prev.fields) != width:
            # the first full row is a header itself: the line above it is a title or a
            # "Key: value" line of the preamble, not a header that lost a delimiter
            notes.append(
                f"line {structure[idx].first + 1} names the columns (text over numbers): "
                f"line {prev.first + 1} above it is not a header that lost a delimiter"
            )
        elif not _is_blank(prev) and len(prev.fields) != width:
            # a quote that ran away from the header swallowed lines: read its first line alone
            last = prev.first if prev.last > prev.first else prev.last
            raw = raw_text(lines, prev.first, last)
            parsed = parse_text(raw, fmt)
            fields = parsed[0] if len(parsed) == 1 else prev.fields
            ranked = rank_repairs(raw, fields, fmt, width, lambda c: 0.0, header=True)
            if (
                len(fields) == 1
                and fmt.delimiter != " "
                and (len(raw.split()) != width or header_score(structure[idx].fields) >= -1.0)
            ):
                # a one-field line (a title) is split at its spaces only when that gives one
                # name per column and the first full row is no header itself
                ranked = [r for r in ranked if r.how != "row written with delimiter ' '"]
            if len(fields) == width and (not ranked or not ranked[0].how):
                ranked = [Repair(fields, "read alone", 0.0)]
            index_first = (
                width >= 3
                and len(fields) == width - 1
                and header_score(fields) >= -1.0
                and _index_column(structure[idx : idx + 200], width)
            )
            if index_first:
                broken_header = ["", *fields]
                notes.append(
                    f"header on line {prev.first + 1} has {len(fields)} names for {width} "
                    "columns and the first column holds a distinct value in every row: it is "
                    "an unnamed index column"
                )
            elif ranked and header_score(ranked[0].fields) >= -1.0:
                # names only: take the best reading even when another is close, and say so
                broken_header = ranked[0].fields
                sure = len(ranked) == 1 or ranked[0].score - ranked[1].score >= MARGIN
                notes.append(
                    f"header on line {prev.first + 1} repaired ({ranked[0].how})"
                    + ("" if sure else "; the split of the names is a best guess")
                )
            elif (
                2 <= len(fields) < width
                and _nonempty(fields) >= max(2, len(fields) - 1)
                and header_score([f for f in fields if f.strip()]) >= -1.0
            ):
                # names for the first columns (one of them may be blank: an unnamed index)
                broken_header = fields + [""] * (width - len(fields))
                notes.append(
                    f"header on line {prev.first + 1} has {len(fields)} names for {width} "
                    "columns; the missing names are generated"
                )
            if broken_header is not None:
                preamble_lines = prev.first
                header_end_line = last

    # -- table regions after the preamble
    body_start = idx
    regions: list[tuple[int, int]] = []  # indexes into structure [start, end)
    j = body_start
    region_start = body_start
    repeats = _repeated_headers(structure, body_start, width)
    while j < len(structure):
        rec = structure[j]
        if j > region_start + 1 and not _is_blank(rec):
            # a run of >= 3 rows of another width, or a repeated header, starts a new table
            other = len(rec.fields) != width and len(rec.fields) > 1
            run = 0
            if other:
                k = j
                while k < len(structure) and len(structure[k].fields) == len(rec.fields):
                    k += 1
                run = k - j
            after_blank = j > 0 and _is_blank(structure[j - 1])
            starts_table = (
                other and run >= 3 and (after_blank or _opens_table(structure[j : j + run]))
            )
            repeated = not starts_table and j in repeats and j > region_start + 2
            if repeated:
                notes.append(
                    f"line {rec.first + 1} repeats the header row (names that no data row "
                    "holds): another table starts there"
                )
            if starts_table or repeated:
                regions.append((region_start, j))
                region_start = j
                if other:
                    j += run
                    regions.append((region_start, j))
                    region_start = j
                    continue
        j += 1
    regions.append((region_start, len(structure)))
    if hints.skip_rows is None:
        regions = (
            _preamble_tables(structure, body_start if broken_header is None else idx - 1) + regions
        )
    regions = [r for r in regions if any(not _is_blank(structure[k]) for k in range(*r))]
    main = (body_start, len(structure))
    if len(regions) > 1:

        def size(r: tuple[int, int]) -> int:
            return sum(1 for k in range(*r) if len(structure[k].fields) == width)

        main = max(regions, key=lambda r: (size(r), -r[0]))
    roles = [""] * len(lines)
    other_tables = []
    for r in regions:
        if r == main:
            continue
        recs = [structure[k] for k in range(*r) if not _is_blank(structure[k])]
        if not recs:
            continue
        for rec in recs:
            _mark(roles, rec.first, rec.last, OTHER_TABLE)
        other_tables.append(
            TableRegion(
                first_line=recs[0].first + 1,
                last_line=recs[-1].last + 1,
                n_columns=Counter(len(x.fields) for x in recs).most_common(1)[0][0],
                header=tuple(recs[0].fields[:50]),
            )
        )
    if other_tables:
        notes.append(
            f"{len(other_tables) + 1} tables in the file; read the one on lines "
            f"{structure[main[0]].first + 1}-{structure[main[1] - 1].last + 1}, reported the others"
        )
    main_first_line = structure[main[0]].first if main[0] < len(structure) else len(lines)
    main_last_line = structure[main[1] - 1].last if main[1] > main[0] else -1
    # footnotes: a short run of narrow lines closing the table ("Source: ...", "* estimate")
    footer_lines = 0
    k = main[1] - 1
    tail: list[Record] = []
    while k > main[0]:
        rec = structure[k]
        if _is_blank(rec):
            k -= 1
            continue
        if _note_line(rec, width):
            tail.append(rec)
            k -= 1
            continue
        break
    # a long run of notes must be set apart from the table by a blank line
    if len(tail) > 5 and not (k + 1 < len(structure) and _is_blank(structure[k + 1])):
        tail = []
    if tail and k > main[0]:
        for rec in tail:
            _mark(roles, rec.first, rec.last, FOOTNOTE)
        footer_lines = main_last_line - structure[k].last
        main_last_line = structure[k].last
        notes.append(
            f"{len(tail)} footnote line(s) after the table (from line {tail[-1].first + 1}) "
            "reported, not read as rows"
        )
    if main[0] != body_start:
        preamble_lines = main_first_line

    # -- column profiles from the clean rows of the main table
    main_recs = [structure[k] for k in range(*main)]
    clean_rows = [r.fields for r in main_recs if len(r.fields) == width]
    profile_rows = clean_rows[3:] if len(clean_rows) >= 13 else clean_rows[1:] or clean_rows
    cap = min(_PROFILE_ROWS, max(50, _PROFILE_CELLS // max(width, 1)))
    if len(profile_rows) > cap:
        step = len(profile_rows) / cap
        profile_rows = [profile_rows[int(i * step)] for i in range(cap)]
    profile = TableProfile(profile_rows, width)

    # -- header rows
    header: list[str] = []
    header_generated = False
    first_body_line = main_first_line
    meta_rows = 0
    if broken_header is not None and main[0] == body_start:
        header = broken_header
        n_header = 1
        if header_end_line is not None:
            first_body_line = header_end_line + 1
    elif hints.header == 0:
        n_header = 0
    else:
        head_recs = [r for r in main_recs[:5] if not _is_blank(r)]
        n_header = 0
        limit = hints.header if hints.header is not None else 4
        # a small table keeps at least one row out of the candidates as evidence
        n_cand = min(limit, max(1, len(clean_rows) - 1))
        candidates = {id(r.fields) for r in head_recs[:n_cand]}
        body = [r for r in profile_rows[:2000] if id(r) not in candidates]
        body_values = [{r[i].strip() for r in body} for i in range(width)]
        body_filled = [
            sum(1 for r in body if r[i].strip().lower() not in _MISSING_WORDS) for i in range(width)
        ]
        # the header evidence comes from rows that cannot be header rows themselves
        head_profile = profile if len(clean_rows) >= 13 else TableProfile(body, width)
        if (
            hints.header is None
            and len(head_recs) > 1
            and _is_title(head_recs[0].fields)
            and len(head_recs[1].fields) == width
            and all(c.strip() for c in head_recs[1].fields)
            and _header_like(
                head_recs[1].fields, head_profile, body_values, first=True, filled=body_filled
            )
        ):
            # a title row over a full row of names: the names are the header
            notes.append(
                f"line {head_recs[0].first + 1} fills {_nonempty(head_recs[0].fields)} of "
                f"{width} cells over a full row of names: a title, not a header row"
            )
            _mark(roles, head_recs[0].first, head_recs[0].last, PREAMBLE)
            head_recs = head_recs[1:]
        if (
            hints.header is None
            and len(head_recs) >= 2
            and len(head_recs[0].fields) == width == len(head_recs[1].fields)
            and _spanning_pair(head_recs[0].fields, head_recs[1].fields, body_values)
            and not _typed_clash(head_recs[1].fields, head_profile)
        ):
            n_header = 2
            first_body_line = head_recs[1].last + 1
            notes.append(
                f"lines {head_recs[0].first + 1}-{head_recs[1].last + 1}: group names spanning "
                "blank cells over a row that names every column of each group: a two-row header"
            )
        for rec in head_recs[n_header:limit]:
            if len(rec.fields) != width:
                break
            counting = _counting_names(rec.fields, body) if n_header == 0 else frozenset()
            if (
                hints.header is not None
                or _header_like(
                    rec.fields,
                    head_profile,
                    body_values,
                    first=n_header == 0,
                    filled=body_filled,
                    counting=counting,
                )
                or (n_header == 0 and _corner(rec, body, notes))
            ):
                if counting and hints.header is None:
                    got = [rec.fields[i].strip() for i in sorted(counting)]
                    notes.append(
                        f"line {rec.first + 1} names columns {got[0]} ... {got[-1]}: integers "
                        "in steps of one size, which no data row has there, count the columns"
                    )
                n_header += 1
                first_body_line = rec.last + 1
            else:
                break
        if hints.header is None and n_header > 1 and _complete_names(head_recs[:n_header]):
            # a full row of names over rows that also read as names (units, translated
            # labels, internal ids): the first row names the columns, the others describe them
            meta_rows = n_header - 1
            n_header = 1
            lo, hi = head_recs[1].first + 1, head_recs[meta_rows].last + 1
            notes.append(
                (
                    f"line {lo} under a full row of names describes"
                    if lo == hi
                    else f"lines {lo}-{hi} under a full row of names describe"
                )
                + " the columns (units, labels or ids): kept out of the names and out of the rows"
            )
            for rec in head_recs[1 : 1 + meta_rows]:
                _mark(roles, rec.first, rec.last, METADATA)
        if n_header:
            for rec in head_recs[:n_header]:
                _mark(roles, rec.first, rec.last, HEADER)
            parts = [_fix_header_quotes(r, lines, fmt, width) for r in head_recs[:n_header]]
            filled = _fill_spans(parts)
            if filled:
                notes.append(
                    f"{filled} blank cell(s) of the upper header row(s) take the name to their "
                    "left (a name spanning several columns)"
                )
            header = [" ".join(p[i].strip() for p in parts if p[i].strip()) for i in range(width)]
    if n_header == 0 and broken_header is None:
        meta_rows = 0
        header_generated = True
        header = [f"column_{i + 1}" for i in range(width)]
        notes.append("no header row found; columns named column_1 ... column_N")
    elif broken_header is not None:
        first_body_line = main_first_line if header_end_line is None else header_end_line + 1
        _mark(roles, preamble_lines, first_body_line - 1, HEADER)
    if n_header > 1:
        notes.append(f"{n_header} header rows joined into one")

    # -- body: walk the records from the first body line, repairing or quarantining
    rows: list[list[str]] = []
    row_lines: list[int] = []
    quarantine: list[tuple[int, str, str]] = []
    repaired = 0
    attempts = 0
    blank = 0
    floor_cache: list[float] = []

    def floor() -> float:
        if not floor_cache:
            scored = profile_rows[: max(20, _FLOOR_CELLS // max(width, 1))]
            clean_scores = sorted(profile.row_logp(r) for r in scored) if scored else [0.0]
            floor_cache.append(clean_scores[max(0, len(clean_scores) // 100)] - 3.0 * max(width, 1))
        return floor_cache[0]

    quote = fmt.quotechar
    multiline = False
    comments = 0
    padded = 0
    gen: Iterator[Record] = _records_from(records, lines, fmt, first_body_line)
    while (item := next(gen, None)) is not None:
        rec = item
        if main_last_line >= 0 and rec.first > main_last_line:
            break
        if _is_blank(rec):
            blank += 1
            _mark(roles, rec.first, rec.last, BLANK)
            continue
        if len(rec.fields) != width and lines[rec.first].lstrip().startswith(_COMMENT):
            comments += 1
            if rec.last > rec.first:  # a quote inside the comment ran on: resume after it
                gen = iter_records(lines, fmt, rec.first + 1)
            _mark(roles, rec.first, rec.first, COMMENT)
            continue
        if (ragged or rec.first == short_first) and len(rec.fields) < width:
            rec = _padded(rec, width)
            padded += 1
        if len(rec.fields) == width:
            fields = rec.fields
            if quote is not None and attempts <= _MAX_REPAIRS and quote in lines[rec.first]:
                raw = raw_text(lines, rec.first, rec.last)
                if not _strict_ok(raw, fmt) or _inner_quotes(raw, fmt):
                    attempts += 1
                    rep, _why = best_repair(raw, fields, fmt, width, profile.row_logp)
                    if rep is not None:
                        fields = rep.fields
                        repaired += 1
            rows.append(fields)
            row_lines.append(rec.first + 1)
            multiline = multiline or rec.last > rec.first
            _mark(roles, rec.first, rec.last, KEPT)
            continue
        # try the first physical line alone (a runaway quote), then the whole record
        fixed = None
        attempts += 1
        reason = ""
        if attempts <= _MAX_REPAIRS and width > 1:
            tries = []
            if rec.last > rec.first:
                first_only = parse_text(raw_text(lines, rec.first, rec.first), fmt)
                tries.append((rec.first, first_only[0] if first_only else []))
            tries.append((rec.last, rec.fields))
            for last, fields in tries:
                rep, why = best_repair(
                    raw_text(lines, rec.first, last), fields, fmt, width, profile.row_logp
                )
                if rep is not None and acceptable(rep, floor()):
                    fixed = (rep, last)
                    break
                reason = reason or quarantine_reason(len(rec.fields), width, rep, why)
                if rep is None and not why and last < rec.last:
                    # the first line alone is a whole row: a quote ran away from it
                    fixed = (Repair(fields, "kept a runaway quote's line as one row", 0.0), last)
                    break
        if fixed is not None:
            rep, last = fixed
            rows.append(rep.fields)
            row_lines.append(rec.first + 1)
            repaired += 1
            _mark(roles, rec.first, last, KEPT)
            if last != rec.last:
                gen = iter_records(lines, fmt, last + 1)
            continue
        # a runaway multi-line record: quarantine its first line only and resume after it
        runaway = rec.last > rec.first and len(rec.fields) != width
        last = rec.first if runaway else rec.last
        reason = reason or quarantine_reason(len(rec.fields), width, None, "")
        quarantine.append((rec.first + 1, raw_text(lines, rec.first, last), reason))
        _mark(roles, rec.first, last, QUARANTINED)
        if runaway:
            gen = iter_records(lines, fmt, rec.first + 1)
    if padded:
        notes.append(
            f"{padded} short row(s) of the ragged table padded with empty cells"
            if ragged
            else "the first row, cut short, padded with empty cells"
        )
    if blank:
        notes.append(f"{blank} blank line(s) skipped")
    if comments:
        notes.append(f"{comments} comment line(s) starting with '#' skipped")
    # a delimiter at the end of every line makes an unnamed, always empty last column (a
    # spreadsheet's export may add several)
    n_trailing = 0
    if width > 1 and rows and (header_generated or n_header > 0 or broken_header is not None):
        while n_trailing < width - 1:
            i = width - 1 - n_trailing
            if (header_generated or not header[i].strip()) and all(not r[i] for r in rows):
                n_trailing += 1
            else:
                break
        if header_generated and n_trailing < 2:
            # without a header, one always-empty last column may be a column with no value
            # yet; several are a spreadsheet's padding
            n_trailing = 0
    trailing = n_trailing > 0
    if trailing:
        header = header[:-n_trailing]
        rows = [r[:-n_trailing] for r in rows]
        notes.append(
            "a delimiter ends every line: the empty last column is dropped"
            if n_trailing == 1
            else f"delimiters end every line: the {n_trailing} empty, unnamed last columns "
            "are dropped"
        )
    if repaired:
        notes.append(f"{repaired} broken row(s) repaired unambiguously")
    _fill_roles(roles, lines, first_body_line, main_last_line)
    notes.extend(_line_findings(roles, lines, fmt, width))
    n_read = len(rows) + len(quarantine)
    if (
        not ragged
        and header_generated
        and hints.skip_rows is None
        and fmt.delimiter.strip() != ""
        and len(quarantine) >= max(2, n_read // 5)
        and all(_strict_ok(raw, fmt) for _, raw, _ in quarantine)
    ):
        # a headerless file whose rows of other widths are whole rows, not broken ones
        again = parse_table(text, hints, force_ragged=True)
        again.notes.insert(
            0,
            f"{len(quarantine)} of {n_read} rows of this headerless file have another width "
            f"than the {width} of most rows and parse cleanly: read as a ragged table",
        )
        return again
    dialect = Dialect(
        delimiter=fmt.delimiter,
        quotechar=fmt.quotechar,
        escapechar=fmt.escapechar,
        doublequote=fmt.doublequote,
        lineterminator=guess.lineterminator,
        header_rows=0 if header_generated else max(n_header, 1 if broken_header else 0),
        metadata_rows=0 if header_generated else meta_rows,
        preamble_rows=preamble_lines,
        footer_rows=footer_lines,
        comment="#" if comments else None,
        trailing_empty_column=trailing,
        skipinitialspace=fmt.skipinitialspace,
    )
    return ParsedTable(
        header=header,
        header_generated=header_generated,
        rows=rows,
        lines=row_lines,
        quarantine=quarantine,
        dialect=dialect,
        notes=notes,
        repaired=repaired,
        other_tables=other_tables,
        format=fmt,
        profile=profile,
        first_body_line=first_body_line,
        multiline_rows=multiline,
        floor_of=floor,
        line_roles=roles,
        ragged=ragged,
    )
