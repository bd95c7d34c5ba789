"""After release, on a real server: traffic, a shifted batch, the monitor's alert, a retrain.

The demo's second half. The registered champion is served by a real uvicorn server on
127.0.0.1 (a free port, in a thread of this process); raw rows of the table go to
``POST /predict`` and their outcomes to ``POST /feedback``; then a batch whose ages and working
hours have shifted; the monitor reads the prediction log and raises its alert; ``retrain``
trains a challenger on the logged rows that got feedback and decides with its paired test.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from apprentice.config import Settings, get_settings
from apprentice.errors import ApprenticeError


@dataclass
class AfterRelease:
    """What happened after release."""

    address: str
    served: int
    shifted: int
    feedback: int
    monitor: Any  # apprentice.monitor.check.MonitorResult
    decision: Any  # apprentice.workflows.retrain.RetrainDecision

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "served": self.served,
            "shifted": self.shifted,
            "feedback": self.feedback,
            "monitor": self.monitor.to_dict(),
            "decision": self.decision.to_dict(),
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(conn: http.client.HTTPConnection, path: str, payload: Any) -> dict[str, Any]:
    body = json.dumps(payload)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise ApprenticeError(
            f"the demo server answered {response.status} on {path}; see the server's log"
        )
    result: dict[str, Any] = json.loads(data)
    return result


def shift(rows: pd.DataFrame) -> pd.DataFrame:
    """The same people twenty years older, working 60% more hours (raw text, as sent)."""
    out = rows.copy()
    out["age"] = (pd.to_numeric(out["age"], errors="coerce") + 20).astype("Int64").astype(str)
    hours = pd.to_numeric(out["hours_per_week"], errors="coerce") * 1.6
    out["hours_per_week"] = hours.round().astype("Int64").astype(str)
    return out


def after_release(
    model: str,
    rows: pd.DataFrame,
    *,
    target: str,
    n: int = 400,
    time_budget: float = 30.0,
    settings: Settings | None = None,
    say: Callable[[str], None] | None = None,
) -> AfterRelease:
    """Serve ``model``, send ``n`` raw rows and ``n`` shifted ones with their outcomes, monitor
    the log, retrain from the feedback. ``rows`` are raw text rows with the ``target`` column."""
    import uvicorn

    from apprentice.bundle import load_bundle
    from apprentice.monitor import check, load_policy
    from apprentice.monitor.log import read_log
    from apprentice.serve.app import asgi_app, create_app
    from apprentice.serve.log import default_url
    from apprentice.serve.run import resolve_model
    from apprentice.workflows.retrain import retrain

    settings = settings or get_settings()
    tell = say or (lambda _m: None)
    resolved = resolve_model(model, settings)
    log_url = default_url(settings.workspace)
    app = create_app(resolved.path, settings=settings, database_url=log_url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(asgi_app(app), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ApprenticeError("the demo server did not start on 127.0.0.1; see the output")
        time.sleep(0.1)
    address = f"http://127.0.0.1:{port}"
    tell(f"serving {model} at {address}")
    sample = rows.sample(n=min(n, len(rows)), random_state=0)
    later = rows.drop(index=sample.index).sample(n=min(n, len(rows) - len(sample)), random_state=1)
    batches = (("as trained", sample), ("shifted: 20 years older, 60% more hours", shift(later)))
    served = feedback = 0
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for label, batch in batches:
            features = batch.drop(columns=[target])
            for record, outcome in zip(
                features.to_dict(orient="records"), batch[target].tolist(), strict=True
            ):
                answer = _post(conn, "/predict", {k: v for k, v in record.items() if v == v})
                served += 1
                _post(conn, "/feedback", {"request_id": answer["request_id"], "actual": outcome})
                feedback += 1
            tell(f"sent {len(batch)} rows ({label}) with their outcomes")
        conn.close()
    finally:
        server.should_exit = True
        thread.join(timeout=60)
    bundle = load_bundle(resolved.path)
    current = read_log(log_url, "1h", bundle)
    # the shifted half is what is new: monitor the rows sent last
    report = check(bundle, current.tail(len(later)), policy=load_policy())
    tell(f"monitor: {report.status} ({len(report.alerts)} alert(s))")
    decision = retrain(
        model,
        from_feedback=True,
        db_url=log_url,
        time_budget=time_budget,
        progress=lambda m: tell(f"retrain: {m}"),
    )
    return AfterRelease(address, served, len(later), feedback, report, decision)
