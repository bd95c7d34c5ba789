"""Type inference: apprentice against pandas, skrub and DuckDB on ptype's annotated columns.

Data: ``../shared/data/dirty/ptype/`` (the ptype paper's test files) and the human labels of
``annotations/annotations.json`` (one label per column, in file order, for 8 files).

Label vocabulary and how every tool's answer is mapped onto it:

* ptype labels ``integer``, ``float``, ``boolean``, ``string`` and five date labels
  (``date``, ``date-eu``, ``date-iso-8601``, ``date-non-std``, ``date-non-std-subtype``), which
  are all scored as ``date``. ``gender`` (2 columns) and ``all identical`` (6 columns) are not
  data types (a semantic tag and an annotator's note) and are left out: 228 of 236 columns are
  scored.
* apprentice: ``integer`` -> integer, ``float`` -> float, ``boolean`` -> boolean,
  ``date``/``datetime``/``time`` -> date, ``category``/``identifier``/``text``/``empty`` ->
  string. Integers that the ledger marks as a year, a month or a clock time (HHMM) -> date.
  Numbers whose text carried a percent sign, a unit or were written as words on most cells
  -> string: ptype's annotators label such columns string (its vocabulary describes how values
  are written, and has no percent or unit type). ``--strict`` scores them as numbers instead
  (and years as integers); both figures are printed.
* pandas: ``read_csv(path)`` with defaults, then the same frame after ``convert_dtypes()``.
  int -> integer, float -> float, bool -> boolean, datetime -> date, anything else -> string.
* skrub: ``skrub.Cleaner().fit_transform(pd.read_csv(path))`` with its defaults; dtypes mapped
  as for pandas. A column it drops is scored wrong.
* DuckDB: ``read_csv(path)`` with automatic type detection; BIGINT/INTEGER/... -> integer,
  DOUBLE/FLOAT/DECIMAL -> float, BOOLEAN -> boolean, DATE/TIME/TIMESTAMP -> date, VARCHAR ->
  string.

Every tool gets the file's bytes with the same encoding (UTF-8, else cp1252 for the one
cp1252 file); apprentice detects it itself. Columns are matched by position. Goal: apprentice
>= 95% and at least 10 points above the best of the others.

Usage::

    .venv/bin/python benchmarks/types.py [--strict] [--verbose] [--json OUT.json]
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's ``types``, and a script run from this folder
# has the folder first on sys.path, so ``import types`` (done by ``enum``, hence by nearly
# everything) finds this file. Run as a script, it drops its folder from sys.path before
# importing anything; imported as ``types`` by a sibling script, it hands over the real module.
_HERE = os.path.dirname(os.path.abspath(__file__))
_OTHERS = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
if __name__ == "types":
    _saved = list(sys.path)
    sys.path[:] = _OTHERS
    del sys.modules["types"]
    import types as _stdlib_types  # noqa: F401  (now the standard library's, in sys.modules)

    sys.path[:] = _saved
else:
    sys.path[:] = _OTHERS

# Nothing else is imported at module level: when this file stands in for ``types`` during the
# import of ``re``/``enum``, importing anything more here would recurse into a half-built ``re``.
PTYPE = os.path.join(os.path.dirname(_HERE), "..", "shared", "data", "dirty", "ptype")
EXCLUDED = {"gender", "all identical"}
GOAL = 0.95
GOAL_MARGIN = 0.10


def label_of(annotation: str) -> str | None:
    if annotation in EXCLUDED:
        return None
    return "date" if annotation.startswith("date") else annotation


def _encoding(path: object) -> str:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _from_dtype(dtype: object) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "date"
    return "string"


def apprentice_types(path: object, strict: bool) -> list[str]:
    import apprentice
    from apprentice.clean import clean_table

    result = clean_table(apprentice.read(path))
    out = []
    for rep in result.ledger.columns:
        kind = rep.kind
        if kind in ("integer", "float"):
            ev = rep.evidence
            formatted = max(ev.get("percent_share", 0.0), ev.get("unit_share", 0.0)) >= 0.5 or bool(
                rep.format.get("number", {}).get("words")
            )
            if not strict and formatted:
                out.append("string")
            elif not strict and rep.semantic in ("year", "month", "clock time (HHMM)"):
                out.append("date")
            else:
                out.append(kind)
        elif kind == "boolean":
            out.append("boolean")
        elif kind in ("date", "datetime", "time"):
            out.append("date")
        else:
            out.append("string")
    return out


def pandas_types(path: object, convert: bool) -> list[str]:
    import pandas as pd

    df = pd.read_csv(path, encoding=_encoding(path))
    if convert:
        df = df.convert_dtypes()
    return [_from_dtype(t) for t in df.dtypes]


def skrub_types(path: object) -> list[str]:
    import pandas as pd
    import skrub

    df = pd.read_csv(path, encoding=_encoding(path))
    cleaned = skrub.Cleaner().fit_transform(df)
    return [
        _from_dtype(cleaned[c].dtype) if c in cleaned.columns else "dropped" for c in df.columns
    ]


def duckdb_types(path: object) -> list[str]:
    import duckdb

    enc = _encoding(path)
    con = duckdb.connect()
    rel = con.read_csv(str(path), encoding="latin-1" if enc == "cp1252" else "utf-8")
    out = []
    for t in rel.types:
        name = str(t).upper()
        if name in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"):
            out.append("integer")
        elif name in ("DOUBLE", "FLOAT", "REAL") or name.startswith("DECIMAL"):
            out.append("float")
        elif name == "BOOLEAN":
            out.append("boolean")
        elif name.startswith(("DATE", "TIME", "TIMESTAMP")):
            out.append("date")
        else:
            out.append("string")
    con.close()
    return out


TOOLS = {
    "apprentice": lambda p, strict: apprentice_types(p, strict),
    "pandas": lambda p, strict: pandas_types(p, convert=False),
    "pandas+convert_dtypes": lambda p, strict: pandas_types(p, convert=True),
    "skrub": lambda p, strict: skrub_types(p),
    "duckdb": lambda p, strict: duckdb_types(p),
}


def run(strict: bool = False, verbose: bool = False) -> dict[str, object]:
    import json
    import time
    import warnings
    from pathlib import Path

    root = Path(PTYPE)
    annotations = json.loads((root / "annotations" / "annotations.json").read_text())
    scores: dict[str, list[int]] = {t: [0, 0] for t in TOOLS}
    misses: dict[str, list[str]] = {t: [] for t in TOOLS}
    seconds: dict[str, float] = {t: 0.0 for t in TOOLS}
    per_file: dict[str, dict[str, float]] = {}
    for name, labels in annotations.items():
        path = root / "data" / f"{name}.csv"
        truth = [label_of(a) for a in labels]
        per_file[name] = {}
        for tool, fn in TOOLS.items():
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = fn(path, strict)
            except Exception as exc:  # a tool that fails on a file gets every column wrong
                got = []
                misses[tool].append(f"{name}: failed ({type(exc).__name__}: {exc})"[:200])
            seconds[tool] += time.perf_counter() - t0
            right = total = 0
            for i, want in enumerate(truth):
                if want is None:
                    continue
                total += 1
                have = got[i] if i < len(got) else "absent"
                if have == want:
                    right += 1
                else:
                    misses[tool].append(f"{name}[{i}]: labelled {want}, got {have}")
            scores[tool][0] += right
            scores[tool][1] += total
            per_file[name][tool] = right / total if total else 1.0
    shares = {t: r / n for t, (r, n) in scores.items()}
    best_other = max(v for t, v in shares.items() if t != "apprentice")
    result = {
        "mapping": "strict" if strict else "ptype-convention",
        "columns_scored": scores["apprentice"][1],
        "accuracy": shares,
        "correct": {t: r for t, (r, _) in scores.items()},
        "seconds": seconds,
        "per_file": per_file,
        "best_other": best_other,
        "margin_points": 100 * (shares["apprentice"] - best_other),
        "goal_met": shares["apprentice"] >= GOAL
        and shares["apprentice"] - best_other >= GOAL_MARGIN,
        "misses": misses if verbose else {"apprentice": misses["apprentice"]},
    }
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strict", action="store_true", help="score formatted numbers as numbers")
    ap.add_argument("--verbose", action="store_true", help="list every tool's misses")
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = ap.parse_args(argv)
    res = run(strict=args.strict, verbose=args.verbose)
    print(
        f"type inference on {res['columns_scored']} annotated ptype columns "
        f"({res['mapping']} mapping)"
    )
    for tool, acc in sorted(res["accuracy"].items(), key=lambda kv: -kv[1]):
        print(
            f"  {tool:24s} {acc:7.1%}  ({res['correct'][tool]}/{res['columns_scored']}, "
            f"{res['seconds'][tool]:.1f} s)"
        )
    print(
        f"  apprentice - best other: {res['margin_points']:+.1f} points; goal (>= 95% and >= +10): "
        + ("met" if res["goal_met"] else "NOT met")
    )
    for tool, miss in res["misses"].items():
        if miss:
            print(f"  {tool} misses ({len(miss)}):")
            for m in miss:
                print(f"    {m}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
