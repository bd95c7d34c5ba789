"""Scale-out on Dask: the same jobs on a LocalCluster or an existing cluster.

Only this package (and the workflows and CLI that call it) imports dask, and only inside
functions, so ``apprentice --help`` and in-process runs never load it.
"""

from apprentice.scale.clean import PartitionedClean, clean_partitioned, write_partitioned
from apprentice.scale.cluster import (
    ClusterSpec,
    check_versions,
    compute,
    connect,
    gather,
    parse_address,
    resolve_address,
)
from apprentice.scale.lightgbm import (
    DaskTrainResult,
    clean_with_template,
    split_assignment,
    train_lightgbm_on_dask,
)
from apprentice.scale.monitor import monitor_partitioned
from apprentice.scale.partitions import PartitionedTable, read_partitioned
from apprentice.scale.predict import predict_partitioned
from apprentice.scale.search import DaskFoldRunner
from apprentice.scale.train import train_on_cluster

__all__ = [
    "ClusterSpec",
    "DaskFoldRunner",
    "DaskTrainResult",
    "PartitionedClean",
    "PartitionedTable",
    "check_versions",
    "clean_partitioned",
    "clean_with_template",
    "compute",
    "connect",
    "gather",
    "monitor_partitioned",
    "parse_address",
    "predict_partitioned",
    "read_partitioned",
    "resolve_address",
    "split_assignment",
    "train_lightgbm_on_dask",
    "train_on_cluster",
    "write_partitioned",
]
