"""Cleaning fixes on files made for each pattern: two-digit years, a.m./p.m. times, codes in
two letter cases, integer columns in CSV output, control characters, repeated names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import apprentice
from apprentice.clean.categories import learn_categories
from apprentice.clean.dates import detect_date, year_window
from apprentice.cli import app
from apprentice.workflows.clean import clean_file

TODAY = dt.date(2026, 12, 4)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BOOKS = """title,author,published,pages
Alpha,Ames,1/1/66,100
Beta,Bell,3/15/64,212
Gamma,Cole,7/4/69,150
Delta,Dunn,12/1/71,120
Epsilon,Eyre,5/5/62,90
Zeta,Ford,6/6/68,300
"""


def test_publication_dates_of_the_1960s_stay_in_the_1960s(tmp_path: Path) -> None:
    result = clean_file(_write(tmp_path, "books.csv", BOOKS))
    years = pd.DatetimeIndex(result.table["published"]).year.tolist()
    assert years == [1966, 1964, 1969, 1971, 1962, 1968]
    decisions = result.ledger.column("published").evidence["decisions"]
    assert any("two-digit years read in" in d and "past dates" in d for d in decisions)
    assert len(result.table) == 6  # no row lost


def test_two_digit_years_follow_the_four_digit_years_of_the_column() -> None:
    values = ["01/02/1958", "03/04/1961", "05/06/63", "07/08/65"]
    fmt, ev = detect_date(values, np.ones(4, dtype=np.int64), name="visit", today=TODAY)
    assert fmt is not None and fmt.year_window is not None
    assert fmt.year_window <= 1963 and fmt.year_window + 99 >= 1965
    assert any("four-digit years centre on" in d for d in ev.decisions)


def test_future_two_digit_years_are_reported_as_ambiguous() -> None:
    start, why = year_window({35: 3, 10: 2}, {}, name="when", today=TODAY)
    assert start == 1946  # 80 years back, 20 ahead
    assert "ambiguous" in why and "3 of 5 would be in the future" in why
    start, why = year_window({35: 3}, {}, name="date of birth", today=TODAY)
    assert start == 1927 and "past dates (birth)" in why


def test_a_m_and_p_m_times_are_read(tmp_path: Path) -> None:
    text = "event,at\na,7:10 a.m.\nb,11:45 p.m.\nc,12:05 p.m.\nd,9:00 a.m.\ne,6:30 p.m.\n"
    result = clean_file(_write(tmp_path, "times.csv", text))
    assert result.ledger.column("at").kind == "time"
    got = [str(v).split()[-1] for v in result.table["at"]]
    assert got == ["07:10:00", "23:45:00", "12:05:00", "09:00:00", "18:30:00"]


def test_codes_in_two_cases_are_not_merged_without_evidence(tmp_path: Path) -> None:
    text = "dept,n\nENG,1\nEng,2\nMATH,3\nMath,4\nENG,5\nEng,6\nHist,7\nHIST,8\n"
    result = clean_file(_write(tmp_path, "codes.csv", text))
    col = result.ledger.column("dept")
    assert col.merges == []
    assert col.coercions["merged"] == 0
    assert result.table["dept"].astype(str).tolist() == [
        "ENG", "Eng", "MATH", "Math", "ENG", "Eng", "Hist", "HIST",
    ]  # fmt: skip


def test_a_slip_of_case_in_a_one_style_column_is_merged() -> None:
    cs = learn_categories(["ENG", "FRA", "GER", "Eng"], np.array([50, 40, 30, 1]))
    assert cs.categories == ["ENG", "FRA", "GER"]
    assert cs.merges == [{"variant": "Eng", "canonical": "ENG", "count": 1}]


def test_integer_columns_are_written_as_integers(tmp_path: Path) -> None:
    src = _write(tmp_path, "ints.csv", "id,age,score\n1,64,0.5\n2,,1.25\n3,70,2\n")
    out = tmp_path / "out.csv"
    run = CliRunner().invoke(app, ["clean", str(src), "-o", str(out), "--quiet"])
    assert run.exit_code == 0, run.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == ["id,age,score", "1,64,0.5", "2,,1.25", "3,70,2.0"]


def test_a_nul_byte_is_noted_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b\n1,x\x00y\n2,z\n")
    result = apprentice.read(path)
    assert result.table["b"].tolist() == ["x\x00y", "z"]
    assert any("control characters" in n and "1 NUL" in n for n in result.notes)


def test_repeated_names_are_renamed_one_way_by_read_and_clean(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.csv", "x,y,x\n1,a,3\n2,b,4\n3,c,5\n")
    read = apprentice.read(path)
    cleaned = clean_file(path)
    assert read.table.columns.tolist() == ["x", "y", "x_2"]
    assert cleaned.table.columns.tolist() == ["x", "y", "x_2"]
    out = tmp_path / "out.csv"
    run = CliRunner().invoke(app, ["read", str(path), "-o", str(out), "--quiet"])
    assert run.exit_code == 0, run.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == "x,y,x_2"
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4  # every row written
