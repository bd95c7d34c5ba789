"""Write a text table as RFC 4180 CSV (fields quoted when needed, CRLF line ends)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

import pandas as pd


def write_csv(
    frame: pd.DataFrame, path: str | Path | IO[str], *, header: list[str] | None = None
) -> None:
    """Write ``frame`` (text cells; missing written as empty) as RFC 4180 CSV, UTF-8."""
    names = header if header is not None else [str(c) for c in frame.columns]

    def _write(fh: IO[str]) -> None:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(names)
        columns = [frame.iloc[:, i].fillna("").astype(str).tolist() for i in range(frame.shape[1])]
        writer.writerows(zip(*columns, strict=True))

    if isinstance(path, (str, Path)):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            _write(fh)
    else:
        _write(path)
