"""The dashboard on a large log: volume and latency from the database's per-minute aggregates
(exact, whatever the log's size), drift and alerts from the newest rows; an old (version 1)
log gets its aggregates back-filled by the migration."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from apprentice.bundle import load_bundle
from apprentice.monitor.dashboard import dashboard_html
from apprentice.monitor.log import LATENCY_EDGES, read_windows
from apprentice.serve.log import migrate
from tests.monitor._biglog import big_log
from tests.monitor.conftest import Monitored

N = 60_000


@pytest.fixture(scope="module")
def log_url(monitored: Monitored, tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = monitored.current.drop(columns=["income"])
    path = tmp_path_factory.mktemp("big") / "predictions.sqlite"
    return big_log(path, rows.to_dict(orient="records"), monitored.current["income"].tolist(), n=N)


def _sqlite(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _recount(url: str) -> dict[tuple[str, str, int], int]:
    """The aggregates computed from scratch in Python from every logged row."""
    out: dict[tuple[str, str, int], int] = {}
    with sqlite3.connect(_sqlite(url)) as conn:
        for at, version, ms in conn.execute(
            "SELECT created_at, model_version, latency_ms FROM predictions"
        ):
            key = (at[:16], version, sum(ms >= e for e in LATENCY_EDGES))
            out[key] = out.get(key, 0) + 1
    return out


def test_aggregates_match_the_rows(log_url: str) -> None:
    found = {(m, v, b): n for m, v, b, n in read_windows(log_url)}
    assert sum(found.values()) == N
    assert found == _recount(log_url)


def test_dashboard_counts_every_prediction(monitored: Monitored, log_url: str) -> None:
    page = dashboard_html(log_url, load_bundle(monitored.path), max_rows=2_000)
    assert f"{N:,} predictions in the last 30d" in page
    assert "from the newest 2,000" in page
    volume = page[page.index('id="volume"') : page.index('id="latency"')]
    counts = [
        float(v.replace(",", "")) for v in re.findall(r"<title>[^<]*: ([0-9.,e+]+)</title>", volume)
    ]
    assert sum(counts) == N and len(counts) >= 8
    for section in ("latency", "drift-time", "drift", "performance", "alerts"):
        assert f'id="{section}"' in page
    assert "<script" not in page


def test_old_log_is_backfilled(log_url: str, tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(_sqlite(log_url)) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    with sqlite3.connect(path) as conn:  # back to schema version 1: no aggregates
        conn.execute("DROP TRIGGER predictions_windows")
        conn.execute("DROP TABLE prediction_windows")
        conn.execute("UPDATE apprentice_log_schema SET version = 1")
    url = f"sqlite:///{path}"
    migrate(url)
    assert {(m, v, b): n for m, v, b, n in read_windows(url)} == _recount(log_url)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM apprentice_log_schema").fetchall() == [(2,)]
