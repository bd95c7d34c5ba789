"""Datasets bundled with apprentice.

``adult.csv.gz`` is the UCI Adult census income table (32,561 rows, 15 columns; target
``income``), as distributed in the UCI repository (CC BY 4.0): headerless at the source, with a
header prepended, values that keep their leading space (``' Private'``) and ``' ?'`` for
missing values. It is the demo dataset for the whole lifecycle.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_dataset() -> Path:
    """Path of the bundled demo table (``adult.csv.gz``)."""
    return Path(str(resources.files(__name__).joinpath("adult.csv.gz")))
