"""``lazy_exports``: a package's public names imported on first access, then cached."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from apprentice.lazy import lazy_exports


def _package(root: Path, name: str) -> None:
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from apprentice.lazy import lazy_exports\n"
        f"__getattr__ = lazy_exports(__name__, {{'heavy': '{name}.heavy_mod'}})\n"
    )
    (pkg / "heavy_mod.py").write_text("heavy = object()\n")


def test_a_name_is_imported_on_first_access_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(tmp_path, "lazypkg_a")
    monkeypatch.syspath_prepend(str(tmp_path))
    import lazypkg_a

    try:
        assert "lazypkg_a.heavy_mod" not in sys.modules
        value = lazypkg_a.heavy
        assert "lazypkg_a.heavy_mod" in sys.modules
        assert vars(lazypkg_a)["heavy"] is value  # cached: __getattr__ is not called again
        assert value is sys.modules["lazypkg_a.heavy_mod"].heavy
    finally:
        for mod in ("lazypkg_a", "lazypkg_a.heavy_mod"):
            sys.modules.pop(mod, None)


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    getter = lazy_exports("apprentice", {})
    with pytest.raises(AttributeError, match=r"module 'apprentice' has no attribute 'nope'"):
        getter("nope")


def test_the_stage_packages_resolve_their_public_names() -> None:
    import apprentice
    import apprentice.serve
    import apprentice.workflows

    assert callable(apprentice.serve.create_app)
    assert apprentice.workflows.RunResult.__name__ == "RunResult"
    assert callable(apprentice.run)
    with pytest.raises(AttributeError, match=r"apprentice\.serve"):
        _ = apprentice.serve.not_a_name
