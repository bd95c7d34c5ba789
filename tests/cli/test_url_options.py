"""File options of clean and why take storage URLs too (here fsspec's in-memory store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

fsspec = pytest.importorskip("fsspec")

CODE = """
import sys
import fsspec
from apprentice.cli import main
with fsspec.open("memory://opts/types.json", "wt") as fh:
    fh.write('{"zip": "identifier"}')
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The memory store lives in one process: write the option file and run the command
    there, then print what the command wrote to the store."""
    script = (
        CODE
        + "\nprint('EXIT', code)\n"
        + "fs = fsspec.filesystem('memory')\n"
        + "print('STORE', sorted(fs.find('/opts')))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=tmp_path
    )


def test_type_hints_from_a_url(tmp_path: Path) -> None:
    data = tmp_path / "zips.csv"
    data.write_text("zip,amount\n01234,1.5\n02134,2.5\n00411,3\n")
    done = _run(
        tmp_path, "clean", str(data), "--types", "memory://opts/types.json",
        "-o", str(tmp_path / "out.csv"), "--ledger", str(tmp_path / "ledger.json"), "--quiet",
    )  # fmt: skip
    assert "EXIT 0" in done.stdout, done.stderr
    assert (tmp_path / "out.csv").read_text().splitlines()[1].startswith("01234,")
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert ledger["recipe"]["settings"]["type_hints"] == {"zip": "identifier"}


def test_a_missing_url_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "zips.csv"
    data.write_text("zip,amount\n01234,1.5\n")
    done = _run(
        tmp_path, "clean", str(data), "--recipe", "memory://opts/no-such-recipe.json",
        "-o", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert "EXIT 2" in done.stdout, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no-such-recipe.json" in lines[0]
    assert not (tmp_path / "out.csv").exists()
