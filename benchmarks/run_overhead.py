"""What ``apprentice run`` costs beyond training, on the bundled Adult table.

The goal (issue "the main job"): with a 60 s training budget, the time spent outside training
after it (evaluation on the holdout, explanations, fairness, tracking and registration, the
report) is at most 15% of the training time. The script runs the whole job in this process,
in a fresh workspace, ``--runs`` times in a row (the first run creates the MLflow SQLite store,
the later ones find it), and prints per run:

- each stage's seconds (read, clean, guard, train, evaluate, explain, fairness, register,
  report) and the wall time of the whole call;
- **after training**: wall time from the end of training to the end of the call (everything
  the issue counts, MLflow's closing uploads included), and its share of the training time;
- **before training**: read, clean and guard (reading and cleaning the file once for the
  ledger and schema; importing the learners), reported for completeness;
- peak resident memory of the process (``ru_maxrss``), CPU seconds (all, and after
  training), and the load average: on a shared machine the training stage takes its budget
  whatever the load, while the work after it slows down with the load, so read the share
  together with the load average and the CPU seconds after training.

    .venv/bin/python benchmarks/run_overhead.py                  # 60 s budget, 2 runs
    .venv/bin/python benchmarks/run_overhead.py --time-budget 30 --runs 1

Exit status 1 when a run's after-training share exceeds ``--max-share`` (default 0.15).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from apprentice.config import Settings  # noqa: E402
from apprentice.data import demo_dataset  # noqa: E402
from apprentice.workflows.run import STAGES, RunObserver, run  # noqa: E402

AFTER = ("evaluate", "explain", "fairness", "register", "report")
BEFORE = ("read", "clean", "guard")


class Clock(RunObserver):
    """Wall-clock marks of every stage."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def stage_started(self, stage: str, *, budget: float | None = None) -> None:
        self.started[stage] = time.monotonic()
        self.cpu[f"{stage}_start"] = _cpu()

    def stage_finished(self, stage: str, seconds: float, summary: str = "") -> None:
        self.finished[stage] = time.monotonic()
        self.cpu[f"{stage}_end"] = _cpu()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def one_run(workspace: Path, budget: float, sensitive: list[str], seed: int) -> dict[str, Any]:
    clock = Clock()
    cpu0 = _cpu()
    t0 = time.monotonic()
    result = run(
        demo_dataset(),
        target="income",
        sensitive=sensitive,
        name="adult-income",
        time_budget=budget,
        seed=seed,
        settings=Settings(workspace=workspace, tracking_uri=None),
        observer=clock,
    )
    wall = time.monotonic() - t0
    cpu1 = _cpu()
    stages = {
        s: round(clock.finished[s] - clock.started[s], 2) for s in STAGES if s in clock.finished
    }
    train_s = stages["train"]
    after = (t0 + wall) - clock.finished["train"]
    before = clock.started["train"] - t0
    return {
        "run_id": result.run_id,
        "version": (result.model or {}).get("version"),
        "alias": (result.model or {}).get("alias"),
        "champion": result.champion,
        "members": [
            f"{m.get('name', m.get('kind'))}:{m.get('kind')}"
            for m in (result.load_bundle().manifest.get("model") or {}).get("members", [])
        ],
        "explain_method": (result.explain or {}).get("method"),
        "holdout": result.metrics.get("roc_auc"),
        "stages_s": stages,
        "wall_s": round(wall, 2),
        "train_s": train_s,
        "after_training_s": round(after, 2),
        "after_share": round(after / train_s, 4),
        "before_training_s": round(before, 2),
        "all_outside_share": round((wall - train_s) / train_s, 4),
        "cpu_s": round(cpu1 - cpu0, 1),
        "train_cpu_s": round(clock.cpu["train_end"] - clock.cpu["train_start"], 1),
        "after_cpu_s": round(cpu1 - clock.cpu["train_end"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-budget", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sensitive", default="sex,race,age")
    parser.add_argument("--max-share", type=float, default=0.15)
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "_out" / "run_overhead.json"
    )
    args = parser.parse_args()

    sensitive = [s for s in args.sensitive.split(",") if s]
    runs = []
    with tempfile.TemporaryDirectory(prefix="apprentice-run-overhead-") as folder:
        workspace = Path(folder) / "ws"
        for i in range(args.runs):
            runs.append(one_run(workspace, args.time_budget, sensitive, seed=i))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "commit": _commit(),
        "time_budget": args.time_budget,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_mib": round(peak_mib, 1),
        "runs": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")

    print(f"apprentice {report['commit']}, budget {args.time_budget:g} s, {report['cpus']} CPUs, "
          f"load {report['load_average']}")  # fmt: skip
    header = ["run", *STAGES, "wall", "after", "after/train", "before", "cpu", "after cpu"]
    print(" | ".join(header))
    for i, r in enumerate(runs, 1):
        cells = [f"{i} ({'new store' if i == 1 else 'store exists'})"]
        cells += [f"{r['stages_s'].get(s, 0):.1f}" for s in STAGES]
        cells += [
            f"{r['wall_s']:.1f}",
            f"{r['after_training_s']:.1f}",
            f"{100 * r['after_share']:.1f}%",
            f"{r['before_training_s']:.1f}",
            f"{r['cpu_s']:.0f}",
            f"{r['after_cpu_s']:.1f}",
        ]
        print(" | ".join(cells))
    print(f"peak resident memory: {report['peak_rss_mib']:.0f} MiB")
    worst = max(r["after_share"] for r in runs)
    verdict = "PASS" if worst <= args.max_share else "FAIL"
    print(f"{verdict}: after-training time is at most {100 * worst:.1f}% of training time "
          f"(goal <= {100 * args.max_share:.0f}%)")  # fmt: skip
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
