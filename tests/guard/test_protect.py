"""Protection: the workspace key, pseudonyms, masks, the plan."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from apprentice.config import Settings
from apprentice.errors import ConfigError
from apprentice.guard import (
    apply_protection,
    detect_pii,
    mask_frame,
    mask_value,
    protection_plan,
    pseudonymise,
    scrub_text,
    workspace_key,
)
from apprentice.guard.protect import KEY_ENV, key_path


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_key_is_generated_once_per_workspace(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws")
    key = workspace_key(settings)
    assert len(key) == 32
    path = key_path(settings)
    assert path == tmp_path / "ws" / "keys" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert (path.parent / ".gitignore").read_text() == "*\n"
    assert workspace_key(settings) == key
    assert workspace_key(Settings(workspace=tmp_path / "other")) != key


def test_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(workspace=tmp_path / "ws")
    monkeypatch.setenv(KEY_ENV, "ab" * 32)
    assert workspace_key(settings) == bytes.fromhex("ab" * 32)
    assert not key_path(settings).exists()  # nothing written when the key comes from outside
    monkeypatch.setenv(KEY_ENV, "a long passphrase that is the key")
    assert workspace_key(settings) == b"a long passphrase that is the key"
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(ConfigError, match="too short"):
        workspace_key(settings)


def test_key_is_never_written_next_to_the_data(tmp_path: Path) -> None:
    data = tmp_path / "keys" / "people.csv"
    data.parent.mkdir()
    data.write_text("a\n1\n")
    with pytest.raises(ConfigError, match="next to the data"):
        workspace_key(Settings(workspace=tmp_path), data_path=data)
    assert sorted(p.name for p in data.parent.iterdir()) == ["people.csv"]
    workspace_key(Settings(workspace=tmp_path / ".apprentice"), data_path=data)


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path)
    workspace_key(settings)
    os.chmod(key_path(settings), 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        workspace_key(settings)


def test_a_damaged_key_file_is_reported_not_replaced(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path)
    workspace_key(settings)
    key_path(settings).write_text("not hex at all")
    with pytest.raises(ConfigError, match="damaged"):
        workspace_key(settings)
    assert key_path(settings).read_text() == "not hex at all"


def test_pseudonyms_are_stable_keyed_and_keep_missing() -> None:
    series = pd.Series(["ann@example.org", None, "bob@example.org", "ann@example.org"])
    one = pseudonymise(series, b"k" * 32)
    assert one.iloc[0] == one.iloc[3] != one.iloc[2]
    assert pd.isna(one.iloc[1])
    assert len(one.iloc[0]) == 16 and all(c in "0123456789abcdef" for c in one.iloc[0])
    assert pseudonymise(series, b"k" * 32).equals(one)
    assert pseudonymise(series, b"j" * 32).iloc[0] != one.iloc[0]
    assert len(pseudonymise(series, b"k" * 32, length=32).iloc[0]) == 32
    assert "ann@example.org" not in one.astype(str).tolist()


@pytest.mark.parametrize(
    ("value", "kind", "masked"),
    [
        ("jane.doe@example.com", "email", "j***@e***.com"),
        ("jane.doe@example.com", None, "j***@e***.com"),
        ("123-45-6789", "ssn", "***-**-6789"),
        ("4111 1111 1111 1111", None, "**** **** **** 1111"),
        ("+44 20 7946 0958", "phone", "+** ** ****-**58".replace("-", " ")),
        ("DE89 3704 0044 0532 0130 00", None, "DE** **** **** 00"),
        ("192.168.10.42", None, "192.*.*.*"),
        ("2001:db8::1", "ip_address", "2001:****:****"),
        ("Braund, Mr. Owen Harris", "person_name", "B***, M***. O*** H***"),
        ("742 Evergreen Terrace", "street_address", "*** E*** T***"),
        ("something", None, "s***"),
        ("", None, ""),
        (None, None, ""),
    ],
)
def test_mask_value(value: object, kind: str | None, masked: str) -> None:
    assert mask_value(value, kind) == masked


def test_scrub_text_masks_pii_inside_text() -> None:
    text = "Mail jane.doe@example.com or call +44 20 7946 0958 from 192.168.10.42."
    scrubbed = scrub_text(text)
    assert scrubbed == "Mail j***@e***.com or call +** ** **** **58 from 192.*.*.*."
    assert scrub_text("nothing to hide") == "nothing to hide"


def _people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "email": [f"user{i}@example.org" for i in range(40)],
            "customer_name": [f"Anna Smith{chr(97 + i % 26)}" for i in range(40)],
            "plan": ["basic", "pro"] * 20,
            "notes": ["see +44 20 7946 0958"] + ["ok"] * 39,
        },
        dtype="str",
    )


def test_protection_plan() -> None:
    report = detect_pii(_people())
    plan = protection_plan(report)
    assert set(plan.excluded) == {"email", "customer_name"}
    assert plan.redacted == {"email", "customer_name", "notes"}
    assert plan.masked == {"email": "email", "customer_name": "person_name", "notes": None}
    assert plan.feature_exclusions == ["customer_name", "email"]

    kept = protection_plan(report, keep=["email"], allow=["notes"])
    assert kept.pseudonymised == {"email": "email"}
    assert set(kept.excluded) == {"customer_name"}
    assert kept.feature_exclusions == ["customer_name", "email"]
    assert "notes" not in kept.redacted and kept.allowed == ["notes"]
    d = kept.to_dict()
    assert d["pseudonymised"] == {"email": "email"} and d["allowed"] == ["notes"]
    assert "user0@example.org" not in repr(d)

    with pytest.raises(ConfigError, match="'mail' are not in the table"):
        protection_plan(report, keep=["mail"])


def test_apply_protection_and_mask_frame() -> None:
    frame = _people()
    before = frame.copy()
    plan = protection_plan(detect_pii(frame), keep=["email"])
    protected = apply_protection(frame, plan, key=b"x" * 32)
    pd.testing.assert_frame_equal(frame, before)  # the input is untouched
    assert protected["email"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert protected["customer_name"].equals(frame["customer_name"])  # excluded, not altered
    with pytest.raises(ConfigError, match="needs a key"):
        apply_protection(frame, plan)

    shown = mask_frame(frame, plan)
    assert shown.loc[0, "email"] == "u***@e***.org"
    assert shown.loc[0, "customer_name"] == "A*** S***"
    assert shown.loc[0, "notes"] == "see +** ** **** **58"
    assert shown["plan"].equals(frame["plan"])
    text = shown.to_string()
    for column in ("email", "customer_name"):
        assert not any(v in text for v in frame[column])


def test_safe_display() -> None:
    from apprentice.guard import safe_display

    assert safe_display(" <=50K.") == " <=50K."
    assert safe_display("Not in universe") == "Not in universe"
    assert safe_display("Vandergloot, Mrs. Quintessa") == "V***, M***. Q***"
    assert safe_display("4821 Quixwright Lane") == "*** Q*** L***"
    assert safe_display("write to zed@example.com now") == "write to z***@e***.com now"
    assert safe_display("x" * 50, limit=10) == "xxxxxxx..."


def test_categorical_columns_are_masked_and_pseudonymised_cell_by_cell() -> None:
    from apprentice.guard import mask_series

    series = pd.Series(["ann@example.org", "bob@example.org", None], dtype="category")
    head = series.head(1)  # 'bob' is still a category, not a cell
    assert mask_series(head, "email").tolist() == ["a***@e***.org"]
    assert pseudonymise(head, b"k" * 32).str.len().tolist() == [16]
