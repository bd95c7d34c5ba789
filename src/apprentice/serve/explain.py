"""``POST /explain``: per-row contributions from the bundle's explain stage.

Registered only when the bundle offers ``Bundle.explain(raw_rows, top=5)``. The body is the
same as ``POST /predict`` (one record or a list) under the same input contract: each
explanation carries the record's warnings (missing fields, values the recipe could not read,
unseen categories, values out of the training range), a record with no usable value in any
column the model uses is a 422, and ``strict`` (the server's ``--strict`` or ``?strict=true``)
turns any warning into a 422. A 422 never repeats a value or an unknown name that was sent.
The answer holds, per row, the top contributions in raw column names with the cell each
contribution is about (a column the model uses; PII columns never are).

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


STRICT_HELP = (
    "Refuse (422) any record with a warning (missing fields, unreadable values, unseen "
    "categories, values out of the training range). A server started with --strict is "
    "strict for every request."
)


def add_explain_route(app: Any, service: Any, body_type: Any, common: Any, secured: Any) -> None:
    from typing import Annotated

    from fastapi import Body, Query
    from fastapi.responses import Response

    async def explain(
        body: Annotated[body_type, Body()],
        top: Annotated[int, Query(ge=1, le=_TOP_MAX)] = 5,
        strict: Annotated[bool, Query(description=STRICT_HELP)] = False,
    ) -> Response:
        import anyio

        if isinstance(body, list):
            rows: Any = [r.model_dump(by_alias=True, exclude_unset=True) for r in body]
            locs: list[list[str | int]] = [["body", i] for i in range(len(rows))]
        else:
            rows = [body.model_dump(by_alias=True, exclude_unset=True)]
            locs = [["body"]]
        strict = strict or service.options.strict
        # one model for the whole request, even if a new version is swapped in meanwhile
        compiled, contract, explainer = service.compiled, service.contract, service.explain
        version = service.version

        def run() -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]], Any]:
            import numpy as np

            errors: list[dict[str, Any]] = []
            warned = []
            with np.errstate(all="ignore"):
                for row, loc in zip(rows, locs, strict=True):
                    typed = compiled.clean_record(row)
                    warned.append(contract.check(row, typed, strict=strict, loc=loc, errors=errors))
                if errors:
                    return errors, warned, None
                return errors, warned, explainer(rows, top=top)

        errors, warned, result = await anyio.to_thread.run_sync(run)
        if errors:
            return Response(
                orjson.dumps({"detail": errors[:100]}),
                status_code=422,
                media_type="application/json",
            )
        explanations = _jsonable(result)
        if isinstance(explanations, list) and len(explanations) == len(warned):
            for item, warnings in zip(explanations, warned, strict=True):
                if isinstance(item, dict):
                    item["warnings"] = warnings
        payload = {"model_version": version, "explanations": explanations}
        return Response(orjson.dumps(payload), media_type="application/json")

    app.post(
        "/explain",
        responses={
            200: {"description": "Per-row contributions (raw column names) and warnings."},
            **common,
        },
        dependencies=secured,
        summary="Explain predictions: the top contributions per row",
        tags=["predictions"],
    )(explain)
