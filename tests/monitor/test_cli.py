"""``apprentice monitor``: exit codes, --json, --html and the webhook (a local HTTP server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apprentice.cli import app
from tests.monitor.conftest import Monitored

runner = CliRunner()


@pytest.fixture(scope="module")
def files(monitored: Monitored, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("current")
    same = root / "same.csv"
    monitored.current.to_csv(same, index=False)
    shifted = monitored.current.copy()
    shifted["marital_status"] = "Never-married"
    moved = root / "shifted.csv"
    shifted.to_csv(moved, index=False)
    return {"same": same, "shifted": moved}


def test_fine_exits_0_with_json(monitored: Monitored, files: dict[str, Path]) -> None:
    out = runner.invoke(
        app, ["monitor", "--model", str(monitored.path), "--current", str(files["same"]), "--json"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["status"] == "ok"
    assert payload["estimated_performance"]["assumptions"]
    assert {c["column"] for c in payload["drift"]["columns"]} >= {"age", "workclass"}


def test_alert_exits_1_writes_html_and_posts_the_webhook(
    monitored: Monitored, files: dict[str, Path], tmp_path: Path
) -> None:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        page = tmp_path / "monitor.html"
        out = runner.invoke(
            app,
            ["monitor", "--model", str(monitored.path), "--current", str(files["shifted"]),
             "--webhook", url, "--html", str(page), "--json"],
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert out.exit_code == 1, out.output
    payload = json.loads(out.stdout)
    assert payload["status"] == "alert"
    assert payload["webhook"]["delivered"] is True
    assert len(received) == 1 and received[0]["status"] == "alert"
    text = page.read_text()
    assert "marital_status" in text and 'class="chart"' in text
    assert "http://" not in text and "https://" not in text


def test_undeliverable_webhook_still_reports_the_alert(
    monitored: Monitored, files: dict[str, Path]
) -> None:
    out = runner.invoke(
        app,
        ["monitor", "--model", str(monitored.path), "--current", str(files["shifted"]),
         "--webhook", "http://127.0.0.1:9/none", "--json"],
    )  # fmt: skip
    assert out.exit_code == 1
    assert json.loads(out.stdout)["webhook"]["delivered"] is False


@pytest.mark.parametrize(
    "args",
    [
        ["--current", "no-such-file.csv"],
        [],
        ["--current", "x.csv", "--since", "7d"],
        ["--since", "seven days"],
    ],
)
def test_errors_exit_2(monitored: Monitored, args: list[str]) -> None:
    out = runner.invoke(app, ["monitor", "--model", str(monitored.path), *args])
    assert out.exit_code == 2, out.output


def test_policy_errors_exit_2(monitored: Monitored, files: dict[str, Path], tmp_path) -> None:
    bad = tmp_path / "monitor.toml"
    bad.write_text("[drift\n")
    out = runner.invoke(
        app,
        ["monitor", "--model", str(monitored.path), "--current", str(files["same"]),
         "--policy", str(bad)],
    )  # fmt: skip
    assert out.exit_code == 2
    assert "TOML" in out.output


def test_human_output_prints_the_whole_batch_and_the_window_that_fired(
    monitored: Monitored, tmp_path: Path
) -> None:
    """Windows of 250 rows; the last window's labels inverted: the summary gives the test of
    all labelled rows, then the window that fired (not merely the last window's metric)."""
    current = monitored.current.copy()
    labels = sorted(current["income"].unique())
    assert len(labels) == 2
    flip = {labels[0]: labels[1], labels[1]: labels[0]}
    last = current.index[-250:]
    current.loc[last, "income"] = current.loc[last, "income"].map(flip)
    data = tmp_path / "flipped.csv"
    current.to_csv(data, index=False)
    policy = tmp_path / "monitor.toml"
    policy.write_text("[performance]\nwindow_rows = 250\n")
    out = runner.invoke(
        app, ["monitor", str(monitored.path), "--current", str(data), "--policy", str(policy)]
    )
    assert out.exit_code == 1, out.output
    text = " ".join(out.stdout.split())  # the console wraps long lines
    assert f"accuracy with labels, all {len(current):,} labelled rows:" in text
    assert "window rows 751- (250 rows):" in text
    assert "worse (accuracy)" in text
    assert "last window" not in text
    # the unchanged windows are not listed as fired
    assert "window rows 1-" not in text


def test_human_output_says_no_window_fired(monitored: Monitored, tmp_path: Path) -> None:
    policy = tmp_path / "monitor.toml"
    policy.write_text("[performance]\nwindow_rows = 250\n")
    data = tmp_path / "same.csv"
    monitored.current.to_csv(data, index=False)
    out = runner.invoke(
        app, ["monitor", str(monitored.path), "--current", str(data), "--policy", str(policy)]
    )
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert f"all {len(monitored.current):,} labelled rows:" in text
    assert "not worse at level" in text
    assert "none of the 4 windows is worse than the reference" in text
