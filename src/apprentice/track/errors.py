"""Errors of the tracking and registry stage (subclasses of :class:`ApprenticeError`)."""

from __future__ import annotations

from apprentice.errors import ApprenticeError, ConfigError


class TrackingError(ConfigError):
    """The tracking store (MLflow) cannot be reached or used."""


class RegistryError(ApprenticeError):
    """A registered model name or version cannot be used as asked."""


class ModelNotFoundError(RegistryError):
    """No registered model (or version, or alias) of that name."""
