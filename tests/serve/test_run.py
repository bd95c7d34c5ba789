"""Starting the server: the model argument, the address check, the CLI's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from apprentice.errors import ApprenticeError, ConfigError
from apprentice.serve.run import check_bind, is_loopback, resolve_model
from tests.serve.conftest import Planted


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        assert not is_loopback(host), host


def test_non_loopback_needs_an_api_key() -> None:
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "k" * 32)
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without an API key"):
        check_bind("0.0.0.0", None)


def test_cli_refuses_public_address_without_key(
    planted: Planted, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from apprentice.cli import main

    monkeypatch.delenv("APPRENTICE_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", str(planted.bundle), "--host", "0.0.0.0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0" in err and "APPRENTICE_API_KEY" in err
    assert "Traceback" not in err


def test_resolve_model(planted: Planted, tmp_path: Path) -> None:
    assert resolve_model(planted.bundle).path == planted.bundle
    with pytest.raises(ConfigError):
        resolve_model(None)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ApprenticeError):
        resolve_model(tmp_path / "file.txt")
    with pytest.raises(ApprenticeError):
        resolve_model(str(tmp_path / "missing" / "bundle"))


def test_layering_and_lazy_imports(planted: Planted) -> None:
    """serve imports no stage right of bundle (nor mlflow, typer); the CLI's --help path
    imports neither fastapi, uvicorn nor sqlalchemy."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from apprentice.serve.app import asgi_app, create_app\n"
        "import apprentice.serve.run\n"
        f"asgi_app(create_app({str(planted.bundle)!r}, log_predictions=False))\n"
        "stages = ('learn', 'evaluate', 'explain', 'report', 'workflows', 'track')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mlflow', 'typer')\n"
        "       or (m.startswith('apprentice.') and m.split('.')[1] in stages)]\n"
        "print(sorted(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
    code = (
        "import sys\nimport apprentice.cli\n"
        "print([m for m in ('fastapi', 'uvicorn', 'sqlalchemy', 'apprentice.serve.app')"
        " if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr[-2000:]
