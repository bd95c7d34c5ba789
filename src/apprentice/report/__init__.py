"""The report stage: one self-contained HTML report and a Markdown model card per run.

``write_report(record, out_dir) -> ReportPaths(html, model_card)`` builds both from the run
record alone (the dict saved as ``run.json``), so ``apprentice report RUN`` can rebuild them.
The HTML has inline CSS and inline SVG plots, a Content-Security-Policy that forbids every
request and script, and escapes every value (Jinja2 autoescape); the Markdown escapes HTML
and Markdown syntax in every value. A section whose data is missing says "not computed".

``analyse(bundle, raw_holdout, y_holdout, *, sensitive=())`` computes the record sections
this stage adds (plots, explain, fairness, sensitive_suggested, error_slices, profile).

The record keys read (all optional)::

    run_id, created_at, apprentice_version, purpose, intended_use
    data:        {source, fingerprint, rows, columns, quarantined}
    cleaning:    CleanFileResult.summary(): {ledger: [lines], read: {...}, pii: {...}}
    ledger:      TrainResult ledger records (stage, action, column, reason)
    pii:         {pii_columns: {column: kind}, protection: {excluded_from_features,
                  pseudonymised, redacted, masked}}  (else cleaning["pii"])
    task, target, classes, metric, threshold, threshold_source, champion, bundle
    split:       {kind, column, test_size, seed, train_rows, holdout_rows}
    leaderboard: [{rank, model, family, cv_<metric>, cv_std, folds, status, champion, note}]
    metrics:     {name: {value, low, high}};  cv: {metric, mean, std, folds}
    comparisons: [Comparison.to_dict()];  calibration: Calibration.to_dict()
    leakage:     LeakageReport.to_dict();  excluded_columns: {column: reason}
    schema:      the bundle's schema (training ranges);  warnings: [str];  timings: {...}
    plots, explain, fairness, sensitive_suggested, error_slices, profile:  see ``analyse``
    reproduce:   {command, seed, time_budget, max_trials, versions: {library: version}}
    retrain:     a retrain's decision: {decision, reason, gate: Gate.to_dict(), champion,
                  metrics: {champion: {...}, challenger: {...}}, holdout_rows, training_rows}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apprentice.lazy import lazy_exports

if TYPE_CHECKING:
    from apprentice.report.analysis import analyse, column_profile, holdout_plots
    from apprentice.report.limits import risks
    from apprentice.report.render import (
        ReportPaths,
        load_record,
        render_html,
        render_model_card,
        write_report,
    )

_EXPORTS = {
    "ReportPaths": "apprentice.report.render",
    "analyse": "apprentice.report.analysis",
    "column_profile": "apprentice.report.analysis",
    "holdout_plots": "apprentice.report.analysis",
    "load_record": "apprentice.report.render",
    "notebook_html": "apprentice.report.render",
    "render_html": "apprentice.report.render",
    "render_model_card": "apprentice.report.render",
    "risks": "apprentice.report.limits",
    "write_report": "apprentice.report.render",
}

__all__ = [
    "ReportPaths",
    "analyse",
    "column_profile",
    "holdout_plots",
    "load_record",
    "notebook_html",
    "render_html",
    "render_model_card",
    "risks",
    "write_report",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
