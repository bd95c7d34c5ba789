"""Repair: does cleaning fix format-only errors and leave clean cells alone?

Data: ``../shared/data/dirty/{beers,hospital}``: ``dirty.csv`` and a cell-aligned
``clean.csv`` (same rows and columns in the same order; header names may differ, so columns
are matched by position).

Every cell is classified from the two texts alone, independently of any cleaner:

* clean cell: dirty text == clean text;
* format-only dirty cell: the texts differ but carry the same value: a missing-value word
  (``N/A``, ``NA``, ``null``, ...) where the clean cell is empty; or the clean text is a plain
  number and the dirty text holds that same number and no other digit, with decoration around
  it (``12.0 oz``, ``12.0 oz. Alumi-Tek``, ``0.09%``, ``$1,234``); or the texts differ only in
  surrounding whitespace or letter case;
* any other dirty cell (typos such as ``birminghxm``, values moved between columns): not
  scored, counted.

A cleaned value *equals* a clean text when: the clean text is empty (or itself a missing-value
word such as ``empty``) and the value is missing; or the value is a number and the clean text
holds that number (``37 patients`` = 37; ``100%`` = 100 or 1.0, since both readings of a
percent are legitimate and the ledger records which was chosen); or the value is a boolean
and the clean text a yes/no word of the same truth; or the value's text is the clean text.

Scores: repaired = share of format-only dirty cells whose cleaned value equals the clean
text; unchanged = share of clean cells whose cleaned value equals their text (goal >= 99.9%).
pandas (``read_csv`` defaults) and skrub (``Cleaner`` on that frame) are scored the same way.

Usage::

    .venv/bin/python benchmarks/repair.py [--verbose] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DIRTY = REPO / ".." / "shared" / "data" / "dirty"
DATASETS = ("beers", "hospital")
GOAL_UNCHANGED = 0.999

NA_WORDS = {"", "n/a", "na", "null", "none", "nan", "-", "--", "?", "missing", "empty", "#n/a"}
TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
_NUM = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+")


def plain_number(text: str) -> float | None:
    try:
        v = float(text.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def single_number(text: str) -> float | None:
    """The one number written in ``text`` with non-digit decoration around it, else None."""
    found = _NUM.findall(text)
    if len(found) != 1:
        return None
    rest = text.replace(found[0], "", 1)
    if any(c.isdigit() for c in rest):
        return None
    return float(found[0].replace(",", ""))


def format_only(dirty: str, clean: str) -> bool:
    if dirty.strip() == clean.strip() or dirty.strip().casefold() == clean.strip().casefold():
        return True
    if clean.strip() == "":
        return dirty.strip().casefold() in NA_WORDS
    c = plain_number(clean)
    if c is None:
        return False
    d = single_number(dirty)
    return d is not None and math.isclose(d, c, rel_tol=1e-9, abs_tol=1e-12)


def is_missing(v: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def equivalent(value: Any, clean: str) -> bool:
    text = clean.strip()
    if is_missing(value):
        return text.casefold() in NA_WORDS
    if text == "":
        return False
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        word = text.casefold()
        return (word in TRUE_WORDS) if bool(value) else (word in FALSE_WORDS)
    if isinstance(value, (int, float)) or type(value).__name__.startswith(("float", "int")):
        v = float(value)
        c = plain_number(text)
        candidates = [c] if c is not None else []
        if c is None:
            n = single_number(text)
            if n is not None:
                candidates = [n, n / 100.0] if "%" in text else [n]
        return any(math.isclose(v, x, rel_tol=1e-9, abs_tol=1e-12) for x in candidates)
    if hasattr(value, "isoformat"):
        import pandas as pd

        try:
            return bool(pd.Timestamp(text) == pd.Timestamp(value))
        except (ValueError, TypeError):
            return False
    return str(value) == text


def _apprentice(path: Path) -> Any:
    import apprentice
    from apprentice.clean import clean_table

    rr = apprentice.read(path)
    return clean_table(rr).table


def _pandas(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path)


def _skrub(path: Path) -> Any:
    import pandas as pd
    import skrub

    df = pd.read_csv(path)
    out = skrub.Cleaner().fit_transform(df)
    return out.reindex(columns=df.columns)


TOOLS = {"apprentice": _apprentice, "pandas": _pandas, "skrub": _skrub}


def score(verbose: bool = False) -> dict[str, Any]:
    import pandas as pd

    results: dict[str, Any] = {"datasets": {}, "totals": {}}
    totals = {t: {"fixed": 0, "format_only": 0, "kept": 0, "clean": 0} for t in TOOLS}
    for name in DATASETS:
        dirty_path = DIRTY / name / "dirty.csv"
        dtext = pd.read_csv(dirty_path, dtype=str, keep_default_na=False)
        ctext = pd.read_csv(DIRTY / name / "clean.csv", dtype=str, keep_default_na=False)
        assert dtext.shape == ctext.shape, (name, dtext.shape, ctext.shape)
        kinds = {"clean": 0, "format_only": 0, "other": 0}
        cells: list[tuple[int, int, str]] = []
        for j in range(dtext.shape[1]):
            for i, (d, c) in enumerate(zip(dtext.iloc[:, j], ctext.iloc[:, j], strict=True)):
                kind = "clean" if d == c else ("format_only" if format_only(d, c) else "other")
                kinds[kind] += 1
                if kind != "other":
                    cells.append((i, j, kind))
        ds: dict[str, Any] = {"cells": kinds, "tools": {}}
        for tool, fn in TOOLS.items():
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = fn(dirty_path)
            secs = time.perf_counter() - t0
            if table.shape != dtext.shape:
                ds["tools"][tool] = {"error": f"shape {table.shape} != {dtext.shape}"}
                continue
            fixed = kept = 0
            wrong: list[str] = []
            columns = [table.iloc[:, j].tolist() for j in range(table.shape[1])]
            for i, j, kind in cells:
                ok = equivalent(columns[j][i], ctext.iat[i, j])
                if kind == "format_only":
                    fixed += ok
                else:
                    kept += ok
                if not ok and len(wrong) < 40:
                    wrong.append(
                        f"{kind} row {i} col {dtext.columns[j]!r}: dirty {dtext.iat[i, j]!r} "
                        f"clean {ctext.iat[i, j]!r} -> {columns[j][i]!r}"
                    )
            entry = {
                "repaired": fixed / kinds["format_only"] if kinds["format_only"] else None,
                "unchanged": kept / kinds["clean"] if kinds["clean"] else None,
                "fixed": fixed,
                "kept": kept,
                "seconds": secs,
            }
            if verbose or tool == "apprentice":
                entry["wrong_examples"] = wrong
            ds["tools"][tool] = entry
            totals[tool]["fixed"] += fixed
            totals[tool]["format_only"] += kinds["format_only"]
            totals[tool]["kept"] += kept
            totals[tool]["clean"] += kinds["clean"]
        results["datasets"][name] = ds
    for tool, t in totals.items():
        results["totals"][tool] = {
            "repaired": t["fixed"] / t["format_only"] if t["format_only"] else None,
            "unchanged": t["kept"] / t["clean"] if t["clean"] else None,
            **t,
        }
    a = results["totals"]["apprentice"]
    results["goal_met"] = a["unchanged"] is not None and a["unchanged"] >= GOAL_UNCHANGED
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", action="store_true", help="show wrong cells of every tool")
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = ap.parse_args(argv)
    res = score(verbose=args.verbose)
    for name, ds in res["datasets"].items():
        k = ds["cells"]
        print(
            f"{name}: {k['format_only']:,} format-only dirty cells, {k['clean']:,} clean cells, "
            f"{k['other']:,} other dirty cells (typos, moved values: not scored)"
        )
        for tool, e in ds["tools"].items():
            if "error" in e:
                print(f"  {tool:11s} {e['error']}")
                continue
            rep = "n/a" if e["repaired"] is None else f"{e['repaired']:.2%}"
            print(
                f"  {tool:11s} repaired {rep:>8s}   unchanged {e['unchanged']:.3%}   "
                f"({e['seconds']:.2f} s)"
            )
    print("all datasets:")
    for tool, t in res["totals"].items():
        print(
            f"  {tool:11s} repaired {t['repaired']:.2%} ({t['fixed']:,}/{t['format_only']:,})   "
            f"unchanged {t['unchanged']:.3%} ({t['kept']:,}/{t['clean']:,})"
        )
    print("goal (apprentice unchanged >= 99.9%): " + ("met" if res["goal_met"] else "NOT met"))
    for name, ds in res["datasets"].items():
        for tool, e in ds["tools"].items():
            for w in e.get("wrong_examples", [])[:25]:
                print(f"  [{name} {tool}] {w}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
