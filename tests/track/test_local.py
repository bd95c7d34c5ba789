"""The MLflow-free registry reader of a local SQLite store gives what the MLflow client gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apprentice.bundle import TrainResult, train
from apprentice.track import RunLog, Tracker, list_models, register_bundle, show_model
from apprentice.track.errors import ModelNotFoundError
from tests.track._support import QUICK, blood_file, empty_store, make_workspace, needs_tables

__all__ = ["blood_file", "empty_store"]

pytestmark = needs_tables


@pytest.fixture(scope="module")
def trained(blood_file: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    options = dict(QUICK)
    options["families"] = ("linear",)
    return train(blood_file, target="Class", out=tmp_path_factory.mktemp("b") / "bundle", **options)  # type: ignore[arg-type]


def _register(tracker: Tracker, trained: TrainResult, name: str, tags: dict[str, str]) -> int:
    run = tracker.log_run(RunLog(experiment=name, run_name="r", artifacts=[(trained.path, "b")]))
    done = register_bundle(
        tracker,
        name=name,
        run_id=run.run_id,  # type: ignore[attr-defined]
        source=f"{run.artifact_uri}/b",  # type: ignore[attr-defined]
        task="binary",
        target="Class",
        tags=tags,
    )
    return done.version


def test_fast_reader_equals_the_mlflow_client(
    tmp_path: Path, empty_store: Path, trained: TrainResult
) -> None:
    settings = make_workspace(tmp_path / "ws", empty_store)
    writer = Tracker(settings=settings)
    for i in range(3):
        _register(writer, trained, "blood", {"apprentice.score": f"0.7{i}", "k": f"v{i}"})
    _register(writer, trained, "Another.model", {})
    writer.client.delete_model_version("blood", "2")  # soft-deleted: no longer a version
    writer.client.set_registered_model_tag("blood", "owner", "team ml")

    slow_list = [m.to_dict() for m in list_models(writer)]
    slow_show = show_model(writer, "blood").to_dict()

    reader = Tracker(settings=settings)
    assert not reader.opened
    fast_list = [m.to_dict() for m in list_models(reader)]
    fast_show = show_model(reader, "blood").to_dict()
    assert not reader.opened  # MLflow was never opened for reading
    assert fast_list == slow_list
    assert fast_show == slow_show
    assert [v["version"] for v in fast_show["versions"]] == [1, 3]
    assert fast_show["aliases"] == {"champion": 1, "challenger": 3}
    with pytest.raises(ModelNotFoundError, match=r"no registered model 'blod'.*blood"):
        show_model(reader, "blod")


def test_a_fresh_workspace_lists_nothing_without_mlflow(tmp_path: Path) -> None:
    """``models list`` in an empty workspace: no model, no file created, mlflow not imported."""
    code = (
        "import json, sys\n"
        "from apprentice.config import Settings\n"
        "from apprentice.track import Tracker, list_models\n"
        f"t = Tracker(settings=Settings(workspace={str(tmp_path)!r}))\n"
        "print(json.dumps([len(list_models(t)), 'mlflow' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout) == [0, False]
    assert list(tmp_path.iterdir()) == []
