"""``POST /explain``: per-row contributions from the bundle's explain stage.

Registered only when the bundle offers ``Bundle.explain(raw_rows, top=5)``. The body is the
same as ``POST /predict`` (one record or a list); the answer holds, per row, the top
contributions in raw column names. Values of the request are never repeated in it: only
column names and numbers.

No ``from __future__ import annotations`` here: FastAPI reads the route's annotations as
objects (the body type is built at run time).
"""

import math
from typing import Any

import orjson

_TOP_MAX = 50


def _jsonable(value: Any) -> Any:
    """Plain JSON from what ``Bundle.explain`` returns (frames, arrays, numpy scalars)."""
    try:
        import numpy as np
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return [_jsonable(r) for r in value.to_dict("records")]
        if isinstance(value, pd.Series):
            return _jsonable(value.to_dict())
        if isinstance(value, np.ndarray):
            return _jsonable(value.tolist())
        if isinstance(value, np.generic):
            return _jsonable(value.item())
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return _jsonable(value.to_dict())
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def add_explain_route(app: Any, service: Any, body_type: Any, common: Any, secured: Any) -> None:
    from typing import Annotated

    from fastapi import Body, Query
    from fastapi.responses import Response

    async def explain(
        body: Annotated[body_type, Body()],
        top: Annotated[int, Query(ge=1, le=_TOP_MAX)] = 5,
    ) -> Response:
        import anyio

        if isinstance(body, list):
            rows: Any = [r.model_dump(by_alias=True, exclude_unset=True) for r in body]
        else:
            rows = [body.model_dump(by_alias=True, exclude_unset=True)]

        def run() -> Any:
            import numpy as np

            with np.errstate(all="ignore"):
                return service.explain(rows, top=top)

        result = await anyio.to_thread.run_sync(run)
        payload = {
            "model_version": service.version,
            "explanations": _jsonable(result),
        }
        return Response(orjson.dumps(payload), media_type="application/json")

    app.post(
        "/explain",
        responses={
            200: {"description": "Per-row contributions (raw column names)."},
            **common,
        },
        dependencies=secured,
        summary="Explain predictions: the top contributions per row",
        tags=["predictions"],
    )(explain)
