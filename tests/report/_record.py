"""A run record like ``apprentice run`` writes, built from a real trained bundle (cached)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.explain import _bundles as B


@cache
def adult_record() -> dict[str, Any]:
    """Adult income: linear + LightGBM, analysed on 600 holdout rows whose ``race`` holds a
    planted ``<script>`` category, fairness by sex and race."""
    from apprentice.report import analyse

    result = B.adult_ensemble()
    bundle = result.bundle
    _, holdout = B.adult_rows()
    sections = analyse(bundle, holdout, holdout["income"], sensitive=["sex", "race"], n_boot=100)
    manifest = bundle.manifest
    record = {
        **result.to_dict(),
        **sections,
        "run_id": "adult-20250101-000000",
        "created_at": "2025-01-01T00:00:00+00:00",
        "data": {
            "source": "adult.csv",
            "fingerprint": "0" * 64,
            "rows": 2000,
            "columns": 15,
            "quarantined": 0,
        },
        "split": manifest.get("split"),
        "schema": manifest.get("schema"),
        "excluded_columns": manifest.get("excluded_columns"),
        "model": {"name": "adult-income", "version": 1, "alias": "champion"},
        "reproduce": {
            "command": "apprentice run adult.csv --target income --max-trials 0",
            "seed": 0,
            "versions": {"apprentice": "test"},
        },
    }
    return json.loads(json.dumps(record, default=str))  # what run.json holds
