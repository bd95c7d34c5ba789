"""Export a bundle as an MLflow pyfunc model, for ``mlflow models serve`` and friends."""

from __future__ import annotations

import warnings
from pathlib import Path

from apprentice.errors import BundleError
from apprentice.track.errors import TrackingError

_MODEL_CODE = Path(__file__).with_name("_pyfunc_model.py")


def export_pyfunc(bundle_path: str | Path, out_dir: str | Path) -> Path:
    """Write an MLflow pyfunc model at ``out_dir`` that wraps the bundle at ``bundle_path``.

    The bundle is copied in as an artifact and loaded with :func:`apprentice.load_bundle`
    (verified, no pickle); the model's code is a file, not a pickled object. Serve it with
    ``mlflow models serve -m OUT_DIR --env-manager local``; it takes raw rows and answers
    ``prediction`` and, for classification, ``proba_<class>`` columns.
    """
    from apprentice._version import __version__
    from apprentice.bundle import verify_bundle

    bundle = Path(bundle_path)
    verify_bundle(bundle)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out} already exists and is not an empty folder; choose a new path")
    if out.is_dir():
        out.rmdir()
    from apprentice.track.store import _quiet, mlflow_message

    _quiet()
    try:
        import mlflow.pyfunc

        _quiet()

        with warnings.catch_warnings():  # no signature: raw rows are free-form on purpose
            warnings.simplefilter("ignore", UserWarning)
            mlflow.pyfunc.save_model(
                path=str(out),
                python_model=str(_MODEL_CODE),
                artifacts={"bundle": str(bundle.resolve())},
                pip_requirements=[f"ml-apprentice=={__version__}"],
            )
    except Exception as exc:
        raise TrackingError(
            f"exporting {bundle} as an MLflow model failed ({mlflow_message(exc)})"
        ) from None
    return out
