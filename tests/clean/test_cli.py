"""`apprentice clean` and `apprentice why` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.clean.conftest import REPO, shared

DIRTY = """id,price,when,flag,city
1,"$1,200.50",18/01/2016,yes, Boston
2,$990,02/03/2016,no,boston
3,oops,25/12/2016,yes,Chicago
4,N/A,,no,Chicago
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apprentice", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        timeout=120,
        check=False,
    )


def run_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command in this process (fast): (exit code, stdout, stderr)."""
    from apprentice.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    path = tmp_path / "dirty.csv"
    path.write_text(DIRTY, encoding="utf-8")
    return path


def test_clean_writes_table_and_ledger(dirty: Path, tmp_path: Path) -> None:
    out, ledger = tmp_path / "clean.parquet", tmp_path / "ledger.json"
    done = run("clean", str(dirty), "-o", str(out), "--ledger", str(ledger), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["column_types"]["price"]["kind"] == "float"
    assert payload["output"] == str(out)
    table = pd.read_parquet(out)
    assert table["price"].tolist()[:2] == [1200.5, 990.0]
    assert table["city"].tolist() == ["Boston", "Boston", "Chicago", "Chicago"]
    data = json.loads(ledger.read_text())
    assert data["format"] == "apprentice.clean.ledger"
    price = next(c for c in data["columns"] if c["name"] == "price")
    assert price["coercions"]["unparseable"] == 1 and price["markers"][0]["token"] == "N/A"
    assert data["recipe"]["format"] == "apprentice.clean.recipe"


def test_clean_human_summary_and_csv_output(
    dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clean.csv"
    code, _, err = run_here(capsys, "clean", str(dirty), "-o", str(out))
    assert code == 0, err
    assert "4 rows x 5 columns" in err and "price" in err
    assert pd.read_csv(out)["price"].tolist()[1] == 990.0


def test_why_explains_a_cell_that_became_missing(dirty: Path, tmp_path: Path) -> None:
    done = run("why", str(dirty), "--row", "2", "--column", "price", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "'oops'" in done.stdout and "does not fit" in done.stdout
    assert "line 4" in done.stdout


def test_why_by_line_and_column_number(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_here(capsys, "why", str(dirty), "--line", "5", "-c", "price", "--json")
    answer = json.loads(out)
    assert answer["rule"] == "marker" and answer["raw"] == "N/A" and answer["cleaned"] is None
    _code, out, _err = run_here(capsys, "why", str(dirty), "--row", "0", "-c", "1", "--json")
    answer = json.loads(out)
    assert answer["rule"] == "reformatted" and answer["cleaned"] == 1200.5


def test_why_with_the_ledger_settings(
    dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "l.json"
    assert run_here(capsys, "clean", str(dirty), "--ledger", str(ledger), "-q")[0] == 0
    code, out, err = run_here(
        capsys, "why", str(dirty), "-r", "1", "-c", "city", "--ledger", str(ledger)
    )
    assert code == 0, err
    assert "merged" in out or "whitespace" in out


def test_recipe_mode_cleans_new_rows(
    dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "l.json"
    run_here(capsys, "clean", str(dirty), "--ledger", str(ledger), "-q")
    new = tmp_path / "new.csv"
    new.write_text("id,price,when,flag,city\n5,$7,01/02/2017,maybe,Denver\n", encoding="utf-8")
    code, out, err = run_here(capsys, "clean", str(new), "--recipe", str(ledger), "--json")
    assert code == 0, err
    issues = json.loads(out)["columns_with_issues"]
    assert issues["flag"]["unparseable"] == 1 and issues["city"]["unseen_categories"] == 1
    assert "maybe" not in out  # counts only, no cell values


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--type", "price=money"), "'money'"),
        (("--type", "nope=integer"), "'nope'"),
        (("--target", "label"), "target column 'label'"),
        (("--percent-as", "half"), "percent_as"),
        (("-o", "out.xlsx"), "unknown extension"),
    ],
)
def test_bad_options_give_one_line_errors(
    dirty: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    needle: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_here(capsys, "clean", str(dirty), *args)
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_a_bad_option_in_a_real_process(dirty: Path, tmp_path: Path) -> None:
    done = run("clean", str(dirty), "--type", "price=money", cwd=tmp_path)
    assert done.returncode == 2 and "'money'" in done.stderr and "Traceback" not in done.stderr


def test_types_file_that_does_not_match(
    dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    types = tmp_path / "types.json"
    types.write_text(json.dumps({"price": "float", "colour": "category"}), encoding="utf-8")
    code, _, err = run_here(capsys, "clean", str(dirty), "--types", str(types))
    assert code == 2 and "'colour'" in err
    types.write_text("[1, 2]", encoding="utf-8")
    code, _, err = run_here(capsys, "clean", str(dirty), "--types", str(types))
    assert code == 2 and "JSON object" in err


def test_recipe_that_does_not_match(
    dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    ledger = tmp_path / "l.json"
    run_here(capsys, "clean", str(other), "--ledger", str(ledger), "-q")
    code, _, err = run_here(capsys, "clean", str(dirty), "--recipe", str(ledger))
    assert code == 2 and "lack columns" in err


def test_why_quiet_prints_nothing_but_errors(
    dirty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_here(capsys, "why", str(dirty), "--row", "2", "-c", "price", "--quiet")
    assert code == 0 and out == "" and err == ""
    code, out, err = run_here(capsys, "why", str(dirty), "--row", "99", "-c", "price", "-q")
    assert code == 2 and out == "" and "out of range" in err


def test_why_errors(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_here(capsys, "why", str(dirty), "--row", "99", "--column", "price")
    assert code == 2 and "out of range" in err
    code, _, err = run_here(capsys, "why", str(dirty), "--row", "1", "--column", "nope")
    assert code == 2 and "'nope' is not in the table" in err
    code, _, err = run_here(capsys, "why", str(dirty), "--line", "1", "--column", "price")
    assert code == 2 and "line 1" in err


def test_clean_real_file_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = shared("tables", "automobile.csv")
    code, out, err = run_here(capsys, "clean", str(path), "--json")
    assert code == 0, err
    types = json.loads(out)["column_types"]
    assert types["num_doors"]["kind"] == "integer" and types["make"]["kind"] == "category"


def test_sentinels_confirmed_or_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"{20 + (i % 17) * 0.5}" for i in range(120)] + ["-200"] * 12
    path = tmp_path / "air.csv"
    path.write_text("T\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _, out, _ = run_here(capsys, "clean", str(path), "--json")
    assert "suspected sentinel -200" in " ".join(json.loads(out)["ledger"])
    _, out, _ = run_here(capsys, "clean", str(path), "--sentinel", "T=-200", "--json")
    assert json.loads(out)["column_types"]["T"]["missing"] == 12
    _, out, _ = run_here(capsys, "clean", str(path), "--reject-sentinel", "T", "--json")
    assert "sentinel" not in " ".join(json.loads(out)["ledger"])
