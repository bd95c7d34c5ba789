"""Where runs are recorded, and the fast check that a tracking store can be reached."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apprentice.config import Settings
from apprentice.track import TrackingError, check_uri, default_uri, display_uri, resolve_uri
from apprentice.track.uri import artifact_root, sqlite_path
from tests.track._support import free_port


def test_default_store_is_sqlite_in_the_workspace(tmp_path: Path) -> None:
    uri = resolve_uri(None, Settings(workspace=tmp_path / "ws", tracking_uri=None))
    assert uri == f"sqlite:///{(tmp_path / 'ws' / 'mlflow.db').resolve().as_posix()}"
    assert uri.startswith("sqlite:////")  # absolute: four slashes
    assert sqlite_path(uri) == (tmp_path / "ws" / "mlflow.db").resolve()
    assert artifact_root(uri) == (tmp_path / "ws" / "mlartifacts").resolve().as_uri()


def test_settings_and_explicit_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    settings = Settings(workspace=tmp_path)
    assert resolve_uri(None, settings) == "http://tracking.example:5000"
    assert resolve_uri("sqlite:////tmp/x.db", settings) == "sqlite:////tmp/x.db"
    monkeypatch.setenv("APPRENTICE_TRACKING_URI", "http://other:5000")
    assert resolve_uri(None, Settings(workspace=tmp_path)) == "http://other:5000"
    assert resolve_uri(str(tmp_path / "a.db"), settings) == default_uri(tmp_path).replace(
        "mlflow.db", "a.db"
    )


def test_bad_uri_scheme(tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match=r"not understood.*http"):
        resolve_uri("ftp://nowhere/x", Settings(workspace=tmp_path))
    with pytest.raises(TrackingError, match="not understood"):
        resolve_uri("some/folder", Settings(workspace=tmp_path))


def test_password_is_hidden() -> None:
    assert display_uri("http://me:secret@host:5000/x") == "http://me:***@host:5000/x"
    assert display_uri("postgresql://u:pw@db/mlflow") == "postgresql://u:***@db/mlflow"
    assert display_uri("http://host:5000") == "http://host:5000"


def test_closed_port_fails_fast() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(TrackingError) as caught:
        check_uri(f"http://127.0.0.1:{port}", timeout=5)
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "cannot be reached" in message
    assert "MLFLOW_TRACKING_URI" in message  # what to do


def test_silent_server_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(TrackingError, match=r"did not answer within 1 s"):
            check_uri(f"http://127.0.0.1:{port}", timeout=1)
        assert time.monotonic() - started < 5


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 404

    def do_POST(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[http.server.HTTPServer, int]]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, "not an MLflow tracking server"), (401, "MLFLOW_TRACKING_TOKEN"), (500, "HTTP 500")],
)
def test_http_answers(
    http_server: tuple[http.server.HTTPServer, int],
    status: int,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_Handler, "status", status)
    with pytest.raises(TrackingError, match=expected):
        check_uri(f"http://127.0.0.1:{http_server[1]}", timeout=5)


def test_http_ok(
    http_server: tuple[http.server.HTTPServer, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Handler, "status", 200)
    check_uri(f"http://127.0.0.1:{http_server[1]}", timeout=5)


def test_sqlite_folder_must_be_usable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TrackingError, match="cannot create the folder"):
        check_uri(f"sqlite:///{(blocker / 'ws' / 'mlflow.db').as_posix()}")
    folder_db = tmp_path / "db"
    folder_db.mkdir()
    with pytest.raises(TrackingError, match="is not a file"):
        check_uri(f"sqlite:///{folder_db.as_posix()}")
    check_uri(f"sqlite:///{(tmp_path / 'new' / 'mlflow.db').as_posix()}")
    assert (tmp_path / "new").is_dir()


def test_unreachable_database_server() -> None:
    port = free_port()
    with pytest.raises(TrackingError, match=r"cannot be reached|not installed"):
        check_uri(f"postgresql://u:pw@127.0.0.1:{port}/mlflow", timeout=2)


def test_no_mlflow_import_for_the_check() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from apprentice.track import check_uri, resolve_uri, Tracker; "
        "Tracker('sqlite:////tmp/apprentice-nothing/m.db'); "
        "print('mlflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
