"""Property tests of the bundle validators: whatever the bytes, a validator either accepts the
file or raises a BundleError (never another exception), and its JSON reader agrees with
Python's own parser on every document within the caps."""

from __future__ import annotations

import io
import json
import math
import zipfile
from functools import cache
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.errors import BundleError
from apprentice.modelfiles.jsonfile import json_shape, load_json
from apprentice.modelfiles.lightgbm_text import check_lightgbm_text
from apprentice.modelfiles.skops_archive import check_skops_archive

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab"\\[]{},:\n é'), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="ab[]{}\"'", max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_json_shape_and_load_json_agree_with_python(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False).encode()
    depth, count = json_shape(text)
    assert depth == _depth(value)
    assert count >= 1
    assert load_json(text, "x.json") == json.loads(text)


@given(st.integers(1, 3000))
@settings(max_examples=30, deadline=None)
def test_deep_json_is_refused_without_recursion(depth: int) -> None:
    text = ("[" * depth + "]" * depth).encode()
    if depth <= 100:
        assert load_json(text, "x.json") is not None
    else:
        with pytest.raises(BundleError, match="nests"):
            load_json(text, "x.json")


@cache
def _lightgbm_text() -> str:
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.random((200, 4))
    X[:, 3] = rng.integers(0, 5, 200)
    y = (X[:, 0] > 0.5).astype(int) + (X[:, 3] > 2)
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 5, "verbose": -1}
    params["min_data_in_leaf"] = 5
    data = lgb.Dataset(X, y, categorical_feature=[3])
    return str(lgb.train(params, data, num_boost_round=2).model_to_string())


TOKENS = ["-1", "0", "7", "2147483648", "-99999999999", "nan", "inf", "", "x", "1.5", "1e400"]


@given(st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_lightgbm_validator_raises_only_bundle_errors(data: st.DataObject) -> None:
    text = _lightgbm_text()
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 3))):
        if not lines:
            break
        action = data.draw(st.sampled_from(["token", "cut", "duplicate", "drop"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if action == "token" and "=" in lines[i]:
            key, _, value = lines[i].partition("=")
            parts = value.split(" ")
            j = data.draw(st.integers(0, max(len(parts) - 1, 0)))
            parts[j] = data.draw(st.sampled_from(TOKENS))
            lines[i] = key + "=" + " ".join(parts)
        elif action == "cut":
            lines = lines[:i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "drop" and lines:
            del lines[i]
    mutated = "\n".join(lines)
    try:
        check_lightgbm_text(mutated, "model_0.txt", n_classes=3, n_features=4)
    except BundleError as exc:
        assert "model_0.txt" in str(exc) and "\n" not in str(exc)


def test_the_unmutated_lightgbm_model_passes() -> None:
    check_lightgbm_text(_lightgbm_text(), "model_0.txt", n_classes=3, n_features=4)
    with pytest.raises(BundleError, match="num_class=3 where the manifest needs 2"):
        check_lightgbm_text(_lightgbm_text(), "model_0.txt", n_classes=2, n_features=4)


@cache
def _skops_bytes() -> bytes:
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(1)
    X = rng.random((80, 3))
    y = (X[:, 0] > 0.5).astype(int)
    model = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, y)
    return bytes(sio.dumps(model))


def test_the_untouched_forest_passes() -> None:
    check_skops_archive(_skops_bytes(), "model_0.skops", n_classes=2, n_features=3)
    with pytest.raises(
        BundleError, match=r"n_features_in_ = 3 is outside 4\.\.4|expects 3 features"
    ):
        check_skops_archive(_skops_bytes(), "model_0.skops", n_classes=2, n_features=4)


@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_skops_validator_raises_only_bundle_errors_on_corrupt_bytes(
    flips: list[tuple[int, int]],
) -> None:
    data = bytearray(_skops_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    try:
        check_skops_archive(bytes(data), "model_0.skops", n_classes=2, n_features=3)
    except BundleError as exc:
        assert "model_0.skops" in str(exc) and "\n" not in str(exc)


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_skops_validator_raises_only_bundle_errors_on_changed_arrays(data: st.DataObject) -> None:
    """Arrays rewritten inside a well-formed zip: random values in the tree node fields."""
    with zipfile.ZipFile(io.BytesIO(_skops_bytes())) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    arrays = [n for n in members if n.endswith(".npy")]
    name = data.draw(st.sampled_from(sorted(arrays)))
    array = np.load(io.BytesIO(members[name]), allow_pickle=False).copy()
    if array.dtype.names:
        field = data.draw(st.sampled_from(list(array.dtype.names)))
        values = array[field].reshape(-1)
        if len(values):
            k = data.draw(st.integers(0, len(values) - 1))
            raw = data.draw(st.sampled_from([-(2**40), -2, -1, 0, 1, 3, 2**31, math.nan]))
            if values.dtype.kind == "f":
                values[k] = raw
            elif not math.isnan(raw):  # wrapped into the field's integer type, as C would
                values[k] = np.asarray(int(raw), dtype=np.int64).astype(values.dtype)
    elif array.size:
        flat = array.reshape(-1)
        flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(st.sampled_from([0, 1, 99]))
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    members[name] = buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, body in members.items():
            archive.writestr(member, body)
    try:
        check_skops_archive(out.getvalue(), "model_0.skops", n_classes=2, n_features=3)
    except BundleError as exc:
        assert "model_0.skops" in str(exc) and "\n" not in str(exc)


def test_a_zip_declaring_an_unknown_version_is_refused_as_a_bundle_error() -> None:
    """Found by the fuzz test above in a fresh clone: a central directory whose 'version
    needed to extract' is 6.4 made zipfile raise NotImplementedError past the validator."""
    data = bytearray(_skops_bytes())
    start = data.rfind(b"PK\x01\x02")  # the last central directory entry
    data[start + 6] = 64  # version needed to extract: 6.4
    with pytest.raises(BundleError, match=r"model_0\.skops is not a valid skops file"):
        check_skops_archive(bytes(data), "model_0.skops", n_classes=2, n_features=3)
