"""apprentice alone on design tables of the AutoML suite at several budgets: does more time buy
accuracy? The same split, training call and scoring as ``benchmarks/automl.py`` (seed 0), run
in this process with the apprentice that ``PYTHONPATH`` selects, so that two versions can run
side by side on the same core under the same load::

    PYTHONPATH=src python benchmarks/automl_budgets.py --tables islp_wage,wd_charity \\
        --budgets 60,300 --tag after

One line per (table, budget): the test score, the fit seconds, the champion and the median
single-row latency through the bundle. ``--data`` is the folder of the suite's CSVs
(default: ``benchmarks/_out/automl_suite``, written by ``benchmarks/automl_suite.py``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _automl_runner
import automl


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", required=True, help="comma-separated design tables")
    parser.add_argument("--budgets", default="60,300")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="", help="a label printed on each line")
    parser.add_argument("--data", type=Path, default=automl.SUITE_DATA)
    args = parser.parse_args(argv)
    automl.SUITE_DATA = args.data
    names = [t for t in args.tables.split(",") if t]
    for table in automl.suite_tables("automl", "design", names):
        for budget in (float(b) for b in args.budgets.split(",")):
            workdir = Path(tempfile.mkdtemp(prefix="automl-budgets-"))
            try:
                job = automl.prepare(table, args.seed, workdir)
                job.update(budget=budget, seed=args.seed, workdir=str(workdir / "apprentice"))
                out = _automl_runner.run_apprentice(job)
                truth, pred = automl.aligned(job, out)
                score = automl.metric_value(job["task"], truth, pred)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print(
                f"{args.tag} {table['name']} budget {budget:g}: {job['metric']} {score:.5f} "
                f"fit {out['fit_seconds']:.1f} s champion {out['champion']} "
                f"latency {out['latency_ms_median']:.3f} ms",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
