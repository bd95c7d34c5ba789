"""The dashboard from the prediction log, ``monitor --since``, and the page in a real browser."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from apprentice.bundle import load_bundle
from apprentice.cli import app
from apprentice.monitor.dashboard import dashboard_html
from tests.monitor.conftest import Monitored


@pytest.fixture(scope="module")
def log_url(monitored: Monitored, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A prediction log as the server writes it: 1,000 requests over two days, half with
    feedback."""
    from apprentice.serve.log import migrate

    path = tmp_path_factory.mktemp("log") / "predictions.sqlite"
    url = f"sqlite:///{path}"
    migrate(url)
    rows = monitored.current.drop(columns=["income"])
    now = datetime.now(UTC)
    rng = np.random.default_rng(0)
    predictions, feedback = [], []
    for i, record in enumerate(rows.to_dict(orient="records")):
        at = (now - timedelta(hours=48) + timedelta(minutes=2.8 * i)).isoformat()
        rid = f"r{i}"
        predictions.append(
            (rid, at, "1", "/predict", json.dumps(record), "{}", '"x"', None, rng.gamma(2, 3))
        )
        if i % 2 == 0:
            feedback.append((rid, at, "1", json.dumps(monitored.current["income"].iloc[i])))
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO predictions (request_id, created_at, model_version, endpoint, inputs, "
            "features, prediction, probabilities, latency_ms) VALUES (?,?,?,?,?,?,?,?,?)",
            predictions,
        )
        conn.executemany(
            "INSERT INTO feedback (request_id, created_at, model_version, actual) VALUES (?,?,?,?)",
            feedback,
        )
    return url


def test_dashboard_page(monitored: Monitored, log_url: str) -> None:
    page = dashboard_html(log_url, load_bundle(monitored.path))
    for section in ("volume", "latency", "drift-time", "drift", "performance", "alerts"):
        assert f'id="{section}"' in page
    assert page.count('class="chart"') >= 5
    assert 'data-points="0"' not in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_monitor_since_reads_the_log(monitored: Monitored, log_url: str) -> None:
    out = CliRunner().invoke(
        app,
        ["monitor", "--model", str(monitored.path), "--since", "7d", "--db-url", log_url,
         "--json", "--window", "12h"],
    )  # fmt: skip
    assert out.exit_code in (0, 1), out.output
    payload = json.loads(out.stdout)
    assert payload["rows"] == 1000
    assert (
        payload["performance"]["windows"]
        and sum(w["rows"] for w in payload["performance"]["windows"]) == 500
    )


def test_empty_period_is_an_error(monitored: Monitored, log_url: str) -> None:
    out = CliRunner().invoke(
        app, ["monitor", "--model", str(monitored.path), "--since", "1s", "--db-url", log_url]
    )
    assert out.exit_code == 2


@pytest.mark.timeout(300)
def test_dashboard_in_a_real_browser(monitored: Monitored, log_url: str, tmp_path: Path) -> None:
    from tests.report.test_browser import ARGS, CHROMIUM, _install_chromium

    playwright_api = pytest.importorskip("playwright.sync_api")
    reason = _install_chromium()
    if reason is not None:
        pytest.skip(f"cannot run the browser test: {reason}")
    path = tmp_path / "dashboard.html"
    path.write_text(dashboard_html(log_url, load_bundle(monitored.path)), encoding="utf-8")
    with playwright_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        except Exception as exc:
            pytest.skip(f"chromium does not start: {str(exc).splitlines()[0]}")
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            assert page.locator("#status").inner_text() in ("ok", "alert")
            charts = page.locator("svg.chart")
            assert charts.count() >= 5
            for i in range(charts.count()):
                chart = charts.nth(i)
                assert int(chart.get_attribute("data-points") or 0) > 0
                assert chart.locator("circle, rect").count() > 0
                assert chart.bounding_box()["height"] > 0
            assert page.locator("#volume svg circle").count() >= 6  # 6-hour windows over 2 days
        finally:
            browser.close()
    outside = [r for r in requests if not r.startswith(("file://", "data:"))]
    assert requests and outside == [], outside


def test_dashboard_mounted_in_the_serving_app(
    monitored: Monitored, log_url: str, tmp_path: Path
) -> None:
    """The hook the server mounts: ``GET /dashboard`` answers the page from its own log."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from apprentice.serve.app import create_app

    app = create_app(monitored.path, database_url=log_url, workspace=tmp_path)
    with TestClient(app) as client:
        response = client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="volume"' in response.text and response.text.count('class="chart"') >= 5


def test_retrain_from_feedback(
    monitored: Monitored, log_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.workflows.retrain import retrain

    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))  # the challenger's run
    decision = retrain(
        str(monitored.path),
        from_feedback=True,
        db_url=log_url,
        base=monitored.reference.iloc[:2200],
        families=("linear",),
        n_boot=200,
    ).to_dict()
    assert decision["new_rows"] == 500  # the logged rows that got feedback
    assert decision["holdout_rows"] == 150  # the most recent 30%
    assert decision["decision"] in ("promote", "keep")


def test_monitor_since_exports_the_logged_rows(
    monitored: Monitored, log_url: str, tmp_path: Path
) -> None:
    import pandas as pd

    for name in ("log.csv", "log.parquet"):
        out = CliRunner().invoke(
            app,
            ["monitor", "--model", str(monitored.path), "--since", "7d", "--db-url", log_url,
             "--json", "--export", str(tmp_path / name)],
        )  # fmt: skip
        assert out.exit_code in (0, 1), out.output
        assert json.loads(out.stdout)["export"]["rows"] == 1000
        frame = (
            pd.read_parquet(tmp_path / name)
            if name.endswith(".parquet")
            else pd.read_csv(tmp_path / name, dtype=str)
        )
        assert len(frame) == 1000
        assert {"__logged_at", "__latency_ms", "income", "age"} <= set(frame.columns)
        assert frame["income"].notna().sum() == 500  # the fed-back labels


def test_export_without_the_log_or_from_an_empty_period_writes_nothing(
    monitored: Monitored, log_url: str, tmp_path: Path
) -> None:
    current = tmp_path / "current.csv"
    monitored.current.to_csv(current, index=False)
    target = tmp_path / "log.csv"
    target.write_text("keep me\n")
    cases = (
        (["--current", str(current)], "use it with --since"),
        (["--since", "1s", "--db-url", log_url], "no prediction in the last 1s"),
    )
    for args, message in cases:
        out = CliRunner().invoke(
            app, ["monitor", "--model", str(monitored.path), *args, "--export", str(target)]
        )
        assert out.exit_code == 2 and message in out.output, out.output
        assert target.read_text() == "keep me\n"


def test_monitor_since_exports_to_a_storage_url(monitored: Monitored, log_url: str) -> None:
    fsspec = pytest.importorskip("fsspec")
    url = "memory://apprentice-exports/log.csv"
    out = CliRunner().invoke(
        app,
        ["monitor", "--model", str(monitored.path), "--since", "7d", "--db-url", log_url,
         "--export", url],
    )  # fmt: skip
    assert out.exit_code in (0, 1), out.output
    with fsspec.open(url, "rt") as fh:
        lines = fh.read().splitlines()
    assert len(lines) == 1001 and "__logged_at" in lines[0]


def test_monitor_summary_prints_references_as_its_estimates(
    monitored: Monitored, log_url: str
) -> None:
    import re

    out = CliRunner().invoke(
        app, ["monitor", "--model", str(monitored.path), "--since", "7d", "--db-url", log_url]
    )
    assert out.exit_code in (0, 1), out.output
    references = re.findall(r"reference (\S+?)[;\s]", out.stdout + " ")
    assert references and all(re.fullmatch(r"\d\.\d{3}", r) for r in references), out.stdout
