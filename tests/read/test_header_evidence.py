"""Header detection from evidence, on files made for one pattern each (issue 16).

Survey and spreadsheet exports whose header the column kinds alone do not reveal: names over
columns of answers, a question row spanning an option row, a header with a blank corner over
a column of labels, a header short of the body by an unnamed first column and trailing
columns, and rows of units or labels under a full row of names in a table of one data row.
Every test checks that no data row is lost and that every line is accounted for.
"""

from __future__ import annotations

import random
from pathlib import Path

import apprentice

ANSWERS = ("Very often", "Sometimes", "Never, and not open to it", "Not selected")


def _write(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _account_is_complete(result: apprentice.ReadResult, n_lines: int) -> None:
    assert result.lines is not None
    assert result.lines.total == n_lines
    covered = [ln for first, last, _ in result.lines.spans for ln in range(first, last + 1)]
    assert covered == list(range(1, n_lines + 1))


def _quote(cell: str) -> str:
    return f'"{cell}"' if "," in cell else cell


def test_names_over_answer_columns_and_an_unnamed_index_are_the_header(
    tmp_path: Path,
) -> None:
    # the names (q0001 looks like a code, as do some answers) are values no answer column
    # holds, while every answer column repeats a few values: evidence for a header
    rng = random.Random(5)
    # (the typed columns alone tie: "weight" is text over numbers, "q0034" a code over codes)
    names = ["", "StartDate", "q0001", "q0002", "q0003_0001", "q0003_0002", "q0034", "weight"]
    rows = [",".join(names)]
    for i in range(40):
        answers = ",".join(_quote(rng.choice(ANSWERS)) for _ in range(4))
        income = f"{i % 5 * 25000}-{i % 5 * 25000 + 24999}"
        rows.append(f"{i + 1},5/{i % 28 + 1}/18 4:0{i % 10},{answers},{income},{rng.random():.4f}")
    result = apprentice.read(_write(tmp_path, "survey.csv", rows))
    assert result.original_columns == names
    assert result.rows_kept == 40
    assert result.table.iloc[0, 0] == "1"
    _account_is_complete(result, len(rows))


def test_long_question_names_over_an_all_text_body_are_the_header(tmp_path: Path) -> None:
    questions = [
        "What is the name of your polling organization?",
        "Do you release raw data to the Roper Archives?",
        "Why do you or don't you release raw data to the archives?",
    ]
    rng = random.Random(2)
    rows = ["\t".join(questions)]
    for i in range(20):
        why = rng.choice(["We always have", "It is too costly for a firm our size", ""])
        rows.append(f"Pollster {chr(65 + i)} Research\t{('Yes', 'No')[i % 2]}\t{why} ({i})")
    result = apprentice.read(_write(tmp_path, "questions.tsv", rows))
    assert result.original_columns == questions
    assert result.rows_kept == 20
    assert result.table.iloc[0].tolist()[0] == "Pollster A Research"


def test_a_question_row_spanning_an_option_row_is_a_two_row_header(tmp_path: Path) -> None:
    top = ["Your details", "", "Did the polls do well?", "", "", "Why do you say that?"]
    below = ["Name", "Organization", "Yes", "No", "Other (please specify)", "Open-Ended Response"]
    rows = ["\t".join(top), "\t".join(below)]
    for i in range(15):
        vote = ["", "", ""]
        vote[i % 3] = ("Yes", "No", f"it depends {i}")[i % 3]
        rows.append("\t".join([f"Person {i}", f"Firm {i % 4}", *vote, f"because of reason {i}"]))
    result = apprentice.read(_write(tmp_path, "options.tsv", rows))
    assert result.original_columns == [
        "Your details Name",
        "Your details Organization",
        "Did the polls do well? Yes",
        "Did the polls do well? No",
        "Did the polls do well? Other (please specify)",
        "Why do you say that? Open-Ended Response",
    ]
    assert result.rows_kept == 15
    assert result.lines is not None and result.lines.counts["header"] == 2


def test_a_blank_corner_over_labels_with_year_names_is_the_header(tmp_path: Path) -> None:
    # a statistics portal's crosstab: the names are years, of the same kind as the counts
    rows = ["Physicians by specialty", "Region:;Germany", "", ";1985;1993;2000;2005;"]
    rows += [f'"   Specialty {i}";"{i * 7}";"{i * 11}";"{i * 13}";"{i * 17}";' for i in range(12)]
    result = apprentice.read(_write(tmp_path, "crosstab.csv", rows))
    assert result.original_columns == ["", "1985", "1993", "2000", "2005"]
    assert result.rows_kept == 12
    assert result.table.iloc[0].tolist() == ["   Specialty 0", "0", "0", "0", "0"]
    _account_is_complete(result, len(rows))


def test_a_header_short_by_a_blank_first_name_and_trailing_columns(tmp_path: Path) -> None:
    names = ["", "Year", "DOY", "Direct Normal [W/m^2]"]
    rows = [",".join(names)]
    rows += [f"0,2019,{300 + i},{i * 1.5},-7999,-7999" for i in range(30)]
    result = apprentice.read(_write(tmp_path, "station.csv", rows))
    assert result.original_columns == [*names, "", ""]
    assert result.rows_kept == 30
    assert result.table.iloc[0].tolist() == ["0", "2019", "300", "0.0", "-7999", "-7999"]
    assert result.lines is not None and result.lines.counts == {"header": 1, "kept": 30}


def test_label_and_id_rows_under_full_names_in_a_one_row_table(tmp_path: Path) -> None:
    names = ["StartDate", "EndDate", "IPAddress", "Progress", "Q1"]
    labels = ["Anfangsdatum", "Enddatum", "IP-Adresse", "Aktueller Stand", "Frage eins"]
    ids = ['"{""ImportId"":""' + n.lower() + '""}"' for n in names]
    record = ["2017-07-18 08:28:09", "2017-07-18 08:28:48", "130.92.34.66", "100", "2"]
    rows = [",".join(names), ",".join(labels), ",".join(ids), ",".join(record)]
    result = apprentice.read(_write(tmp_path, "qualtrics.csv", rows))
    assert result.original_columns == names
    assert result.rows_kept == 1
    assert result.table.iloc[0].tolist() == record
    assert result.lines is not None
    assert result.lines.counts == {"header": 1, "column metadata": 2, "kept": 1}
    assert any("the columns (units, labels or ids)" in n for n in result.notes)


def test_a_long_run_of_notes_after_a_blank_line_is_footnotes(tmp_path: Path) -> None:
    rows = [";1990;2000;2010"] + [f"r{i};{i * 3};{i * 5};{i * 7}" for i in range(15)]
    notes = ["", "*" * 40, "Footnotes", "*" * 40, "", '"1.";"Until 1992 the west only."']
    notes += ['"2.";"Values at 31 December."', "", "Source(s):", "The statistics office", ""]
    notes += ["Glossary", "  West:;the states before 1990"]
    rows += notes
    result = apprentice.read(_write(tmp_path, "notes.csv", rows))
    assert result.rows_kept == 15 and result.rows_quarantined == 0
    assert result.table.iloc[-1].tolist() == ["r14", "42", "70", "98"]
    assert result.lines is not None
    assert result.lines.counts["footnote"] == sum(1 for n in notes if n)
    _account_is_complete(result, len(rows))


def test_padded_sentences_after_a_table_are_footnotes(tmp_path: Path) -> None:
    rows = ["State,Code,Students,Total"] + [f"S{i},C{i},{i * 9},{i * 11}" for i in range(12)]
    rows += [
        "Note: a student may be counted in more than one state,,,",
        " so the total of this table is no count of students,,, ",
    ]
    result = apprentice.read(_write(tmp_path, "padnotes.csv", rows))
    assert result.rows_kept == 12
    assert result.table.iloc[-1].tolist() == ["S11", "C11", "99", "121"]
    assert result.lines is not None and result.lines.counts["footnote"] == 2


def test_several_empty_unnamed_trailing_columns_of_a_headerless_line(tmp_path: Path) -> None:
    rows = ["27 Feb 2018,UMC-, 7.80, ,MCDONALD'S KIOSK 22FEB,,,"]
    result = apprentice.read(_write(tmp_path, "one.csv", rows))
    assert result.table.shape == (1, 5)
    assert result.table.iloc[0].tolist() == [
        "27 Feb 2018",
        "UMC-",
        " 7.80",
        " ",
        "MCDONALD'S KIOSK 22FEB",
    ]
    assert result.dialect is not None and result.dialect.trailing_empty_column
    assert any("3 empty, unnamed last columns" in n for n in result.notes)


def test_a_headerless_file_of_rows_of_several_widths_loses_no_row(tmp_path: Path) -> None:
    # a datalogger's mixed arrays: most rows have 6 fields, a third have 13 to 16
    rows = []
    for i in range(12):
        if i % 3 == 1:
            rows.append(",".join(str(204 + i % 2 + k) for k in range(13 + i % 4)))
        else:
            rows.append(f"203,12,330,{2100 + 10 * i},2.{i}58,{60 - i}.19")
    result = apprentice.read(_write(tmp_path, "mixed.dat", rows))
    assert result.rows_quarantined == 0 and result.rows_kept == 12
    assert result.table.shape[1] == max(len(r.split(",")) for r in rows)
    assert result.table.iloc[0].tolist()[:6] == rows[0].split(",")
    assert any("read as a ragged table" in n for n in result.notes)
    _account_is_complete(result, len(rows))


def test_a_first_row_cut_short_is_a_row_not_preamble(tmp_path: Path) -> None:
    rows = ["2023-06-27|06:40|Wakeup"]
    rows += [
        f"2023-06-{27 + i // 4}|0{6 + i % 4}:{10 + i}|{('Steps', 'Humidity')[i % 2]}|{1000 + i}"
        for i in range(10)
    ]
    result = apprentice.read(_write(tmp_path, "log.csv", rows))
    assert result.rows_kept == 11
    assert result.table.iloc[0].tolist() == ["2023-06-27", "06:40", "Wakeup", ""]
    assert result.lines is not None and result.lines.counts == {"kept": 11}


def test_group_names_repeated_over_their_columns_are_joined_with_the_row_below(
    tmp_path: Path,
) -> None:
    # "Age,Age" over "min,max": the upper row repeats a group's name instead of leaving
    # blanks; the lower row divides it, so the two rows name the columns together
    rows = ["site,Age,Age,Income,Income", ",min,max,min,max"]
    rows += [f"s{i},{18 + i},{30 + i},{1000 * i},{2000 * i}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "groups.csv", rows))
    assert result.original_columns == ["site", "Age min", "Age max", "Income min", "Income max"]
    assert result.rows_kept == 20
    assert result.lines is not None and result.lines.counts == {"header": 2, "kept": 20}


def test_year_names_over_number_columns_are_the_header(tmp_path: Path) -> None:
    # "Country Name,Country Code,1990,1991,...": integer names of the kind of the values,
    # but in steps of one size that no data row has in those columns
    rng = random.Random(4)
    names = ["Country Name", "Country Code", "1990", "1991", "1992", "1993"]
    rows = [",".join(f'"{n}"' for n in names)]
    for i in range(30):
        values = ",".join(str(rng.randint(100, 5000)) for _ in range(4))
        rows.append(f'"Country {i}","C{i:02d}",{values}')
    result = apprentice.read(_write(tmp_path, "years.csv", rows))
    assert result.original_columns == names
    assert result.rows_kept == 30
    assert result.table.iloc[0, 0] == "Country 0"
    assert any("count the columns" in n for n in result.notes)


def test_a_progression_that_data_rows_also_have_is_no_header(tmp_path: Path) -> None:
    # a headerless table of runs of three numbers: every row is a progression
    rows = [f"{3 * i},{3 * i + 1},{3 * i + 2},x{i % 4}" for i in range(25)]
    result = apprentice.read(_write(tmp_path, "runs.csv", rows))
    assert result.header_generated
    assert result.rows_kept == 25
    assert result.table.iloc[0].tolist() == ["0", "1", "2", "x0"]


def test_a_blank_name_over_a_data_row_is_no_two_row_header(tmp_path: Path) -> None:
    # an unnamed column in the middle of the header: the first data row fills it, but it is
    # a data row (numbers where the columns hold numbers), not a row of names
    rows = ["id,name,,score"] + [f"{i},Person {i},x{i % 3},{i * 0.5 + 1}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "blankname.csv", rows))
    assert result.original_columns == ["id", "name", "", "score"]
    assert result.rows_kept == 20
    assert result.table.iloc[0].tolist() == ["0", "Person 0", "x0", "1.0"]
