"""The app in process (Starlette's test client): routes, validation, limits, auth, the log."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.config import Settings
from tests.serve._migrate import migrate
from tests.serve.conftest import Planted
from tests.test_pii_canary import CANARIES, assert_no_canary

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _client(planted: Planted, workspace: Path, **options: Any) -> TestClient:
    from apprentice.serve import create_app

    app = create_app(planted.bundle, settings=Settings(workspace=workspace), **options)
    return TestClient(app)


@pytest.fixture(scope="module")
def client(planted: Planted, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with _client(planted, tmp_path_factory.mktemp("ws")) as c:
        yield c


MESSY = [
    {"Pclass": "3", "Sex": " male ", "Age": "22", "Fare": "7.25", "Embarked": "S"},
    {"Pclass": 1, "Sex": "FEMALE", "Age": 38.5, "Fare": 71.2833, "Embarked": "c."},
    {"Pclass": "2", "Sex": "female", "Age": "", "SibSp": "1", "Cabin": "C85"},
    {"Sex": "martian", "Age": "abc", "Fare": True, "Embarked": "Q"},
]
#: records with no usable value in any column the model uses: a 422 (the input contract)
UNUSABLE = [
    {},
    {"Age": "forty"},
    {"Pclass": "?", "Sex": "unknown", "Age": "NA", "Fare": "n/a"},
    {"Sex": "martian", "Age": "abc", "Fare": True, "Embarked": None},
]


def test_predict_one_record(client: TestClient, planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    for record in [*planted.records(20), *MESSY]:
        r = client.post("/predict", json=record)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {
            "request_id",
            "model_version",
            "prediction",
            "probabilities",
            "warnings",
        }
        assert len(body["request_id"]) == 32
        # the server predicts partial records (with warnings): the API does when told to
        expected = bundle.predict_proba(record, allow_missing_columns=True)[0]
        got = [body["probabilities"][str(c)] for c in bundle.classes or []]
        np.testing.assert_allclose(got, expected, atol=1e-12)
        assert body["prediction"] == bundle.classes[int(np.argmax(expected))]  # type: ignore[index]


def test_predict_a_list_small_and_large(client: TestClient, planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    for n in (3, 200):
        records = planted.records(n)
        r = client.post("/predict", json=records)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["predictions"]) == n
        assert [p["request_id"] for p in body["predictions"]] == [
            f"{body['request_id']}-{i}" for i in range(n)
        ]
        classes = [str(c) for c in bundle.classes or []]
        got = np.array([[p["probabilities"][c] for c in classes] for p in body["predictions"]])
        np.testing.assert_allclose(got, bundle.predict_proba(pd.DataFrame(records)), atol=1e-12)
    # records with no usable value are refused, the whole list with them (nothing logged)
    for n in (3, 40):
        r = client.post("/predict", json=[*planted.records(n - 1), {}])
        assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", n - 1]]


def test_fast_path_and_documented_route_agree(planted: Planted, tmp_path: Path) -> None:
    bodies: list[Any] = [*MESSY, MESSY, *UNUSABLE, UNUSABLE, {"Pclass": {"x": 1}}, {"nope": 1}]
    bodies += [[], "text", [1, 2], {"Sex": "male", "age": 3}]
    answers = []
    for fast in (True, False):
        with _client(planted, tmp_path / str(fast), fast_path=fast, log_predictions=False) as c:
            seen = []
            for body in bodies:
                r = c.post("/predict", json=body)
                data = r.json()
                if r.status_code == 200:
                    items = data.get("predictions", [data])
                    data = [(i["prediction"], i["probabilities"], i["warnings"]) for i in items]
                else:
                    data = sorted(tuple(map(str, e["loc"])) for e in data["detail"])
                seen.append((r.status_code, data))
            answers.append(seen)
    assert answers[0] == answers[1]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"Pclass": {"a": 1}}, ["body", "Pclass"]),
        ({"Age": [1, 2]}, ["body", "Age"]),
        ({"Age": "x" * 10_001}, ["body", "Age"]),
        ({"not_a_column": 1}, ["body", "<field>"]),
        ({CANARIES["email"]: 1}, ["body", "<field>"]),
        ({"Sex": "male", "sex_of_passenger": 1}, ["body", "<field>"]),
        ([{"Age": 1}, {"Sex": {}}], ["body", 1, "Sex"]),
        ([], ["body"]),
        ("a string", ["body"]),
    ],
)
def test_422_one_message_per_field(client: TestClient, body: Any, loc: list[Any]) -> None:
    r = client.post("/predict", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [e["loc"] for e in detail] == [loc]
    assert all(set(e) == {"loc", "msg", "type"} for e in detail)
    assert_no_canary(r.text)


def test_422_never_echoes_values(client: TestClient) -> None:
    secret = CANARIES["ssn"]
    bodies = [
        {"Age": {"v": secret}},
        {"Age": [secret]},
        {"Sex": secret * 2000},
        [{"Fare": {"x": secret}}],
    ]
    for body in bodies:
        for path in ("/predict", "/explain"):
            r = client.post(path, json=body)
            assert r.status_code == 422, (path, r.text)
            assert_no_canary(r.text)
            assert "612" not in r.text
    r = client.post("/predict", content=b'{"Age": "' + secret.encode() + b'"')
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    assert_no_canary(r.text)
    r = client.post("/feedback", json={"request_id": secret, "actual": secret})
    assert r.status_code == 422
    assert_no_canary(r.text)


def test_unknown_fields_can_be_ignored(planted: Planted, tmp_path: Path) -> None:
    with _client(planted, tmp_path, unknown_fields="ignore") as c:
        r = c.post("/predict", json={"Sex": "male", "extra": 1})
        assert r.status_code == 200, r.text
        said = [w for w in r.json()["warnings"] if w["type"] == "unknown_fields"]
        assert said == [
            {
                "field": None,
                "type": "unknown_fields",
                "msg": "1 field(s) that are not columns of the training file were ignored",
            }
        ]
        assert c.get("/model").json()["unknown_fields"] == "ignore"


def test_413_over_the_body_limit(planted: Planted, tmp_path: Path) -> None:
    with _client(planted, tmp_path, max_body_bytes=4096, log_predictions=False) as c:
        big = [{"Sex": "male", "Cabin": "x" * 500}] * 20
        for path in ("/predict", "/feedback", "/explain"):
            r = c.post(path, json=big)
            assert r.status_code == 413, (path, r.text)
            assert "limit" in r.json()["detail"]
        assert c.post("/predict", json={"Sex": "male"}).status_code == 200


def test_415_when_not_json(client: TestClient) -> None:
    r = client.post("/predict", content=b"Sex=male", headers={"content-type": "text/plain"})
    assert r.status_code == 415


def test_api_key(planted: Planted, tmp_path: Path) -> None:
    key = "k" * 24
    with _client(planted, tmp_path, api_key=key, log_predictions=False) as c:
        assert c.get("/health").status_code == 200
        assert c.get("/ready").status_code == 200
        for path in ("/model", "/metrics", "/openapi.json"):
            assert c.get(path).status_code == 401
        r = c.post("/predict", json={"Sex": "male"})
        assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
        assert c.post("/predict", json={}, headers={"X-API-Key": "wrong" * 5}).status_code == 401
        ok = c.post("/predict", json={"Sex": "male"}, headers={"X-API-Key": key})
        assert ok.status_code == 200
        r = c.post("/predict", json={"Sex": "male"}, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
        schema = c.get("/openapi.json", headers={"X-API-Key": key}).json()
        assert "APIKeyHeader" in schema["components"]["securitySchemes"]


def test_short_api_key_refused(planted: Planted, tmp_path: Path) -> None:
    from apprentice.errors import ConfigError

    with pytest.raises(ConfigError, match="too short"):
        _client(planted, tmp_path, api_key="short")


def test_operations_routes(client: TestClient, planted: Planted) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    model = client.get("/model").json()
    assert model["task"] == "binary" and model["classes"] == [0, 1]
    assert "email" in model["input_columns"] and "Sex" in model["feature_columns"]
    assert model["fast_path_members"].split("/")[0] == model["fast_path_members"].split("/")[1]
    client.post("/predict", json={"Sex": "male"})
    client.post("/predict", json={"Sex": {}})
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert 'apprentice_requests_total{endpoint="/predict",status="200"}' in text
    assert 'apprentice_errors_total{endpoint="/predict",kind="validation"}' in text
    assert "apprentice_request_latency_seconds_bucket" in text
    assert 'apprentice_predictions_total{prediction="0"}' in text
    assert "apprentice_predicted_probability_bucket" in text
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = client.get("/openapi.json").json()
    record = schema["components"]["schemas"]["Record"]
    assert record["additionalProperties"] is False
    assert set(record["properties"]) == {*model["input_columns"], "Survived"}


def test_explain(client: TestClient, planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    if not callable(getattr(bundle, "explain", None)):
        pytest.skip("this bundle version has no explain()")
    r = client.post("/explain?top=3", json=planted.records(2))
    assert r.status_code == 200, r.text
    rows = r.json()["explanations"]
    assert len(rows) == 2 and len(rows[0]["contributions"]) == 3
    assert client.post("/explain", json={"Sex": "male"}).status_code == 200


def test_batch_csv_and_jsonl(client: TestClient, planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    raw = pd.read_csv(planted.data, dtype=str, keep_default_na=False)
    expected = bundle.predict_proba(raw.drop(columns=["Survived"]))
    r = client.post(
        "/predict/batch", content=planted.data.read_bytes(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    out = pd.read_csv(__import__("io").StringIO(r.text))
    assert list(out.columns) == [
        "row",
        "request_id",
        "prediction",
        "proba_0",
        "proba_1",
        "warnings",
        "error",
    ]
    assert len(out) == len(raw) and out["row"].tolist() == list(range(1, len(raw) + 1))
    np.testing.assert_allclose(out[["proba_0", "proba_1"]].to_numpy(), expected, atol=1e-12)
    assert_no_canary(r.text)

    lines = [json.dumps(rec) for rec in planted.records(50)]
    lines[3] = "{not json"
    lines[7] = json.dumps({"Age": {"nested": CANARIES["ssn"]}})
    r = client.post(
        "/predict/batch",
        content="\n".join(lines).encode(),
        headers={"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert len(rows) == 50
    assert rows[3] == {"row": 4, "error": "not valid JSON"}
    assert "error" in rows[7] and "Age" in rows[7]["error"]
    assert_no_canary(r.text)
    good = [i for i in range(50) if i not in (3, 7)]
    got = np.array([[rows[i]["probabilities"][k] for k in ("0", "1")] for i in good])
    np.testing.assert_allclose(got, bundle.predict_proba(planted.records(50))[good], atol=1e-12)

    empty = client.post("/predict/batch", content=b"", headers={"content-type": "text/csv"})
    assert empty.status_code == 200
    r = client.post("/predict/batch", content=b"a", headers={"content-type": "image/png"})
    assert r.status_code == 415


def test_the_log_keeps_protected_rows(planted: Planted, tmp_path: Path) -> None:
    from apprentice.serve import read_log

    records = planted.records(30)
    ids = []
    with _client(planted, tmp_path) as c:
        for record in records[:10]:
            ids.append(c.post("/predict", json=record).json()["request_id"])
        for p in c.post("/predict", json=records[10:30]).json()["predictions"]:
            ids.append(p["request_id"])
        c.post("/feedback", json={"request_id": ids[0], "actual": 1})
        c.post("/feedback", json={"request_id": ids[1], "actual": "0"})
    url = f"sqlite:///{tmp_path / 'predictions.sqlite'}"
    log = read_log(url)
    assert log["request_id"].tolist() == ids
    first = json.loads(log["inputs"].iloc[0])
    assert set(first) == set(records[0])
    assert first["Sex"] == records[0]["Sex"]  # not PII: kept for drift
    for column in ("email", "phone", "ssn", "Name", "card_number"):
        assert first[column] != records[0][column] and len(first[column]) == 16
    features = json.loads(log["features"].iloc[0])
    assert "email" not in features and isinstance(features["Age"], float | None)
    assert json.loads(log["prediction"].iloc[0]) in (0, 1)
    assert len(json.loads(log["probabilities"].iloc[0])) == 2
    assert (log["latency_ms"] > 0).all() and log["endpoint"].eq("predict").all()
    feedback = read_log(url, "feedback")
    assert feedback["request_id"].tolist() == ids[:2]
    assert [json.loads(a) for a in feedback["actual"]] == [1, "0"]
    assert_no_canary(tmp_path)


def test_feedback_validation(client: TestClient, planted: Planted) -> None:
    one = client.post("/predict", json=planted.records(1)[0]).json()["request_id"]
    many = client.post("/predict", json=planted.records(4)).json()["request_id"]
    ok = client.post("/feedback", json={"request_id": one, "actual": 1})
    assert ok.status_code == 200 and ok.json() == {"request_id": one, "stored": True}
    again = client.post("/feedback", json={"request_id": f"{many}-3", "actual": "1"})
    assert again.status_code == 200
    for never in ("a" * 32, f"{many}-4", f"{one}-0"):  # ids no prediction ever had: a 404
        r = client.post("/feedback", json={"request_id": never, "actual": 1})
        assert r.status_code == 404, r.text
        assert r.json() == {
            "detail": "no prediction has this request id; send the request_id that POST "
            "/predict returned"
        }
    from apprentice.serve import read_log

    url = client.app.state.service.log.url  # type: ignore[attr-defined]
    stored = read_log(url, "feedback")["request_id"].tolist()  # committed before the 200
    assert stored == [one, f"{many}-3"]
    for bad in (
        {"request_id": "a" * 32, "actual": 7},
        {"request_id": "a" * 32, "actual": True},
        {"request_id": "nope", "actual": 1},
        {"request_id": "a" * 32},
        {"request_id": "a" * 32, "actual": 1, "extra": 2},
    ):
        assert client.post("/feedback", json=bad).status_code == 422, bad


def test_sqlite_migrations_from_several_processes(tmp_path: Path) -> None:
    import multiprocessing
    import sqlite3

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=migrate, args=(url,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with sqlite3.connect(tmp_path / "log.sqlite") as conn:
        assert conn.execute("SELECT version FROM apprentice_log_schema").fetchall() == [(2,)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unwritable_rows_are_spilled_and_reinserted(tmp_path: Path) -> None:
    from apprentice.serve.log import PredictionLog, count_rows

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    log = PredictionLog(url, model_version="v1", spill_dir=tmp_path / "spill", retry_for=0.2)
    log.start()
    assert log._store is not None

    def broken(*args: Any) -> None:
        raise OSError("disk gone")

    log._store.insert = broken  # type: ignore[method-assign]
    for i in range(25):
        log.add((f"{i:032x}", 1.0e9, "predict", {"a": i}, {"a": float(i)}, 1, [0.2, 0.8], 0.5))
    log.add_feedback("0" * 32, 1)
    log.close(timeout=10)
    assert log.spilled == 26 and list((tmp_path / "spill").glob("spill-*.jsonl"))
    assert count_rows(url) == 0
    again = PredictionLog(url, model_version="v1", spill_dir=tmp_path / "spill")
    again.start()
    again.close()
    assert count_rows(url) == 25 and count_rows(url, "feedback") == 1
    assert not list((tmp_path / "spill").glob("*.jsonl"))


def test_log_needs_a_supported_database(tmp_path: Path) -> None:
    from apprentice.errors import ConfigError
    from apprentice.serve.log import PredictionLog

    with pytest.raises(ConfigError, match="SQLite and PostgreSQL"):
        PredictionLog("mysql://x@localhost/db", model_version="v", spill_dir=tmp_path)
