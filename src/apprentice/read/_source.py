"""Open what the user named: a path, ``-`` for stdin, or a SQLAlchemy URL.

Compressed files (``.gz``, ``.bz2``, ``.xz``, ``.zip`` with one member) are decompressed as a
stream with a hard cap on the decompressed size, so a decompression bomb stops early with a
clear error instead of filling memory. The format is decided from the extension, then from
the content's magic bytes; binary content that is no known table format is refused.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from apprentice.errors import (
    EmptyInputError,
    InputError,
    SizeLimitError,
    SourceNotFoundError,
    UnsupportedFormatError,
)

TEXT_EXTENSIONS = {".csv", ".tsv", ".tab", ".txt", ".dat", ".psv", ".ssv", ".data", ".text"}
FORMAT_BY_EXTENSION = {
    **{ext: "csv" for ext in TEXT_EXTENSIONS},
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}
COMPRESSION_BY_EXTENSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"PAR1", "parquet"),
)
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)"),
    (b"SQLite format 3\x00", "a SQLite database (read it with sqlite:///PATH and --table)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office file (.xls/.doc); save it as .xlsx or .csv"),
)
_CHUNK = 1 << 20


@dataclass
class Source:
    """An opened input: a name for messages, a format, and a way to get its bytes."""

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


def _cap_message(name: str, cap: int) -> str:
    return (
        f"{name}: decompressed size exceeds the safety cap of {cap:,} bytes (a decompression "
        "bomb or a very large file); decompress it yourself or raise "
        "APPRENTICE_MAX_DECOMPRESSED_BYTES"
    )


def _read_capped(stream: BinaryIO, name: str, cap: int) -> bytes:
    buf = io.BytesIO()
    total = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise SizeLimitError(_cap_message(name, cap))
        buf.write(chunk)
    return buf.getvalue()


def _decompress(path: Path, kind: str, name: str, cap: int) -> tuple[bytes, str | None]:
    """Decompressed bytes of ``path`` and, for a zip, the member's name."""
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as zf:
                members = [i for i in zf.infolist() if not i.is_dir()]
                if not members:
                    raise EmptyInputError(f"{name}: the zip archive is empty; nothing to read")
                if len(members) > 1:
                    listed = ", ".join(i.filename for i in members[:5])
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
        opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
        with opener(path, "rb") as fh:
            return _read_capped(fh, name, cap), None  # type: ignore[arg-type]
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"{name}: the {kind} data is corrupt or truncated ({exc}); check the file"
        ) from None


def _inner_format(member: str) -> str | None:
    suffix = Path(member).suffix.lower()
    return FORMAT_BY_EXTENSION.get(suffix)


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes announce, or ``None`` for text."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        # JSON Lines when the first line is a complete object and another object follows
        first, _, rest = stripped.partition(b"\n")
        if first.rstrip().endswith(b"}") and rest.lstrip().startswith(b"{"):
            return "jsonl"
        return "json"
    return None


def refuse_binary(head: bytes, name: str) -> None:
    """Raise for content that is binary and not a table format we read."""
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise UnsupportedFormatError(
                f"{name}: this is {what}, not a table; give a CSV, JSON, Excel, Parquet file "
                "or a SQL URL"
            )
    if not head:
        return
    # UTF-16/32 text has many NULs; a BOM or a regular NUL pattern tells it apart
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return
    sample = head[:65536]
    nul = sample.count(b"\x00")
    if nul and (sample[0::2].count(0) > 0.4 * len(sample) / 2 or sample[1::2].count(0) > 0.4 * len(sample) / 2):
        if nul < 0.45 * len(sample):  # interleaved zeros: BOM-less UTF-16
            return
    control = sum(1 for b in sample if b < 9 or 13 < b < 32 and b != 27)
    if control > 0.1 * len(sample):
        raise UnsupportedFormatError(
            f"{name}: the content is binary ({control} control bytes in the first "
            f"{len(sample)}), not a text table; give a CSV, JSON, Excel or Parquet file"
        )


def open_source(spec: str | Path, *, format: str | None, max_bytes: int) -> Source:
    """Resolve ``spec`` (a path or ``-``) to a :class:`Source`."""
    if str(spec) == "-":
        data = _read_capped(sys.stdin.buffer, "stdin", max_bytes)
        if not data:
            raise EmptyInputError("stdin is empty: pipe a table into apprentice or give a path")
        kind = sniff_format(data[:4096])
        if kind in COMPRESSION_BY_EXTENSION.values():
            raise UnsupportedFormatError(
                "stdin: compressed input on stdin is not supported; give the file path instead"
            )
        if kind is None:
            refuse_binary(data[:65536], "stdin")
        return Source(name="stdin", format=format or kind or "csv", data=data)
    path = Path(spec).expanduser()
    name = str(spec)
    if not path.exists():
        raise SourceNotFoundError(f"{name}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{name}: is a directory; give the path of a file inside it")
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except PermissionError:
        raise InputError(f"{name}: permission denied; check the file's permissions") from None
    if not head:
        raise EmptyInputError(f"{name}: the file is empty (0 bytes); there is no table to read")
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSION_BY_EXTENSION.get(suffixes[-1]) if suffixes else None
    magic = sniff_format(head)
    if magic in ("gzip", "bz2", "xz", "zip"):
        if compression is None and not (magic == "zip" and suffixes[-1:] in ([".xlsx"], [".xlsm"])):
            compression = magic
    elif compression is not None:
        compression = None  # a .gz name over plain content: read it as it is
    if compression is not None:
        data, member = _decompress(path, compression, name, max_bytes)
        if not data:
            raise EmptyInputError(f"{name}: the compressed file holds no data; nothing to read")
        inner = _inner_format(member) if member else None
        if inner is None and len(suffixes) >= 2:
            inner = FORMAT_BY_EXTENSION.get(suffixes[-2])
        kind = sniff_format(data[:4096])
        if kind in ("gzip", "bz2", "xz", "zip"):
            raise UnsupportedFormatError(
                f"{name}: compressed twice; decompress the outer layer first"
            )
        fmt = format or inner or kind or "csv"
        if fmt == "csv":
            refuse_binary(data[:65536], name)
        return Source(name=name, format=fmt, data=data, compression=compression, member=member)
    ext = suffixes[-1] if suffixes else ""
    fmt = format or FORMAT_BY_EXTENSION.get(ext)
    if fmt is None:
        if magic == "parquet":
            fmt = "parquet"
        elif ext and ext not in ("",) and magic is None:
            refuse_binary(head, name)
            if ext in {".xls", ".doc", ".docx", ".pdf", ".png", ".jpg", ".exe", ".bin", ".pkl", ".pickle", ".npy", ".h5", ".hdf5", ".feather", ".avro", ".orc", ".sav", ".dta", ".sas7bdat"}:
                raise UnsupportedFormatError(
                    f"{name}: files of type {ext!r} are not supported; convert it to CSV, "
                    "Parquet or .xlsx, or pass --format csv if it is delimited text"
                )
            fmt = "csv"
        else:
            fmt = magic or "csv"
    if fmt == "csv":
        refuse_binary(head, name)
    return Source(name=name, format=fmt, path=path)


def source_bytes(source: Source) -> bytes:
    """All bytes of the source (decompressed)."""
    if source.data is not None:
        return source.data
    assert source.path is not None
    return source.path.read_bytes()
