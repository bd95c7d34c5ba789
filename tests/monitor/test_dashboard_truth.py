"""The dashboard tells the truth: no feature is "stable" on fewer rows than the tests need, the
header's drift score is the share of importance the red bars carry, the volume and latency
charts come from the log (one window is a sentence, not an empty chart), distances are
formatted, the page wears the report's stylesheet, and in a real browser it loads nothing
from anywhere."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.monitor.dashboard import TOO_FEW, dashboard_html, volume_latency
from apprentice.monitor.policy import Policy
from tests.monitor.conftest import Monitored


def _log(path: Path, rows: pd.DataFrame, labels: pd.Series, stamps: list[datetime]) -> str:
    """A prediction log as the server writes it; every other row got feedback."""
    from apprentice.serve.log import migrate

    url = f"sqlite:///{path}"
    migrate(url)
    records = rows.to_dict(orient="records")
    predictions, feedback = [], []
    for i, (record, at) in enumerate(zip(records, stamps, strict=True)):
        when = at.isoformat()
        predictions.append((f"r{i}", when, "1", "/predict", json.dumps(record), "{}", '"x"',
                            None, 3.0 + (i % 7)))  # fmt: skip
        if i % 2 == 0:
            feedback.append((f"r{i}", when, "1", json.dumps(labels.iloc[i])))
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


def _older(rows: pd.DataFrame) -> pd.DataFrame:
    """The ages of the traffic moved 25 years up: a certain, large shift of one feature."""
    ages = pd.to_numeric(rows["age"], errors="coerce").fillna(40).astype(int) + 25
    return rows.assign(age=ages.astype(str))


@pytest.fixture(scope="module")
def pages(monitored: Monitored, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("truth")
    bundle = load_bundle(monitored.path)
    rows, labels = monitored.current.drop(columns=["income"]), monitored.current["income"]
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    few = _log(folder / "few.sqlite", _older(rows.iloc[:20]), labels.iloc[:20],
               [minute + timedelta(seconds=i) for i in range(20)])  # fmt: skip
    start = datetime.now(UTC) - timedelta(hours=48)
    stamps = [start + timedelta(minutes=2.8 * i) for i in range(1000)]
    shifted = _log(folder / "shifted.sqlite", _older(rows.iloc[:1000]), labels.iloc[:1000], stamps)
    return {"few": dashboard_html(few, bundle), "shifted": dashboard_html(shifted, bundle)}


def _table(page: str) -> list[dict[str, str]]:
    """The drift table's rows: column, importance, verdict."""
    drift = page[page.index('<section id="drift">') :]
    found = re.findall(
        r"<tr><td>([^<]*)</td><td>[^<]*</td><td>[^<]*</td><td class=\"num\">[^<]*</td>"
        r"<td>[^<]*</td><td class=\"num\">([^<]*)</td><td class=\"num\">[^<]*</td>"
        r"<td class=\"[a-z]+ verdict\">([^<]*)</td></tr>",
        drift,
    )
    return [{"column": c, "importance": i, "verdict": v} for c, i, v in found]


def test_few_rows_are_too_few_to_judge_never_stable(pages: dict[str, str]) -> None:
    page = pages["few"]
    table = _table(page)
    assert len(table) >= 10
    assert {r["verdict"] for r in table} == {TOO_FEW}  # age moved 25 years: still no verdict
    assert "stable" not in re.findall(r'data-verdict="([^"]*)"', page)
    assert re.search(r'id="status">(alert|too few rows to judge)<', page)
    assert f"the drift tests need at least {Policy().drift.min_rows} rows" in page
    # twenty predictions in one minute: one window, a sentence instead of two empty charts
    assert "not enough data for a chart of prediction volume: one window so far" in page
    assert "not enough data for a chart of latency" in page
    assert 'data-points="1"' not in page and 'data-points="0"' not in page


def test_the_header_score_is_the_share_of_importance_of_the_red_bars(
    pages: dict[str, str],
) -> None:
    page = pages["shifted"]
    table = _table(page)
    weights = {r["column"]: float(r["importance"]) for r in table}
    red = [r["column"] for r in table if r["verdict"] == "drifted"]
    assert red and red[0] == "age", table
    header = float(re.search(r'id="drift-score">([0-9.]+)<', page).group(1))  # type: ignore[union-attr]
    assert header == pytest.approx(sum(weights[c] for c in red) / sum(weights.values()), abs=6e-4)
    assert header > 0
    assert f"{len(red)} of {len(table)} features drifted (red bars)" in page
    bars = re.findall(r'<rect [^>]*data-verdict="([^"]*)"', page)
    assert bars.count("drifted") == len(red)  # the red bars are the drifted rows
    assert "age" in page[page.index('id="drift-time"') : page.index('id="drift"')]


def test_distances_and_numbers_are_formatted(pages: dict[str, str]) -> None:
    page = pages["shifted"]
    assert '{"' not in page and "wasserstein" not in page and "jensen_shannon" not in page
    assert re.search(r"PSI [0-9.e+-]+ · W1/sd [0-9.]+", page)
    assert re.search(r"<td>JS [0-9.e-]+</td>", page)
    assert not re.search(r"\d\.\d{6,}", page)  # no raw floats


def test_volume_and_latency_come_from_the_log(pages: dict[str, str]) -> None:
    page = pages["shifted"]
    volume = page[page.index('id="volume"') : page.index('id="latency"')]
    counts = [
        int(v.replace(",", "")) for v in re.findall(r"<title>[^<]*: ([0-9.,]+)</title>", volume)
    ]
    assert len(counts) >= 6 and sum(counts) == 1000  # every prediction, in 6-hour windows
    latency = page[page.index('id="latency"') : page.index('id="drift-time"')]
    assert int(re.search(r'data-points="(\d+)"', latency).group(1)) >= 6  # type: ignore[union-attr]


def test_a_quiet_window_counts_as_zero(monitored: Monitored, tmp_path: Path) -> None:
    rows = monitored.current.drop(columns=["income"]).iloc[:40]
    now = datetime.now(UTC)
    # each burst inside one 6-hour window whatever the time of day: the first 24 h before the
    # current window's start, the second between that start and now
    start = pd.Timestamp(now).floor("6h").to_pydatetime()
    step = (now - start) / 21
    stamps = [start - timedelta(hours=24) + timedelta(minutes=10 + i) for i in range(20)]
    stamps += [start + step * (i + 1) for i in range(20)]
    url = _log(tmp_path / "gap.sqlite", rows, monitored.current["income"].iloc[:40], stamps)
    section, freq, total = volume_latency(url, timedelta(days=7))
    assert total == 40 and freq == "6h"
    volume = section[: section.index('id="latency"')]
    counts = [
        int(v.replace(",", "")) for v in re.findall(r"<title>[^<]*: ([0-9.,]+)</title>", volume)
    ]
    assert counts[0] == 20 and counts[-1] == 20 and 0 in counts and sum(counts) == 40


def test_styled_like_the_report_and_self_contained(pages: dict[str, str]) -> None:
    from importlib.resources import files

    template = files("apprentice.report").joinpath("templates/report.html.j2").read_text("utf-8")
    first_rule = template[template.index("<style>") + 8 :].splitlines()[0]
    for page in pages.values():
        assert first_rule in page  # the report's own stylesheet, not a copy that drifts
        assert "<header>" in page and "<main>" in page
        assert "<script" not in page and "<link" not in page
        assert "http://" not in page and "https://" not in page and "url(" not in page


@pytest.mark.timeout(300)
def test_the_pages_in_a_real_browser(pages: dict[str, str], tmp_path: Path) -> None:
    from tests.report.test_browser import ARGS, CHROMIUM, _install_chromium

    playwright_api = pytest.importorskip("playwright.sync_api")
    reason = _install_chromium()
    if reason is not None:
        pytest.skip(f"cannot run the browser test: {reason}")
    requests: list[str] = []
    with playwright_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        except Exception as exc:
            pytest.skip(f"chromium does not start: {str(exc).splitlines()[0]}")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2600})
            page.on("request", lambda request: requests.append(request.url))
            for name, text in pages.items():
                path = tmp_path / f"{name}.html"
                path.write_text(text, encoding="utf-8")
                page.goto(path.resolve().as_uri(), wait_until="load")
                header = page.locator("header")
                assert header.evaluate("e => getComputedStyle(e).backgroundColor") == (
                    "rgb(26, 54, 93)"  # the report's header colour: the stylesheet applied
                )
                verdicts = page.locator("td.verdict").all_inner_texts()
                if name == "few":
                    assert page.locator("#status").inner_text() != "ok"
                    assert set(verdicts) == {TOO_FEW}
                else:
                    assert "drifted" in verdicts and page.locator("#status").inner_text() == "alert"
                charts = page.locator("svg.chart")
                for i in range(charts.count()):
                    box = charts.nth(i).bounding_box()
                    assert box is not None and box["height"] > 0 and box["width"] > 0
                    assert charts.nth(i).locator("circle, rect").count() >= 2
                shot = tmp_path / f"{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 20_000
        finally:
            browser.close()
    outside = [r for r in requests if not r.startswith(("file://", "data:"))]
    assert len(requests) >= 2 and outside == [], outside
