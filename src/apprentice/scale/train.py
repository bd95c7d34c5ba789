"""``train`` with its model search on a Dask cluster.

The data fits the client (a file path, a ``ReadResult`` or a DataFrame): reading, cleaning,
the guards, the final refit and the evaluation run here, exactly as in-process; the search's
fold fits, where the time goes, run on the workers (:class:`DaskFoldRunner`). The budget
covers the whole call, as in-process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

    from apprentice.workflows.train import TrainResult


def train_on_cluster(
    data: Any,
    *,
    target: str,
    client: Client,
    label: str | None = None,
    **train_options: Any,
) -> TrainResult:
    """:func:`apprentice.train` with the search's folds fitted on ``client``'s workers.

    ``train_options`` are those of :func:`apprentice.train`; ``label`` names the cluster in
    the result's ``compute`` record (default: the scheduler's address).
    """
    from apprentice.scale.search import DaskFoldRunner
    from apprentice.workflows.train import train

    runner = DaskFoldRunner(client, label=label)
    return train(data, target=target, fold_runner=runner, **train_options)
