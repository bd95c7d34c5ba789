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

__all__ = [
    "ClusterSpec",
    "check_versions",
    "compute",
    "connect",
    "gather",
    "parse_address",
    "resolve_address",
]
