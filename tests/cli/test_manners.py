"""CLI manners: the main job listed first, flags shown without a value, no wrapping off a
terminal (a path is never split in two when the output goes to a file)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def _help(*args: str, columns: str = "100") -> str:
    env = {**os.environ, "COLUMNS": columns, "TERM": "dumb"}
    out = subprocess.run(
        [sys.executable, "-m", "apprentice", *args, "--help"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    return out.stdout


def test_the_main_job_comes_first_and_the_demo_last() -> None:
    text = _help()
    block = text.split("Commands")[1]
    listed = [m.group(1) for m in re.finditer(r"^│ ([a-z]+) ", block, re.MULTILINE)]
    assert listed[0] == "run", listed
    # the demo after every command (Typer lists the `models` group after the commands)
    assert [c for c in listed if c != "models"][-1] == "demo", listed
    assert listed.index("read") < listed.index("clean") < listed.index("train")


def test_flags_show_no_value_type() -> None:
    text = _help("monitor")
    assert "<bool>" not in text
    json_line = next(line for line in text.splitlines() if "--json" in line)
    assert "Print a JSON document" in json_line
    assert "<str>" in text  # options that take a value still say what they take


def test_output_to_a_file_is_not_wrapped(tmp_path: Path) -> None:
    """An error naming a long path, written to a file: one line, the path whole."""
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "missing-table.csv"
    out = subprocess.run(
        [sys.executable, "-m", "apprentice", "read", str(deep)],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and str(deep) in lines[0]


def test_command_line_mistakes_are_one_line_with_exit_2(tmp_path: Path) -> None:
    """A missing option, an unknown command, a value of the wrong type: one ``error:`` line
    naming it and where the help is, never Click's usage box; nothing is written."""
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n")
    cases = {
        ("predict", "some-model", str(rows)): "Missing option '--output' / '-o'",
        ("predikt", "x"): "No such command 'predikt'. Did you mean 'predict'?",
        ("run", str(rows), "--target", "b", "--time-budget", "abc"): "'--time-budget'",
    }
    for args, expected in cases.items():
        out = subprocess.run(
            [sys.executable, "-m", "apprentice", *args],
            capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
        assert out.returncode == 2, (args, out.stderr)
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
        assert expected in lines[0] and "--help" in lines[0], lines[0]
        assert "╭" not in out.stderr and "Traceback" not in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]
    assert rows.read_text() == "a,b\n1,2\n"


def test_the_demo_says_which_model_is_kept() -> None:
    from apprentice.cli.demo import decision_line

    reason = "no evidence that the challenger beats the champion"
    assert decision_line(False, reason) == f"keep the champion: {reason}"
    assert decision_line(True, "the challenger is better").startswith("promote the challenger")
