"""A large prediction log for the dashboard test and benchmark: ``n`` rows as the server writes
them (through the log's own schema, so the database keeps the per-minute aggregates), spread
evenly over ``days`` up to now, with random latencies and feedback on a third of them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

INSERT_P = (
    "INSERT INTO predictions (request_id, created_at, model_version, endpoint, inputs, "
    "features, prediction, probabilities, latency_ms) VALUES (?,?,?,?,?,?,?,?,?)"
)
INSERT_F = "INSERT INTO feedback (request_id, created_at, model_version, actual) VALUES (?,?,?,?)"


def big_log(
    path: Path,
    records: Sequence[dict[str, Any]],
    labels: Sequence[Any],
    *,
    n: int,
    days: float = 10.0,
    seed: int = 0,
    chunk: int = 50_000,
) -> str:
    """Write the log at ``path`` (SQLite) and return its URL."""
    from apprentice.serve.log import migrate

    url = f"sqlite:///{path}"
    migrate(url)
    rng = np.random.default_rng(seed)
    texts = [json.dumps(r) for r in records]
    actual = [json.dumps(v) for v in labels]
    start = datetime.now(UTC) - timedelta(days=days)
    step = days * 86400.0 / n
    latencies = rng.gamma(2.0, 0.6, n)
    with sqlite3.connect(path) as conn:
        for lo in range(0, n, chunk):
            predictions, feedback = [], []
            for i in range(lo, min(n, lo + chunk)):
                at = (start + timedelta(seconds=i * step)).isoformat(timespec="microseconds")
                rid = f"{i:032x}"
                k = i % len(texts)
                predictions.append(
                    (rid, at, "v1", "predict", texts[k], "{}", '"x"', None, float(latencies[i]))
                )
                if i % 3 == 0:
                    feedback.append((rid, at, "v1", actual[k]))
            conn.executemany(INSERT_P, predictions)
            conn.executemany(INSERT_F, feedback)
            conn.commit()
    return url
