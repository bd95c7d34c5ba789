"""The watch loop, simulated with a real server and a real loop (``apprentice serve --watch``).

Tables: the binary tables of benchmarks/data/watch_tables_split.json (split once at random
into a design and a held-out half before any run; both halves are reported). One simulated
run, on 127.0.0.1:

1. **Two worlds.** The rows are ranked by a score of the numeric features (columns that
   parse as numbers in at least 90% of the non-empty cells): the sum of each feature's
   percentile rank weighted by its Spearman correlation with the target (:func:`segment_score`;
   a single feature was mostly ties on every design table, so "the upper half" was partly
   drawn at random among rows the features cannot tell apart); ties at the cut are recorded
   (``tied_at_cut``). The lower half is the world before the shift, the upper half the world
   after it: a new segment arrives, in which the old rule
   no longer holds (its outcomes are the other class). A first design run with the segment's
   real outcomes showed no degradation at all on adult (900 labels of the new segment, no
   performance alert): a segment shift alone need not hurt a model, and then the loop is
   right to do nothing; the inverted outcomes make a degradation certain, so that the
   benchmark measures the loop (detection, retrain, gate, promotion, swap).
2. **Champion.** Trained once per table and seed (``--seeds``; each of its ``--runs`` draws
   streams the rest of the rows in a fresh random order, on a copy of its workspace) on
   1,000 rows of the old world (``--families``, default linear and
   LightGBM, no tuning; the challengers use the champion's settings), its
   reference profile from 1,000 other old rows, registered as ``bench`` v1 in a fresh
   workspace (MLflow SQLite store, SQLite prediction log).
3. **Server and loop.** ``apprentice serve bench --watch --watch-min-feedback M`` as a
   subprocess: the loop runs inside the server and checks when ``M`` new labels arrived.
4. **Stream.** ``--blocks-before`` blocks of ``M`` requests from the old world, then
   ``--blocks-after`` blocks from the new one (the control run stays in the old world). The
   labels of a block arrive during the next block (a delay of ``M`` requests), one label after
   each request; after each block's labels the driver waits for the loop's cycle record (the
   simulated clock stops while the loop works). A last round of labels closes the stream.
   Meanwhile a second client sends unlabelled requests of the current world, about 10 per
   second, and records every status and the model version that answered; its rows are the
   world's rows that the champion and the labelled stream do not use (up to ``POOL``), so
   that a run of a few minutes sends each at most once or twice (``traffic_pool``,
   ``traffic_distinct`` in each run).
5. **Measures.** Cycle ``k`` after the shift is the k-th cycle whose labels include rows of
   the new world. Goal: a challenger promoted within ``--blocks-after`` cycles after the shift
   (with M = 300 and 3 blocks: at most 900 labels of the new world); in the control, a
   promotion in at most 5% of runs (Wilson 95% interval given); no request fails (every
   status 200, none refused), during swaps included; the server follows the promotion.

Usage (the machine is shared: keep it small)::

    .venv/bin/python benchmarks/watch.py --quick           # 1 design table, 1 run + 1 control
    .venv/bin/python benchmarks/watch.py --runs 2          # 2 + 2 runs on every table
    .venv/bin/python benchmarks/watch.py --half held_out --runs 1
    .venv/bin/python benchmarks/watch.py --tables compas_two_year,adult --families linear \
        --runs 2 --seeds 5 --block 200 --blocks-before 1 --blocks-after 3 \
        --stop-at-promotion --cycle-timeout 600 --max-minutes 18 \
        --out benchmarks/_out/watch_design.json

Results: benchmarks/_out/watch.json (``--out``) and a summary on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TABLES = (REPO / ".." / "shared" / "data" / "tables").resolve()
SPLIT = REPO / "benchmarks" / "data" / "watch_tables_split.json"
OUT = REPO / "benchmarks" / "_out"
sys.path.insert(0, str(REPO / "src"))

NAME = "bench"
TAIL = 6000  # characters of the server's output kept in a run that went wrong
POOL = 5000  # at most this many rows in a pool of the second client (each sent once a cycle)
PROMOTED = "retrained, challenger promoted"


def pd_concat(*frames: Any) -> Any:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def _wilson(k: int, n: int) -> list[float]:
    if n == 0:
        return [math.nan, math.nan]
    z, p = 1.96, k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


# --------------------------------------------------------------------------- data


def _table(name: str) -> tuple[Any, str]:
    import pandas as pd

    manifest = json.loads((TABLES / "MANIFEST.json").read_text(encoding="utf-8"))
    entries = manifest["tables"] if isinstance(manifest, dict) else manifest
    entry = next(e for e in (entries.values() if isinstance(entries, dict) else entries)
                 if e["name"] == name)  # fmt: skip
    options = {k: v for k, v in entry.get("read", {}).items() if k != "reader"}
    frame = pd.read_csv(TABLES / entry["file"], dtype=str, keep_default_na=False, **options)
    frame = frame.drop(columns=[c for c in entry.get("drop", []) if c in frame.columns])
    target = entry["target"]
    frame = frame[frame[target].str.strip() != ""].reset_index(drop=True)
    return frame, target


def _numeric_features(frame: Any, target: str) -> dict[str, Any]:
    """The columns that parse as numbers (at least 90% of the non-empty cells, 5+ values)."""
    import pandas as pd

    out: dict[str, Any] = {}
    for column in frame.columns:
        if column == target:
            continue
        text = frame[column].str.strip()
        values = pd.to_numeric(text.where(text != ""), errors="coerce")
        filled = int((text != "").sum())
        if filled == 0 or values.notna().sum() < 0.9 * filled or values.nunique() < 5:
            continue
        out[column] = values
    return out


def segment_score(frame: Any, target: str) -> tuple[Any, list[str]]:
    """The score the rows are ranked by to cut the two worlds, and the features it uses.

    A single feature is mostly ties on real tables (on the design half: ``education_num`` on
    adult has 16 values, 22% of rows at the median; ``dividends_from_stocks`` on
    census_income_kdd is 0 for 89% of rows; ``decile_score`` on compas_two_year has 10 values),
    so "the upper half" was partly rows drawn at random among ties that the features cannot
    tell from the lower half, and no challenger could learn the new world. The score is
    ``sum_j r_j * q_j`` over the numeric features ``j``: ``q_j`` the feature's percentile rank
    (mid-rank of ties, 0.5 where missing), ``r_j`` its Spearman correlation with the target;
    features with ``|r_j| < 0.05`` are left out unless none is above. A weighted sum of
    several features has few ties, and it still follows the target."""
    import numpy as np

    labels = frame[target].str.strip()
    positive = sorted(labels.unique())[-1]
    y = (labels == positive).astype(float)
    weights: dict[str, float] = {}
    ranks: dict[str, Any] = {}
    for column, values in _numeric_features(frame, target).items():
        q = values.rank(pct=True).fillna(0.5)
        r = q.corr(y.rank())
        if r == r:
            weights[column], ranks[column] = float(r), q
    if not weights:
        raise SystemExit("no numeric feature to shift on")
    used = [c for c, r in weights.items() if abs(r) >= 0.05] or list(weights)
    score = np.zeros(len(frame))
    for column in used:
        score += weights[column] * ranks[column].to_numpy()
    return score, sorted(used, key=lambda c: -abs(weights[c]))


def worlds(frame: Any, target: str, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    """The old world (lower half by the segment score) and the new one, each shuffled; and
    how the cut was made (features, the share of rows tied with the score at the cut)."""
    import numpy as np

    score, used = segment_score(frame, target)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(frame)), score))
    half = len(frame) // 2
    tied = float(np.mean(np.isclose(score, score[order[half]], rtol=0.0, atol=1e-12)))
    old = frame.iloc[order[:half]].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    new = frame.iloc[order[half:]].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    # in the new segment the old rule no longer holds: its outcomes are the other class
    labels = new[target].str.strip()
    classes = sorted(frame[target].str.strip().unique())  # the table's (a half may hold one)
    if len(classes) != 2:
        raise SystemExit(f"{target} is not binary")
    new[target] = labels.map({classes[0]: classes[1], classes[1]: classes[0]})
    return old, new, {"features": used, "tied_at_cut": round(tied, 5)}


# --------------------------------------------------------------------------- one run


class Traffic:
    """A client sending unlabelled requests of the current world until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pool: list[dict[str, Any]] = []
        self.statuses: dict[int, int] = {}
        self.refused = 0
        self.versions: list[str] = []
        self.distinct = 0  # distinct rows sent (a row sent twice counts once)
        self.repeated = 0  # requests that sent a row already sent
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        i, pool = 0, self.pool
        while not self.stop.is_set():
            if self.pool is not pool:  # the world changed: its pool from the start
                i, pool = 0, self.pool
            record = pool[i % len(pool)]
            try:
                conn.request("POST", "/predict", json.dumps(record),
                             {"content-type": "application/json"})  # fmt: skip
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.refused += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                time.sleep(0.1)
                continue
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            if response.status == 200:
                version = json.loads(body)["model_version"]
                if not self.versions or self.versions[-1] != version:
                    self.versions.append(version)
            if i < len(pool):
                self.distinct += 1
            else:
                self.repeated += 1
            i += 1
            self.stop.wait(0.1)
        conn.close()


def server_tail(output: Path, cycles: list[dict[str, Any]], error: bool) -> str | None:
    """The end of the server's output when a run went wrong (a retrain failed, or the run
    stopped on an error): the workspace is deleted after the run, and a cycle's record
    alone did not say what failed."""
    failed = any(str(c.get("decision", "")).startswith("retrain failed") for c in cycles)
    if not (failed or error) or not output.is_file():
        return None
    return output.read_text(encoding="utf-8", errors="replace")[-TAIL:]


def _post(conn: http.client.HTTPConnection, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def _records(rows: Any, target: str) -> list[dict[str, Any]]:
    return [dict(r) for _, r in rows.drop(columns=[target]).iterrows()]


def _cycles(workspace: Path) -> list[dict[str, Any]]:
    path = workspace / "watch" / f"{NAME}.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _wait(what: str, probe: Any, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen in {timeout:.0f} s")
        time.sleep(0.25)


def champion(table: str, seed: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Train the champion of a table and seed once (several runs reuse it): its bundle, with
    the reference profile, signed with the key of a template workspace that runs copy."""
    from apprentice.bundle import train
    from apprentice.monitor import attach_profile, build_profile

    frame, target = _table(table)
    old, new, cut = worlds(frame, target, seed)
    template = work / f"{table}-{seed}-template"
    template.mkdir(parents=True)
    os.environ["APPRENTICE_WORKSPACE"] = str(template)  # the bundle is signed with its key
    base = template / "champion_rows.csv"
    old.iloc[:1000].to_csv(base, index=False)
    families = tuple(args.families.split(","))
    started = time.monotonic()
    trained = train(base, target=target, out=template / "v1", time_budget=None, max_trials=0,
                    families=families, n_jobs=1, n_boot=50, seed=seed)  # fmt: skip
    attach_profile(trained.path, build_profile(trained.bundle, old.iloc[1000:2000]))
    return {"table": table, "seed": seed, "old": old, "new": new, "cut": cut, "target": target,
            "template": template, "task": trained.bundle.task,
            "train_seconds": round(time.monotonic() - started, 1)}  # fmt: skip


def stream(
    champ: dict[str, Any], draw: int, shifted: bool, args: argparse.Namespace
) -> tuple[list[Any], Any, Any]:
    """The labelled stream's blocks of one run, and the second client's pools of the old and
    the new world: the champion's 2,000 rows stay out of all of them, the rest of each world
    in this draw's order; the pools are the rows that neither the champion nor the labelled
    stream uses (up to ``POOL``; a pool of 200 rows, cycled, let a few hundred repeated rows
    dominate the log the check reads, and the drift checks then saw duplicates, not the
    world)."""
    seed, old_all, new_all, m = champ["seed"], champ["old"], champ["new"], args.block
    need_old = 2000 + m * (args.blocks_before + (0 if shifted else args.blocks_after)) + 200
    need_new = m * args.blocks_after + 200
    if len(old_all) < need_old or len(new_all) < need_new:
        raise SystemExit(f"{champ['table']}: too few rows for blocks of {m}")
    old = pd_concat(
        old_all.iloc[:2000], old_all.iloc[2000:].sample(frac=1.0, random_state=seed * 1000 + draw)
    )
    new = new_all.sample(frac=1.0, random_state=seed * 1000 + draw).reset_index(drop=True)
    stream_old = old.iloc[2000:].reset_index(drop=True)
    blocks = []
    for k in range(args.blocks_before + args.blocks_after):
        if k < args.blocks_before or not shifted:
            blocks.append(stream_old.iloc[k * m : (k + 1) * m])
        else:
            j = k - args.blocks_before
            blocks.append(new.iloc[j * m : (j + 1) * m])
    used_old = 2000 + m * (args.blocks_before + (0 if shifted else args.blocks_after))
    pool_old = old.iloc[used_old:].iloc[:POOL]
    pool_new = new.iloc[m * args.blocks_after :].iloc[:POOL]
    return blocks, pool_old, pool_new


def one_run(
    champ: dict[str, Any], draw: int, shifted: bool, args: argparse.Namespace, store: Path,
    work: Path,
) -> dict[str, Any]:  # fmt: skip
    """One simulated run on a copy of the champion's workspace; ``draw`` picks which rows of
    each world the stream sends (a fresh random order per draw)."""
    from apprentice.config import Settings
    from apprentice.track import RunLog, Tracker, register_bundle, show_model

    table, seed, target = champ["table"], champ["seed"], champ["target"]
    blocks, pool_old, pool_new = stream(champ, draw, shifted, args)
    filler_old, filler_new = _records(pool_old, target), _records(pool_new, target)
    workspace = work / f"{table}-{seed}-{draw}-{'shift' if shifted else 'control'}"
    workspace.mkdir(parents=True)
    shutil.copy(store, workspace / "mlflow.db")
    shutil.copy(champ["template"] / "bundle.key", workspace / "bundle.key")
    shutil.copytree(champ["template"] / "v1", workspace / "v1")
    os.environ["APPRENTICE_WORKSPACE"] = str(workspace)
    settings = Settings(workspace=workspace, tracking_uri=None)
    tracker = Tracker(settings=settings)
    run = tracker.log_run(RunLog(experiment=NAME, run_name="v1",
                                 artifacts=[(workspace / "v1", "bundle")]))  # fmt: skip
    register_bundle(tracker, name=NAME, run_id=run.run_id, source=f"{run.artifact_uri}/bundle",
                    task=champ["task"], target=target)  # fmt: skip
    x, m = champ["cut"], args.block

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    db = f"sqlite:///{workspace / 'predictions.sqlite'}"
    cmd = [sys.executable, "-m", "apprentice", "serve", NAME, "--port", str(port), "--db-url", db,
           "--watch", "--watch-every", "24h", "--watch-min-feedback", str(m), "--watch-poll",
           "1s", "--follow-interval", "1", "--grace", "10"]  # fmt: skip
    if args.retrain_budget:
        cmd += ["--watch-retrain-budget", str(args.retrain_budget)]
    env = {**os.environ, "APPRENTICE_WORKSPACE": str(workspace),
           "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}  # fmt: skip
    env.pop("APPRENTICE_TRACKING_URI", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    output = workspace / "server.out"
    started = time.monotonic()
    with output.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
    traffic = Traffic(port)
    result: dict[str, Any] = {"table": table, "seed": seed, "shifted": shifted, "draw": draw,
                              "cut": x, "block": m, "rows_old": len(champ["old"]),
                              "rows_new": len(champ["new"])}  # fmt: skip

    def ready() -> bool:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/ready")
            return probe.getresponse().status == 200
        except OSError:
            return False

    labelled_blocks: list[bool] = []  # per block whose labels arrived: was it new-world?
    failures = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        _wait("the server", ready, proc, 180)
        _wait("the first cycle", lambda: len(_cycles(workspace)) >= 1, proc, 180)
        traffic.pool = filler_old
        traffic.thread.start()
        pending: list[tuple[str, Any]] = []  # the previous block's (request id, label)

        def label_round(requests: list[dict[str, Any]]) -> list[tuple[str, Any]]:
            """One block: a fresh connection (the last one idled past the server's keep-alive
            while the loop worked), a request then a label of the previous block, in turn."""
            nonlocal failures, conn
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            sent: list[tuple[str, Any]] = []
            for i in range(max(len(requests), len(pending))):
                if i < len(requests):
                    status, body = _post(conn, "/predict", requests[i]["row"])
                    if status != 200:
                        failures += 1
                    else:
                        sent.append((body["request_id"], requests[i]["label"]))
                if i < len(pending):
                    rid, label = pending[i]
                    status, _ = _post(conn, "/feedback", {"request_id": rid, "actual": label})
                    failures += status != 200
            return sent

        for k, block in enumerate([*blocks, None]):
            requests = [] if block is None else [
                {"row": r, "label": lab.strip()}
                for r, lab in zip(_records(block, target), block[target], strict=True)
            ]  # fmt: skip
            if block is not None and shifted and k == args.blocks_before:
                traffic.pool = filler_new
            had_labels = bool(pending)
            before = len(_cycles(workspace))
            sent = label_round(requests)
            if had_labels:
                labelled_blocks.append(shifted and k - 1 >= args.blocks_before)
                _wait(f"the cycle after block {k}", lambda b=before: len(_cycles(workspace)) > b,
                      proc, args.cycle_timeout)  # fmt: skip
                record = _cycles(workspace)[-1]
                if record["decision"] == PROMOTED:
                    version = f"{NAME}/{show_model(tracker, NAME).aliases['champion']}"
                    _wait("the swap", lambda v=version: traffic.versions[-1:] == [v], proc, 60)
                    if args.stop_at_promotion:  # the goal is met: the rest would cost cycles
                        result["stopped_after_promotion"] = True
                        time.sleep(2.0)  # traffic keeps running on the new version a while
                        break
            pending = sent
        conn.close()
        time.sleep(1.0)
        traffic.stop.set()
        traffic.thread.join(timeout=60)
        proc.send_signal(signal.SIGTERM)
        result["server_exit"] = proc.wait(timeout=60)
    except RuntimeError as exc:  # a cycle too slow: what happened until then is kept
        result["error"] = str(exc)
        result["cycle_running"] = (workspace / "watch" / f"{NAME}.cycle").is_file()
        result["retrain_started"] = sorted(p.name for p in (workspace / "retrain").glob("*"))
    finally:
        conn.close()
        traffic.stop.set()
        if traffic.thread.is_alive():
            traffic.thread.join(timeout=60)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    cycles = _cycles(workspace)[1:]  # the first ran at start, on an empty log
    after = [i for i, new_world in enumerate(labelled_blocks) if new_world]
    promoted = [i for i, c in enumerate(cycles) if c["decision"] == PROMOTED]
    first_after = after[0] if after else None
    result.update(
        {
            "seconds": round(time.monotonic() - started, 1),
            "cycles": [
                {
                    "trigger": c["trigger"],
                    "labelled_rows": c["labelled_rows"],
                    "decision": c["decision"],
                    "reason": c["reason"][:300],
                    "checks": sorted({str(a.get("check")) for a in c.get("alerts", [])}),
                    "retrain": {
                        k: (c.get("retrain") or {}).get(k)
                        for k in ("time_budget", "time_budget_from", "seconds")
                    }
                    if c.get("retrain")
                    else None,
                }
                for c in cycles
            ],
            "promoted_at_cycle": promoted[0] + 1 if promoted else None,
            "cycles_after_shift_to_promotion": (
                promoted[0] - first_after + 1
                if promoted and first_after is not None and promoted[0] >= first_after
                else None
            ),
            "driver_failures": failures,
            "traffic_statuses": {str(k): v for k, v in traffic.statuses.items()},
            "traffic_refused": traffic.refused,
            "traffic_pool": {"old": len(filler_old), "new": len(filler_new) if shifted else 0},
            "traffic_distinct": traffic.distinct,
            "traffic_repeated": traffic.repeated,
            "versions_seen": traffic.versions,
            "aliases": dict(show_model(tracker, NAME).aliases),
        }
    )
    tail = server_tail(output, cycles, "error" in result)
    if tail:
        result["server_tail"] = tail
    result["no_failed_request"] = (
        failures == 0 and traffic.refused == 0 and set(traffic.statuses) <= {200}
    )
    return result


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2,
                        help="shifted runs (and as many controls) per champion")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=1, help="champions per table (one a seed)")
    parser.add_argument("--arms", default="shift,control", help="which arms to run, in order")
    parser.add_argument("--first-seed", type=int, default=1000, help="the first champion's seed")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="start no run after this many minutes (0: no limit)")  # fmt: skip
    parser.add_argument(
        "--stop-at-promotion",
        action="store_true",
        help="end a shifted run once the server swapped to a promoted version",
    )
    parser.add_argument("--half", choices=("design", "held_out", "both"), default="both")
    parser.add_argument("--tables", default="", help="comma-separated, instead of --half")
    parser.add_argument("--block", type=int, default=300, help="requests per block (M)")
    parser.add_argument("--blocks-before", type=int, default=2)
    parser.add_argument("--blocks-after", type=int, default=3)
    parser.add_argument("--cycle-timeout", type=float, default=600)
    parser.add_argument("--families", default="linear,lightgbm", help="the champion's portfolio")
    parser.add_argument("--retrain-budget", type=float, default=0,
                        help="seconds a retrain may take (0: the loop's default, derived "
                        "from the champion's training)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="1 design table, 1 run + 1 control")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces")
    parser.add_argument("--out", type=Path, default=OUT / "watch.json", help="the results file")
    parser.add_argument("--summarize", type=Path, nargs="*", default=None,
                        help="only summarize the runs of these results files")  # fmt: skip
    args = parser.parse_args()
    if args.summarize is not None:
        runs = [r for f in args.summarize
                for r in json.loads(f.read_text(encoding="utf-8"))["runs"]]  # fmt: skip
        print(json.dumps(_summary(args, runs)["halves"], indent=1, default=str))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the servers stop with the driver
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    halves = {t: h for h in ("design", "held_out") for t in split[h]}
    if args.tables:
        tables = args.tables.split(",")
    elif args.quick:
        tables, args.runs = split["design"][:1], 1
    else:
        tables = [t for t in halves if args.half in ("both", halves[t])]

    from apprentice.config import Settings
    from apprentice.track import Tracker

    work = Path(tempfile.mkdtemp(prefix="apprentice-watch-bench-"))
    Tracker(settings=Settings(workspace=work / "store")).open().client  # noqa: B018
    store = work / "store" / "mlflow.db"
    results: list[dict[str, Any]] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.max_minutes * 60 if args.max_minutes else math.inf
    try:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for table in tables:
                if time.monotonic() > deadline:
                    break
                try:
                    champ = champion(table, seed, args, work)
                except Exception as exc:  # kept as a failed champion; the next one goes on
                    failed = {"table": table, "seed": seed, "shifted": None,
                              "half": halves.get(table, "?"),
                              "error": f"champion: {type(exc).__name__}: {exc}"}  # fmt: skip
                    results.append(failed)
                    print(json.dumps(failed), flush=True)
                    _write(args, results)
                    continue
                for draw in range(args.runs):
                    for shifted in [a == "shift" for a in args.arms.split(",")]:
                        if time.monotonic() > deadline:
                            break
                        try:
                            r = one_run(champ, draw, shifted, args, store, work)
                        except subprocess.TimeoutExpired as exc:
                            r = {"table": table, "seed": seed, "draw": draw, "shifted": shifted,
                                 "error": str(exc)}  # fmt: skip
                        r["half"] = halves.get(table, "?")
                        r["champion_train_seconds"] = champ["train_seconds"]
                        results.append(r)
                        print(json.dumps({k: v for k, v in r.items() if k != "cycles"}),
                              flush=True)  # fmt: skip
                        _write(args, results)  # every run is kept, even if a later one hangs
                if not args.keep:
                    shutil.rmtree(champ["template"], ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(_write(args, results), indent=1, default=str))


def _write(args: argparse.Namespace, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary per half, written with every run to ``--out``."""
    summary = _summary(args, results)
    args.out.write_text(
        json.dumps({"summary": summary, "runs": results}, indent=1, default=str), encoding="utf-8"
    )
    return summary


def _summary(args: argparse.Namespace, results: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"args": vars(args), "halves": {}}
    for half in ("design", "held_out"):
        mine = [r for r in results if r["half"] == half and "error" not in r]
        shift = [r for r in mine if r["shifted"]]
        control = [r for r in mine if not r["shifted"]]
        within = sum(
            r["cycles_after_shift_to_promotion"] is not None
            and r["cycles_after_shift_to_promotion"] <= args.blocks_after
            for r in shift
        )
        false_promotions = sum(r["promoted_at_cycle"] is not None for r in control)
        summary["halves"][half] = {
            "tables": sorted({r["table"] for r in mine}),
            "shifted_runs": len(shift),
            "promoted_within_goal": within,
            "promoted_within_goal_interval": _wilson(within, len(shift)),
            "cycles_after_shift_to_promotion": sorted(
                r["cycles_after_shift_to_promotion"]
                for r in shift
                if r["cycles_after_shift_to_promotion"] is not None
            ),
            "control_runs": len(control),
            "control_promotions": false_promotions,
            "control_rate_interval": _wilson(false_promotions, len(control)),
            "runs_with_a_failed_request": sum(
                not r.get("no_failed_request", True) for r in results if r["half"] == half
            ),
            "requests_by_traffic": sum(
                sum(r.get("traffic_statuses", {}).values()) for r in results if r["half"] == half
            ),
            "errors": sum("error" in r for r in results if r["half"] == half),
            **_controls_detail(control),
        }
    return summary


def _controls_detail(control: list[dict[str, Any]]) -> dict[str, Any]:
    """What the loop did in the control runs: runs per table, cycles, the cycles that
    retrained, and how many cycles raised each check (no cycle should act on a world that
    did not change; an alert that is not a degradation is recorded, not acted on)."""
    cycles = [c for r in control for c in r.get("cycles", [])]
    checks: dict[str, int] = {}
    for c in cycles:
        for name in c["checks"]:
            checks[name] = checks.get(name, 0) + 1
    tables: dict[str, int] = {}
    for r in control:
        tables[r["table"]] = tables.get(r["table"], 0) + 1
    return {
        "control_runs_by_table": dict(sorted(tables.items())),
        "control_cycles": len(cycles),
        "control_cycles_retrained": sum(c.get("retrain") is not None for c in cycles),
        "control_cycles_by_check": dict(sorted(checks.items())),
        "traffic_repeated_rows": (  # None: runs made before the second client counted them
            sum(r["traffic_repeated"] for r in control if "traffic_repeated" in r)
            if any("traffic_repeated" in r for r in control)
            else None
        ),
    }


if __name__ == "__main__":
    main()
