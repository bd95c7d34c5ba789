"""The report in a real browser: Playwright drives Debian's chromium over file://.

The page must show the leaderboard, the plots and the risks section, run no script (a planted
``<script>alert(1)</script>`` category must not open a dialog) and make no request that
leaves ``file://`` (every request URL is recorded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apprentice.report import write_report
from tests.learn._data import needs_tables
from tests.report._record import adult_record

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _install_chromium() -> str | None:
    """Install Debian's chromium when it is missing; the reason it cannot be, or ``None``."""
    if CHROMIUM.is_file():
        return None
    if shutil.which("apt-get") is None:
        return "no /usr/bin/chromium and no apt-get to install it"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "no /usr/bin/chromium, and installing it needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            return f"'{' '.join(command)}' failed: {done.stderr.strip()[-300:]}"
    return None if CHROMIUM.is_file() else "chromium installed but /usr/bin/chromium is missing"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    playwright_api = pytest.importorskip("playwright.sync_api")
    reason = _install_chromium()
    if reason is not None:
        pytest.skip(f"cannot run the browser test: {reason}")
    with playwright_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        except Exception as exc:  # a chromium that cannot start here
            pytest.skip(f"chromium does not start: {str(exc).splitlines()[0]}")
        yield browser
        browser.close()


@needs_tables
@pytest.mark.timeout(300)
def test_report_in_a_real_browser(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = write_report(adult_record(), tmp_path / "report")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    url = paths.html.resolve().as_uri()
    page.goto(url, wait_until="load")

    leaderboard = page.locator("table#leaderboard")
    assert leaderboard.is_visible()
    assert leaderboard.locator("tbody tr").count() >= 2
    assert leaderboard.locator("tr.champion").count() == 1
    plots = page.locator("svg").count() + page.locator("img").count()
    assert plots >= 7
    assert page.locator("#plots svg").count() >= 4
    risks = page.locator("section#risks")
    assert risks.is_visible()
    assert risks.locator("h2").inner_text() == "Risks and limits"
    assert risks.locator("li").count() >= 2
    assert page.locator("#fairness table.fairness").count() == 2
    # the planted markup is text on the page, and no script ran
    assert "<script>alert(1)</script>" in page.locator("#fairness").inner_text()
    assert page.locator("script").count() == 0 and dialogs == []

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()

    assert requests and requests[0] == url
    outside = [r for r in requests if not r.startswith(("file://", "data:"))]
    assert outside == [], outside
