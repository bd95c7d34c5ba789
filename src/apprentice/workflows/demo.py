"""The demo: ``apprentice run`` on the bundled Adult census table, then raw rows predicted.

The whole main job on a real, messy file (leading spaces, ``?`` markers): read, clean, guard,
train under a time budget, evaluate with intervals and a paired test against the baseline,
explain, fairness on the demographic columns (sex, race, age), register in the workspace's
MLflow store and write the report and model card. Then five raw rows, exactly as the file has
them, go through the registered champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from apprentice.config import Settings
from apprentice.data import demo_dataset
from apprentice.workflows.run import RunObserver, RunResult, run

DEMO_TARGET = "income"
DEMO_SENSITIVE = ("sex", "race", "age")
DEMO_NAME = "adult-income"


@dataclass
class DemoResult:
    """What the demo did: the run, and the predictions of five raw rows."""

    source: Path
    run: RunResult
    rows: pd.DataFrame
    predictions: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "run": self.run.to_dict(),
            "predictions": self.predictions.to_dict(orient="records"),
        }


def run_demo(
    *,
    time_budget: float = 45.0,
    settings: Settings | None = None,
    tracking_uri: str | None = None,
    observer: RunObserver | None = None,
    **options: Any,
) -> DemoResult:
    """``apprentice run`` on the bundled table (keywords go to :func:`run`), then predict."""
    source = demo_dataset()
    result = run(
        source,
        target=DEMO_TARGET,
        sensitive=DEMO_SENSITIVE,
        name=DEMO_NAME,
        time_budget=time_budget,
        tracking_uri=tracking_uri,
        settings=settings,
        observer=observer,
        **options,
    )
    from apprentice.read import read

    # five raw rows exactly as the file has them: leading spaces, '?' markers and all
    rows = read(source, settings=settings).table.drop(columns=[DEMO_TARGET]).head(5)
    predictions = result.load_bundle().predict_frame(rows)
    return DemoResult(source=source, run=result, rows=rows, predictions=predictions)
