"""Fixtures shared by every test package."""

import os
import secrets

from tests._postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

# One bundle-signing key for the whole test session (and the subprocesses it starts), so that
# bundles built by session fixtures load in the temporary workspaces tests switch to; the tests
# of signing itself set or remove it as they need.
os.environ.setdefault("APPRENTICE_BUNDLE_KEY", secrets.token_hex(32))
