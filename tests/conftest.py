"""Fixtures shared by every test package."""

from tests._postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]
