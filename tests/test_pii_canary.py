"""Canary PII: plant distinctive fake PII in a real table and look for it in every output.

The rule tested: no canary value (nor its digits-only or compact form, nor a distinctive
token of the name and address) appears in anything apprentice prints, logs, raises or writes
(ledger, schema, PII report, protection plan, summaries, previews, cell explanations, the
recipe a model bundle stores, validation results and their error messages, CLI output with and
without ``--json``, every file in the workspace) with two exceptions, which hold the user's
own data because the user asked for them: the source file itself, and a data file the user
asked to be written (``-o/--output``, ``--quarantine``). Even there a pseudonymised column
(``keep=``) holds no canary.

Later stages extend this file: build the planted table with :func:`planted_table`, run the
stage, and pass every output (text, ``bytes``, a file or a folder) to :func:`assert_no_canary`.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests._tables import TABLES
from tests.track._support import empty_store  # noqa: F401  (an initialised MLflow store)

REPO = Path(__file__).resolve().parents[1]
TITANIC = TABLES / "titanic.csv"

# distinctive fake PII: documentation IP range, UK drama phone range, made-up people
CANARIES: dict[str, str] = {
    "email": "quintessa.zyxara@vandergloot-canary.com",
    "email_in_text": "zyx.canary.two@quixwright-mail.org",
    "phone": "+44 20 7946 0321",
    "card": "4929 7713 5802 4616",
    "ssn": "612-48-7395",
    "iban": "GB21 ZYXW 6016 1331 9268 19",
    "ip": "203.0.113.77",
    "name": "Vandergloot, Mrs. Quintessa Zyxara",
    "address": "4821 Quixwright Canary Lane",
}
# what is searched for: each canary, its compact forms, and the distinctive name tokens
NEEDLES: tuple[str, ...] = (
    *CANARIES.values(),
    "quintessa.zyxara",
    "zyx.canary.two",
    "442079460321",
    "2079460321",
    "4929771358024616",
    "612487395",
    "GB21ZYXW60161331926819",
    "Vandergloot",
    "Quintessa",
    "Zyxara",
    "Quixwright",
)
CANARY_ROWS = (2, 500)  # a row any preview shows, and one deep in the table


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _iban(rng: random.Random) -> str:
    bban = "ZYXW" + "".join(rng.choice("0123456789") for _ in range(14))
    digits = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    compact = f"GB{98 - int(digits) % 97:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def planted_table(path: Path, *, source: Path = TITANIC) -> Path:
    """A copy of titanic.csv with PII columns (fake values) and the canaries planted.

    Columns added: email, phone, card_number, ssn, iban, ip_address, home_address (a fake
    value on every row) and notes ("none" except one row quoting the second canary email).
    The canary name replaces the Name of the canary rows.
    """
    rng = random.Random(7)
    with open(source, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    name_at = header.index("Name")
    streets = ["Main St", "Oak Avenue", "Elm Road", "Park Lane", "Cedar Blvd", "Hill Drive"]
    header = [*header, "email", "phone", "card_number", "ssn", "iban", "ip_address",
              "home_address", "notes"]  # fmt: skip
    out = [header]
    for i, row in enumerate(body):
        card_body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
        card = card_body + _luhn_digit(card_body)
        extra = [
            f"passenger{i}@example.org",
            f"+44 20 7946 {rng.randrange(500, 1000):04d}",
            " ".join(card[j : j + 4] for j in range(0, 16, 4)),
            "-".join(
                (
                    f"{rng.randrange(1, 666):03d}",
                    f"{rng.randrange(1, 100):02d}",
                    f"{rng.randrange(1, 10000):04d}",
                )
            ),
            _iban(rng),
            f"198.51.100.{rng.randrange(1, 255)}",
            f"{rng.randrange(1, 9999)} {rng.choice(streets)}",
            "none",
        ]
        if i in CANARY_ROWS:
            row = list(row)
            row[name_at] = CANARIES["name"]
            extra = [CANARIES[k] for k in ("email", "phone", "card", "ssn", "iban", "ip",
                                           "address")]  # fmt: skip
            extra.append(f"please email {CANARIES['email_in_text']} about the refund")
        out.append([*row, *extra])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(out)
    return path


def _found(text: str) -> list[str]:
    lowered = text.lower()
    return [n for n in NEEDLES if n.lower() in lowered]


def assert_no_canary(
    output: str | bytes | Path | Iterable[str | bytes | Path], *, exempt: Iterable[Path] = ()
) -> None:
    """Fail if any canary appears in ``output``: text, bytes, a file, a folder (every file
    under it, except ``exempt`` ones), or an iterable of those."""
    skip = {Path(p).resolve() for p in exempt}
    if isinstance(output, Path):
        if output.is_dir():
            for path in sorted(output.rglob("*")):
                if path.is_file() and path.resolve() not in skip:
                    assert_no_canary(path)
            return
        if output.resolve() in skip:
            return
        hits = _found(output.read_bytes().decode("utf-8", errors="replace"))
        assert not hits, f"canary PII {hits} found in file {output}"
        return
    if isinstance(output, bytes):
        output = output.decode("utf-8", errors="replace")
    if isinstance(output, str):
        hits = _found(output)
        assert not hits, f"canary PII {hits} found in output:\n{output[:2000]}"
        return
    for item in output:
        assert_no_canary(item, exempt=skip)


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TITANIC.is_file():
        pytest.skip("../shared/data/tables/titanic.csv is not available")
    return planted_table(tmp_path_factory.mktemp("canary") / "passengers.csv")


def test_the_canaries_are_detectable(planted: Path) -> None:
    """The plant works: every canary is in the file, and the checker finds each one."""
    from apprentice.guard import classify_value

    text = planted.read_text(encoding="utf-8")
    for canary in CANARIES.values():
        assert canary in text
    for kind, canary in CANARIES.items():
        if kind in ("email", "phone", "card", "ssn", "iban", "ip"):
            assert classify_value(canary) is not None, kind
    for needle in NEEDLES:
        with pytest.raises(AssertionError):
            assert_no_canary(f"x {needle.upper()} y")


def _clean(planted: Path, workspace: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    from apprentice.config import Settings
    from apprentice.workflows import clean_file

    return clean_file(planted, settings=Settings(workspace=workspace), **kwargs)  # type: ignore[arg-type]


def test_clean_file_outputs(planted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPRENTICE_PSEUDONYM_KEY", raising=False)
    result = _clean(planted, tmp_path / "ws", keep=["email"])
    assert result.pii.pii_columns == {
        "Name": "person_name",
        "email": "email",
        "phone": "phone",
        "card_number": "payment_card",
        "ssn": "ssn",
        "iban": "iban",
        "ip_address": "ip_address",
        "home_address": "street_address",
    }
    assert "notes" in result.pii.flagged_columns
    assert result.protection.pseudonymised == {"email": "email"}
    explanations = [
        line
        for row in CANARY_ROWS
        for column in result.table.columns
        for line in result.explain(row, str(column)).lines()
    ]
    assert_no_canary(
        [
            result.ledger_json(),
            result.ledger.to_json(),
            json.dumps(result.summary(), default=str),
            "\n".join(result.describe()),
            result.preview(20).to_string(),
            result.preview(20).to_csv(),
            result.schema.to_json(),
            json.dumps(result.pii_section()),
            "\n".join(result.pii.describe() + result.protection.describe()),
            result.model_recipe().to_json(),
            "\n".join(explanations),
            repr(result.pii),
            repr(result.protection),
            repr(result.schema),
        ]
    )
    out = tmp_path / "out"
    out.mkdir()
    written = result.write(
        output=out / "clean.csv", ledger=out / "ledger.json", schema=out / "schema.json"
    )
    assert set(written) == {"output", "ledger", "schema"}
    # the cleaned data is the user's data (exempt), but a pseudonymised column holds no canary
    assert CANARIES["email"] not in (out / "clean.csv").read_text(encoding="utf-8")
    assert CANARIES["phone"] in (out / "clean.csv").read_text(encoding="utf-8")
    assert_no_canary(out, exempt=[out / "clean.csv"])
    assert_no_canary(tmp_path / "ws")  # the key file, and anything else in the workspace


def test_validation_outputs_and_errors(planted: Path, tmp_path: Path) -> None:
    import pandas as pd

    import apprentice
    from apprentice.errors import SchemaError
    from apprentice.guard import validate

    result = _clean(planted, tmp_path / "ws")
    schema_path = result.schema.save(tmp_path / "schema.json")
    raw = apprentice.read(planted).table.copy()
    # canaries in the wrong columns (a shifted row), and a gap in a PII column with no gaps
    for row, moves in {
        5: {"Sex": "email", "Age": "card", "Embarked": "name", "Pclass": "phone", "Fare": "ssn"},
        6: {"Embarked": "iban", "Sex": "ip", "Survived": "address"},
    }.items():
        for column, canary in moves.items():
            raw.loc[row, column] = CANARIES[canary]
    raw.loc[8, "email"] = ""
    raw.loc[9, "ssn"] = "not an ssn " + CANARIES["ssn"]
    bad = tmp_path / "bad.csv"
    raw.to_csv(bad, index=False)
    outputs: list[str] = []
    for data in (raw, bad):
        violations = validate(data, schema_path)
        assert {"category", "type"} <= set(violations.frame["check"])
        assert len(violations.frame[violations.frame["row"] == 5]) >= 5
        outputs += [
            violations.frame.to_csv(),
            violations.frame.to_string(),
            json.dumps(violations.to_dict(max_rows=None)),
            "\n".join(violations.summary(max_lines=100)),
            violations.message(),
            violations.counts().to_string(),
        ]
        with pytest.raises(SchemaError) as err:
            violations.raise_if_any()
        outputs.append(str(err.value))
    shifted = raw.rename(columns={c: f"{c}_x" for c in raw.columns})
    with pytest.raises(SchemaError) as err:
        validate(shifted, schema_path)
    outputs.append(str(err.value))
    assert_no_canary(outputs)
    assert_no_canary(tmp_path, exempt=[bad])
    assert isinstance(raw, pd.DataFrame)


# ---------------------------------------------------------------------------------------------
# the command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["APPRENTICE_WORKSPACE"] = str(cwd / ".apprentice")
    env.pop("APPRENTICE_PSEUDONYM_KEY", None)
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "apprentice", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _has_command(name: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "apprentice", name, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode == 0


def test_read_cli_json_and_data_output(planted: Path, tmp_path: Path) -> None:
    done = _cli("read", str(planted), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_no_canary([done.stdout, done.stderr])
    done = _cli("read", str(planted), "-o", str(tmp_path / "copy.csv"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_no_canary([done.stdout, done.stderr])
    assert_no_canary(tmp_path, exempt=[tmp_path / "copy.csv"])


def test_read_cli_error_and_quarantine_messages(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "id,contact\n1,a@example.org\n2," + CANARIES["email"] + ",extra," + CANARIES["ssn"] + "\n"
        "3,c@example.org\n",
        encoding="utf-8",
    )
    done = _cli("read", str(broken), "--json", cwd=tmp_path)
    assert_no_canary([done.stdout, done.stderr])
    done = _cli(
        "read", str(broken), "-o", str(tmp_path / "o.csv"), "--quarantine",
        str(tmp_path / "q.csv"), cwd=tmp_path,
    )  # fmt: skip
    assert_no_canary([done.stdout, done.stderr])
    assert_no_canary(tmp_path, exempt=[broken, tmp_path / "o.csv", tmp_path / "q.csv"])


def _pending(command_module: str, marker: str, todo: str, outputs: list[str]) -> None:
    """Check ``outputs``; while the command does not use the guard yet, a leak is an xfail."""
    source = (REPO / "src" / "apprentice" / "cli" / command_module).read_text(encoding="utf-8")
    try:
        assert_no_canary(outputs)
    except AssertionError:
        if marker in source:
            raise
        pytest.xfail(todo)


def test_read_cli_preview_masks_pii(planted: Path, tmp_path: Path) -> None:
    done = _cli("read", str(planted), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_no_canary([done.stdout, done.stderr])


def test_clean_cli(planted: Path, tmp_path: Path) -> None:
    if not _has_command("clean"):
        pytest.skip("the `apprentice clean` command does not exist yet")
    ledger = tmp_path / "ledger.json"
    output = tmp_path / "clean.csv"
    runs = [
        _cli("clean", str(planted), "--json", cwd=tmp_path),
        _cli("clean", str(planted), cwd=tmp_path),
        _cli("clean", str(planted), "-o", str(output), "--ledger", str(ledger), cwd=tmp_path),
    ]
    outputs: list[str] = []
    for done in runs:
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    assert ledger.is_file()
    outputs += [
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and p != output
    ]
    _pending(
        "clean.py",
        "clean_file",
        "`apprentice clean` does not call apprentice.workflows.clean_file yet: its preview, "
        "ledger and --json output are not redacted/masked",
        outputs,
    )


def test_low_cardinality_pii_never_reaches_a_run_file(
    tmp_path: Path,
    empty_store: Path,  # noqa: F811
) -> None:
    """A phone and an email column with 12 distinct values each (typed as categories): no
    value of either reaches the bundle, the run folder or the MLflow artifacts (issue 13: a
    phone column the card called masked had every number in ``recipe.json``)."""
    from apprentice.workflows.run import run
    from tests.track._support import QUICK, make_workspace

    if not TITANIC.is_file():
        pytest.skip("titanic.csv is not available")
    phones = [f"+44 20 7946 {n:04d}" for n in range(612, 624)]
    emails = [f"member{n}.canary@example.org" for n in range(12)]
    with open(TITANIC, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    path = tmp_path / "members.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*rows[0], "phone", "email"])
        for i, row in enumerate(rows[1:]):
            writer.writerow([*row, phones[i % 12], emails[i % 12]])
    settings = make_workspace(tmp_path / "ws", empty_store)
    result = run(path, target="Survived", settings=settings, **QUICK)  # type: ignore[arg-type]
    assert {"phone", "email"} <= set(result.pii["findings"]["pii_columns"]), result.pii
    leaks = [
        (str(f), value)
        for f in (tmp_path / "ws").rglob("*")
        if f.is_file()
        for value in [*phones, *emails]
        if value.encode() in f.read_bytes()
    ]
    assert not leaks, leaks[:5]
