"""The explain stage: global importance and SHAP summaries of a bundle, by raw column name.

``explain_global(bundle, raw_frame, y=None, *, max_rows=2000) -> GlobalExplanation``: the mean
absolute contribution of each raw column over (a sample of) ``raw_frame``, the method used
(``tree_shap`` for LightGBM and scikit-learn trees, ``linear`` for linear models, joined with
``+`` for an ensemble, ``permutation`` when no contribution method applies) and a SHAP-summary
structure for plotting. Per-row explanations live in the bundle runtime
(``Bundle.explain(rows, top=5)``) so that a server can give them without this stage.
"""

from apprentice.explain.importance import GlobalExplanation, explain_global

__all__ = ["GlobalExplanation", "explain_global"]
