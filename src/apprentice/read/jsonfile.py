"""JSON and JSON Lines sources.

We parse with the standard library and build the table ourselves instead of calling
``pandas.read_json`` / ``pandas.json_normalize`` because those lose what the read stage must
keep: they turn ``1.50`` into the float ``1.5`` and ``007`` strings next to numbers into a
mixed column, drop duplicate keys, fail on the whole file for one broken JSON Lines record,
and raise errors without a usable position. Here every number keeps the text it was written
with (``parse_float``/``parse_int`` hand us the source text), nested objects become dotted
column names, lists stay as their JSON text, a broken JSON Lines record is quarantined with
its line number, and invalid JSON is reported with its line and column.

Shapes understood for a JSON document:

* an array of records (objects); elements that are not objects are quarantined by index;
* an array of arrays (the first one is the header when it holds only strings);
* a wrapper object such as ``{"data": [...], "meta": {...}}``: the largest list of records
  (searched a few levels deep) is read and the key is noted;
* an object of columns ``{"a": [1, 2], "b": [3, 4]}`` and the ``{"columns", "data"}`` split form;
* a single object, read as one record.
"""

from __future__ import annotations

import codecs
import io
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from apprentice.errors import EmptyInputError, ParseError
from apprentice.read._source import (
    Source,
    open_binary,
    source_bytes,
    text_columns_frame,
    unique_names,
)
from apprentice.read.encoding import decode, guess_encoding
from apprentice.read.hints import ReadHints
from apprentice.read.result import ReadResult, make_quarantine

MAX_FLATTEN_DEPTH = 16
"""Objects nested deeper than this stay as JSON text in one column."""

_WRAPPER_KEYS = ("data", "results", "records", "items", "rows", "value", "entries", "objects")
_WRAPPER_SEARCH_DEPTH = 3


class _Number(str):
    """A JSON number, kept as the exact text it was written with."""

    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# decoding


_counter = threading.local()


def _count_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _counter.bad = getattr(_counter, "bad", 0) + (exc.end - exc.start)
    return "\ufffd", exc.end


codecs.register_error("apprentice.count", _count_undecodable)


def _detect_encoding(head: bytes, hint: str | None) -> tuple[str, str | None]:
    """The encoding to stream JSON Lines with (the delimited-text detection on the head)."""
    if hint is not None:
        if codecs.lookup(hint).name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", None
        return hint, None
    encoding, bom = guess_encoding(head)
    if encoding in ("ascii", "utf-8", "utf-8-sig"):
        return ("utf-8-sig" if bom else "utf-8"), None
    return encoding, f"decoded as {encoding} ({'byte order mark' if bom else 'detected'})"


def _decode(raw: bytes, hint: str | None) -> tuple[str, str, list[str], int]:
    """Text, encoding, notes and the count of undecodable bytes (replaced by U+FFFD).

    The same detection as delimited text (:mod:`apprentice.read.encoding`)."""
    decoded = decode(raw, hint)
    notes = []
    if decoded.encoding not in ("ascii", "utf-8", "utf-8-sig"):
        how = "byte order mark" if decoded.bom else "detected"
        notes.append(f"decoded as {decoded.encoding} ({how})")
    if decoded.undecodable:
        notes.append(
            f"{decoded.undecodable:,} bytes could not be decoded as {decoded.encoding} and were "
            "replaced by U+FFFD; pass --encoding if the file uses another encoding"
        )
    return decoded.text, decoded.encoding, notes, decoded.undecodable


# ---------------------------------------------------------------------------------------------
# parsing and text forms


class _Parser:
    """``json.loads`` with exact number text and duplicate keys kept (renamed, counted)."""

    def __init__(self) -> None:
        self.duplicate_keys = 0

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) == len(pairs):  # the common case: no repeated key
            return out
        out = {}
        for key, value in pairs:
            if key in out:
                self.duplicate_keys += 1
                n = 2
                while f"{key}_{n}" in out:
                    n += 1
                key = f"{key}_{n}"
            out[key] = value
        return out

    def loads(self, text: str) -> Any:
        return json.loads(
            text,
            object_pairs_hook=self._pairs,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_Number,
        )


def _dump(value: Any) -> str:
    """JSON text of a parsed value, with numbers exactly as they were written."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}: {_dump(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return json.dumps(value, ensure_ascii=False)


def _cell(value: Any) -> str | None:
    """A scalar as its text cell; ``null`` is missing; lists and objects are JSON text."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(value)
    return _dump(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, _Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


Path_ = tuple[str, ...]


class _Stats:
    def __init__(self) -> None:
        self.nested = False
        self.list_columns: set[Path_] = set()
        self.too_deep: set[Path_] = set()


def _ordered_flatten(obj: dict[str, Any], stats: _Stats) -> dict[Path_, str | None]:
    """Flatten ``obj`` keeping the order in which keys appear (depth first).

    The hot loop of JSON reading: types are dispatched with ``type(...) is`` checks, and a
    number keeps its :class:`_Number` text (a ``str``; pandas stores it as plain text).
    """
    out: dict[Path_, str | None] = {}

    def walk(prefix: Path_, current: dict[str, Any]) -> None:
        for key, value in current.items():
            kind = type(value)
            if kind is _Number or kind is str or value is None:
                out[(*prefix, key)] = value
            elif kind is bool:
                out[(*prefix, key)] = "true" if value else "false"
            elif kind is dict and value:
                path = (*prefix, key)
                if len(path) < MAX_FLATTEN_DEPTH:
                    stats.nested = True
                    walk(path, value)
                else:
                    stats.too_deep.add(path)
                    out[path] = _dump(value)
            else:  # a list, or an empty object
                path = (*prefix, key)
                if kind is list:
                    stats.list_columns.add(path)
                out[path] = _dump(value)

    walk((), obj)
    return out


# ---------------------------------------------------------------------------------------------
# building tables


class _Builder:
    """Collects rows (records or arrays) and quarantined items, then makes a ReadResult."""

    def __init__(self, source: Source, fmt: str) -> None:
        self.source = source
        self.format = fmt
        self.stats = _Stats()
        self.columns: dict[Path_, None] = {}
        self.records: list[dict[Path_, str | None]] = []
        self.lines: list[int] = []
        self.quarantine: list[tuple[int, str, str]] = []
        self.notes: list[str] = []
        self.encoding: str | None = None
        self.undecodable = 0
        self.header_generated = False

    def add_record(self, obj: dict[str, Any], line: int) -> None:
        flat = _ordered_flatten(obj, self.stats)
        for path in flat:
            if path not in self.columns:
                self.columns[path] = None
        self.records.append(flat)
        self.lines.append(line)

    def reject(self, line: int, raw: str, reason: str) -> None:
        self.quarantine.append((line, raw, reason))

    def _names(self) -> list[str]:
        names = [".".join(path) for path in self.columns]
        renamed = 0
        for i, name in enumerate(names):
            if name == "":
                names[i] = f"column_{i + 1}"
                renamed += 1
        if renamed:
            self.notes.append(f"{renamed} column(s) had an empty name and were named column_N")
        return unique_names(names, self.notes)

    def result(
        self, columns: list[list[str | None]] | None = None, names: list[str] | None = None
    ) -> ReadResult:
        """The result; without ``columns``, the collected records make the table."""
        if columns is None:
            paths = list(self.columns)
            names = self._names()
            columns = [[rec.get(p) for rec in self.records] for p in paths]
            if self.stats.nested:
                self.notes.append("nested objects were flattened into dotted column names (a.b.c)")
            if self.stats.list_columns:
                listed = _listing(".".join(p) for p in self.stats.list_columns)
                self.notes.append(f"lists were kept as JSON text in column(s) {listed}")
            if self.stats.too_deep:
                self.notes.append(
                    f"objects nested deeper than {MAX_FLATTEN_DEPTH} levels were kept as JSON text"
                )
            missing = sum(1 for rec in self.records if len(rec) < len(paths))
            if missing and len(self.records) > 1:
                self.notes.append(
                    f"{missing:,} record(s) lack some keys; those cells are missing (NA)"
                )
        assert names is not None
        if self.quarantine:
            self.notes.append(
                f"{len(self.quarantine):,} item(s) could not be read as rows and were "
                "quarantined with their position and reason"
            )
        return ReadResult(
            table=text_columns_frame(names, columns),
            source=self.source.name,
            format=self.format,
            encoding=self.encoding,
            quarantine=make_quarantine(self.quarantine),
            notes=self.notes,
            line_numbers=np.asarray(self.lines, dtype=np.int64),
            undecodable_bytes=self.undecodable,
            original_columns=list(names),
            header_generated=self.header_generated,
        )


def _listing(names: Iterable[str], limit: int = 8) -> str:
    items = sorted(names)
    shown = ", ".join(repr(n) for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _arrays_table(
    builder: _Builder, rows: list[tuple[int, list[Any]]], header: list[str] | None
) -> ReadResult:
    """A table from arrays: ``rows`` are (position, values); the header is given or detected."""
    if header is None and len(rows) > 1:
        first = rows[0][1]
        if first and all(isinstance(v, str) and not isinstance(v, _Number) for v in first):
            header = [str(v) for v in first]
            rows = rows[1:]
            builder.notes.append("the first array holds only strings: used as the header")
    if header is not None:
        width = len(header)
        names = [h if h != "" else f"column_{i + 1}" for i, h in enumerate(header)]
    else:
        width = Counter(len(r) for _, r in rows).most_common(1)[0][0] if rows else 0
        names = [f"column_{i + 1}" for i in range(width)]
        builder.notes.append("no header row: columns are named column_1, column_2, ...")
        builder.header_generated = True
    names = unique_names(names, builder.notes)
    kept: list[list[str | None]] = []
    for line, values in rows:
        if len(values) != width:
            builder.reject(line, _dump(values), f"has {len(values)} values, expected {width}")
            continue
        kept.append([_cell(v) for v in values])
        builder.lines.append(line)
    columns = [list(col) for col in zip(*kept, strict=True)] if kept else [[] for _ in names]
    return builder.result(columns, names)


def _records_table(builder: _Builder, items: list[Any], what: str) -> ReadResult:
    """A table from the elements of a JSON array (positions are 1-based indexes)."""
    if not items:
        raise EmptyInputError(
            f"{builder.source.name}: {what} is empty; there are no records to read"
        )
    if all(isinstance(v, list) for v in items):
        return _arrays_table(builder, [(i, v) for i, v in enumerate(items, start=1)], None)
    if not any(isinstance(v, (dict, list)) for v in items):
        builder.notes.append(f"{what} holds plain values: read as one column named 'value'")
        builder.lines.extend(range(1, len(items) + 1))
        return builder.result([[_cell(v) for v in items]], ["value"])
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            builder.add_record(item, index)
        else:
            builder.reject(index, _dump(item), f"record {index} is {_kind(item)}, not an object")
    return builder.result()


def _find_record_lists(
    obj: dict[str, Any], prefix: Path_, depth: int
) -> Iterator[tuple[Path_, list[Any]]]:
    for key, value in obj.items():
        path = (*prefix, key)
        if (
            isinstance(value, list)
            and value
            and sum(isinstance(v, dict) for v in value) * 2 >= len(value)
        ):
            yield path, value
        elif isinstance(value, dict) and depth > 1:
            yield from _find_record_lists(value, path, depth - 1)


def _object_table(builder: _Builder, obj: dict[str, Any]) -> ReadResult:
    name = builder.source.name
    if not obj:
        raise EmptyInputError(f"{name}: the JSON document is an empty object; there is no table")
    # the split form: {"columns": [...], "data": [[...], ...]}
    columns, data = obj.get("columns"), obj.get("data")
    if (
        isinstance(columns, list)
        and isinstance(data, list)
        and all(isinstance(c, str) for c in columns)
        and all(isinstance(r, list) for r in data)
    ):
        builder.notes.append("an object with 'columns' and 'data' (split form)")
        rows = [(i, r) for i, r in enumerate(data, start=1)]
        return _arrays_table(builder, rows, [str(c) for c in columns])
    # a wrapper around the records
    candidates = list(_find_record_lists(obj, (), _WRAPPER_SEARCH_DEPTH))
    if candidates:

        def rank(item: tuple[Path_, list[Any]]) -> tuple[bool, int, int]:
            path, values = item
            return (path[-1].lower() in _WRAPPER_KEYS, len(values), -len(path))

        path, records = max(candidates, key=rank)
        key = ".".join(path)
        others = [k for k in obj if k != path[0]]
        note = f"records read from the key {key!r} ({len(records):,} records)"
        if others:
            note += f"; other keys not read: {_listing(others)}"
        builder.notes.append(note)
        return _records_table(builder, records, f"the list under {key!r}")
    # an object of columns
    values = list(obj.values())
    if all(isinstance(v, list) for v in values):
        lengths = {len(v) for v in values}
        if len(lengths) == 1:
            builder.notes.append(f"an object of {len(values)} column(s), each a list of values")
            n = lengths.pop()
            if n == 0:
                raise EmptyInputError(
                    f"{name}: every column list is empty; there are no rows to read"
                )
            names = unique_names(
                [k if k else f"column_{i + 1}" for i, k in enumerate(obj)], builder.notes
            )
            builder.lines.extend(range(1, n + 1))
            return builder.result([[_cell(v) for v in col] for col in values], names)
        builder.notes.append(
            "every value of the object is a list, but of different lengths "
            f"({', '.join(str(n) for n in sorted(lengths))}), so it was read as one record; "
            "if they are columns, make them the same length"
        )
    else:
        builder.notes.append("the document is a single object: read as one record")
    builder.add_record(obj, 1)
    return builder.result()


def _parse_error(name: str, exc: json.JSONDecodeError, *, lines: bool) -> ParseError:
    where = f"line {exc.lineno}, column {exc.colno}"
    hint = (
        "fix the JSON there (a validator such as `python -m json.tool FILE` shows the spot)"
        if not lines
        else "fix that line"
    )
    return ParseError(f"{name}: invalid JSON at {where}: {exc.msg}; {hint}")


# ---------------------------------------------------------------------------------------------
# entry points


def read_json(src: Source, hints: ReadHints) -> ReadResult:
    """Read a JSON document (records, a wrapper, columns, a single object) as text cells."""
    return _read_json(src, hints, lines_fallback=True)


def _read_json(src: Source, hints: ReadHints, *, lines_fallback: bool) -> ReadResult:
    raw = source_bytes(src)
    text, encoding, notes, bad = _decode(raw, hints.encoding)
    del raw
    if not text.strip():
        raise EmptyInputError(f"{src.name}: the file holds only whitespace; there is no JSON")
    parser = _Parser()
    try:
        document = parser.loads(text)
    except json.JSONDecodeError as exc:
        if lines_fallback and exc.msg == "Extra data" and _looks_like_lines(text):
            result = _read_jsonl(src, hints, document_fallback=False)
            result.notes.insert(0, "the file holds one JSON value per line: read as JSON Lines")
            return result
        raise _parse_error(src.name, exc, lines=False) from None
    except RecursionError:
        raise ParseError(
            f"{src.name}: the JSON is nested too deeply to read; flatten the structure"
        ) from None
    builder = _Builder(src, "json")
    builder.encoding = encoding
    builder.undecodable = bad
    builder.notes.extend(notes)
    if src.compression:
        builder.notes.append(f"read from {src.describe()}")
    if isinstance(document, list):
        builder.notes.append(f"a JSON array of {len(document):,} item(s)")
        result = _records_table(builder, document, "the JSON array")
    elif isinstance(document, dict):
        result = _object_table(builder, document)
    else:
        raise ParseError(
            f"{src.name}: the JSON document is {_kind(document)}, not a table; give an array "
            "of records or an object of columns"
        )
    if parser.duplicate_keys:
        result.notes.append(
            f"{parser.duplicate_keys:,} duplicate key(s) inside an object were kept under "
            "'KEY_N' names (as every reader and the cleaner rename repeats)"
        )
    return result


def _looks_like_lines(text: str) -> bool:
    """The second non-blank line starts a new JSON value (JSON Lines saved as .json)."""
    lines = [line.strip() for line in text[: 1 << 16].splitlines() if line.strip()]
    return len(lines) >= 2 and lines[0][:1] in "{[" and lines[1][:1] in "{["


def _text_lines(src: Source, hint: str | None, builder: _Builder) -> Iterator[tuple[int, str]]:
    """(line number, text) for each physical line, decoded as a stream."""
    stream = open_binary(src)
    try:
        head = stream.read(1 << 16)
        stream.seek(0)
        encoding, note = _detect_encoding(head, hint)
        builder.encoding = encoding
        if note:
            builder.notes.append(note)
        _counter.bad = 0
        text = io.TextIOWrapper(stream, encoding=encoding, errors="apprentice.count", newline=None)
        for number, line in enumerate(text, start=1):
            if number == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield number, line.rstrip("\n")
        builder.undecodable = _counter.bad
    finally:
        stream.close()


def read_jsonl(src: Source, hints: ReadHints) -> ReadResult:
    """Read JSON Lines: one object per line; a bad line is quarantined, never fatal."""
    return _read_jsonl(src, hints, document_fallback=True)


def _read_jsonl(src: Source, hints: ReadHints, *, document_fallback: bool) -> ReadResult:
    builder = _Builder(src, "jsonl")
    parser = _Parser()
    blank = 0
    arrays: list[tuple[int, list[Any]]] = []
    array_lines: list[str] = []
    others: list[tuple[int, str, Any]] = []
    invalid = 0
    first_invalid: bool | None = None  # was the first non-blank line invalid JSON?
    for number, line in _text_lines(src, hints.encoding, builder):
        stripped = line.strip()
        if not stripped:
            blank += 1
            continue
        try:
            value = parser.loads(stripped)
        except json.JSONDecodeError as exc:
            invalid += 1
            if first_invalid is None:
                first_invalid = True
            builder.reject(number, line, f"invalid JSON at column {exc.colno}: {exc.msg}")
            continue
        except RecursionError:
            invalid += 1
            builder.reject(number, line, "JSON nested too deeply")
            continue
        if first_invalid is None:
            first_invalid = False
        if isinstance(value, dict):
            builder.add_record(value, number)
        elif isinstance(value, list):
            arrays.append((number, value))
            array_lines.append(line)
        else:
            others.append((number, line, value))
    if builder.undecodable:
        builder.notes.append(
            f"{builder.undecodable:,} bytes could not be decoded as {builder.encoding} and were "
            "replaced by U+FFFD; pass --encoding if the file uses another encoding"
        )
    if src.compression:
        builder.notes.append(f"read from {src.describe()}")
    if blank:
        builder.notes.append(f"{blank:,} blank line(s) skipped")
    if document_fallback and first_invalid and invalid > len(builder.records):
        # a pretty-printed JSON document with a JSON Lines name: '[' or '{' alone on line 1
        whole = _whole_document(src, hints)
        if whole is not None:
            return whole
    if not builder.records and not builder.quarantine and not arrays and not others:
        raise EmptyInputError(f"{src.name}: the file holds only blank lines; there is no table")
    if arrays and not builder.records:
        for number, line, value in others:
            builder.reject(number, line, f"line {number} is {_kind(value)}, not an array")
        builder.notes.insert(0, "every line holds a JSON array: read as rows")
        result = _arrays_table(builder, arrays, None)
    else:
        for (number, _), line in zip(arrays, array_lines, strict=True):
            builder.reject(number, line, f"line {number} is an array, not an object")
        for number, line, value in others:
            builder.reject(number, line, f"line {number} is {_kind(value)}, not an object")
        builder.quarantine.sort(key=lambda r: r[0])
        result = builder.result()
    if parser.duplicate_keys:
        result.notes.append(
            f"{parser.duplicate_keys:,} duplicate key(s) inside an object were kept under "
            "'KEY_N' names (as every reader and the cleaner rename repeats)"
        )
    return result


def _whole_document(src: Source, hints: ReadHints) -> ReadResult | None:
    """When no line parses alone, the file may be one JSON document spread over lines."""
    try:
        result = _read_json(src, hints, lines_fallback=False)
    except (ParseError, EmptyInputError):
        return None
    result.notes.insert(
        0, "the file is one JSON document spread over lines, not JSON Lines: read as JSON"
    )
    return result
