"""Prometheus metrics of one server: requests, latency, errors, predictions, the log.

Each app has its own registry (several apps can live in one process, as in the tests). With
several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``apprentice serve --workers N``) makes
``/metrics`` add up every worker's values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
PROBA_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
ENDPOINTS = (
    "/predict",
    "/predict/batch",
    "/explain",
    "/feedback",
    "/health",
    "/ready",
    "/metrics",
    "/model",
    "/docs",
    "/openapi.json",
)


class Metrics:
    def __init__(self, *, task: str, classes: Sequence[Any] | None, log: Any = None) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            "apprentice_requests",
            "HTTP requests by endpoint and status code.",
            ["endpoint", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "apprentice_request_latency_seconds",
            "Time from request to response, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.errors = Counter(
            "apprentice_errors",
            "Requests answered with an error, by endpoint and kind.",
            ["endpoint", "kind"],
            registry=reg,
        )
        self.predictions = Counter(
            "apprentice_predictions",
            "Predictions made, by predicted class ('value' for regression).",
            ["prediction"],
            registry=reg,
        )
        self.task = task
        self.classes = list(classes or [])
        self._class_counters = [self.predictions.labels(prediction=str(c)) for c in self.classes]
        self._value_counter = self.predictions.labels(prediction="value")
        self.values: Any = None
        self.positive: Any = None
        if task == "regression":
            self.values = Histogram(
                "apprentice_predicted_value",
                "Predicted values (regression).",
                registry=reg,
                buckets=(float("inf"),),
            )
        elif task == "binary" and len(self.classes) == 2:
            self.positive = Histogram(
                "apprentice_predicted_probability",
                f"Predicted probability of class {self.classes[1]!s}.",
                buckets=PROBA_BUCKETS,
                registry=reg,
            )
        self.log_rows = Counter(
            "apprentice_log_rows_written", "Prediction rows written to the log.", registry=reg
        )
        self._children: dict[tuple[str, int], Any] = {}
        self._latency: dict[str, Any] = {e: self.latency.labels(endpoint=e) for e in ENDPOINTS}
        self._latency["other"] = self.latency.labels(endpoint="other")
        if log is not None and not self.multiprocess:
            pending = Gauge(
                "apprentice_log_queue", "Predictions waiting to be written.", registry=reg
            )
            pending.set_function(lambda: float(log.pending))

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        key = (endpoint, status)
        child = self._children.get(key)
        if child is None:
            child = self.requests.labels(endpoint=endpoint, status=str(status))
            self._children[key] = child
        child.inc()
        self._latency[endpoint].observe(seconds)
        if status >= 400:
            kind = "server_error" if status >= 500 else "validation" if status == 422 else "client"
            self.errors.labels(endpoint=endpoint, kind=kind).inc()

    def predicted(
        self, index: int | None, proba_positive: float | None, value: float | None
    ) -> None:
        if index is not None and index < len(self._class_counters):
            self._class_counters[index].inc()
        else:
            self._value_counter.inc()
        if proba_positive is not None and self.positive is not None:
            self.positive.observe(proba_positive)
        if value is not None and self.values is not None:
            self.values.observe(value)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.multiprocess:
            from prometheus_client import CollectorRegistry
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
