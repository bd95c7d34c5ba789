"""A hot swap (``serve NAME`` following the champion alias) in process: after
``Service.install``, ``GET /model``, the OpenAPI schema and the routes' request models
describe the new version, here one trained without two of the columns of the first."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

from apprentice.bundle import load_bundle, train
from apprentice.config import Settings
from tests.serve.conftest import QUICK, Planted

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DROPPED = ("Cabin", "Ticket")


def _without_columns(planted: Planted, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "passengers.csv"
    with open(planted.data, encoding="utf-8", newline="") as src:
        rows = list(csv.DictReader(src))
    columns = [c for c in rows[0] if c not in DROPPED]
    with open(data, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    train(data, target="Survived", out=folder / "bundle", **QUICK)
    return folder / "bundle"


def test_a_hot_swap_describes_the_new_version(planted: Planted, tmp_path: Path) -> None:
    from apprentice.serve import create_app

    second = load_bundle(_without_columns(planted, tmp_path / "v2"))
    app = create_app(
        planted.bundle, settings=Settings(workspace=tmp_path / "ws"), model_version="titanic/1"
    )
    record = planted.records(1)[0]
    with TestClient(app) as client:
        service = app.state.service
        assert client.get("/model").json()["version"] == "titanic/1"
        schema = client.get("/openapi.json").json()
        assert schema["info"]["version"] == "titanic/1"
        assert set(DROPPED) <= set(schema["components"]["schemas"]["Record"]["properties"])
        assert client.post("/predict", json=record).status_code == 200

        fresh = service.prepare(second, "titanic/2")
        client.portal.call(service.install, fresh)  # as the follower does, on the loop

        model = client.get("/model").json()
        assert model["version"] == "titanic/2"
        assert model["input_columns"] == [*second.manifest["input_columns"], "Survived"]
        assert not set(DROPPED) & set(model["input_columns"])
        schema = client.get("/openapi.json").json()
        assert schema["info"]["version"] == "titanic/2"
        properties = set(schema["components"]["schemas"]["Record"]["properties"])
        assert properties == {*second.manifest["input_columns"], "Survived"}
        assert client.get("/ready").json()["model_version"] == "titanic/2"
        # the routes check requests against the new version's columns
        kept = {k: v for k, v in record.items() if k not in DROPPED}
        r = client.post("/predict", json=kept)
        assert r.status_code == 200 and r.json()["model_version"] == "titanic/2"
        for path in ("/predict", "/explain"):
            r = client.post(path, json=record)  # Cabin and Ticket are no longer columns
            assert r.status_code == 422, (path, r.text)
            assert {e["type"] for e in r.json()["detail"]} == {"extra_forbidden"}
        assert client.post("/explain", json=kept).status_code == 200
        rid = client.post("/predict", json=kept).json()["request_id"]
        r = client.post("/feedback", json={"request_id": rid, "actual": 1})
        assert r.status_code == 200
        assert service.swaps == 1
