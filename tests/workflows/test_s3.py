"""Object storage for real: a local S3 server (moto in server mode on 127.0.0.1), a full
``apprentice run`` reading its CSV from s3:// with the MLflow artifacts in s3://, ``serve NAME``
loading the registered model from there, ``predict s3://... -o s3://...``, and the wrong
inputs (missing object, missing bucket, no credentials) with their one-line messages."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

moto_server = pytest.importorskip(
    "moto.server", reason="moto is not installed (pip install 'ml-apprentice[dev]')"
)
boto3 = pytest.importorskip("boto3", reason="boto3 is not installed (it comes with moto)")
pytest.importorskip("s3fs", reason="s3fs is not installed (pip install 'ml-apprentice[s3]')")

from tests.serve._live import free_port, live_server  # noqa: E402

from apprentice.cli import main  # noqa: E402

TABLE = Path(__file__).resolve().parents[1] / "data" / "tables" / "penguins.csv"
BUCKET = "apprentice-test"
NAME = "penguins-s3"
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3:
    endpoint: str
    client: Any

    def put(self, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=BUCKET, Key=key, Body=data)
        return f"s3://{BUCKET}/{key}"

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def listing(self, prefix: str = "") -> list[str]:
        got = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [o["Key"] for o in got.get("Contents", [])]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _forget_clients() -> None:
    """s3fs caches one filesystem per set of options; a test that changes the credentials
    must not get the previous test's client."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture()
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3]:
    for key, value in _CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'ws' / 'mlflow.db'}")
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    monkeypatch.delenv("APPRENTICE_ARTIFACT_ROOT", raising=False)
    _forget_clients()
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield S3(s3_server, client)
    for key in S3(s3_server, client).listing():
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)
    _forget_clients()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``apprentice ARGS`` in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out = capsys.readouterr()
    code = exited.value.code
    return int(code) if isinstance(code, int) else (0 if code is None else 1), out.out, out.err


def _post(url: str, body: Any) -> tuple[int, Any]:
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", parts.path, json.dumps(body), {"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.slow
def test_run_from_s3_registers_into_s3_and_serves_and_predicts(
    s3: S3, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = s3.put("data/penguins.csv", TABLE.read_bytes())
    monkeypatch.setenv("APPRENTICE_ARTIFACT_ROOT", f"s3://{BUCKET}/mlflow")
    code, out, err = cli(
        capsys,
        "run", data, "--target", "species", "--name", NAME, "--max-trials", "0",
        "--families", "linear", "--jobs", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["data"]["source"] == data
    # the fingerprint is the object's bytes, as for a local file
    assert result["data"]["hashed"] == "file"
    assert result["data"]["sha256"] == hashlib.sha256(TABLE.read_bytes()).hexdigest()
    # the run's artifacts, the bundle among them, are objects in the bucket
    stored = s3.listing("mlflow/")
    assert any(k.endswith("/manifest.json") for k in stored), stored

    from apprentice.track import resolve_model

    resolved = resolve_model(NAME)
    assert resolved.source.startswith(f"s3://{BUCKET}/mlflow/")
    bundle = resolved.load()
    rows = pd.read_csv(TABLE, dtype=str, keep_default_na=False).drop(columns=["species"])
    expected = bundle.predict_frame(rows.head(20))

    # `serve NAME` in its own workspace: the bundle comes from S3 into its cache
    with live_server(NAME, tmp_path / "serve-ws") as server:  # type: ignore[arg-type]
        record = rows.iloc[0].to_dict()
        status, body = _post(server.url + "/predict", record)
    assert status == 200, body
    assert body["prediction"] == expected["prediction"].iloc[0]
    assert list((tmp_path / "serve-ws" / "models" / NAME).iterdir())

    # predict s3:// -o s3://, with the registered name and with the bundle's own URL
    buffer = io.StringIO()
    rows.head(20).to_csv(buffer, index=False)
    source = s3.put("data/rows.csv", buffer.getvalue().encode())
    for model in (NAME, resolved.source):
        target = f"s3://{BUCKET}/out/{len(s3.listing('out/'))}.csv"
        code, _, err = cli(capsys, "predict", model, source, "-o", target)
        assert code == 0, err
        written = pd.read_csv(io.BytesIO(s3.get(target.split(f"{BUCKET}/", 1)[1])))
        assert list(written["prediction"]) == list(expected["prediction"])
        assert len(written) == 20

    # compare finds the run's source in the store again (same SHA-256) to recover its holdout
    from apprentice.config import get_settings
    from apprentice.workflows.compare import _source_table
    from apprentice.workflows.run import load_run

    table, what = _source_table(load_run(result["run_id"]), get_settings())
    assert what == "source" and len(table) == 344

    # monitor --current s3://: the rows checked against the registered model's reference
    code, out, err = cli(capsys, "monitor", "-m", NAME, "--current", source, "--json")
    assert code in (0, 1), err
    assert json.loads(out)["rows"] == 20


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small bundle trained in this process (no S3 involved)."""
    import apprentice

    out = tmp_path_factory.mktemp("bundle") / "b"
    apprentice.train(
        str(TABLE), target="species", out=out, families=["linear"], max_trials=0,
        time_budget=None, n_jobs=1,
    )  # fmt: skip
    return out


def test_wrong_inputs_say_what_to_do_and_lose_nothing(
    s3: S3,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    bundle_dir: Path,
    tmp_path: Path,
) -> None:
    rows = s3.put("data/rows.csv", TABLE.read_bytes())
    previous = s3.put("out/kept.csv", b"prediction\nkept\n")

    # a missing object: one line naming it, the earlier output untouched
    code, out, err = cli(
        capsys, "predict", str(bundle_dir), f"s3://{BUCKET}/data/nope.csv", "-o", previous
    )
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: s3://{BUCKET}/data/nope.csv: no such object; check the key (and that the "
        "bucket is the right one)"
    ]
    assert s3.get("out/kept.csv") == b"prediction\nkept\n"

    # a missing bucket for the output: refused before any prediction, nothing written
    code, _, err = cli(capsys, "predict", str(bundle_dir), rows, "-o", "s3://no-such-bucket/o.csv")
    assert code == 2
    assert "the bucket 'no-such-bucket' does not exist; create it or fix the URL" in err
    assert "nothing was written" in err and len(err.strip().splitlines()) == 1

    # a bundle URL with no bundle under it
    code, _, err = cli(capsys, "predict", f"s3://{BUCKET}/nothing-here", rows, "-o", previous)
    assert code == 2 and "no bundle there (no manifest.json)" in err
    assert s3.get("out/kept.csv") == b"prediction\nkept\n"

    # no credentials at all: the message says which variables to set
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    _forget_clients()
    code, _, err = cli(capsys, "predict", str(bundle_dir), rows, "-o", str(tmp_path / "x.csv"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no credentials for s3://" in err and "AWS_ACCESS_KEY_ID" in err
    assert not (tmp_path / "x.csv").exists()
    for key, value in _CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    _forget_clients()
    assert s3.get("out/kept.csv") == b"prediction\nkept\n"


def test_read_and_write_through_storage_urls(s3: S3, tmp_path: Path) -> None:
    from apprentice import storage
    from apprentice.errors import StorageError
    from apprentice.read import read

    url = s3.put("deep/folder/penguins.csv", TABLE.read_bytes())
    got = read(url)
    assert got.source == url and len(got.table) == 344
    local = read(TABLE.as_uri())  # file:// reads the file itself
    assert local.table.equals(got.table)

    # a failed write leaves no object behind
    with pytest.raises(RuntimeError), storage.local_output(f"s3://{BUCKET}/half.csv") as out:
        out.write_text("a,b\n1,")
        raise RuntimeError("the writer failed")
    assert "half.csv" not in s3.listing()
    with storage.local_output(f"s3://{BUCKET}/whole.csv") as out:
        out.write_text("a,b\n1,2\n")
    assert s3.get("whole.csv") == b"a,b\n1,2\n"

    # a folder is not a file
    with pytest.raises(StorageError, match="is a folder"):
        read(f"s3://{BUCKET}/deep/folder")
    assert os.environ["AWS_ENDPOINT_URL"] == s3.endpoint


def test_train_writes_a_bundle_to_s3_that_predict_loads(
    s3: S3, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = s3.put("data/penguins.csv", TABLE.read_bytes())
    other = s3.put("not-a-bundle/notes.txt", b"keep me")
    before = s3.listing()

    # a prefix that holds something else is refused before any training
    prefix = other.rsplit("/", 1)[0]
    code, _, err = cli(
        capsys, "train", data, "--target", "species", "--out", prefix, "--max-trials", "0"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "holds 1 object(s) but no bundle (no manifest.json); choose another --out" in err
    assert s3.listing() == before and s3.get("not-a-bundle/notes.txt") == b"keep me"

    url = f"s3://{BUCKET}/bundles/penguins"
    args = ["--target", "species", "--out", url, "--max-trials", "0", "--families", "linear"]
    code, _, err = cli(capsys, "train", data, *args, "--quiet")
    assert code == 0, err
    stored = s3.listing("bundles/penguins/")
    assert "bundles/penguins/manifest.json" in stored and "bundles/penguins/manifest.sig" in stored
    target = f"s3://{BUCKET}/out/p.csv"
    code, _, err = cli(capsys, "predict", url, data, "-o", target)
    assert code == 0, err
    first = s3.get("out/p.csv")
    assert len(pd.read_csv(io.BytesIO(first))) == 344

    # a model object changed behind the manifest: the cached copy (keyed by the manifest's
    # SHA-256, verified on every load) is still the bundle the manifest describes; a machine
    # without it downloads the changed object and refuses it
    model = next(k for k in stored if "/model_" in k)
    original = s3.get(model)
    s3.put(model, original + b"\n")
    code, _, err = cli(capsys, "predict", url, data, "-o", target)
    assert code == 0, err
    assert s3.get("out/p.csv") == first
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "elsewhere"))
    code, _, err = cli(capsys, "predict", url, data, "-o", target)
    assert code == 2 and "modified" in err and len(err.strip().splitlines()) == 1, err
    s3.put("out/p.csv", b"earlier")
    code, _, err = cli(capsys, "predict", url, data, "-o", target)
    assert code == 2 and s3.get("out/p.csv") == b"earlier"  # nothing overwritten
    s3.put(model, original)  # repaired: the refused copy was never cached
    code, _, err = cli(capsys, "predict", url, data, "-o", target)
    assert code == 0, err
    assert s3.get("out/p.csv") == first

    # training again to the same prefix replaces the bundle (no stale file left)
    s3.put("bundles/penguins/stale.json", b"{}")
    code, _, err = cli(capsys, "train", data, *args, "--quiet", "--seed", "1")
    assert code == 0, err
    assert "bundles/penguins/stale.json" not in s3.listing()
    code, _, err = cli(capsys, "predict", url, data, "-o", target)
    assert code == 0, err


def test_an_artifact_root_in_a_missing_bucket_fails_before_training(
    s3: S3, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = s3.put("data/penguins.csv", TABLE.read_bytes())
    monkeypatch.setenv("APPRENTICE_ARTIFACT_ROOT", "s3://no-such-bucket/mlflow")
    code, out, err = cli(
        capsys, "run", data, "--target", "species", "--name", "never", "--max-trials", "0"
    )
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: writing s3://no-such-bucket/mlflow failed: the bucket 'no-such-bucket' does "
        "not exist; create it or fix the URL; nothing was written"
    ]
    assert not (tmp_path / "ws" / "runs").exists() or not any((tmp_path / "ws" / "runs").iterdir())
    assert s3.listing() == ["data/penguins.csv"]

    # no credentials: the same, before any training
    monkeypatch.setenv("APPRENTICE_ARTIFACT_ROOT", f"s3://{BUCKET}/mlflow")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    _forget_clients()
    code, out, err = cli(
        capsys, "run", data, "--target", "species", "--name", "never", "--max-trials", "0"
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "no credentials for s3://; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in err
    for key, value in _CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    _forget_clients()
    assert s3.listing() == ["data/penguins.csv"]


def test_serve_resolves_a_bundle_url_to_a_verified_cached_copy(
    s3: S3, bundle_dir: Path, tmp_path: Path
) -> None:
    from apprentice.serve.run import resolve_model
    from apprentice.storage import upload_dir

    url = f"s3://{BUCKET}/bundles/b"
    upload_dir(bundle_dir, url)
    resolved = resolve_model(url)
    cache = tmp_path / "ws" / "cache" / "bundles"
    assert resolved.path.parent == cache.resolve()
    manifest = (bundle_dir / "manifest.json").read_bytes()
    assert resolved.path.name == hashlib.sha256(manifest).hexdigest()
    assert sorted(p.name for p in resolved.path.iterdir()) == sorted(
        p.name for p in bundle_dir.iterdir()
    )
    assert resolve_model(url).path == resolved.path  # the cached copy is reused


def test_read_from_s3_writes_the_table_and_quarantine_to_s3(
    s3: S3, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = TABLE.read_bytes() + b"Adelie,Torgersen,1,2,3,4,male,2007,x,y,z,w\n"
    source = s3.put("data/broken.csv", broken)
    local = tmp_path / "broken.csv"
    local.write_bytes(broken)
    code, _, err = cli(capsys, "read", str(local), "-o", str(tmp_path / "t.csv"),
                       "--quarantine", str(tmp_path / "q.csv"), "--quiet")  # fmt: skip
    assert code == 0, err
    code, _, err = cli(capsys, "read", source, "-o", f"s3://{BUCKET}/out/t.csv",
                       "--quarantine", f"s3://{BUCKET}/out/q.csv", "--quiet")  # fmt: skip
    assert code == 0, err
    assert s3.get("out/t.csv") == (tmp_path / "t.csv").read_bytes()
    assert s3.get("out/q.csv") == (tmp_path / "q.csv").read_bytes()
    assert len((tmp_path / "q.csv").read_bytes().splitlines()) >= 2  # a row was quarantined


def test_clean_from_s3_writes_the_table_and_ledger_to_s3(
    s3: S3, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = s3.put("data/penguins.csv", TABLE.read_bytes())
    code, out, err = cli(capsys, "clean", source, "-o", f"s3://{BUCKET}/out/clean.csv",
                         "--ledger", f"s3://{BUCKET}/out/ledger.json", "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["output"] == f"s3://{BUCKET}/out/clean.csv"
    assert summary["ledger_file"] == f"s3://{BUCKET}/out/ledger.json"
    code, _, err = cli(capsys, "clean", str(TABLE), "-o", str(tmp_path / "clean.csv"), "--quiet")
    assert code == 0, err
    assert s3.get("out/clean.csv") == (tmp_path / "clean.csv").read_bytes()
    assert json.loads(s3.get("out/ledger.json"))["columns"]

    # a missing bucket for the ledger: refused before the read, nothing written anywhere
    code, _, err = cli(capsys, "clean", source, "-o", f"s3://{BUCKET}/out/again.csv",
                       "--ledger", "s3://no-such-bucket/ledger.json")  # fmt: skip
    assert code == 2 and "the bucket 'no-such-bucket' does not exist" in err
    assert "out/again.csv" not in s3.listing("out/")
