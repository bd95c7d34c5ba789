"""``apprentice package``: the build context, and (slow) the image built and run with podman."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest

from apprentice.errors import BundleError, ConfigError
from apprentice.workflows.package import SERVE_PACKAGES, build_image, package_model

TITANIC = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tables" / "titanic.csv"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TITANIC.is_file():
        pytest.skip("../shared/data/tables/titanic.csv is not available")
    from apprentice.bundle import train

    out = tmp_path_factory.mktemp("package") / "bundle"
    train(
        TITANIC,
        target="Survived",
        out=out,
        time_budget=None,
        max_trials=0,
        families=("linear", "lightgbm"),
        n_jobs=1,
    )
    return out


def _kinds(bundle: Path) -> list[str]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    return [str(m["kind"]) for m in manifest["model"]["members"]]


def test_context_holds_the_verified_bundle_pins_and_no_secret(bundle: Path, tmp_path: Path) -> None:
    result = package_model(str(bundle), tmp_path / "ctx")
    ctx = result.context
    manifest = (bundle / "manifest.json").read_bytes()
    assert result.manifest_sha256 == hashlib.sha256(manifest).hexdigest()
    assert (ctx / "bundle" / "manifest.json").read_bytes() == manifest
    assert not (ctx / "bundle" / "manifest.sig").exists()
    for name in json.loads(manifest)["files"]:
        assert (ctx / "bundle" / name).read_bytes() == (bundle / name).read_bytes()
    pins = (ctx / "requirements.txt").read_text().split()
    assert pins == [f"{n}=={version(n)}" for n in SERVE_PACKAGES]
    for heavy in ("mlflow", "shap", "scipy", "scikit-learn", "lightgbm"):
        assert heavy not in " ".join(pins)
    no_deps = (ctx / "requirements-nodeps.txt").read_text().split()
    assert no_deps == ([f"lightgbm=={version('lightgbm')}"] if "lightgbm" in _kinds(bundle) else [])
    text = (ctx / "Containerfile").read_text()
    assert text == (ctx / "Dockerfile").read_text()
    assert result.manifest_sha256 in (ctx / "bundle.sha256").read_text()
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/health" in text
    key = os.environ["APPRENTICE_BUNDLE_KEY"]
    for path in ctx.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert (ctx / "apprentice" / "serve" / "app.py").is_file()


def test_pins_follow_the_model_kinds() -> None:
    """XGBoost and CatBoost enter the image only when a member of the bundle uses them."""
    from apprentice.workflows.package import no_deps_requirements, pinned_requirements

    base = pinned_requirements()
    assert not any(p.startswith(("catboost==", "xgboost", "scipy", "scikit-learn")) for p in base)
    assert pinned_requirements(["lightgbm", "linear"]) == base
    both = pinned_requirements(["catboost", "xgboost", "catboost"])
    extra = [p.split("==")[0] for p in both[len(base) :]]
    assert extra in (["catboost", "xgboost-cpu"], ["catboost", "xgboost"])
    sk = [p.split("==")[0] for p in pinned_requirements(["sklearn"])[len(base) :]]
    assert sk == ["scikit-learn", "scipy", "threadpoolctl", "skops"]
    assert [p.split("==")[0] for p in pinned_requirements(sparse_text=True)[len(base) :]] == [
        "scipy"
    ]
    dash = pinned_requirements(["sklearn"], dashboard=True)
    assert len(dash) == len(set(dash)) == len(base) + 4  # no package pinned twice
    assert no_deps_requirements(["linear", "lightgbm"]) == (f"lightgbm=={version('lightgbm')}",)
    assert no_deps_requirements(["linear"]) == ()


def test_a_modified_bundle_is_refused_and_nothing_is_written(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    target = next(p for p in copy.iterdir() if p.name not in {"manifest.json", "manifest.sig"})
    target.write_bytes(target.read_bytes() + b" ")
    with pytest.raises(BundleError):
        package_model(str(copy), tmp_path / "ctx")
    assert not (tmp_path / "ctx").exists()


def test_a_non_empty_output_is_kept(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not empty"):
        package_model(str(bundle), out)
    assert (out / "mine.txt").read_text() == "keep me"


def test_build_without_podman_or_docker_says_so(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = package_model(str(bundle), tmp_path / "ctx")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="podman or docker"):
        build_image(result.context, "apprentice-test")
    assert (result.context / "Containerfile").is_file()


def test_cli_writes_the_context_and_refuses_a_non_empty_folder(
    bundle: Path, tmp_path: Path
) -> None:
    import sys

    cmd = [sys.executable, "-m", "apprentice", "package", str(bundle), "-o", str(tmp_path / "c")]
    first = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["context"] == str(tmp_path / "c")
    again = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "not empty" in again.stderr
    assert "Traceback" not in again.stderr
    assert (tmp_path / "c" / "Containerfile").is_file()


# --- the real thing: podman builds the image from a local base and serves predictions -------

BASE = "localhost/apprentice-base:bookworm"
#: what the image runs on: Debian's essential set and Python without pip, docs or perl
RUNTIME = "localhost/apprentice-run:bookworm"
RUNTIME_PACKAGES = "usr-is-merged,python3-minimal,libpython3.11-stdlib,libstdc++6,libgomp1,passwd"
DPKG_EXCLUDES = [
    f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("man", "locale", "doc", "info")
] + ["--dpkgopt=path-include=/usr/share/doc/*/copyright"]
#: the goal of the serving image (issue 18)
MAX_IMAGE_BYTES = 400_000_000
CONTAINERS_CONF = """\
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[containers]
default_ulimits = []
netns = "host"
"""
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _podman(tmp: Path) -> dict[str, str]:
    if shutil.which("podman") is None or shutil.which("mmdebstrap") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.skip("podman is not installed and cannot be installed (not root or no apt)")
        subprocess.run(
            ["apt-get", "install", "-y", "podman", "runc", "mmdebstrap"], check=True, timeout=600
        )
    conf = tmp / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    probe = subprocess.run(["podman", "info"], env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"containers cannot run here: {probe.stderr.strip()[-300:]}")
    images = {
        BASE: ["--variant=minbase", "--include=python3,python3-venv,python3-pip,passwd"],
        RUNTIME: [
            "--variant=essential",
            "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
            f"--include={RUNTIME_PACKAGES}",
            *DPKG_EXCLUDES,
        ],
    }
    for name, options in images.items():
        if subprocess.run(["podman", "image", "exists", name], env=env).returncode == 0:
            continue
        debootstrap = subprocess.Popen(
            ["mmdebstrap", *options, "bookworm", "-"], stdout=subprocess.PIPE
        )
        subprocess.run(
            ["podman", "import", "-", name], stdin=debootstrap.stdout, env=env, check=True
        )
        assert debootstrap.wait() == 0
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_image_serves_the_predictions_of_the_bundle(bundle: Path, tmp_path: Path) -> None:
    import csv

    from apprentice.bundle import load_bundle

    env = _podman(tmp_path)
    result = package_model(str(bundle), tmp_path / "ctx", base=BASE, runtime=RUNTIME)
    tag = "localhost/apprentice-test-package:latest"
    args = ["--network", "host"]
    if CA_BUNDLE.is_file():  # pip reaches PyPI through the host's CAs, mounted only while building
        args += ["-v", f"{CA_BUNDLE}:/etc/ssl/certs/ca-certificates.crt:ro"]
        args += ["--build-arg", "PIP_CERT=/etc/ssl/certs/ca-certificates.crt"]
    old = os.environ.copy()
    os.environ.update(env)
    try:
        build_image(result.context, tag, extra_args=args)
    finally:
        os.environ.clear()
        os.environ.update(old)
    size = subprocess.run(
        ["podman", "image", "inspect", tag, "--format", "{{.Size}}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    health = subprocess.run(
        ["podman", "image", "inspect", tag, "--format", "{{json .Config.Healthcheck}}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "health.py" in health, health
    user = subprocess.run(
        ["podman", "image", "inspect", tag, "--format", "{{.Config.User}}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert user == "10001"
    port = _free_port()
    started = time.monotonic()
    # no API key: the image's own command binds 127.0.0.1 (the host's, with --network host)
    cid = subprocess.run(
        ["podman", "run", "-d", "--rm", "--network", "host", "-e", f"APPRENTICE_PORT={port}", tag],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() - started < 120, "the container never answered /health"
            time.sleep(0.05)
        start_s = time.monotonic() - started
        with open(TITANIC, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = [
                {k: v for k, v in r.items() if k != "Survived"}
                for r, _ in zip(reader, range(20), strict=False)
            ]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict",
            data=json.dumps(rows).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.loads(r.read())
        # the image leaves the dashboard's packages out: a clear 501, not a 500
        page = ""
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard", timeout=30)
            dashboard = 200
        except urllib.error.HTTPError as exc:
            dashboard, page = exc.code, exc.read().decode()
        assert dashboard == 501 and "--with-dashboard" in page
        print(f"image size {int(size) / 1e6:.0f} MB, start to /health 200 in {start_s:.2f} s")
    finally:
        subprocess.run(["podman", "stop", "-t", "2", cid], env=env, capture_output=True)
    import numpy as np
    import pandas as pd

    assert int(size) < MAX_IMAGE_BYTES, f"the image is {int(size) / 1e6:.0f} MB"
    model = load_bundle(bundle)
    frame = pd.DataFrame(rows)
    assert [p["prediction"] for p in answer["predictions"]] == list(model.predict(frame))
    classes = [str(c) for c in model.classes or []]
    got = np.array([[p["probabilities"][c] for c in classes] for p in answer["predictions"]])
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-12)
