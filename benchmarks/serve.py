"""Serving: ``apprentice serve`` against ``mlflow models serve --env-manager local``.

One run, on loopback only, one worker each, the same model:

1. a 30-feature table (the first 30 feature columns of census_income_kdd, a row sample), a
   LightGBM champion trained on it (``families=("lightgbm",)``), exported as an MLflow pyfunc
   with :func:`apprentice.track.export_pyfunc`;
2. both servers started as subprocesses on 127.0.0.1;
3. per server: single-record p50/p99 latency over N sequential requests (keep-alive), the
   server's CPU time per request over those (its whole process tree, from /proc), then
   throughput with C concurrent clients (separate processes) for D seconds, bounded;
4. a check that both servers give the same probabilities on a sample of rows.

Full run (about 3 minutes; run it when the machine is quiet, load < 1.5)::

    .venv/bin/python benchmarks/serve.py

Smoke run::

    .venv/bin/python benchmarks/serve.py --quick

Goal (issue): apprentice >= 20x MLflow's throughput, p99 < 5 ms, server CPU < 1 ms per
single-record request.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TABLES = (REPO / ".." / "shared" / "data" / "tables").resolve()
VENV_BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------- data and model


def make_table(path: Path, rows: int, seed: int) -> tuple[str, list[str]]:
    import pandas as pd

    source = TABLES / "census_income_kdd.csv.gz"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    target = "income_gt_50k"
    features = [c for c in frame.columns if c not in (target, "instance_weight")][:30]
    frame = frame.sample(n=min(rows, len(frame)), random_state=seed)[[*features, target]]
    frame.to_csv(path, index=False)
    return target, features


def train_bundle(table: Path, target: str, out: Path, budget: float) -> dict[str, Any]:
    from apprentice.bundle import train

    result = train(
        table,
        target=target,
        out=out,
        time_budget=budget,
        families=("lightgbm",),
        n_jobs=1,
        seed=0,
    )
    return {"champion": result.champion, "metrics": {k: str(v) for k, v in result.metrics.items()}}


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and every descendant (live ones), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    todo = [pid]
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def thread_cpu_seconds(pid: int) -> float:
    """utime + stime of the main thread of ``pid`` (for ``apprentice serve``: the event
    loop, which bounds the throughput of one worker; the log's writer thread excluded)."""
    with open(f"/proc/{pid}/task/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early (code {proc.returncode})")
        try:
            status, _ = Client(port).get(path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready in time")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- a lean HTTP client


class Client:
    """Keep-alive HTTP/1.1 on a raw socket: little client CPU per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _read_response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            rest += chunk
        self.buf = rest[length:]
        return status, rest[:length]

    def request(self, raw: bytes) -> tuple[int, bytes]:
        self.sock.sendall(raw)
        return self._read_response()

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())

    def close(self) -> None:
        self.sock.close()


def post_bytes(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _throughput_worker(port: int, requests: list[bytes], seconds: float, out: Any) -> None:
    client = Client(port)
    done = errors = 0
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        status, _ = client.request(requests[i % len(requests)])
        i += 1
        if status == 200:
            done += 1
        else:
            errors += 1
    client.close()
    out.put((done, errors))


def measure(
    name: str, pid: int, port: int, requests: list[bytes], n: int, clients: int, seconds: float
) -> dict[str, Any]:
    client = Client(port)
    for i in range(min(200, n)):  # warm-up
        status, body = client.request(requests[i % len(requests)])
        if status != 200:
            raise RuntimeError(f"{name} answered {status}: {body[:300]!r}")
    time.sleep(0.5)
    loop0 = thread_cpu_seconds(pid)
    cpu0 = tree_cpu_seconds(pid)
    latencies = []
    for i in range(n):
        raw = requests[i % len(requests)]
        start = time.perf_counter()
        status, _ = client.request(raw)
        latencies.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"{name} answered {status}")
    time.sleep(0.5)  # the log writer's last batch is counted too
    cpu1 = tree_cpu_seconds(pid)
    loop1 = thread_cpu_seconds(pid)
    client.close()
    latencies.sort()
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    cpu2 = tree_cpu_seconds(pid)
    loop2 = thread_cpu_seconds(pid)
    procs = [
        ctx.Process(target=_throughput_worker, args=(port, requests, seconds, queue))
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.perf_counter() - start
    cpu3 = tree_cpu_seconds(pid)
    loop3 = thread_cpu_seconds(pid)
    done = sum(r[0] for r in results)
    return {
        "server": name,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu_ms_per_request": (cpu1 - cpu0) / n * 1000,
        "throughput_rps": done / elapsed,
        "throughput_errors": sum(r[1] for r in results),
        "cpu_ms_per_request_under_load": (cpu3 - cpu2) / max(done, 1) * 1000,
        # the server process's main thread only (apprentice: its event loop; MLflow's is
        # the CLI that waits on its uvicorn child, so near zero there)
        "main_thread_cpu_ms_per_request": (loop1 - loop0) / n * 1000,
        "main_thread_cpu_ms_per_request_under_load": (loop3 - loop2) / max(done, 1) * 1000,
        "sequential_requests": n,
        "clients": clients,
        "seconds": seconds,
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--budget", type=float, default=60.0, help="training time budget (s)")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="smoke run: small and short")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "_out" / "serve.json")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.budget, args.requests, args.seconds = 5000, 15.0, 300, 3.0
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} (quiet machine: < 1.5); {os.cpu_count()} CPUs", flush=True)
    work = Path(args.keep or tempfile.mkdtemp(prefix="apprentice-serve-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        table = work / "table.csv"
        target, features = make_table(table, args.rows, seed=0)
        print(f"table: {args.rows:,} rows, {len(features)} features, target {target}", flush=True)
        started = time.monotonic()
        os.environ["APPRENTICE_WORKSPACE"] = str(work / "ws")  # its key signs what the server loads
        model = train_bundle(table, target, work / "bundle", args.budget)
        print(f"trained {model['champion']} in {time.monotonic() - started:.0f} s", flush=True)

        import pandas as pd

        rows = pd.read_csv(table, dtype=str, keep_default_na=False).drop(columns=[target])
        records = rows.head(500).to_dict("records")
        ours = [post_bytes("/predict", json.dumps(r).encode()) for r in records]
        theirs = [
            post_bytes("/invocations", json.dumps({"dataframe_records": [r]}).encode())
            for r in records
        ]
        results = []

        port = free_port()
        env = {**os.environ, "APPRENTICE_WORKSPACE": str(work / "ws")}
        env.pop("APPRENTICE_API_KEY", None)
        proc = subprocess.Popen(
            [str(VENV_BIN / "apprentice"), "serve", str(work / "bundle"), "--port", str(port),
             "--quiet"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        servers.append(proc)
        wait_ready(port, "/ready", proc, 120)
        ours_result = measure(
            "apprentice", proc.pid, port, ours, args.requests, args.clients, args.seconds
        )
        results.append(ours_result)
        sample_ours = [json.loads(Client(port).request(raw)[1]) for raw in ours[:50]]
        stop(proc)
        from apprentice.serve import count_rows

        logged = count_rows(f"sqlite:///{work / 'ws' / 'predictions.sqlite'}")
        print(f"apprentice: {json.dumps(ours_result)}; {logged:,} rows logged", flush=True)

        if not args.skip_mlflow:
            from apprentice.track import export_pyfunc

            export_pyfunc(work / "bundle", work / "pyfunc")
            port = free_port()
            proc = subprocess.Popen(
                [str(VENV_BIN / "mlflow"), "models", "serve", "-m", str(work / "pyfunc"),
                 "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                env={
                    **os.environ,
                    "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
                    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # its uvicorn
                },
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            servers.append(proc)
            wait_ready(port, "/ping", proc, 180)
            theirs_result = measure(
                "mlflow", proc.pid, port, theirs, args.requests, args.clients, args.seconds
            )
            results.append(theirs_result)
            sample_theirs = [json.loads(Client(port).request(raw)[1]) for raw in theirs[:50]]
            stop(proc)
            print(f"mlflow: {json.dumps(theirs_result)}", flush=True)
            diffs = []
            for a, b in zip(sample_ours, sample_theirs, strict=True):
                row = b["predictions"][0]
                for key, p in a["probabilities"].items():
                    diffs.append(abs(p - row[f"proba_{key}"]))
            print(f"largest probability difference between the servers: {max(diffs):.2g}")

        import mlflow

        summary: dict[str, Any] = {
            "date": time.strftime("%Y-%m-%d"),
            "load_average_at_start": load,
            "rows": args.rows,
            "features": len(features),
            "model": model,
            "mlflow_version": mlflow.__version__,
            "results": results,
        }
        if len(results) == 2:
            a, b = results
            summary["ratios"] = {
                "throughput": a["throughput_rps"] / b["throughput_rps"],
                "cpu_per_request": b["cpu_ms_per_request"] / a["cpu_ms_per_request"],
                "p50": b["p50_ms"] / a["p50_ms"],
            }
            summary["goal_met"] = bool(
                summary["ratios"]["throughput"] >= 20
                and a["p99_ms"] < 5
                and a["cpu_ms_per_request"] < 1
            )
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
        print()
        print("| server | p50 ms | p99 ms | CPU ms / request | throughput req/s (8 clients) |")
        print("|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['server']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['cpu_ms_per_request']:.3f} | {r['throughput_rps']:,.0f} |"
            )
        mine = results[0]
        print(
            f"\napprentice's event-loop thread: {mine['main_thread_cpu_ms_per_request']:.3f} ms "
            f"CPU / request sequential, {mine['main_thread_cpu_ms_per_request_under_load']:.3f} "
            f"under {mine['clients']} clients"
        )
        if "ratios" in summary:
            print(f"\nratios: {json.dumps(summary['ratios'])}; goal met: {summary['goal_met']}")
    finally:
        for proc in servers:
            stop(proc)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
