"""The watch benchmark's simulation: which rows the labelled stream and the second client send."""

from __future__ import annotations

import argparse
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.benchmarks._load import load_benchmark

watch = load_benchmark("watch.py")


@pytest.fixture(scope="module")
def champ() -> dict[str, Any]:
    """The two worlds of a real table (telco_churn, 7,043 rows), each row with an id."""
    if not (watch.TABLES / "MANIFEST.json").is_file():
        pytest.skip("the shared tables are not here")
    frame, target = watch._table("telco_churn")
    old, new, _cut = watch.worlds(frame, target, seed=7)
    old["_id"] = [f"old{i}" for i in range(len(old))]
    new["_id"] = [f"new{i}" for i in range(len(new))]
    return {"table": "telco_churn", "seed": 7, "old": old, "new": new, "target": target}


def _args(**over: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"block": 200, "blocks_before": 1, "blocks_after": 3, **over})


@pytest.mark.parametrize("shifted", [True, False])
def test_the_second_clients_pools_hold_no_row_of_the_champion_or_the_stream(
    champ: dict[str, Any], shifted: bool
) -> None:
    blocks, pool_old, pool_new = watch.stream(champ, 0, shifted, _args())
    champion_rows = set(champ["old"]["_id"].iloc[:2000])
    streamed = [set(b["_id"]) for b in blocks]
    assert [len(s) for s in streamed] == [200] * 4
    assert not set().union(*streamed) & champion_rows
    assert len(set().union(*streamed)) == 800  # no row sent twice by the stream
    for pool in (pool_old, pool_new):
        ids = set(pool["_id"])
        assert len(ids) == len(pool)
        assert not ids & champion_rows
        assert not ids & set().union(*streamed)
    # every row of each world that is left, not a few hundred cycled
    used_old = 2000 + 200 * (1 if shifted else 4)
    assert len(pool_old) == min(watch.POOL, len(champ["old"]) - used_old)
    assert len(pool_new) == min(watch.POOL, len(champ["new"]) - 600)
    assert len(pool_old) > 700 and len(pool_new) > 2000
    assert set(pool_old["_id"].str[:3]) == {"old"} and set(pool_new["_id"].str[:3]) == {"new"}
    worlds = [{i[:3] for i in s} for s in streamed]
    assert worlds == ([{"old"}] + [{"new"}] * 3 if shifted else [{"old"}] * 4)


def test_another_draw_streams_other_rows_and_too_small_a_world_is_refused(
    champ: dict[str, Any],
) -> None:
    first, _, _ = watch.stream(champ, 0, True, _args())
    second, _, _ = watch.stream(champ, 1, True, _args())
    assert set(first[1]["_id"]) != set(second[1]["_id"])
    with pytest.raises(SystemExit, match="too few rows for blocks of 1000"):
        watch.stream(champ, 0, False, _args(block=1000))


class _Server(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Server.seen.append(json.loads(body))
        reply = json.dumps({"model_version": "bench/1"}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def test_the_second_client_counts_distinct_and_repeated_rows_and_restarts_a_new_pool(
    server: int,
) -> None:
    _Server.seen = []
    traffic = watch.Traffic(server)
    traffic.pool = [{"x": i} for i in range(3)]
    traffic.thread.start()
    deadline = time.monotonic() + 30
    while len(_Server.seen) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    traffic.pool = [{"y": i} for i in range(50)]  # the world changed
    while not any("y" in r for r in _Server.seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    traffic.stop.set()
    traffic.thread.join(timeout=30)
    sent = list(_Server.seen)
    old = [r["x"] for r in sent if "x" in r]
    new = [r["y"] for r in sent if "y" in r]
    assert old[:5] == [0, 1, 2, 0, 1]
    assert new == list(range(len(new))) and new  # the new pool from its first row
    assert traffic.statuses == {200: len(sent)} and traffic.refused == 0
    assert traffic.distinct == 3 + len(new)
    assert traffic.repeated == len(old) - 3
    assert traffic.versions == ["bench/1"]


def test_the_summary_says_what_the_loop_did_in_the_controls() -> None:
    def run(table: str, half: str, checks: list[list[str]], **more: Any) -> dict[str, Any]:
        cycles = [{"checks": c, "retrain": {"seconds": 9.0} if "performance" in c else None}
                  for c in checks]  # fmt: skip
        return {"table": table, "half": half, "shifted": False, "promoted_at_cycle": None,
                "cycles": cycles, **more}  # fmt: skip

    runs = [
        run("adult", "design", [[], ["feature_drift"]], traffic_repeated=0),
        run("adult", "design", [["feature_drift", "performance"], []], traffic_repeated=4),
        run("compas_two_year", "design", [[]], traffic_repeated=0),
        run("telco_churn", "held_out", [[]]),  # made before the client counted its rows
        {"table": "telco_churn", "half": "held_out", "shifted": None, "error": "champion: x"},
    ]
    halves = watch._summary(_args(), runs)["halves"]
    design, held_out = halves["design"], halves["held_out"]
    assert design["control_runs"] == 3 and design["control_promotions"] == 0
    assert design["control_runs_by_table"] == {"adult": 2, "compas_two_year": 1}
    assert design["control_cycles"] == 5 and design["control_cycles_retrained"] == 1
    assert design["control_cycles_by_check"] == {"feature_drift": 2, "performance": 1}
    assert design["traffic_repeated_rows"] == 4
    assert held_out["control_runs"] == 1 and held_out["errors"] == 1
    assert held_out["traffic_repeated_rows"] is None


def test_a_run_that_went_wrong_keeps_the_end_of_the_servers_output(tmp_path: Path) -> None:
    output = tmp_path / "server.out"
    output.write_text("start\n" + "x" * 10_000 + "\nTraceback: RuntimeError: why\n")
    fine = [{"decision": "no action"}, {"decision": "retrained, kept"}]
    assert watch.server_tail(output, fine, error=False) is None
    failed = [*fine, {"decision": "retrain failed, champion kept"}]
    tail = watch.server_tail(output, failed, error=False)
    assert tail is not None and tail.endswith("RuntimeError: why\n")
    assert len(tail) == watch.TAIL and "start" not in tail
    assert watch.server_tail(output, fine, error=True) == tail
    assert watch.server_tail(tmp_path / "none.out", failed, error=True) is None
