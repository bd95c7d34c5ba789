"""``apprentice serve --json``: one JSON document on stdout once the server is up."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.serve._live import live_server
from tests.serve.conftest import Planted


def test_json_announces_the_running_server(planted: Planted, tmp_path: Path) -> None:
    with live_server(planted.bundle, tmp_path / "ws", args=["--json"]) as server:
        status, _ = server.request("GET", "/health")
        assert status == 200
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=60)
    out = server.text_output()
    start = out.index("{")
    doc = json.loads(out[start : out.index("}", start) + 1])
    assert doc["address"] == f"http://127.0.0.1:{server.port}"
    assert doc["docs"].endswith("/docs") and doc["workers"] == 1
    assert doc["prediction_log"].startswith("sqlite:///")
