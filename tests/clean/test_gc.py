"""The garbage collector is paused while a table is cleaned, and restored after."""

from __future__ import annotations

import gc

import pytest

from apprentice.clean import clean_table
from apprentice.clean.gc_pause import paused_gc
from tests.clean.conftest import text


def test_paused_and_restored_nested() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()


def test_restored_after_an_error() -> None:
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("boom")
    assert gc.isenabled()


def test_left_disabled_when_the_caller_disabled_it() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_clean_table_pauses_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    from apprentice.clean import api

    seen: list[bool] = []
    names = api.clean_names

    def spy(originals: list[object]) -> object:
        seen.append(gc.isenabled())
        return names(originals)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "clean_names", spy)
    result = clean_table(text({"a": ["1", "2", "3"], "b": ["x", "y", "x"]}))
    assert seen == [False]  # paused while the columns were cleaned
    assert gc.isenabled()  # and resumed
    assert list(result.table.columns) == ["a", "b"]
