"""Type inference: apprentice against pandas, skrub and DuckDB on hand-annotated columns.

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

Holdout set (``--holdout``): ``data/types_holdout.json``, 469 columns (458 scored) of 29 tables
of ``../shared/data/tables/`` and ``../shared/data/dirty/{beers,hospital}`` that the inference
rules were not designed on, labelled in ptype's vocabulary and conventions from their raw text
before any tool was run on them (the file's header states the protocol; the commit history
shows the order). Tables that are ptype's own files under another name are left out. Large
files and the Parquet file are scored on a seeded 20,000-row sample written as CSV text.
pandas and skrub get the manifest's ``read_csv`` options (the TSV's ``sep``/``quoting``),
DuckDB its ``sep``; apprentice detects them. Each column also may carry an
``also_acceptable`` label (a second reading a careful annotator could defend: whole numbers
written ``1527.0``, 0/1 flags, Yes/No plus a not-applicable value); the headline uses the
first label, and the score that accepts either is printed beside it. Same mappings, same
``--strict``.

Usage::

    .venv/bin/python benchmarks/types.py [--holdout] [--strict] [--verbose] [--json OUT.json]
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


def pandas_types(path: object, convert: bool, read: dict[str, object] | None = None) -> list[str]:
    import pandas as pd

    df = pd.read_csv(path, encoding=_encoding(path), **(read or {}))
    if convert:
        df = df.convert_dtypes()
    return [_from_dtype(t) for t in df.dtypes]


def skrub_types(path: object, read: dict[str, object] | None = None) -> list[str]:
    import pandas as pd
    import skrub

    df = pd.read_csv(path, encoding=_encoding(path), **(read or {}))
    cleaned = skrub.Cleaner().fit_transform(df)
    return [
        _from_dtype(cleaned[c].dtype) if c in cleaned.columns else "dropped" for c in df.columns
    ]


def duckdb_types(path: object, read: dict[str, object] | None = None) -> list[str]:
    import duckdb

    enc = _encoding(path)
    con = duckdb.connect()
    options: dict[str, object] = {}
    if read and "sep" in read:
        options["sep"] = read["sep"]
    rel = con.read_csv(str(path), encoding="latin-1" if enc == "cp1252" else "utf-8", **options)
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
    "apprentice": lambda p, strict, read: apprentice_types(p, strict),
    "pandas": lambda p, strict, read: pandas_types(p, convert=False, read=read),
    "pandas+convert_dtypes": lambda p, strict, read: pandas_types(p, convert=True, read=read),
    "skrub": lambda p, strict, read: skrub_types(p, read=read),
    "duckdb": lambda p, strict, read: duckdb_types(p, read=read),
}


HOLDOUT = os.path.join(_HERE, "data", "types_holdout.json")
SHARED = os.path.join(os.path.dirname(_HERE), "..", "shared", "data")


class Case:
    """One annotated file: where it is, how pandas must read it, and its per-column labels."""

    def __init__(
        self,
        name: str,
        path: object,
        truth: list[str | None],
        also: list[str | None] | None = None,
        read: dict[str, object] | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.truth = truth
        self.also = also or [None] * len(truth)
        self.read = read or {}


def ptype_cases() -> list[Case]:
    import json
    from pathlib import Path

    root = Path(PTYPE)
    annotations = json.loads((root / "annotations" / "annotations.json").read_text())
    return [
        Case(name, root / "data" / f"{name}.csv", [label_of(a) for a in labels])
        for name, labels in annotations.items()
    ]


def holdout_cases(workdir: object) -> list[Case]:
    """The hand-annotated holdout set of ``data/types_holdout.json``.

    Files marked with ``sample_rows`` (large ones, and the Parquet file, whose types would
    otherwise come from the file itself) are replaced by a seeded random sample of their rows,
    written as CSV text under ``workdir``; every tool reads that same file.
    """
    import json
    from pathlib import Path

    import pandas as pd

    doc = json.loads(Path(HOLDOUT).read_text())
    out = []
    for name, entry in doc["files"].items():
        path = Path(SHARED) / entry["path"]
        read = dict(entry.get("read_csv", {}))
        if "sample_rows" in entry:
            if path.suffix == ".parquet":
                df = pd.read_parquet(path)
            else:
                df = pd.read_csv(path, dtype=str, keep_default_na=False, **read)
            df = df.sample(n=min(entry["sample_rows"], len(df)), random_state=0).sort_index()
            path = Path(str(workdir)) / (name.split(".")[0] + ".csv")
            df.to_csv(path, index=False)
            read = {}
        cols = entry["columns"]
        out.append(
            Case(
                name,
                path,
                [label_of(c["label"]) for c in cols],
                [c.get("also_acceptable") for c in cols],
                read,
            )
        )
    return out


def score(cases: list[Case], strict: bool = False, verbose: bool = False) -> dict[str, object]:
    """Run every tool on every case and score its column types against the labels."""
    import time
    import warnings

    scores: dict[str, list[int]] = {t: [0, 0, 0] for t in TOOLS}  # right, either, total
    misses: dict[str, list[str]] = {t: [] for t in TOOLS}
    seconds: dict[str, float] = {t: 0.0 for t in TOOLS}
    per_file: dict[str, dict[str, float]] = {}
    for case in cases:
        per_file[case.name] = {}
        for tool, fn in TOOLS.items():
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = fn(case.path, strict, case.read)
            except Exception as exc:  # a tool that fails on a file gets every column wrong
                got = []
                misses[tool].append(f"{case.name}: failed ({type(exc).__name__}: {exc})"[:200])
            seconds[tool] += time.perf_counter() - t0
            right = either = total = 0
            for i, want in enumerate(case.truth):
                if want is None:
                    continue
                total += 1
                have = got[i] if i < len(got) else "absent"
                if have == want:
                    right += 1
                    either += 1
                    continue
                alt = case.also[i]
                if have == alt:
                    either += 1
                misses[tool].append(
                    f"{case.name}[{i}]: labelled {want}"
                    + (f" (or {alt})" if alt else "")
                    + f", got {have}"
                )
            scores[tool][0] += right
            scores[tool][1] += either
            scores[tool][2] += total
            per_file[case.name][tool] = right / total if total else 1.0
    shares = {t: r / n for t, (r, _, n) in scores.items()}
    lenient = {t: e / n for t, (_, e, n) in scores.items()}
    best_other = max(v for t, v in shares.items() if t != "apprentice")
    return {
        "mapping": "strict" if strict else "ptype-convention",
        "columns_scored": scores["apprentice"][2],
        "accuracy": shares,
        "correct": {t: r for t, (r, _, _) in scores.items()},
        "accuracy_accepting_alternatives": lenient,
        "seconds": seconds,
        "per_file": per_file,
        "best_other": best_other,
        "margin_points": 100 * (shares["apprentice"] - best_other),
        "goal_met": shares["apprentice"] >= GOAL
        and shares["apprentice"] - best_other >= GOAL_MARGIN,
        "misses": misses if verbose else {"apprentice": misses["apprentice"]},
    }


def run(strict: bool = False, verbose: bool = False, holdout: bool = False) -> dict[str, object]:
    import tempfile

    if not holdout:
        res = score(ptype_cases(), strict, verbose)
        res["dataset"] = "ptype"
        return res
    with tempfile.TemporaryDirectory(prefix="types-holdout-") as tmp:
        res = score(holdout_cases(tmp), strict, verbose)
    res["dataset"] = "holdout"
    return res


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strict", action="store_true", help="score formatted numbers as numbers")
    ap.add_argument("--verbose", action="store_true", help="list every tool's misses")
    ap.add_argument(
        "--holdout",
        action="store_true",
        help="score the hand-annotated holdout set (data/types_holdout.json) instead of ptype",
    )
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = ap.parse_args(argv)
    res = run(strict=args.strict, verbose=args.verbose, holdout=args.holdout)
    print(
        f"type inference on {res['columns_scored']} annotated {res['dataset']} columns "
        f"({res['mapping']} mapping)"
    )
    lenient = res["accuracy_accepting_alternatives"]
    for tool, acc in sorted(res["accuracy"].items(), key=lambda kv: -kv[1]):
        print(
            f"  {tool:24s} {acc:7.1%}  ({res['correct'][tool]}/{res['columns_scored']}, "
            f"{res['seconds'][tool]:.1f} s)"
            + (f"  accepting the alternative labels: {lenient[tool]:.1%}" if args.holdout else "")
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
