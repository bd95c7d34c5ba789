"""PII detection: column-level precision and recall on a labelled set of real columns.

Data: ``data/pii/columns.json``: 293 columns (84 PII of nine kinds, 209 look-alikes: floats,
hours, clock times, codes, product ids, zip codes, counts, category labels, free text),
each with at most 200 of its cells, its label and its source; ``data/pii/build.py`` says how
it was made and what each label means. ``data/pii/split.json`` splits it once, at random,
into a design half (the detector's rules were tuned on it) and a held-out half (never looked
at while tuning); both are reported.

Each column is given to :func:`apprentice.guard.detect_pii` alone, under its own name, in
two views, as the two callers in the pipeline see it:

* ``text``: the cells as read (strings), as the clean workflow scans them;
* ``typed``: the same cells after the clean stage's recipe (numbers as floats, dates as
  datetimes ...), as the train workflow scans its typed frame.

A column is *predicted PII* when the report lists it in ``pii_columns`` (a high or medium
finding: excluded from the features). Precision and recall are column-level, PII against
not PII; per kind, a PII column counts as found for its kind when the report's main kind for
it is that kind. *Flagged* adds the low-confidence findings (examples redacted, column kept):
a look-alike flagged low is reported as a false flag. Goal: precision and recall >= 95% on
both halves, both views.

The cost per column (median and worst, text view) is printed too; it is measured on whatever
else the machine is doing, so read it as an order of magnitude. ``--wide COLUMNS`` times
:func:`detect_pii` on one generated table of ``--rows`` rows and that many columns instead
(half floats, a fifth integers, a fifth short labels, a tenth free text with numbers in it;
as text cells, the way the clean workflow scans them) and prints the time per column.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/pii.py [--verbose] [--json OUT.json]
    PYTHONPATH=src .venv/bin/python benchmarks/pii.py --wide 10000 --rows 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "pii"


def load() -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    columns = json.loads((DATA / "columns.json").read_text(encoding="utf-8"))
    split = json.loads((DATA / "split.json").read_text(encoding="utf-8"))
    return columns, split


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    from apprentice.bundle.cleaning import as_text_frame, cleaner_class

    cls = cleaner_class()
    if cls is None:  # pragma: no cover - the clean stage ships with apprentice
        return frame
    return cls().fit_transform(as_text_frame(frame))


def predict(column: dict[str, Any], view: str) -> tuple[str | None, str | None, float]:
    """(kind if PII, kind if flagged at any confidence, seconds) for one column."""
    from apprentice.guard import detect_pii

    frame = pd.DataFrame({column["column"]: pd.Series(column["values"], dtype="object")})
    if view == "typed":
        frame = _typed(frame)
    start = time.perf_counter()
    report = detect_pii(frame)
    seconds = time.perf_counter() - start
    name = str(frame.columns[0])
    return report.pii_columns.get(name), report.kind_of(name), seconds


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.1%} ({a}/{b})" if b else "n/a"


def score(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    tp = sum(1 for r in rows if r["label"] != "none" and r["pii"])
    fp = sum(1 for r in rows if r["label"] == "none" and r["pii"])
    fn = sum(1 for r in rows if r["label"] != "none" and not r["pii"])
    flagged_fp = sum(1 for r in rows if r["label"] == "none" and r["flagged"])
    kinds: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["label"] != "none":
            k = kinds.setdefault(r["label"], {"n": 0, "found": 0, "predicted": 0, "right": 0})
            k["n"] += 1
            k["found"] += int(r["pii"] == r["label"])
        if r["pii"]:
            k = kinds.setdefault(r["pii"], {"n": 0, "found": 0, "predicted": 0, "right": 0})
            k["predicted"] += 1
            k["right"] += int(r["pii"] == r["label"])
    return {
        "columns": len(rows),
        "pii": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "precision_text": _ratio(tp, tp + fp),
        "recall_text": _ratio(tp, tp + fn),
        "false_flags": flagged_fp,
        "look_alikes": sum(1 for r in rows if r["label"] == "none"),
        "kinds": kinds,
    }


def wide(columns: int, rows: int) -> int:
    import numpy as np

    from apprentice.guard import detect_pii

    rng = np.random.default_rng(0)
    words = np.array(["lot", "item", "box", "red", "blue", "north", "south", "unit", "case"])
    data: dict[str, Any] = {}
    for i in range(columns):
        r = i % 10
        if r < 5:
            cells = [f"{v:.4f}" for v in rng.normal(100, 30, rows)]
        elif r < 7:
            cells = [str(v) for v in rng.integers(0, 10**9, rows)]
        elif r < 9:
            cells = list(rng.choice(words[:4], rows))
        else:
            cells = [
                f"{' '.join(rng.choice(words, 4))} {rng.integers(0, 10**5)}" for _ in range(rows)
            ]
        data[f"c{i}"] = cells
    frame = pd.DataFrame(data, dtype="object")
    start, cpu = time.perf_counter(), time.process_time()
    report = detect_pii(frame)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{rows:,} rows x {columns:,} columns: {seconds:.1f} s wall, {cpu:.1f} s CPU; "
        f"{seconds / columns * 1e3:.2f} ms wall and {cpu / columns * 1e3:.2f} ms CPU per "
        f"column; {len(report.findings)} findings (wall time on a shared, loaded machine)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list low flags on look-alikes too")
    parser.add_argument(
        "--held-out-errors",
        action="store_true",
        help="list the held-out half's errors too (not while tuning: that half is for scoring)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--wide", type=int, default=0, help="time a generated wide table")
    parser.add_argument("--rows", type=int, default=1000, help="rows of the --wide table")
    args = parser.parse_args(argv)
    if args.wide:
        return wide(args.wide, args.rows)

    columns, split = load()
    half_of = {cid: half for half, ids in split.items() for cid in ids}
    results: list[dict[str, Any]] = []
    for column in columns:
        for view in ("text", "typed"):
            pii, flagged, seconds = predict(column, view)
            results.append(
                {
                    "id": column["id"],
                    "column": column["column"],
                    "label": column["label"],
                    "origin": column["origin"],
                    "half": half_of[column["id"]],
                    "view": view,
                    "pii": pii,
                    "flagged": flagged,
                    "seconds": seconds,
                }
            )

    print("# PII detection: column-level precision and recall\n")
    print(
        f"{len(columns)} labelled columns ({sum(c['label'] != 'none' for c in columns)} PII), "
        "`benchmarks/data/pii/`; predicted PII = a high or medium finding.\n"
    )
    print("| half | view | columns | PII | precision | recall | look-alikes flagged low |")
    print("|---|---|---|---|---|---|---|")
    figures: dict[str, Any] = {}
    for half in ("design", "held_out"):
        for view in ("text", "typed"):
            rows = [r for r in results if r["half"] == half and r["view"] == view]
            s = score(rows)
            figures[f"{half}/{view}"] = s
            print(
                f"| {half} | {view} | {s['columns']} | {s['pii']} | {s['precision_text']} | "
                f"{s['recall_text']} | {s['false_flags']} of {s['look_alikes']} |"
            )
    print("\n## Per kind (both halves, text view / typed view)\n")
    print("| kind | columns | recall text | recall typed | precision text | precision typed |")
    print("|---|---|---|---|---|---|")
    by_view = {v: score([r for r in results if r["view"] == v])["kinds"] for v in ("text", "typed")}
    for kind in sorted(set(by_view["text"]) | set(by_view["typed"])):
        t = by_view["text"].get(kind, {"n": 0, "found": 0, "predicted": 0, "right": 0})
        y = by_view["typed"].get(kind, {"n": 0, "found": 0, "predicted": 0, "right": 0})
        print(
            f"| {kind} | {t['n']} | {_ratio(t['found'], t['n'])} | {_ratio(y['found'], y['n'])} "
            f"| {_ratio(t['right'], t['predicted'])} | {_ratio(y['right'], y['predicted'])} |"
        )
    times = sorted(r["seconds"] for r in results if r["view"] == "text")
    print(
        f"\nCost per column (text view, up to 200 cells): median {times[len(times) // 2] * 1e3:.1f}"
        f" ms, worst {times[-1] * 1e3:.1f} ms (on a shared, loaded machine)."
    )
    misses = [
        r
        for r in results
        if (r["half"] == "design" or args.held_out_errors)
        and (
            (r["label"] != "none") != bool(r["pii"])
            or (r["pii"] and r["pii"] != r["label"])
            or (args.verbose and r["label"] == "none" and r["flagged"])
        )
    ]
    if misses:
        which = "both halves" if args.held_out_errors else "design half only"
        print(f"\n## Errors ({which})\n")
        print("| id | half | view | column | label | predicted | flagged | origin |")
        print("|---|---|---|---|---|---|---|---|")
        for r in misses:
            print(
                f"| {r['id']} | {r['half']} | {r['view']} | {r['column']} | {r['label']} | "
                f"{r['pii'] or '-'} | {r['flagged'] or '-'} | {r['origin']} |"
            )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
