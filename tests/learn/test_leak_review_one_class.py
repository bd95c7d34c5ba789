"""The review's two-fold cross-fit when one fold's training rows hold a single class (a rare
class, all of it on one side): the fold still scores, the absent class lowest (before, an
IndexError stopped training on a table with a handful of positives)."""

from __future__ import annotations

import numpy as np

from apprentice.learn.leak_review import _CrossFit


def test_a_fold_trained_on_one_class_scores_without_error() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.zeros(60, dtype=np.int64)
    fit = _CrossFit(X, y, "binary", seed=0)
    positives = np.flatnonzero(fit.fold == 1)[:3]  # every positive in fold 1: fold 0 trains
    y[positives] = 1  # on rows of class 0 alone
    fit = _CrossFit(X, y, "binary", seed=0)
    assert set(y[fit.fold == 0]) == {0}
    skill, (models, pred) = fit.score()
    assert len(models) == 2 and pred.shape == (60, 2)
    assert np.isfinite(skill)
    va = fit.fold == 1  # predicted by the model that saw only class 0
    assert (pred[va, 0] > pred[va, 1]).all()
    lost = fit.permutation(models, skill)
    assert lost.shape == (3,) and np.isfinite(lost).all()
