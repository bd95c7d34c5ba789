"""What the source itself says before training: a file with no table is one clear error
(not "the target is not in the table; the columns are" and an empty list), and a file that
names the target column twice says which one is the target."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from apprentice.errors import EmptyInputError

DATA = Path(__file__).resolve().parents[1] / "data" / "tables"
QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear",), "n_jobs": 1, "n_boot": 20}


@pytest.mark.parametrize(
    ("content", "said"),
    [(b"", "the file is empty (0 bytes)"), (b"\n  \n\n", "the file holds only whitespace")],
)
def test_a_file_without_a_table_is_one_error_and_nothing_is_written(
    content: bytes, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.workflows.run import run
    from apprentice.workflows.train import train

    source = tmp_path / "nothing.csv"
    source.write_bytes(content)
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))
    with pytest.raises(EmptyInputError) as err:
        train(source, target="y", out=tmp_path / "model", **QUICK)
    assert said in err.value.message and "nothing.csv" in err.value.message
    with pytest.raises(EmptyInputError) as err:
        run(source, target="y", time_budget=30)
    assert said in err.value.message
    assert not (tmp_path / "model").exists() and not (tmp_path / "ws" / "runs").exists()
    assert source.read_bytes() == content  # the input untouched


def test_a_target_named_twice_is_said_and_the_first_is_the_target(tmp_path: Path) -> None:
    from apprentice.workflows.train import train

    with open(DATA / "penguins.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    at, island = header.index("species"), header.index("island")
    # a second column named 'species' at the end (holding the island: not a copy)
    rows = [[*header, "species"], *[[*r, r[island]] for r in rows[1:] if r[at]][:200]]
    source = tmp_path / "twice.csv"
    with open(source, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = train(source, target="species", out=tmp_path / "model", **QUICK)
    said = [w for w in result.warnings if "columns named 'species'" in w]
    assert said == [
        "the file has 2 columns named 'species': the first is the target, the other(s) are "
        "read as 'species_2' and used as features; pass --target with the suffixed name to "
        "predict another one"
    ]
    assert result.bundle.target == "species"
