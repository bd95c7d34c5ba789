"""The MLflow store and registry on a real SQLite backend: runs, child runs, artifacts,
champion/challenger aliases, promotion, resolution and the pyfunc export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from apprentice.bundle import TrainResult, train
from apprentice.track import (
    ChildRun,
    ModelNotFoundError,
    RegistryError,
    RunLog,
    Tracker,
    TrackingError,
    check_task,
    export_pyfunc,
    list_models,
    parse_ref,
    promote,
    register_bundle,
    resolve_model,
    show_model,
)
from tests.track._support import QUICK, blood_file, empty_store, make_workspace, needs_tables

__all__ = ["blood_file", "empty_store"]

pytestmark = needs_tables


@pytest.fixture(scope="module")
def trained(blood_file: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    options = {k: v for k, v in QUICK.items()}
    options["families"] = ("linear",)
    return train(blood_file, target="Class", out=tmp_path_factory.mktemp("b") / "bundle", **options)  # type: ignore[arg-type]


@pytest.fixture
def tracker(tmp_path: Path, empty_store: Path) -> Tracker:
    return Tracker(settings=make_workspace(tmp_path / "ws", empty_store))


def _log(tracker: Tracker, trained: TrainResult, name: str = "blood") -> object:
    return tracker.log_run(
        RunLog(
            experiment=name,
            run_name="r1",
            params={"target": "Class", "long": "x" * 900, "none": None},
            metrics={"holdout_roc_auc": 0.75, "holdout_roc_auc_low": 0.7, "nan": float("nan")},
            tags={"mlflow.source.git.commit": "abc123"},
            artifacts=[(trained.path, "bundle")],
            children=[ChildRun("linear", {"C": 1.0}, {"cv_roc_auc": 0.74})],
        )
    )


def _register(tracker: Tracker, trained: TrainResult, name: str = "blood"):  # type: ignore[no-untyped-def]
    run = _log(tracker, trained, name)
    return register_bundle(
        tracker,
        name=name,
        run_id=run.run_id,  # type: ignore[attr-defined]
        source=f"{run.artifact_uri}/bundle",  # type: ignore[attr-defined]
        task="binary",
        target="Class",
        tags={"apprentice.run_id": "run-1"},
    )


def test_run_is_recorded(tracker: Tracker, trained: TrainResult) -> None:
    run = _log(tracker, trained)
    client = tracker.client
    got = client.get_run(run.run_id)  # type: ignore[attr-defined]
    assert got.info.status == "FINISHED"
    assert got.data.params["target"] == "Class"
    assert len(got.data.params["long"]) == 500 and "none" not in got.data.params
    assert got.data.metrics == {"holdout_roc_auc": 0.75, "holdout_roc_auc_low": 0.7}
    assert got.data.tags["mlflow.source.git.commit"] == "abc123"
    children = client.search_runs(
        [got.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{got.info.run_id}'"
    )
    assert [c.info.run_name for c in children] == ["linear"]
    files = {f.path for f in client.list_artifacts(got.info.run_id, "bundle")}
    assert "bundle/manifest.json" in files
    # artifacts live in the workspace, beside the database
    assert run.artifact_uri.startswith(
        (tracker.settings.workspace.resolve() / "mlartifacts").as_uri()
    )  # type: ignore[attr-defined]


def test_champion_then_challenger_then_promote(tracker: Tracker, trained: TrainResult) -> None:
    first = _register(tracker, trained)
    second = _register(tracker, trained)
    assert (first.version, first.alias, first.created_model) == (1, "champion", True)
    assert (second.version, second.alias, second.created_model) == (2, "challenger", False)
    assert second.uri == "models:/blood/2"
    (info,) = list_models(tracker)
    assert (info.name, info.task, info.target) == ("blood", "binary", "Class")
    assert info.aliases == {"champion": 1, "challenger": 2}
    shown = show_model(tracker, "blood")
    assert [v.version for v in shown.versions] == [1, 2]
    assert shown.versions[0].aliases == ["champion"]
    assert shown.versions[0].tags["apprentice.run_id"] == "run-1"

    done = promote(tracker, "blood", "2")
    assert (done.version, done.previous, done.cleared) == (2, 1, ("challenger",))
    assert show_model(tracker, "blood").aliases == {"champion": 2}
    third = _register(tracker, trained)
    assert third.alias == "challenger"

    with pytest.raises(ModelNotFoundError, match="no version 9; its versions are 1, 2, 3"):
        promote(tracker, "blood", 9)
    with pytest.raises(RegistryError, match="not a version number"):
        promote(tracker, "blood", "two")
    with pytest.raises(RegistryError, match="alias 'latest' is not usable"):
        promote(tracker, "blood", 1, alias="latest")
    with pytest.raises(ModelNotFoundError, match=r"no registered model 'bloood'.*blood"):
        show_model(tracker, "bloood")


def test_resolve(tracker: Tracker, trained: TrainResult) -> None:
    _register(tracker, trained)
    _register(tracker, trained)
    assert parse_ref("models:/blood@champion") == ("blood", None, "champion")
    assert parse_ref("blood/2") == ("blood", 2, None)
    assert parse_ref("blood") == ("blood", None, None)
    champion = resolve_model("blood", tracker=tracker)
    assert (champion.version, champion.alias, champion.task) == (1, "champion", "binary")
    assert resolve_model("blood@challenger", tracker=tracker).version == 2
    assert resolve_model("models:/blood/2", tracker=tracker).version == 2
    bundle = champion.load()
    rows = pd.read_csv(trained.bundle.manifest["source"], dtype=str).head(5)
    assert (bundle.predict(rows) == trained.bundle.predict(rows)).all()
    with pytest.raises(ModelNotFoundError, match=r"no alias 'staging'.*champion -> 1"):
        resolve_model("blood@staging", tracker=tracker)
    with pytest.raises(ModelNotFoundError, match="no version 7"):
        resolve_model("blood/7", tracker=tracker)
    with pytest.raises(RegistryError, match="not a model reference"):
        parse_ref("blood/x")


def test_resolve_downloads_remote_sources(tracker: Tracker, trained: TrainResult) -> None:
    """A version whose source is not a local path is downloaded once into the workspace."""
    run = _log(tracker, trained)
    tracker.client.create_registered_model(
        "remote", tags={"apprentice.task": "binary", "apprentice.target": "Class"}
    )
    tracker.client.create_model_version("remote", f"runs:/{run.run_id}/bundle", run_id=run.run_id)  # type: ignore[attr-defined]
    resolved = resolve_model("remote/1", tracker=tracker)
    assert resolved.path == tracker.settings.workspace.resolve() / "models" / "remote" / "1"
    assert (resolved.path / "manifest.json").is_file()
    assert resolved.load().task == "binary"
    assert resolve_model("remote/1", tracker=tracker).path == resolved.path  # cached


def test_name_for_another_task_is_refused(tracker: Tracker, trained: TrainResult) -> None:
    _register(tracker, trained)
    assert check_task(tracker, "blood", task="binary", target="Class") is not None
    assert check_task(tracker, "fresh", task="regression", target="y") is None
    with pytest.raises(RegistryError, match=r"already registered for another task \(binary"):
        check_task(tracker, "blood", task="regression", target="Monetary")
    with pytest.raises(RegistryError, match="predicting 'Class'"):
        check_task(tracker, "blood", task="binary", target="Frequency")
    tracker.client.create_registered_model("foreign")
    with pytest.raises(RegistryError, match="not by apprentice"):
        check_task(tracker, "foreign", task="binary", target="Class")
    with pytest.raises(RegistryError, match="not usable"):
        check_task(tracker, "bad name!", task="binary", target="Class")


def test_failed_registration_leaves_nothing(
    tracker: Tracker, trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = tracker.client

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(client, "set_registered_model_alias", broken)
    with pytest.raises(TrackingError, match=r"disk full.*nothing was registered"):
        _register(tracker, trained, name="half")
    assert [m.name for m in list_models(tracker)] == []
    monkeypatch.undo()
    _register(tracker, trained, name="half")
    monkeypatch.setattr(client, "set_registered_model_alias", broken)
    with pytest.raises(TrackingError):
        _register(tracker, trained, name="half")
    assert [v.version for v in show_model(tracker, "half").versions] == [1]


def test_export_pyfunc(trained: TrainResult, tmp_path: Path) -> None:
    import mlflow.pyfunc

    out = export_pyfunc(trained.path, tmp_path / "pyfunc")
    assert (out / "MLmodel").is_file()
    model = mlflow.pyfunc.load_model(str(out))
    rows = pd.read_csv(trained.bundle.manifest["source"], dtype=str).head(20)
    got = model.predict(rows.drop(columns=["Class"]))
    expected = trained.bundle.predict_frame(rows).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    with pytest.raises(Exception, match="already exists"):
        export_pyfunc(trained.path, out)


def test_tracker_opens_in_the_background(tmp_path: Path, empty_store: Path) -> None:
    tracker = Tracker(settings=make_workspace(tmp_path / "ws", empty_store))
    assert not tracker.new_store
    tracker.open(background=True)
    assert tracker.wait().client is not None
    fresh = Tracker(settings=make_workspace(tmp_path / "ws2", empty_store))
    assert fresh.is_local


def test_unusable_store_fails_in_wait(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    tracker = Tracker(f"sqlite:///{(blocker / 'm.db').as_posix()}")
    tracker.open(background=True)
    with pytest.raises(Exception, match="cannot"):
        tracker.wait()


def test_registry_refuses_a_bundle_changed_after_registration(
    tracker: Tracker, trained: TrainResult
) -> None:
    """The registry records the manifest's SHA-256: even a manifest re-signed with the right
    key is refused when it is not the one registered (artifact store tampering)."""
    import hashlib
    import json

    from apprentice.bundle.sign import sign_bundle
    from apprentice.errors import BundleError
    from apprentice.track.registry import TAG_DIGEST

    registration = _register(tracker, trained)
    version = show_model(tracker, "blood").versions[0]
    resolved = resolve_model("blood/1", tracker=tracker)
    manifest_path = resolved.path / "manifest.json"
    assert version.tags[TAG_DIGEST] == hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    assert resolved.digest == version.tags[TAG_DIGEST] and registration.version == 1
    before = manifest_path.read_bytes()
    signature = (resolved.path / "manifest.sig").read_bytes()
    manifest = json.loads(before)
    manifest["metrics"] = {"roc_auc": 0.99}  # a better-looking model, files untouched
    manifest_path.write_text(json.dumps(manifest))
    sign_bundle(resolved.path)
    with pytest.raises(BundleError, match=r"manifest\.json is not the manifest registered"):
        resolve_model("blood/1", tracker=tracker)
    with pytest.raises(BundleError, match=r"manifest\.json changed since 'blood' version 1"):
        resolved.load()
    manifest_path.write_bytes(before)  # restored: it resolves and loads again
    (resolved.path / "manifest.sig").write_bytes(signature)
    assert resolve_model("blood/1", tracker=tracker).load().task == "binary"
