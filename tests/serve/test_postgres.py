"""The same prediction log against a real PostgreSQL server (installed and started by the
test setup on loopback; skipped with the reason where that is impossible)."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest

from tests.serve._live import check_log_under_load, live_server
from tests.serve._migrate import migrate
from tests.serve.conftest import Planted

pytestmark = pytest.mark.postgres


def _fresh_database(postgres_url: str) -> str:
    """A new database on the throwaway server, so runs never see each other's rows."""
    from sqlalchemy import create_engine, text

    name = f"serve_{uuid.uuid4().hex[:10]}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/" + name


def test_migrations_from_several_processes(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    url = _fresh_database(postgres_url)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=migrate, args=(url,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version FROM apprentice_log_schema")).all()
            assert [tuple(v) for v in versions] == [(2,)]
            conn.execute(text("SELECT request_id, inputs FROM predictions LIMIT 1")).all()
    finally:
        engine.dispose()


def test_postgres_log_under_load_and_sigterm(
    planted: Planted, postgres_url: str, tmp_path: Path
) -> None:
    url = _fresh_database(postgres_url)
    with live_server(planted.bundle, tmp_path / "ws", db_url=url, grace=10) as server:
        check_log_under_load(server, planted.records(400))
