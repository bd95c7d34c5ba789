"""Scale-out on Dask: the same jobs on a LocalCluster or an existing cluster.

Only this package (and the workflows and CLI that call it) imports dask, and only inside
functions, so ``apprentice --help`` and in-process runs never load it. Its names are imported
on first use: ``resolve_address`` (asked by every command that takes ``--dask``) must not
import the cleaner, scikit-learn and LightGBM's training side with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apprentice.lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "ClusterSpec": "apprentice.scale.cluster",
    "DaskFoldRunner": "apprentice.scale.search",
    "DaskTrainResult": "apprentice.scale.lightgbm",
    "PartitionedClean": "apprentice.scale.clean",
    "PartitionedTable": "apprentice.scale.partitions",
    "check_versions": "apprentice.scale.cluster",
    "clean_partitioned": "apprentice.scale.clean",
    "clean_with_template": "apprentice.scale.lightgbm",
    "compute": "apprentice.scale.cluster",
    "connect": "apprentice.scale.cluster",
    "gather": "apprentice.scale.cluster",
    "monitor_partitioned": "apprentice.scale.monitor",
    "parse_address": "apprentice.scale.cluster",
    "predict_partitioned": "apprentice.scale.predict",
    "read_partitioned": "apprentice.scale.partitions",
    "resolve_address": "apprentice.scale.cluster",
    "split_assignment": "apprentice.scale.lightgbm",
    "train_lightgbm_on_dask": "apprentice.scale.lightgbm",
    "train_on_cluster": "apprentice.scale.train",
    "write_partitioned": "apprentice.scale.clean",
}

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


__getattr__ = lazy_exports(__name__, _LAZY)
