"""The demo: the whole lifecycle that exists so far, on the bundled Adult census table.

Read the messy file (dialect, encoding, quarantine), clean and guard it (types with
evidence, markers, merges, PII), train and evaluate under a time budget, write the bundle,
and predict raw rows with it. Each step returns its own result; the CLI prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from apprentice.bundle import TrainResult, train
from apprentice.data import demo_dataset
from apprentice.read import ReadResult, read
from apprentice.workflows.clean import CleanFileResult, clean_file

DEMO_TARGET = "income"

Step = Callable[[str], None]


@dataclass
class DemoResult:
    """Everything the demo did, step by step."""

    source: Path
    read: ReadResult
    cleaned: CleanFileResult
    trained: TrainResult
    predictions: pd.DataFrame


def run_demo(
    out: str | Path,
    *,
    time_budget: float = 30.0,
    step: Step | None = None,
    progress: Any = None,
) -> DemoResult:
    """Run the lifecycle on the bundled dataset; the bundle is written under ``out``."""
    say = step or (lambda _: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    source = demo_dataset()
    say("read")
    raw = read(source)
    say("clean")
    cleaned = clean_file(raw, target=DEMO_TARGET)
    cleaned.write(ledger=out / "ledger.json", schema=out / "schema.json")
    say("train")
    trained = train(
        raw, target=DEMO_TARGET, time_budget=time_budget, out=out / "bundle", progress=progress
    )
    say("predict")
    # five raw rows exactly as the file has them: leading spaces, '?' markers and all
    sample = raw.table.drop(columns=[DEMO_TARGET]).head(5)
    predictions = trained.bundle.predict_frame(sample)
    if not isinstance(predictions, pd.DataFrame):
        predictions = pd.DataFrame({"prediction": predictions})
    return DemoResult(source, raw, cleaned, trained, predictions)
