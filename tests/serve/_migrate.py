"""A process target for the migration races (a module with light imports, for spawn)."""

from __future__ import annotations


def migrate(url: str) -> None:
    from apprentice.serve.log import migrate as run

    run(url)
