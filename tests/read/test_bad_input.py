"""Bad input: each gets a clear error (what was wrong + what to do) and loses nothing.

Every error is an :class:`~apprentice.errors.ApprenticeError`; its message names the problem and
the remedy and never holds a value from the data. The CLI turns each into one ``error:`` line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

import apprentice
from apprentice.config import get_settings
from apprentice.errors import (
    ApprenticeError,
    DatabaseError,
    EmptyInputError,
    InputError,
    ParseError,
    SizeLimitError,
    SourceNotFoundError,
    UnsupportedFormatError,
)

MB = 1024 * 1024


def png_bytes() -> bytes:
    """A real, valid 2x2 RGB PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def elf_path() -> Path:
    for candidate in (Path("/bin/ls"), Path(sys.executable).resolve()):
        if candidate.is_file() and candidate.read_bytes()[:4] == b"\x7fELF":
            return candidate
    pytest.skip("no ELF executable on this system")


def gzip_of_zeros(path: Path, size: int) -> Path:
    """A gzip of ``size`` zero bytes, written as a stream (never all in memory)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = bytes(MB)
    with path.open("wb") as fh:
        for _ in range(size // MB):
            fh.write(compressor.compress(block))
        fh.write(compressor.flush())
    return path


def check_message(exc: ApprenticeError, *fragments: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert ";" in message or ":" in message  # what was wrong ; what to do
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ---------------------------------------------------------------------------------------------
# paths


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError) as info:
        apprentice.read(tmp_path / "nope.csv")
    check_message(info.value, "nope.csv", "no such file", "check the path")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        apprentice.read(tmp_path)
    check_message(info.value, "is a directory", "give the path of a file")


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is an empty table that says why; the CLI makes it a one-line error."""
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = apprentice.read(path)
    assert result.table.shape == (0, 0)
    assert result.rows_read == result.rows_kept == result.rows_quarantined == 0
    check_message(EmptyInputError(result.notes[0]), "empty", "no table")
    proc = subprocess.run(
        [sys.executable, "-m", "apprentice", "read", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "empty" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_header_only_keeps_columns(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,name,score\n", encoding="utf-8")
    result = apprentice.read(path)
    assert result.rows_kept == 0
    assert result.rows_read == result.rows_kept + result.rows_quarantined == 0
    assert list(result.table.columns) == ["id", "name", "score"]


# ---------------------------------------------------------------------------------------------
# binary and unsupported content


@pytest.mark.parametrize("name", ["photo.png", "photo.csv", "photo"])
def test_png_image(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(png_bytes())
    with pytest.raises(UnsupportedFormatError) as info:
        apprentice.read(path)
    check_message(info.value, "image", "not a table", "CSV")


@pytest.mark.parametrize("name", ["tool", "tool.csv", "tool.json"])
def test_executable(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copyfile(elf_path(), path)
    with pytest.raises(UnsupportedFormatError) as info:
        apprentice.read(path)
    check_message(info.value, "executable", "CSV")


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("old.xls", "save it as .xlsx"),
        ("model.pkl", "never loaded"),
        ("report.docx", "export the table"),
        ("table.feather", "Parquet"),
    ],
)
def test_unsupported_extension(tmp_path: Path, name: str, advice: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(UnsupportedFormatError) as info:
        apprentice.read(path)
    check_message(info.value, Path(name).suffix, advice)


def test_unknown_format_hint() -> None:
    with pytest.raises(UnsupportedFormatError, match="choose one of"):
        apprentice.read("x.csv", format="xml")


def test_text_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "really.xlsx"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ParseError) as info:
        apprentice.read(path)
    check_message(info.value, "not a readable .xlsx", "CSV")


def test_damaged_parquet(tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    path.write_bytes(b"PAR1" + b"\x15\x00" * 50)
    with pytest.raises(ParseError) as info:
        apprentice.read(path)
    check_message(info.value, "Parquet", "write it again")


# ---------------------------------------------------------------------------------------------
# archives


def test_zip_with_several_members(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "x\n1\n")
        zf.writestr("b.csv", "y\n2\n")
    with pytest.raises(InputError) as info:
        apprentice.read(path)
    check_message(info.value, "2 files", "'a.csv'", "'b.csv'", "extract the one you want")


def test_empty_zip(tmp_path: Path) -> None:
    path = tmp_path / "nothing.zip"
    with zipfile.ZipFile(path, "w"):
        pass
    result = apprentice.read(path)
    assert result.table.shape == (0, 0)
    assert "holds no file" in result.notes[0]


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    payload = "".join(f"{i},{i * 7919 % 10007}\n" for i in range(20000)).encode()
    whole = gzip.compress(b"a,b\n" + payload)
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError) as info:
        apprentice.read(path)
    check_message(info.value, "corrupt or truncated", "check the file")


def test_compressed_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv.gz.gz"
    path.write_bytes(gzip.compress(gzip.compress(b"a\n1\n")))
    with pytest.raises(UnsupportedFormatError, match="decompress the outer layer"):
        apprentice.read(path)


def test_gzip_bomb_stops_at_the_cap(tmp_path: Path) -> None:
    bomb = gzip_of_zeros(tmp_path / "bomb.csv.gz", 200 * MB)
    assert bomb.stat().st_size < 2 * MB
    settings = get_settings(max_decompressed_bytes=10 * MB)
    started = time.perf_counter()
    with pytest.raises(SizeLimitError) as info:
        apprentice.read(bomb, settings=settings)
    assert time.perf_counter() - started < 5
    check_message(
        info.value, "10,485,760", "decompression bomb", "APPRENTICE_MAX_DECOMPRESSED_BYTES"
    )


def test_zip_bomb_stops_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("zeros.csv", "w") as member,
    ):
        for _ in range(30):
            member.write(bytes(MB))
    with pytest.raises(SizeLimitError):
        apprentice.read(path, settings=get_settings(max_decompressed_bytes=10 * MB))


# ---------------------------------------------------------------------------------------------
# content


@pytest.mark.slow
def test_huge_single_line(tmp_path: Path) -> None:
    """A 50 MB line: no crash; either read (nothing lost) or refused with a clear error."""
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,text\n1,")
        fh.write("x" * (50 * MB))
        fh.write("\n2,short\n")
    try:
        result = apprentice.read(path)
    except ApprenticeError as exc:
        assert "x" * 100 not in str(exc)
        return
    assert result.rows_read == result.rows_kept + result.rows_quarantined
    assert result.rows_read == 2


def test_invalid_json_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        '[\n  {"name": "Secret Person", "age": 41},\n  {"name": "Other", "age": }\n]\n',
        encoding="utf-8",
    )
    with pytest.raises(ParseError) as info:
        apprentice.read(path)
    check_message(info.value, "line 3, column 28", "fix the JSON there")
    assert "Secret" not in str(info.value) and "Other" not in str(info.value)


def test_json_scalar_document(tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    path.write_text("42", encoding="utf-8")
    with pytest.raises(ParseError, match="a number, not a table"):
        apprentice.read(path)


def test_empty_json_array(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text("[]", encoding="utf-8")
    result = apprentice.read(path)
    assert result.table.shape == (0, 0)
    assert "no records" in result.notes[0]


# ---------------------------------------------------------------------------------------------
# SQL


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:s3cret@db.example:notaport/sales",
        "sqlite://relative.db",
        "mysql+nosuchdriver://user@host/db",
    ],
)
def test_invalid_sql_url(url: str) -> None:
    with pytest.raises(DatabaseError) as info:
        apprentice.read(url, table="t")
    assert "s3cret" not in str(info.value)
    check_message(info.value)
    assert "sqlite:///" in str(info.value) or "install" in str(info.value)


def test_sql_missing_table(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE sales (id INTEGER)")
    conn.close()
    with pytest.raises(SourceNotFoundError) as info:
        apprentice.read(f"sqlite:///{db}", table="sale")
    check_message(info.value, "no table 'sale'", "'sales'", "--table")


# ---------------------------------------------------------------------------------------------
# the command line: one error line, exit code 2, no traceback


def _bad_inputs(root: Path) -> dict[str, list[str]]:
    (root / "dir").mkdir()
    (root / "photo.png").write_bytes(png_bytes())
    (root / "bad.json").write_text('{"a": [1, 2,}', encoding="utf-8")
    with zipfile.ZipFile(root / "two.zip", "w") as zf:
        zf.writestr("a.csv", "x\n1\n")
        zf.writestr("b.csv", "y\n2\n")
    return {
        "missing": ["read", str(root / "missing.csv")],
        "directory": ["read", str(root / "dir")],
        "png": ["read", str(root / "photo.png")],
        "invalid-json": ["read", str(root / "bad.json")],
        "zip": ["read", str(root / "two.zip")],
        "sql-url": ["read", "postgresql://u:pw@h:port/db", "--table", "t"],
    }


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Every bad input through ``python -m apprentice``, run side by side."""
    root = tmp_path_factory.mktemp("cli")
    procs = {
        case: subprocess.Popen(
            [sys.executable, "-m", "apprentice", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=root,
        )
        for case, args in _bad_inputs(root).items()
    }
    out = {}
    for case, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        out[case] = (proc.returncode, err.decode("utf-8", "replace"))
    return out


@pytest.mark.parametrize("case", ["missing", "directory", "png", "invalid-json", "zip", "sql-url"])
def test_cli_prints_one_error_line(cli_runs: dict[str, tuple[int, str]], case: str) -> None:
    code, stderr = cli_runs[case]
    lines = stderr.strip("\n").splitlines()
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    assert "pw@" not in stderr
