"""``apprentice package MODEL -o DIR``: a container build context for serving one model.

The context holds:

- ``Containerfile`` (also written as ``Dockerfile``): a non-root user, a ``HEALTHCHECK`` on
  ``/health``, ``apprentice serve`` bound to 0.0.0.0 only when ``APPRENTICE_API_KEY`` is set
  in the container's environment (127.0.0.1 otherwise); the key is never written into the image;
- ``requirements.txt``: the ``serve`` extra's packages pinned to the versions installed here;
- ``apprentice/``: this installed package's source (installed without its full dependencies);
- ``bundle/``: the bundle, verified here (signature with this workspace's key and every file's
  hash) before it is copied, and ``bundle.sha256``: the SHA-256 of its ``manifest.json``.

Signing: the workspace key never leaves this machine. The image trusts the bundle
(``APPRENTICE_TRUST_BUNDLES=1``, which skips only the signature check) because the build
checks the manifest's digest, pinned in the Containerfile at package time, before anything
else happens; the manifest pins every file's hash, which ``load_bundle`` still checks at start.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from apprentice.errors import ConfigError

log = logging.getLogger(__name__)

# what every serving image needs: `python -m apprentice serve` and the prediction path of a
# bundle whose members are constant, linear or LightGBM (checked with python -X importtime)
SERVE_PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "pyarrow",
    "typer",
    "rich",
    "charset-normalizer",
    "python-dateutil",
    "sqlalchemy",
    "fastapi",
    "pydantic",
    "uvicorn",
    "orjson",
    "prometheus-client",
)
#: what ``/dashboard`` (the monitor's drift tests and calibration) adds: ``--with-dashboard``
DASHBOARD_PACKAGES: tuple[str, ...] = ("scipy", "scikit-learn")

BASE_IMAGE = "docker.io/library/python:3.12-slim"
PORT = 8000

CONTAINERFILE = """\
# Built by `apprentice package`. Build: podman build -t IMAGE .   (or docker build)
# Run:   podman run -p 127.0.0.1:8000:8000 -e APPRENTICE_API_KEY IMAGE
# The API key comes from the environment at run time; it is never part of the image.
ARG BASE={base}
ARG RUNTIME={runtime}

# 1. the environment, built where pip is; only /opt/venv leaves this stage
FROM ${{BASE}} AS build
# the bundle's manifest must be the one verified when this context was written
COPY bundle.sha256 /opt/apprentice/bundle.sha256
COPY bundle/manifest.json /opt/apprentice/bundle/manifest.json
RUN cd /opt/apprentice && sha256sum -c bundle.sha256
RUN python3 -m venv /opt/venv
# a CA bundle mounted only while building (--build-arg PIP_CERT=...), never part of the image
ARG PIP_CERT
COPY requirements.txt requirements-nodeps.txt /opt/apprentice/
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \\
        -r /opt/apprentice/requirements.txt \\
    && if [ -s /opt/apprentice/requirements-nodeps.txt ]; then \\
        /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps \\
            -r /opt/apprentice/requirements-nodeps.txt; fi \\
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools
# what serving never loads: test suites, C headers and Cython sources, and Arrow Flight (an RPC
# framework, 31 MB; `import pyarrow.flight` fails in the image, nothing else changes)
RUN site=/opt/venv/lib/python3*/site-packages \\
    && rm -rf $site/pyarrow/include $site/pyarrow/src $site/pyarrow/*flight* \\
        $site/pyarrow/*.pyx $site/pyarrow/*.pxd $site/pyarrow/*.pxi \\
    && find $site/numpy $site/pandas $site/pyarrow -depth -type d -name tests \\
        -exec rm -rf {{}} +

# 2. the image: the runtime, the environment, the code and the verified bundle
FROM ${{RUNTIME}}
COPY --from=build /opt/venv /opt/venv
COPY bundle.sha256 /opt/apprentice/bundle.sha256
COPY apprentice /opt/apprentice/src/apprentice
COPY bundle /opt/apprentice/bundle
RUN cd /opt/apprentice && sha256sum -c bundle.sha256 \\
    && /opt/venv/bin/python -m compileall -q /opt/apprentice/src \\
    && useradd --system --uid 10001 --home-dir /home/apprentice --create-home apprentice
USER 10001
WORKDIR /home/apprentice
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONPATH=/opt/apprentice/src \\
    PYTHONDONTWRITEBYTECODE=1 \\
    APPRENTICE_TRUST_BUNDLES=1 \\
    APPRENTICE_WORKSPACE=/home/apprentice/.apprentice
EXPOSE {port}
COPY start.sh health.py /opt/apprentice/
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\
    CMD ["python3", "/opt/apprentice/health.py"]
CMD ["/bin/sh", "/opt/apprentice/start.sh"]
"""

# bound to all addresses only when an API key is set: the key is read from the environment
START_SH = """\
#!/bin/sh
set -eu
if [ -n "${{APPRENTICE_API_KEY:-}}" ]; then
    host=0.0.0.0
else
    host=127.0.0.1
    echo "APPRENTICE_API_KEY is not set: listening on 127.0.0.1 inside the container only" >&2
fi
exec python3 -m apprentice serve /opt/apprentice/bundle --host "$host" \\
    --port "${{APPRENTICE_PORT:-{port}}}"
"""

HEALTH_PY = """\
import os
import sys
import urllib.request

port = os.environ.get("APPRENTICE_PORT", "{port}")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{{port}}/health", timeout=2) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except OSError:
    sys.exit(1)
"""


@dataclass(frozen=True)
class PackageResult:
    """What ``package`` wrote."""

    context: Path
    containerfile: Path
    bundle: Path
    manifest_sha256: str
    requirements: tuple[str, ...]


#: what a stored model kind needs beyond the base set (each alternative: the first installed)
KIND_PACKAGES: dict[str, tuple[tuple[str, ...], ...]] = {
    "sklearn": (("scikit-learn",), ("scipy",), ("threadpoolctl",), ("skops",)),
    "xgboost": (("xgboost-cpu", "xgboost"),),
    "catboost": (("catboost",),),
}
#: installed without their dependencies: apprentice calls only the native library they ship
#: (:mod:`apprentice.modelfiles.lightgbm_capi`), so SciPy and scikit-learn stay out
NO_DEPS_KIND_PACKAGES: dict[str, tuple[tuple[str, ...], ...]] = {"lightgbm": (("lightgbm",),)}


def _installed(alternatives: tuple[str, ...]) -> str:
    for name in alternatives:
        try:
            version(name)
            return name
        except PackageNotFoundError:
            continue
    return alternatives[0]


def _pins(names: Iterable[str]) -> tuple[str, ...]:
    pins = []
    for name in dict.fromkeys(names):
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError as exc:
            raise ConfigError(
                f"{name} is not installed here, so its version cannot be pinned; "
                "run pip install 'ml-apprentice[serve]'"
            ) from exc
    return tuple(pins)


def pinned_requirements(
    kinds: Iterable[str] = (), *, sparse_text: bool = False, dashboard: bool = False
) -> tuple[str, ...]:
    """``name==version`` for each package the image needs, as installed here: the serving
    set, what the bundle's model kinds need (scikit-learn, XGBoost, CatBoost only when a
    member uses them), SciPy when a text feature makes sparse matrices, and the dashboard's
    packages when asked for."""
    names = list(SERVE_PACKAGES)
    for kind in dict.fromkeys(kinds):
        names += [_installed(alt) for alt in KIND_PACKAGES.get(kind, ())]
    if sparse_text:
        names.append("scipy")
    if dashboard:
        names += DASHBOARD_PACKAGES
    return _pins(names)


def no_deps_requirements(kinds: Iterable[str] = ()) -> tuple[str, ...]:
    """The pins installed with ``pip install --no-deps`` (LightGBM: only its library is used)."""
    names = []
    for kind in dict.fromkeys(kinds):
        names += [_installed(alt) for alt in NO_DEPS_KIND_PACKAGES.get(kind, ())]
    return _pins(names)


def _sparse_text(bundle: Path) -> bool:
    """Whether a feature view of the bundle turns text into a sparse TF-IDF matrix (SciPy)."""
    import json

    for path in sorted(bundle.glob("features_*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        for column in spec.get("columns") or []:
            if column.get("kind") == "text" and column.get("vocabulary"):
                return True
    return False


def package_model(
    model: str,
    output: str | Path,
    *,
    base: str = BASE_IMAGE,
    runtime: str | None = None,
    overwrite: bool = False,
    dashboard: bool = False,
) -> PackageResult:
    """Write the build context of ``model`` (a bundle folder or a registered model reference)
    into ``output``, which must not exist or be empty (``overwrite`` replaces it).

    ``base`` builds the environment (python3 with venv and pip); ``runtime`` (default:
    ``base``) is what the image runs on: the same Python without pip is enough.
    ``dashboard`` adds what ``/dashboard`` needs (SciPy, scikit-learn)."""
    from apprentice.bundle import verify_bundle

    out = Path(output)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; give a folder for the build context with -o")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"{out} is not empty; choose a new folder or pass --overwrite")
    source = _resolve(model)
    manifest = verify_bundle(source)  # the signature with this workspace's key, every file
    digest = hashlib.sha256((source / "manifest.json").read_bytes()).hexdigest()
    kinds = [str(m.get("kind")) for m in (manifest.get("model") or {}).get("members") or []]
    pins = pinned_requirements(kinds, sparse_text=_sparse_text(source), dashboard=dashboard)
    no_deps = no_deps_requirements(kinds)
    if out.is_dir():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(source, out / "bundle", symlinks=False)
    (out / "bundle" / "manifest.sig").unlink(missing_ok=True)  # useless without the key
    (out / "bundle.sha256").write_text(f"{digest}  bundle/manifest.json\n", encoding="ascii")
    (out / "requirements.txt").write_text("\n".join(pins) + "\n", encoding="ascii")
    (out / "requirements-nodeps.txt").write_text(
        "".join(f"{pin}\n" for pin in no_deps), encoding="ascii"
    )
    package_root = Path(__file__).resolve().parents[1]
    shutil.copytree(
        package_root,
        out / "apprentice",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    text = CONTAINERFILE.format(base=base, runtime=runtime or base, port=PORT)
    containerfile = out / "Containerfile"
    containerfile.write_text(text, encoding="utf-8")
    (out / "Dockerfile").write_text(text, encoding="utf-8")
    (out / "start.sh").write_text(START_SH.format(port=PORT), encoding="ascii")
    (out / "health.py").write_text(HEALTH_PY.format(port=PORT), encoding="ascii")
    (out / ".containerignore").write_text("Dockerfile\n", encoding="ascii")
    log.info("wrote the build context of %s to %s (manifest %s)", model, out, digest[:12])
    return PackageResult(out, containerfile, out / "bundle", digest, pins + no_deps)


def _resolve(model: str) -> Path:
    path = Path(model)
    if path.is_dir():
        return path
    from apprentice.track import resolve_model

    return Path(resolve_model(model).path)


def container_engine() -> str:
    """``podman`` or ``docker``, whichever is installed (podman first)."""
    for name in ("podman", "docker"):
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(
        "--build needs podman or docker and neither is installed; install one "
        "(e.g. apt-get install podman) or build the context yourself"
    )


def build_image(context: str | Path, tag: str, *, extra_args: list[str] | None = None) -> str:
    """Build the image of a context written by :func:`package_model`; return the tag."""
    import subprocess

    engine = container_engine()
    # podman's default OCI format drops HEALTHCHECK; the docker format keeps it
    fmt = ["--format", "docker"] if Path(engine).name == "podman" else []
    cmd = [engine, "build", *fmt, "-t", tag, "-f", "Containerfile", *(extra_args or []), "."]
    log.info("building %s with %s", tag, Path(engine).name)
    done = subprocess.run(cmd, cwd=context, check=False)
    if done.returncode != 0:
        raise ConfigError(
            f"{Path(engine).name} build failed (exit {done.returncode}); see its output above"
        )
    return tag
