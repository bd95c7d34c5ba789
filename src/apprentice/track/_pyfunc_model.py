"""The MLflow pyfunc model of an apprentice bundle ("models from code": no pickle).

MLflow copies this file next to the exported model and runs it when the model is loaded;
apprentice itself never imports it. The bundle travels as the artifact ``bundle`` and is
loaded (and verified) with :func:`apprentice.load_bundle`.
"""

from __future__ import annotations

from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel


class ApprenticeBundleModel(PythonModel):
    """Raw rows in, ``prediction`` (and ``proba_<class>``) columns out."""

    def load_context(self, context: Any) -> None:
        from apprentice.bundle import load_bundle

        self.bundle = load_bundle(context.artifacts["bundle"])

    # no annotations: MLflow reads them as an input schema
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import pandas as pd

        if isinstance(model_input, pd.DataFrame):
            frame = model_input
        elif isinstance(model_input, dict):
            frame = pd.DataFrame([model_input])
        else:
            frame = pd.DataFrame(model_input)
        return self.bundle.predict_frame(frame).reset_index(drop=True)


mlflow.models.set_model(ApprenticeBundleModel())
