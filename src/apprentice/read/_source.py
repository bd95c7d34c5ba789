"""Open what the user named: a path, ``-`` for stdin, or a pipe.

Compressed input (``.gz``, ``.bz2``, ``.xz``, and ``.zip`` with one member) is decompressed as
a stream with a hard cap on the decompressed size (``Settings.max_decompressed_bytes``), so a
decompression bomb stops after reading at most the cap instead of filling memory. We do this
ourselves rather than letting pandas or pyarrow open the file, because those libraries
decompress without any limit and refuse nothing: an image, an executable or a pickle would
reach a parser and fail with an unhelpful message, or (pickle) run code.

The format comes from the user's hint, then from the content's magic bytes where they are
unambiguous (compression, Parquet, an Excel zip), then from the extension, then from sniffing
the text (JSON / JSON Lines / delimited). Binary content that is no table format we read is
refused with a message that says what it is and what to give instead.

The helpers at the end turn typed values (Excel cells, SQL values) into the text cells every
reader returns.
"""

from __future__ import annotations

import bz2
import datetime as _dt
import decimal
import gzip
import io
import json
import lzma
import math
import sys
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import pandas as pd

from apprentice.errors import (
    EmptyInputError,
    InputError,
    SizeLimitError,
    SourceNotFoundError,
    UnsupportedFormatError,
)
from apprentice.read.encoding import is_utf8

TEXT_EXTENSIONS = {".csv", ".tsv", ".tab", ".txt", ".dat", ".psv", ".ssv", ".data", ".text"}
FORMAT_BY_EXTENSION = {
    **{ext: "csv" for ext in TEXT_EXTENSIONS},
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}
TEXT_FORMATS = frozenset({"csv", "json", "jsonl"})
COMPRESSION_BY_EXTENSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
_COMPRESSIONS = frozenset(COMPRESSION_BY_EXTENSION.values())
_EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm"})

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip archive
    (b"PAR1", "parquet"),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TABLE_ADVICE = "give a CSV, JSON, JSON Lines, Excel (.xlsx) or Parquet file, or a SQL URL"
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "an executable or Java class file"),
    (b"\x93NUMPY", "a NumPy array file"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
    (b"ARROW1", "an Arrow IPC / Feather file; write the table as Parquet"),
    (b"Obj\x01", "an Avro file; write the table as Parquet or CSV"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; extract the table file and read it directly"),
    (b"Rar!\x1a\x07", "a RAR archive; extract the table file and read it directly"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data; decompress it first (e.g. with unzstd)"),
    (b"SQLite format 3\x00", "a SQLite database; read it with sqlite:///PATH and --table NAME"),
    (
        _OLE_MAGIC,
        "a legacy Office file (.xls/.doc) or a password-protected workbook; save it as .xlsx "
        "without a password, or as CSV",
    ),
)

# prefixes that text may also start with: named only when the content is binary as well
_WEAK_BINARY_MAGIC = (
    (b"MZ", "a Windows executable"),
    (b"BM", "a BMP image"),
    (b"ORC", "an ORC file; write the table as Parquet or CSV"),
)

_SAVE_AS = "open it in a spreadsheet program and save it as .xlsx or CSV"
_EXPORT = "export the table to CSV or Parquet"
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    ".xls": f"legacy Excel (.xls) workbooks are not supported; {_SAVE_AS}",
    ".xlsb": f"binary Excel (.xlsb) workbooks are not supported; {_SAVE_AS}",
    ".ods": f"OpenDocument spreadsheets are not supported; {_SAVE_AS}",
    ".numbers": f"Apple Numbers files are not supported; {_SAVE_AS}",
    **dict.fromkeys(
        (".doc", ".docx", ".odt", ".rtf", ".pdf", ".ppt", ".pptx", ".odp"),
        f"this is a document, not a table; {_EXPORT}",
    ),
    **dict.fromkeys(
        (".pkl", ".pickle", ".joblib"),
        f"pickle files are never loaded (loading one can run arbitrary code); {_EXPORT}",
    ),
    **dict.fromkeys((".npy", ".npz"), f"NumPy array files are not supported; {_EXPORT}"),
    **dict.fromkeys((".h5", ".hdf5", ".hdf"), f"HDF5 files are not supported; {_EXPORT}"),
    **dict.fromkeys(
        (".feather", ".arrow", ".ipc"),
        "Arrow IPC / Feather files are not supported; write the table as Parquet",
    ),
    **dict.fromkeys(
        (".avro", ".orc", ".sav", ".dta", ".sas7bdat", ".xpt", ".rds", ".rdata", ".mat"),
        f"this file format is not supported; {_EXPORT}",
    ),
    **dict.fromkeys(
        (".db", ".sqlite", ".sqlite3"),
        "a database file is read through a URL: use sqlite:///PATH with --table NAME",
    ),
    **dict.fromkeys(
        (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".svg", ".ico"),
        f"this is an image, not a table; {_TABLE_ADVICE}",
    ),
    **dict.fromkeys(
        (".exe", ".dll", ".so", ".dylib", ".bin", ".o", ".class", ".jar", ".whl", ".pyc"),
        f"this is a program or binary file, not a table; {_TABLE_ADVICE}",
    ),
    **dict.fromkeys(
        (".7z", ".rar", ".tar", ".zst"),
        "this archive format is not supported; extract the table file and read it directly",
    ),
    **dict.fromkeys(
        (".html", ".htm", ".xml"),
        f"HTML and XML files are not supported; {_EXPORT}",
    ),
}

# bytes that text never holds (beyond a stray few): C0 controls except tab, LF, VT, FF, CR, ESC
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or (13 < b < 32 and b != 27))
_CHUNK = 1 << 20
_HEAD = 1 << 16
# zip members that are archive clutter, never the table
_ZIP_CLUTTER_PREFIXES = ("__MACOSX/",)
_ZIP_CLUTTER_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass
class Source:
    """An opened input: a name for messages, a format, and a way to get its bytes.

    ``path`` is set for a plain file on disk (read it from there); ``data`` holds the bytes
    when they had to be read up front (stdin, a pipe, or decompressed content).
    """

    name: str
    format: str
    path: Path | None = None
    data: bytes | None = None
    compression: str | None = None
    member: str | None = None

    @property
    def is_plain_file(self) -> bool:
        """True when the bytes can be read straight from ``path`` (no decompression)."""
        return self.path is not None and self.data is None and self.compression is None

    def describe(self) -> str:
        """A short account of where the bytes came from, for notes."""
        if self.compression is None:
            return self.name
        inner = f" (member {self.member!r})" if self.member else ""
        return f"{self.name}: {self.compression}-compressed{inner}"


def _cap_message(name: str, cap: int) -> str:
    return (
        f"{name}: decompressed size exceeds the safety cap of {cap:,} bytes (a decompression "
        "bomb or a very large file); decompress it yourself and read the result, or raise "
        "APPRENTICE_MAX_DECOMPRESSED_BYTES"
    )


def _read_capped(stream: IO[bytes], name: str, cap: int, *, what: str | None = None) -> bytes:
    """Every byte of ``stream``, or :class:`SizeLimitError` as soon as more than ``cap``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, cap + 1 - total) or 1)
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise SizeLimitError(what or _cap_message(name, cap))
        chunks.append(chunk)
    return b"".join(chunks)


def _zip_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = []
    for info in zf.infolist():
        if info.is_dir() or info.filename.startswith(_ZIP_CLUTTER_PREFIXES):
            continue
        base = info.filename.rsplit("/", 1)[-1]
        if base in _ZIP_CLUTTER_NAMES or base.startswith("._"):
            continue
        members.append(info)
    return members


def _decompress(
    fileobj: BinaryIO | Path, kind: str, name: str, cap: int
) -> tuple[bytes, str | None]:
    """Decompressed bytes of ``fileobj`` and, for a zip, the member's name."""
    try:
        if kind == "zip":
            with zipfile.ZipFile(fileobj) as zf:
                members = _zip_members(zf)
                if not members:
                    raise EmptyInputError(
                        f"{name}: the zip archive holds no file; there is nothing to read"
                    )
                if len(members) > 1:
                    listed = ", ".join(repr(i.filename) for i in members[:5])
                    more = f" and {len(members) - 5} more" if len(members) > 5 else ""
                    raise InputError(
                        f"{name}: the zip archive holds {len(members)} files ({listed}{more}); "
                        "extract the one you want and read it directly"
                    )
                info = members[0]
                if info.file_size > cap:
                    raise SizeLimitError(_cap_message(name, cap))
                with zf.open(info) as fh:
                    return _read_capped(fh, name, cap), info.filename
        opener: Any = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
        with opener(fileobj, "rb") as stream:
            return _read_capped(stream, name, cap), None
    except InputError:
        raise
    except RuntimeError as exc:  # zipfile: an encrypted member
        raise InputError(
            f"{name}: the archive member is password-protected ({exc}); extract it yourself "
            "and read the extracted file"
        ) from None
    except NotImplementedError:  # zipfile: a compression method Python lacks
        raise InputError(
            f"{name}: the zip uses a compression method that is not supported; extract it "
            "yourself and read the extracted file"
        ) from None
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as exc:
        raise InputError(
            f"{name}: the {kind} data is corrupt or truncated ({exc}); check the file or "
            "compress it again"
        ) from None


def _magic_kind(head: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes announce (a compression, parquet, json, jsonl), or ``None``."""
    kind = _magic_kind(head)
    if kind is not None:
        return kind
    text = _ascii_view(head)
    stripped = text.lstrip(b" \t\r\n")
    if stripped[:1] in (b"{", b"["):
        # JSON Lines when the first line is a complete value and another object follows
        first, _, rest = stripped.partition(b"\n")
        if first.rstrip().endswith((b"}", b"]")) and rest.lstrip(b" \t\r\n").startswith(b"{"):
            return "jsonl"
        return "json"
    return None


def _ascii_view(head: bytes) -> bytes:
    """``head`` without a BOM, and with UTF-16/32 NULs removed, good enough to sniff."""
    for bom, width in (
        (b"\x00\x00\xfe\xff", 4),
        (b"\xff\xfe\x00\x00", 4),
        (b"\xef\xbb\xbf", 3),
        (b"\xff\xfe", 2),
        (b"\xfe\xff", 2),
    ):
        if head.startswith(bom):
            head = head[len(bom) :]
            if width in (2, 4):
                head = head.replace(b"\x00", b"")
            return head
    if _looks_wide_text(head):
        return head.replace(b"\x00", b"")
    return head


def _looks_wide_text(sample: bytes) -> bool:
    """BOM-less UTF-16/32 text: NUL bytes in a regular pattern (every 2nd or 4th byte)."""
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 4 or b"\x00" not in sample:
        return False
    for step in (2, 4):
        lanes = [sample[i::step] for i in range(step)]
        zero = [lane.count(0) / len(lane) for lane in lanes]
        nonzero_lanes = [z for z in zero if z < 0.05]
        if len(nonzero_lanes) == 1 and all(z > 0.6 for z in zero if z >= 0.05):
            return True
    return False


def refuse_binary(head: bytes, name: str) -> None:
    """Raise :class:`UnsupportedFormatError` for binary content that is not a table.

    Text is told apart by its control bytes: binary formats are full of them (NULs above
    all), text has at most a stray few. UTF-16/32 text is recognised by its BOM or by the
    regular pattern of its NULs.
    """
    if not head:
        return
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            advice = "" if ";" in what else f", not a table; {_TABLE_ADVICE}"
            raise UnsupportedFormatError(f"{name}: this is {what}{advice}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xef\xbb\xbf")):
        return  # a BOM: text
    sample = head[:_HEAD]
    if _looks_wide_text(sample):
        return
    if len(sample) > 262 and sample[257:262] == b"ustar":
        raise UnsupportedFormatError(
            f"{name}: this is a tar archive; extract the table file and read it directly"
        )
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if not control:
        return
    limit = 0.10 if is_utf8(sample) else 0.04
    if control > limit * len(sample):
        known = next((w for m, w in _WEAK_BINARY_MAGIC if sample.startswith(m)), None)
        lead = f"this is {known.split(';')[0]}" if known else "the content is binary"
        raise UnsupportedFormatError(
            f"{name}: {lead} ({control:,} control bytes in the first {len(sample):,}), not a "
            f"text table; {_TABLE_ADVICE}"
        )


def _is_xlsx_zip(fileobj: BinaryIO | Path) -> bool:
    try:
        with zipfile.ZipFile(fileobj) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return "xl/workbook.xml" in names or "xl/workbook.bin" in names


def _check_unsupported(name: str, ext: str) -> None:
    advice = UNSUPPORTED_EXTENSIONS.get(ext)
    if advice is not None:
        raise UnsupportedFormatError(f"{name}: files of type {ext!r} cannot be read: {advice}")


def _excel_head_check(head: bytes, name: str) -> None:
    if head.startswith(_OLE_MAGIC):
        raise UnsupportedFormatError(
            f"{name}: this workbook is password-protected or in the legacy .xls format; "
            f"{_SAVE_AS} (without a password)"
        )


def _from_bytes(
    name: str,
    data: bytes,
    *,
    format: str | None,
    name_hint: str | None,
    compression: str | None,
    member: str | None,
    cap: int,
) -> Source:
    """A :class:`Source` over bytes already in memory (stdin, a pipe, decompressed data)."""
    if not data:
        what = "the compressed data holds" if compression else "it holds"
        raise EmptyInputError(f"{name}: {what} no bytes; there is no table to read")
    head = data[:_HEAD]
    kind = _magic_kind(head)
    ext = Path(name_hint).suffix.lower() if name_hint else ""
    if format is None and ext:
        _check_unsupported(name, ext)
    if kind in _COMPRESSIONS and not (kind == "zip" and _is_xlsx_zip(io.BytesIO(data))):
        if compression is not None:
            raise UnsupportedFormatError(
                f"{name}: the content is compressed twice; decompress the outer layer first"
            )
        inner, inner_member = _decompress(io.BytesIO(data), kind or "", name, cap)
        del data
        stripped = name_hint[: -len(ext)] if name_hint and ext in COMPRESSION_BY_EXTENSION else None
        return _from_bytes(
            name,
            inner,
            format=format,
            name_hint=inner_member or stripped,
            compression=kind,
            member=inner_member,
            cap=cap,
        )
    fmt = format
    if fmt is None:
        if kind == "zip":
            fmt = "excel"
        elif kind == "parquet":
            fmt = "parquet"
        else:
            fmt = FORMAT_BY_EXTENSION.get(ext)
    if fmt is None:
        refuse_binary(head, name)
        fmt = sniff_format(head) or "csv"
    if fmt in TEXT_FORMATS:
        refuse_binary(head, name)
    if fmt == "excel":
        _excel_head_check(head, name)
    return Source(name=name, format=fmt, data=data, compression=compression, member=member)


def open_source(
    spec: str | Path, *, format: str | None, max_bytes: int, name: str | None = None
) -> Source:
    """Resolve ``spec`` (a path, or ``-`` for stdin) to a :class:`Source`; ``name`` is what
    messages call it (default: ``spec``; the URL of a downloaded object).

    Raises :class:`SourceNotFoundError`, :class:`EmptyInputError`,
    :class:`UnsupportedFormatError`, :class:`SizeLimitError` or :class:`InputError` with a
    message that says what to do.
    """
    if str(spec) == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(
                "stdin is a terminal, not a table: pipe one in (cat data.csv | apprentice read -) "
                "or give a path"
            )
        data = _read_capped(
            sys.stdin.buffer,
            "stdin",
            max_bytes,
            what=f"stdin: more than {max_bytes:,} bytes; save the data to a file and read that, "
            "or raise APPRENTICE_MAX_DECOMPRESSED_BYTES",
        )
        if not data:
            raise EmptyInputError("stdin is empty: pipe a table into apprentice or give a path")
        return _from_bytes(
            "stdin",
            data,
            format=format,
            name_hint=None,
            compression=None,
            member=None,
            cap=max_bytes,
        )
    name = name or str(spec)
    path = Path(spec).expanduser()
    if not path.exists():
        if "://" in name:
            raise SourceNotFoundError(
                f"{name}: not a file, and not a database URL apprentice knows; give a local "
                "path, '-' for stdin, or a SQLAlchemy URL such as sqlite:///file.db or "
                "postgresql+psycopg://user@host/db, or a storage URL (s3://, gs://, az://, "
                "file://)"
            )
        raise SourceNotFoundError(
            f"{name}: no such file; check the path (relative paths start at the current directory)"
        )
    if path.is_dir():
        raise InputError(f"{name}: is a directory; give the path of a file inside it")
    ext = path.suffix.lower()
    if format is None:
        _check_unsupported(name, ext)
    try:
        if not path.is_file():  # a pipe or device: read it once, like stdin
            with path.open("rb") as fh:
                data = _read_capped(fh, name, max_bytes)
            return _from_bytes(
                name,
                data,
                format=format,
                name_hint=path.name,
                compression=None,
                member=None,
                cap=max_bytes,
            )
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except PermissionError:
        raise InputError(f"{name}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror}); check the file") from None
    if not head:
        raise EmptyInputError(f"{name}: the file is empty (0 bytes); there is no table to read")
    kind = _magic_kind(head)
    if kind == "zip" and (ext in _EXCEL_EXTENSIONS or format == "excel" or _is_xlsx_zip(path)):
        return Source(name=name, format="excel", path=path)
    if kind in _COMPRESSIONS:
        data, member = _decompress(path, kind or "", name, max_bytes)
        stripped = path.name[: -len(ext)] if ext in COMPRESSION_BY_EXTENSION else path.name
        return _from_bytes(
            name,
            data,
            format=format,
            name_hint=member or stripped,
            compression=kind,
            member=member,
            cap=max_bytes,
        )
    fmt = format or ("parquet" if kind == "parquet" else FORMAT_BY_EXTENSION.get(ext))
    if fmt is None:
        refuse_binary(head, name)
        fmt = sniff_format(head) or "csv"
    if fmt in TEXT_FORMATS:
        refuse_binary(head, name)
    if fmt == "excel":
        _excel_head_check(head, name)
    return Source(name=name, format=fmt, path=path)


def source_bytes(source: Source) -> bytes:
    """All bytes of the source (decompressed)."""
    if source.data is not None:
        return source.data
    assert source.path is not None
    return source.path.read_bytes()


def open_binary(source: Source) -> BinaryIO:
    """A binary stream over the source's (decompressed) bytes; the caller closes it."""
    if source.data is not None:
        return io.BytesIO(source.data)
    assert source.path is not None
    return source.path.open("rb")


# ---------------------------------------------------------------------------------------------
# typed values to text cells


def float_text(value: float) -> str:
    """A float as text: integral values without ``.0``, others in their shortest form."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def datetime_text(value: _dt.datetime) -> str:
    """ISO 8601 with a space between date and time (seconds always, fractions if any)."""
    return value.isoformat(sep=" ")


def value_text(value: Any) -> str | None:
    """A typed value (from a spreadsheet cell or a database) as text; ``None`` stays missing.

    Booleans are ``true``/``false`` (as in JSON and Parquet), integral floats lose ``.0``,
    decimals keep their scale (``1.50``), dates and times are ISO 8601, nested values
    (JSON columns, arrays) are JSON text, bytes are UTF-8 text when they decode, else hex.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, _dt.datetime):
        return datetime_text(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + raw.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def text_columns_frame(names: list[str], columns: list[list[str | None]]) -> pd.DataFrame:
    """A frame of text cells (pandas ``str`` dtype, ``None`` missing) from column lists."""
    import pandas as pd

    data = {i: pd.Series(col, dtype="str") for i, col in enumerate(columns)}
    frame = pd.DataFrame(data) if data else pd.DataFrame(index=pd.RangeIndex(0))
    frame.columns = pd.Index(names, dtype="object")
    return frame


def text_rows_frame(names: list[str], rows: list[list[str | None]]) -> pd.DataFrame:
    """A frame of text cells from row lists (each with ``len(names)`` cells)."""
    if not rows:
        return text_columns_frame(names, [[] for _ in names])
    return text_columns_frame(names, [list(col) for col in zip(*rows, strict=True)])


def dedupe(names: list[str]) -> list[str]:
    """``names`` with each repeat suffixed ``_2``, ``_3`` ... (skipping names already taken).

    The one renaming of repeated column names: every reader and the cleaner use it, so a
    column is called the same after ``read`` and after ``clean``."""
    taken = set(names)
    used: set[str] = set()
    out: list[str] = []
    for name in names:
        new = name
        if name in used:
            k = 1
            while True:
                k += 1
                new = f"{name}_{k}"
                if new not in taken and new not in used:
                    break
        used.add(new)
        out.append(new)
    return out


def unique_names(names: list[str], notes: list[str] | None = None) -> list[str]:
    """``names`` with repeats renamed by :func:`dedupe`; a note says how many."""
    out = dedupe(names)
    renamed = sum(1 for a, b in zip(names, out, strict=True) if a != b)
    if renamed and notes is not None:
        notes.append(f"{renamed} repeated column name(s) renamed with a suffix _2, _3 ...")
    return out
