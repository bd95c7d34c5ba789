"""Hypothesis round trips: a random table written in a random dialect reads back identical."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apprentice

# no lone CR: Python's csv writer leaves a cell holding only "\r" unquoted, which no reader can
# tell from a line end
_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff\ufffd\ue000"
    )
    | st.sampled_from([",", ";", "\t", "|", '"', "'", " ", "\n"]),
    max_size=12,
)


@st.composite
def dialects(draw: st.DrawFn) -> dict[str, object]:
    return {
        "delimiter": draw(st.sampled_from([",", ";", "\t", "|"])),
        "quotechar": draw(st.sampled_from(['"', "'"])),
        "lineterminator": draw(st.sampled_from(["\n", "\r\n"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
    }


def _write(header: list[str], rows: list[list[str]], dialect: dict[str, object]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, doublequote=True, **dialect)  # type: ignore[arg-type]
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _read(data: bytes, **hints: object) -> apprentice.ReadResult:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(data)
        return apprentice.read(path, **hints)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dialect=dialects(),
    ncols=st.integers(1, 6),
    cells=st.lists(st.lists(_TEXT, min_size=6, max_size=6), min_size=1, max_size=12),
)
def test_any_table_round_trips_with_its_dialect(
    dialect: dict[str, object], ncols: int, cells: list[list[str]]
) -> None:
    """Whatever the cells hold (delimiters, quotes, newlines), the parse is exact."""
    header = [f"col{i}" for i in range(ncols)]
    rows = [r[:ncols] for r in cells]
    # a row of empty cells is a blank line to a reader; keep at least one visible cell
    rows = [r if any(c.strip() for c in r) else ["x", *r[1:]] for r in rows]
    data = _write(header, rows, dialect)
    result = _read(data, delimiter=dialect["delimiter"], quotechar=dialect["quotechar"], header=1)
    got = result.table.astype(object).values.tolist()
    assert got == rows
    assert result.rows_quarantined == 0


_WORDS = st.sampled_from(["alpha", "beta", "gamma", "delta", "North East", "São Paulo", "x, y"])


@st.composite
def typed_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """Realistic tables: named columns, each of one kind, enough rows to see the pattern."""
    kinds = draw(
        st.lists(st.sampled_from(["int", "dec", "date", "word", "code"]), min_size=3, max_size=7)
    )
    n = draw(st.integers(8, 40))
    cells: dict[str, st.SearchStrategy[str]] = {
        "int": st.integers(-999, 99999).map(str),
        "dec": st.floats(-1e4, 1e4).map(lambda v: f"{v:.2f}"),
        "date": st.tuples(st.integers(1, 12), st.integers(1, 28)).map(
            lambda md: f"2024-{md[0]:02d}-{md[1]:02d}"
        ),
        "word": _WORDS,
        "code": st.integers(0, 9999).map(lambda v: f"AB-{v:04d}"),
    }
    header = [f"{k}_{i}" for i, k in enumerate(kinds)]
    columns = [draw(st.lists(cells[k], min_size=n, max_size=n)) for k in kinds]
    return header, [list(r) for r in zip(*columns, strict=True)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=typed_tables(), dialect=dialects())
def test_realistic_table_round_trips_without_hints(
    table: tuple[list[str], list[list[str]]], dialect: dict[str, object]
) -> None:
    """Detection alone (no hints) finds the dialect and header of a realistic table."""
    header, rows = table
    result = _read(_write(header, rows, dialect))
    assert list(result.table.columns) == header
    assert result.table.astype(object).values.tolist() == rows
    assert result.rows_read == len(rows) and result.rows_quarantined == 0
