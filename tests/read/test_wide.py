"""Wide tables: a file of long lines takes the fast path whatever its size and agrees with
the careful path; the line account holds there too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import apprentice
from apprentice.config import get_settings
from apprentice.guard.pii import detect_pii
from apprentice.read.delimited import _wide

CAREFUL = get_settings(fast_read_bytes=1 << 62)


def _wide_file(tmp_path: Path, rows: int = 400, columns: int = 1200) -> Path:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.integers(0, 100000, size=(rows, columns)))
    frame.columns = [f"v{j}" for j in range(columns)]
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_wide_file_takes_the_fast_path_and_agrees_with_the_careful_one(
    tmp_path: Path,
) -> None:
    path = _wide_file(tmp_path)
    assert path.stat().st_size > 2 * 1024 * 1024 and _wide(path)
    fast = apprentice.read(path)
    careful = apprentice.read(path, settings=CAREFUL)
    assert any("fast path" in n for n in fast.notes)
    assert fast.table.shape == careful.table.shape == (400, 1200)
    assert fast.table.astype(object).values.tolist() == careful.table.astype(object).values.tolist()
    assert fast.lines is not None and careful.lines is not None
    assert fast.lines.counts == careful.lines.counts == {"header": 1, "kept": 400}


def test_a_narrow_file_is_not_wide(tmp_path: Path) -> None:
    path = tmp_path / "narrow.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(50000)), encoding="utf-8")
    assert not _wide(path)


def test_short_number_columns_skip_the_pii_scan_but_real_pii_is_found() -> None:
    n = 300
    frame = pd.DataFrame(
        {
            "count": pd.Series([str(i % 977) for i in range(n)], dtype="str"),
            "ratio": np.linspace(0, 1, n),
            "contact": pd.Series([f"user{i}@example.org" for i in range(n)], dtype="str"),
            "phone": pd.Series([f"+1 202 555 {i % 10000:04d}" for i in range(n)], dtype="str"),
            "ssn_like": pd.Series([f"{100000000 + i * 7919}" for i in range(n)], dtype="str"),
        }
    )
    report = detect_pii(frame)
    kinds = {(f.column, f.kind) for f in report.findings}
    assert ("contact", "email") in kinds
    assert ("phone", "phone") in kinds
    assert not any(f.column in ("count", "ratio") for f in report.findings)
