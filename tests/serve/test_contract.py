"""The input contract of the API: per-record warnings, a 422 for a record with no usable
feature, strict mode (server and per request), malformed Unicode and oversize cells, and
422s that never repeat a name or a value that was sent."""

from __future__ import annotations

import csv
import io
import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.bundle import load_bundle
from apprentice.clean.recipe import Rule
from apprentice.config import Settings
from apprentice.serve.schema import strict_from_query
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
    with _client(planted, tmp_path_factory.mktemp("ws"), log_predictions=False) as c:
        yield c


def _full(planted: Planted) -> dict[str, Any]:
    """A record of the training file with a value in every column the model uses."""
    for record in planted.records(200):
        if all(record.get(c) not in ("", None) for c in ("Age", "Cabin", "Embarked", "Fare")):
            return record
    raise AssertionError("no complete row in the planted file")


def _warned(body: dict[str, Any]) -> dict[str, str]:
    return {w["field"]: w["type"] for w in body["warnings"]}


def test_warnings_name_the_column_and_never_the_value(client: TestClient, planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    full = _full(planted)
    r = client.post("/predict", json=full)
    assert r.status_code == 200 and r.json()["warnings"] == []
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({k: v for k, v in full.items() if k != "Age"}, {"Age": "missing_field"}),
        ({**full, "Age": "forty " + CANARIES["ssn"]}, {"Age": "unreadable"}),
        ({**full, "Sex": "martian"}, {"Sex": "unseen_category"}),
        ({**full, "Age": 130}, {"Age": "out_of_range"}),
        ({**full, "SibSp": -3}, {"SibSp": "out_of_range"}),
        ({**full, "Fare": None}, {"Fare": "missing_value"}),  # never missing in training
        ({**full, "Cabin": None}, {}),  # often missing in training: no warning
        ({**full, "Age": "NA"}, {}),  # a missing-value marker the recipe knows
    ]
    for record, expected in cases:
        r = client.post("/predict", json=record)
        assert r.status_code == 200, r.text
        body = r.json()
        assert _warned(body) == expected, (record, body["warnings"])
        for w in body["warnings"]:
            assert set(w) == {"field", "type", "msg"} and w["msg"]
        assert_no_canary(r.text)
        assert "forty" not in r.text and "martian" not in r.text
        # the warnings change nothing in the prediction: the bundle's own answer
        got = [body["probabilities"][str(c)] for c in bundle.classes or []]
        expected = bundle.predict_proba(record, allow_missing_columns=True)[0]
        np.testing.assert_allclose(got, expected, atol=1e-12)
    messages = {
        w["type"]: w["msg"]
        for record, _ in cases
        for w in client.post("/predict", json=record).json()["warnings"]
    }
    assert messages["missing_field"] == "absent from the record; predicted as missing"
    assert messages["unreadable"] == "could not be read as a number; predicted as missing"
    assert messages["unseen_category"] == "not a category seen in training; predicted as missing"
    assert messages["missing_value"].startswith("missing, but never missing in training")
    schema = {c["name"]: c for c in bundle.manifest["schema"]["columns"]}
    r = client.post("/predict", json={**full, "Age": 130})
    assert r.json()["warnings"][0]["msg"] == (
        f"above the largest value seen in training ({schema['Age']['maximum']:g})"
    )


def test_the_recipe_rules_the_contract_reads() -> None:
    # InputContract reads these codes of the clean stage's recipe
    assert int(Rule.UNPARSEABLE) == 5 and int(Rule.UNSEEN) == 8


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Age": "forty"},
        {"Age": None, "Sex": None, "Fare": None},
        {"Sex": "martian", "Age": "abc", "Embarked": "", "Name": CANARIES["name"]},
    ],
)
def test_a_record_with_no_usable_feature_is_a_422(client: TestClient, body: Any) -> None:
    for path in ("/predict", "/predict?strict=false"):
        r = client.post(path, json=body)
        assert r.status_code == 422, r.text
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body"] and error["type"] == "no_features"
        assert error["msg"].startswith("none of the columns the model uses has a usable value")
        assert "send at least one of: Age, " in error["msg"]
        assert_no_canary(r.text)
        assert "forty" not in r.text and "martian" not in r.text


def test_rejected_records_are_not_logged(planted: Planted, tmp_path: Path) -> None:
    from apprentice.serve import count_rows

    with _client(planted, tmp_path) as c:
        assert c.post("/predict", json={}).status_code == 422
        assert c.post("/predict", json=[_full(planted), {"Age": "forty"}]).status_code == 422
        r = c.post("/predict?strict=true", json=[_full(planted), {"Sex": "male"}])
        assert r.status_code == 422
        assert c.post("/predict", json=_full(planted)).status_code == 200
        url = c.app.state.service.log.url  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while count_rows(url) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert count_rows(url) == 1  # the one answered prediction, none of the refused ones


def test_strict_per_request_and_per_server(planted: Planted, tmp_path: Path) -> None:
    partial = {"Sex": "male", "Age": "22", "Pclass": "3"}
    answers = []
    for fast in (True, False):
        with _client(planted, tmp_path / str(fast), fast_path=fast, log_predictions=False) as c:
            assert c.post("/predict", json=partial).status_code == 200
            r = c.post("/predict?strict=true", json=partial)
            assert r.status_code == 422
            detail = r.json()["detail"]
            assert {tuple(e["loc"]) for e in detail} == {
                ("body", c) for c in ("Cabin", "Embarked", "Fare", "Parch", "SibSp", "Ticket")
            }
            assert all(e["msg"].startswith("strict: ") for e in detail)
            assert c.post("/predict?strict=1", json=_full(planted)).status_code == 200
            bad = c.post("/predict?strict=maybe", json=partial)
            assert bad.status_code == 422
            assert bad.json()["detail"] == [
                {"loc": ["query", "strict"], "msg": "must be true or false", "type": "bool_parsing"}
            ]
            many = c.post("/predict?strict=true", json=[_full(planted), partial])
            assert many.status_code == 422
            assert {e["loc"][1] for e in many.json()["detail"]} == {1}
            answers.append((r.json(), bad.json(), many.json()))
    assert answers[0] == answers[1]  # the fast path and the documented route agree
    with _client(planted, tmp_path / "strict", strict=True, log_predictions=False) as c:
        assert c.post("/predict", json=partial).status_code == 422
        assert c.post("/predict?strict=false", json=partial).status_code == 422  # server wins
        assert c.post("/predict", json=_full(planted)).status_code == 200


def test_strict_query_parsing() -> None:
    assert strict_from_query(b"") is False
    assert strict_from_query(b"strict=true") is True and strict_from_query(b"strict=ON") is True
    assert strict_from_query(b"x=1&strict=0") is False
    assert strict_from_query(b"strict=") is None and strict_from_query(b"strict=2") is None


def test_unknown_field_is_masked_with_a_hint(client: TestClient) -> None:
    for body in ({"Sex": "male", "age": 3}, {"Sex": "male", "P class": 1}):
        r = client.post("/predict", json=body)
        assert r.status_code == 422
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body", "<field>"] and "did you mean '" in error["msg"]
        assert "age" not in json.dumps(error["loc"]) and "P class" not in r.text
    r = client.post("/predict", json={"Sex": "male", CANARIES["email"]: 1})
    assert r.status_code == 422 and "did you mean" not in r.text
    # a key read from a CSV with its byte-order mark looks like the column it is not
    r = client.post("/predict", json={"Sex": "male", "\ufeffAge": 3})
    (error,) = r.json()["detail"]
    assert r.status_code == 422 and error["loc"] == ["body", "<field>"]
    assert "did you mean 'Age'? it differs only in case" in error["msg"]
    assert "byte-order mark" in error["msg"]
    assert_no_canary(r.text)


@pytest.mark.parametrize("fast", [True, False])
def test_malformed_unicode_is_a_422(planted: Planted, tmp_path: Path, fast: bool) -> None:
    bodies = [
        b'{"Sex": "\\ud800male"}',
        b'[{"Sex": "male", "Cabin": "\\udc80"}]',
        b'{"Sex": "m\xffale"}',
        b'{"\\ud800": 1, "Sex": "male"}',
        b'{"Sex": "male", "Age": 1' + b"0" * 400 + b', "Cabin": "\\udfff"}',
    ]
    with _client(planted, tmp_path, fast_path=fast, log_predictions=False) as c:
        for body in bodies:
            r = c.post("/predict", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 422, (body, r.text)
            kinds = ("string_unicode", "json_invalid", "value_type", "extra_forbidden")
            assert r.json()["detail"][0]["type"] in kinds


def _batch(c: TestClient, data: bytes, kind: str, query: str = "") -> Any:
    return c.post("/predict/batch" + query, content=data, headers={"content-type": kind})


def test_batch_warnings_and_refused_rows(client: TestClient, planted: Planted) -> None:
    full = _full(planted)
    header = list(full)
    rows = [
        full,
        {**full, "Age": "forty"},
        {**full, "Cabin": "x" * 140_000},  # over the csv module's default field limit
        {k: "" for k in header},
        {**full, "Sex": "m\udcffale"},  # written as a byte that is not UTF-8
        full,
    ]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows([[row[k] for k in header] for row in rows])
    data = buf.getvalue().encode("utf-8", "surrogateescape")
    r = _batch(client, data, "text/csv")
    assert r.status_code == 200
    out = pd.read_csv(io.StringIO(r.text), dtype=str, keep_default_na=False)
    assert out["row"].tolist() == [str(i) for i in range(1, 7)]  # no row lost
    assert list(out.columns)[-2:] == ["warnings", "error"]
    assert out["warnings"].tolist()[:2] == ["", "Age: unreadable"]
    assert out["error"].tolist() == [
        "",
        "",
        "a cell is longer than the limit of 10,000 characters",
        out["error"][3],
        "not valid UTF-8 text",
        "",
    ]
    assert out["error"][3].startswith("none of the columns the model uses has a usable value")
    assert out["request_id"][2] == "" and out["prediction"][5] != ""
    strict = pd.read_csv(
        io.StringIO(_batch(client, data, "text/csv", "?strict=true").text),
        dtype=str,
        keep_default_na=False,
    )
    assert strict["error"][1] == "Age: strict: could not be read as a number; predicted as missing"
    assert strict["prediction"][0] != "" and strict["prediction"][1] == ""
    assert _batch(client, data, "text/csv", "?strict=perhaps").status_code == 422

    lines = [
        json.dumps(full),
        json.dumps({**full, "Age": "forty"}),
        '{"Sex": "\\ud800"}',
        json.dumps({}),
        json.dumps({**full, "Age": 10**30}),
    ]
    r = _batch(client, "\n".join(lines).encode(), "application/x-ndjson")
    got = [json.loads(line) for line in r.text.splitlines()]
    assert [g["row"] for g in got] == [1, 2, 3, 4, 5]
    assert got[0]["warnings"] == [] and _warned(got[1]) == {"Age": "unreadable"}
    assert got[2] == {
        "row": 3,
        "error": "text that is not valid Unicode (a lone surrogate); send UTF-8 text",
    }
    assert got[3]["error"].startswith("none of the columns")
    assert _warned(got[4]) == {"Age": "out_of_range"}


def test_batch_over_the_upload_limit_is_a_413(planted: Planted, tmp_path: Path) -> None:
    with _client(planted, tmp_path, max_batch_bytes=4096, log_predictions=False) as c:
        data = b"Sex,Cabin\n" + b"male,C85\n" * 1000
        r = _batch(c, data, "text/csv")
        assert r.status_code == 413 and "batch limit" in r.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
            yield data[:3000]
            yield data[3000:]

        r = c.post("/predict/batch", content=chunks(), headers={"content-type": "text/csv"})
        assert r.status_code == 413 and "batch limit" in r.json()["detail"]
        assert _batch(c, data[:2000], "text/csv").status_code == 200


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_COLUMNS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(record=st.dictionaries(st.sampled_from(_COLUMNS), _CELL, max_size=5))
def test_any_record_gets_a_prediction_with_warnings_or_a_clean_422(
    client: TestClient, record: dict[str, Any]
) -> None:
    r = client.post("/predict", json=record)
    assert r.status_code in (200, 422), r.text
    body = r.json()
    if r.status_code == 200:
        assert {w["field"] for w in body["warnings"]} <= set(_COLUMNS)
        absent = {c for c in _COLUMNS if c not in record}
        assert {w["field"] for w in body["warnings"] if w["type"] == "missing_field"} == absent
    else:
        assert [e["type"] for e in body["detail"]] == ["no_features"]
        for value in record.values():  # a 422 repeats no value that was sent
            if isinstance(value, str) and len(value) >= 4 and value.strip():
                assert value not in r.text


def test_a_real_strict_server(planted: Planted, tmp_path: Path) -> None:
    """``apprentice serve --strict`` on 127.0.0.1: warnings are 422s, nothing refused is
    logged, malformed Unicode is a 422 and an unknown request id on /feedback a 404."""
    from apprentice.serve import read_log
    from tests.serve._live import live_server

    full = _full(planted)
    with live_server(planted.bundle, tmp_path / "ws", args=["--strict"]) as server:
        status, body = server.request("POST", "/predict", full)
        assert status == 200, body
        rid = json.loads(body)["request_id"]
        status, body = server.request("POST", "/predict?strict=false", {"Sex": "male"})
        assert status == 422 and b"strict: absent from the record" in body
        status, body = server.request("POST", "/predict", raw=b'{"Sex": "\\ud800"}')
        assert status == 422 and b"string_unicode" in body
        status, body = server.request("POST", "/feedback", {"request_id": "b" * 32, "actual": 1})
        assert status == 404 and b"no prediction has this request id" in body
        status, _ = server.request("POST", "/feedback", {"request_id": rid, "actual": 1})
        assert status == 200
        server.wait_drained()
        log = read_log(server.db_url)
        feedback = read_log(server.db_url, "feedback")
    assert log["request_id"].tolist() == [rid]  # the refused requests left no row
    assert feedback["request_id"].tolist() == [rid]
    assert "Traceback" not in server.text_output()


def test_explain_has_the_input_contract_of_predict(planted: Planted, tmp_path: Path) -> None:
    """``/explain`` warns, refuses and stays quiet exactly like ``/predict``."""
    bundle = load_bundle(planted.bundle)
    if not callable(getattr(bundle, "explain", None)):
        pytest.skip("this bundle version has no explain()")
    full = _full(planted)
    partial = {"Sex": "male", "Age": "forty " + CANARIES["ssn"], "Pclass": "3"}
    with _client(planted, tmp_path / "ws", log_predictions=False) as c:
        # warnings: per explanation, the same as /predict gives for the record
        r = c.post("/explain?top=2", json=[full, partial, {**full, "Sex": "martian"}])
        assert r.status_code == 200, r.text
        rows = r.json()["explanations"]
        assert [row["warnings"] for row in rows] == [
            c.post("/predict", json=record).json()["warnings"]
            for record in (full, partial, {**full, "Sex": "martian"})
        ]
        assert rows[0]["warnings"] == [] and _warned(rows[2]) == {"Sex": "unseen_category"}
        assert _warned(rows[1])["Age"] == "unreadable" and _warned(rows[1])["Fare"] == (
            "missing_field"
        )
        # (a 200 explanation shows the cell each contribution is about: the caller's own)
        # a record with no usable feature: a 422 naming the columns, never the values
        for body in ({}, {"Age": "forty"}, [full, {"Sex": "martian", "Name": CANARIES["name"]}]):
            r = c.post("/explain", json=body)
            assert r.status_code == 422, r.text
            (error,) = r.json()["detail"]
            assert error["type"] == "no_features" and "Sex" in error["msg"]
            assert error["loc"] == (["body", 1] if isinstance(body, list) else ["body"])
            assert_no_canary(r.text)
            assert "forty" not in r.text
        # strict per request: every warning a 422, as on /predict
        r = c.post("/explain?strict=true", json=partial)
        assert r.status_code == 422
        assert r.json() == c.post("/predict?strict=true", json=partial).json()
        assert all(e["msg"].startswith("strict: ") for e in r.json()["detail"])
        assert_no_canary(r.text)
        assert "forty" not in r.text
        assert c.post("/explain?strict=true", json=full).status_code == 200
        bad = c.post("/explain?strict=maybe", json=full)
        assert bad.status_code == 422
        assert bad.json()["detail"] == [
            {"loc": ["query", "strict"], "msg": "must be true or false", "type": "bool_parsing"}
        ]
        # unknown names masked, values never repeated, malformed Unicode refused
        r = c.post("/explain", json={"Sex": "male", CANARIES["email"]: CANARIES["phone"]})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "<field>"]
        assert_no_canary(r.text)
        r = c.post(
            "/explain",
            content=b'{"Sex": "\\ud800male"}',
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422 and r.json()["detail"][0]["type"] in (
            "string_unicode",
            "value_type",
        )
        assert "male" not in r.text
    with _client(planted, tmp_path / "strict", strict=True, log_predictions=False) as c:
        assert c.post("/explain", json=partial).status_code == 422
        assert c.post("/explain?strict=false", json=partial).status_code == 422  # server wins
        assert c.post("/explain", json=full).status_code == 200
