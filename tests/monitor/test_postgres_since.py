"""``apprentice monitor --since`` on a prediction log in a real PostgreSQL server (installed
and started by the test setup on loopback; skipped with the reason where that is impossible).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from apprentice.cli import app
from tests.monitor.conftest import Monitored

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_log(monitored: Monitored, postgres_url: str) -> str:
    """A fresh database holding 1,000 requests of the last two days (half with feedback)
    and 300 older ones (ten days ago) that ``--since 7d`` must leave out."""
    from sqlalchemy import create_engine, text

    from apprentice.serve.log import migrate, open_store

    name = f"monitor_{uuid.uuid4().hex[:10]}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    rows = monitored.current.drop(columns=["income"]).to_dict(orient="records")
    now = datetime.now(UTC)
    rng = np.random.default_rng(0)
    predictions, feedback = [], []
    for i, record in enumerate(rows[:1000] + rows[:300]):
        recent = i < 1000
        at = (
            now - timedelta(hours=48) + timedelta(minutes=2.8 * i)
            if recent
            else now - timedelta(days=10, minutes=i)
        )
        rid = f"r{i}"
        predictions.append(
            (rid, at, "1", "/predict", json.dumps(record), "{}", '"x"', None, rng.gamma(2, 3))
        )
        if i % 2 == 0:
            actual = monitored.current["income"].iloc[i % 1000]
            feedback.append((rid, at, "1", json.dumps(actual)))
    store = open_store(url)
    try:
        store.insert(predictions, feedback)
    finally:
        store.close()
    return url


def test_monitor_since_on_postgres(monitored: Monitored, pg_log: str) -> None:
    from apprentice.serve.log import count_rows

    assert count_rows(pg_log) == 1300
    out = CliRunner().invoke(
        app,
        ["monitor", "--model", str(monitored.path), "--since", "7d", "--db-url", pg_log,
         "--json", "--window", "12h"],
    )  # fmt: skip
    assert out.exit_code in (0, 1), out.output
    payload = json.loads(out.stdout)
    assert payload["rows"] == 1000  # the 300 older rows are outside the period
    windows = payload["performance"]["windows"]
    assert windows and sum(w["rows"] for w in windows) == 500


def test_an_empty_period_on_postgres_is_an_error(monitored: Monitored, pg_log: str) -> None:
    out = CliRunner().invoke(
        app, ["monitor", "--model", str(monitored.path), "--since", "1s", "--db-url", pg_log]
    )
    assert out.exit_code == 2
    assert "Traceback" not in out.output
