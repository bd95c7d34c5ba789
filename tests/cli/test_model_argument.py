"""``monitor`` and ``retrain`` take the model as ``predict``, ``serve`` and ``watch`` do
(positionally) or with ``--model``; a model named twice, or not at all, is one line, exit 2,
and nothing runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apprentice.cli import main
from tests.monitor.conftest import Monitored, monitored  # noqa: F401  (the fixture)


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_monitor_takes_the_model_positionally_or_with_the_option(
    monitored: Monitored,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    current = tmp_path / "current.csv"
    monitored.current.iloc[:400].to_csv(current, index=False)
    results = []
    for argv in (
        ["monitor", str(monitored.path), "--current", str(current), "--json"],
        ["monitor", "--model", str(monitored.path), "--current", str(current), "--json"],
        ["monitor", str(monitored.path), "--model", str(monitored.path), "--current",
         str(current), "--json"],
    ):  # fmt: skip
        code, out, err = _main(argv, capsys)
        assert code in (0, 1), err
        payload = json.loads(out)
        results.append((payload["status"], payload["rows"]))
    assert results[0] == results[1] == results[2] and results[0][1] == 400


@pytest.mark.parametrize("command", ["monitor", "retrain"])
def test_a_model_missing_or_named_twice_is_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--since", "7d"] if command == "monitor" else ["--from-feedback"]
    code, out, err = _main([command, *extra], capsys)
    assert code == 2 and out == ""
    said = f"name the model: apprentice {command} MODEL (a bundle folder or a registered NAME)"
    assert err == f"error: {said}\n"
    code, out, err = _main([command, "a", "--model", "b", *extra], capsys)
    assert code == 2 and out == ""
    assert err == "error: the model is named twice ('a' and --model 'b'); name it once\n"
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written
