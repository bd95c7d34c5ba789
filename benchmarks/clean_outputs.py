"""Before/after check for speed work on read, clean and guard: every output of ``clean_file``
on a fixed set of files, written as one JSON file per input, then compared.

Outputs per file: the cleaned table (shape, names, dtypes, a hash of its values and one of its
CSV text), a hash of the cell codes, the ledger with its PII section, the recipe, the schema,
the PII findings, the protection plan and the JSON summary (the read account included). A file
that fails records its error, so a change of error is a difference too.

Files: the shared tables under 4.1 MB, the dirty and ptype files, csv-spectrum, every 38th
Pollock file, and any ``*.csv`` in ``--extra`` (wide generated tables, say)::

    PYTHONPATH=/tmp/before/src .venv/bin/python benchmarks/clean_outputs.py snapshot /tmp/a
    PYTHONPATH=src .venv/bin/python benchmarks/clean_outputs.py snapshot /tmp/b
    .venv/bin/python benchmarks/clean_outputs.py compare /tmp/a /tmp/b
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"


def files(extra: list[str]) -> list[str]:
    d = str(DATA) + "/"
    out = sorted(
        f
        for f in glob.glob(d + "tables/*.csv") + glob.glob(d + "tables/*.tsv")
        if os.path.getsize(f) < 4_100_000
    )
    out += sorted(glob.glob(d + "dirty/*/*.csv")) + sorted(glob.glob(d + "dirty/ptype/data/*.csv"))
    out += sorted(glob.glob(d + "csv-spectrum/csvs/*.csv"))
    out += sorted(glob.glob(d + "pollock/csv/*.csv"))[::38]
    for folder in extra:
        out += sorted(glob.glob(os.path.join(folder, "*.csv")))
    return out


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def outputs(path: str) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from apprentice.workflows.clean import clean_file

    try:
        r = clean_file(path)
    except Exception as exc:  # a different error is a difference too
        return {"error": repr(exc)}
    t = r.table
    return {
        "shape": list(t.shape),
        "columns": [str(c) for c in t.columns],
        "dtypes": [str(d) for d in t.dtypes],
        "table": _digest(pd.util.hash_pandas_object(t, index=True).to_numpy().tobytes()),
        "table_csv": _digest(t.to_csv(index=False).encode()),
        "ledger": r.ledger_dict(),
        "recipe": r.recipe.to_dict(),
        "schema": r.schema.to_dict(),
        "pii": r.pii.to_dict(),
        "summary": r.summary(),
        "protection": r.protection.to_dict(),
        "codes": _digest(b"".join(np.asarray(c).tobytes() for c in r._clean.codes.values())),
    }


def snapshot(folder: Path, extra: list[str], only: list[str]) -> int:
    warnings.filterwarnings("ignore")
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [f for f in files(extra) if not only or any(word in f for word in only)]
    for path in chosen:
        key = path.replace("/", "_") + ".json"
        text = json.dumps(outputs(path), sort_keys=True, default=str, indent=0)
        (folder / key).write_text(text, encoding="utf-8")
    print(f"{len(chosen)} files written to {folder}")
    return 0


def compare(a: Path, b: Path) -> int:
    names = sorted(p.name for p in a.glob("*.json"))
    differ = 0
    for name in names:
        other = b / name
        if not other.exists():
            print(f"missing in {b}: {name}")
            differ += 1
            continue
        x = json.loads((a / name).read_text(encoding="utf-8"))
        y = json.loads(other.read_text(encoding="utf-8"))
        if x != y:
            differ += 1
            keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
            print(f"differs: {name}: {', '.join(keys)}")
    print(f"{len(names)} files compared, {differ} differ")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="write the outputs of every file into FOLDER")
    snap.add_argument("folder", type=Path)
    snap.add_argument("--extra", action="append", default=[], help="a folder of more CSV files")
    snap.add_argument("--only", action="append", default=[], help="files whose path has this")
    cmp = sub.add_parser("compare", help="compare two snapshot folders")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.command == "snapshot":
        return snapshot(args.folder, args.extra, args.only)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
