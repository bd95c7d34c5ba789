"""apprentice.storage without a server: URL parsing, file:// round trips, a missing store
package, and the one-line messages (the S3 server tests are in tests/workflows/test_s3.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apprentice import storage
from apprentice.errors import SourceNotFoundError, StorageError
from apprentice.read import read

TABLE = Path(__file__).resolve().parent / "data" / "tables" / "penguins.csv"

segment = st.text(
    alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
)


@given(
    scheme=st.sampled_from(storage.SCHEMES),
    parts=st.lists(segment, min_size=1, max_size=5),
    upper=st.booleans(),
)
def test_urls_are_recognised_and_named_by_their_last_part(
    scheme: str, parts: list[str], upper: bool
) -> None:
    url = f"{scheme.upper() if upper else scheme}://" + "/".join(parts)
    assert storage.is_url(url)
    assert storage.scheme_of(url) == scheme
    assert storage.name_of(url) == parts[-1]
    assert storage.name_of(url + "/") == parts[-1]
    assert storage.is_remote(url) == (scheme != "file")


@given(path=st.lists(segment, min_size=1, max_size=5).map("/".join))
def test_paths_and_database_urls_are_not_storage_urls(path: str) -> None:
    for spec in (path, f"sqlite:///{path}", f"postgresql://h/{path}", f"http://h/{path}"):
        assert not storage.is_url(spec)
    assert not storage.is_url(Path("s3:/bucket/key"))  # a Path cannot hold a URL
    assert not storage.is_url(12)


def test_local_paths_pass_through_and_file_urls_map_to_the_file(tmp_path: Path) -> None:
    with storage.local_input(TABLE) as got:
        assert got == TABLE
    with storage.local_input(TABLE.as_uri()) as got:
        assert Path(got) == TABLE
    target = tmp_path / "out.csv"
    with storage.local_output(target.as_uri()) as local:
        local.write_text("a\n1\n")
    assert target.read_text() == "a\n1\n"
    assert read(TABLE.as_uri()).table.equals(read(TABLE).table)


def test_memory_store_round_trip_and_no_half_written_object() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    with storage.local_output("memory://apprentice-test/kept.csv") as local:
        local.write_text("a,b\n1,2\n")
    assert fs.cat_file("/apprentice-test/kept.csv") == b"a,b\n1,2\n"
    with pytest.raises(ValueError), storage.local_output("memory://apprentice-test/k.csv") as out:
        out.write_text("half")
        raise ValueError("the writer failed")
    assert not fs.exists("/apprentice-test/k.csv")
    assert not [p for p in fs.find("/apprentice-test") if p.endswith(".partial")]
    got = read("memory://apprentice-test/kept.csv")
    assert got.source == "memory://apprentice-test/kept.csv" and len(got.table) == 1
    with pytest.raises(SourceNotFoundError, match="no such object; check the key"):
        read("memory://apprentice-test/missing.csv")
    fs.rm("/apprentice-test", recursive=True)


@pytest.mark.skipif(importlib.util.find_spec("gcsfs") is not None, reason="gcsfs is installed here")
def test_a_missing_store_package_says_what_to_install() -> None:
    with pytest.raises(StorageError) as raised:
        read("gs://some-bucket/data.csv")
    assert raised.value.message == (
        "gs://some-bucket/data.csv: the gs:// store needs the package gcsfs, which is not "
        "installed; pip install gcsfs"
    )


def test_errors_of_the_store_become_one_line_messages() -> None:
    class NoCredentialsError(Exception):
        pass

    url = "s3://bucket/key.csv"
    cases = {
        NoCredentialsError("Unable to locate credentials"): "no credentials for s3://",
        PermissionError("AccessDenied: Access Denied"): "access denied",
        FileNotFoundError("key.csv"): "no such object",
        ConnectionRefusedError("refused"): "check the URL, the network and the endpoint",
        RuntimeError("NoSuchBucket: The specified bucket does not exist"): "does not exist",
    }
    for exc, expected in cases.items():
        message = storage.translate(exc, url, what="reading", lost="; nothing was written")
        assert expected in message.message, message.message
        assert url in message.message and "\n" not in message.message
        assert message.message.endswith("; nothing was written")
