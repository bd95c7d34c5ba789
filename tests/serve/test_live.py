"""A real uvicorn server on 127.0.0.1 (``apprentice serve``), the SQLite prediction log.

In file order: schemathesis against ``/openapi.json`` with every check; canary PII in
requests never reaches the log, the error responses or the server output; 8 clients x 500
requests log exactly 4,000 rows; SIGTERM under load loses no acknowledged prediction.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve._live import API_KEY, LiveServer, check_log_under_load, live_server
from tests.serve.conftest import Planted
from tests.test_pii_canary import CANARIES, CANARY_ROWS, assert_no_canary

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(planted: Planted, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workspace = tmp_path_factory.mktemp("live") / "ws"
    with live_server(planted.bundle, workspace, api_key=API_KEY, grace=10) as live:
        yield live


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return [found]


def test_schemathesis_all_checks(server: LiveServer, tmp_path: Path) -> None:
    cmd = [
        *_schemathesis(),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"X-API-Key: {API_KEY}",
        "--max-examples",
        "10",
        "--max-time",
        "30",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--seed",
        "1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert "ST101" not in done.stdout, report  # server errors
    assert done.returncode == 0, report
    assert "Traceback" not in server.text_output(), server.text_output()[-3000:]


def _planted_records(planted: Planted) -> list[dict[str, str]]:
    return [planted.rows[i] for i in CANARY_ROWS]


def test_canary_pii_never_leaves_the_request(server: LiveServer, planted: Planted) -> None:
    canary_rows = _planted_records(planted)
    for record in canary_rows:
        status, body = server.request("POST", "/predict", record)
        assert status == 200, body
        assert_no_canary(body)  # the answer holds no input value
    # a canary in a feature column that is free text
    status, _ = server.request("POST", "/predict", {**canary_rows[0], "Cabin": CANARIES["email"]})
    assert status == 200
    status, body = server.request("POST", "/predict", canary_rows)
    assert status == 200
    assert_no_canary(body)
    # errors: canaries as values, as unknown field names, in broken JSON, in a bad batch line
    bad_requests = [
        ("/predict", {**canary_rows[0], "Age": {"x": CANARIES["ssn"]}}),
        ("/predict", {CANARIES["email"]: CANARIES["phone"]}),
        ("/predict", [{**canary_rows[1], "Fare": [CANARIES["card"]]}]),
        ("/predict", {"Name": CANARIES["name"] * 1000}),
        ("/explain", {**canary_rows[0], "Sex": {"v": CANARIES["iban"]}}),
        ("/feedback", {"request_id": CANARIES["ip"], "actual": CANARIES["address"]}),
    ]
    for path, payload in bad_requests:
        status, body = server.request("POST", path, payload)
        assert status == 422, (path, body)
        assert_no_canary(body)
    raw = json.dumps(canary_rows[0]).encode()[:-5]
    status, body = server.request("POST", "/predict", raw=raw)
    assert status == 422
    assert_no_canary(body)
    # a batch upload of the planted file, and JSON lines with a broken canary line
    status, body = server.request(
        "POST", "/predict/batch", raw=planted.data.read_bytes(), content_type="text/csv"
    )
    assert status == 200 and len(list(csv.reader(io.StringIO(body.decode())))) > 800
    assert_no_canary(body)
    lines = [json.dumps(r) for r in canary_rows] + ['{"Name": "' + CANARIES["name"] + '"']
    status, body = server.request(
        "POST",
        "/predict/batch",
        raw="\n".join(lines).encode(),
        content_type="application/x-ndjson",
    )
    assert status == 200
    assert_no_canary(body)
    server.wait_drained()
    assert_no_canary(server.workspace)  # the SQLite log (and its WAL), keys, spill files
    assert_no_canary(server.text_output())


def test_log_under_load_and_sigterm(server: LiveServer, planted: Planted) -> None:
    check_log_under_load(server, planted.records(400))
    assert_no_canary(server.workspace)
    assert_no_canary(server.text_output())
