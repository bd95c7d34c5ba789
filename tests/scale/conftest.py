"""A real LocalCluster of two worker processes, shared by the scale tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    from apprentice.scale import connect

    with connect("local:2", memory_limit="2GiB") as client:
        yield client
