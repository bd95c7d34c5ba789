"""Scale-out on Dask: the same jobs on a LocalCluster or an existing cluster.

Only this package (and the workflows and CLI that call it) imports dask, and only inside
functions, so ``apprentice --help`` and in-process runs never load it.
"""

from apprentice.scale.cluster import (
    ClusterSpec,
    check_versions,
    compute,
    connect,
    gather,
    parse_address,
    resolve_address,
)
from apprentice.scale.search import DaskFoldRunner
from apprentice.scale.train import train_on_cluster

__all__ = [
    "ClusterSpec",
    "DaskFoldRunner",
    "check_versions",
    "compute",
    "connect",
    "gather",
    "parse_address",
    "resolve_address",
    "train_on_cluster",
]
