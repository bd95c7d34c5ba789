"""The error hierarchy.

Every error a user can cause is an :class:`ApprenticeError` whose message says what was wrong
and what to do about it. The CLI prints the message on one line and exits with
``exit_code`` (2 for user mistakes), never a traceback.
"""

from __future__ import annotations


class ApprenticeError(Exception):
    """Base class of every error apprentice raises on purpose."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(ApprenticeError):
    """A path, file or URL given by the user cannot be used."""


class SourceNotFoundError(InputError):
    """The file, table or database does not exist."""


class UnsupportedFormatError(InputError):
    """The file is of a kind apprentice cannot read (binary, unknown extension, ...)."""


class EmptyInputError(InputError):
    """The input holds no table at all."""


class ParseError(InputError):
    """The content could not be parsed (invalid JSON, broken spreadsheet, ...)."""


class SizeLimitError(InputError):
    """The input exceeds a safety limit (decompression bomb, oversize line)."""


class StorageError(InputError):
    """A storage URL (s3://, gs://, az://, file://) cannot be read or written: the store's
    package is missing, no credentials, no such bucket, access denied."""


class DatabaseError(InputError):
    """A SQL URL, table or query cannot be used."""


class ConfigError(ApprenticeError):
    """A setting or option has an invalid value."""


class SchemaError(ApprenticeError):
    """Data does not match a schema, or a schema file is invalid."""


class TargetError(ApprenticeError):
    """The target column is missing or unusable."""


class BundleError(ApprenticeError):
    """A model bundle is missing, tampered with, or holds an untrusted object."""


class ClusterError(ApprenticeError):
    """The Dask cluster cannot be reached, lost a worker mid-job, or runs other versions."""


class EmptyTableError(EmptyInputError, ValueError):
    """A table has no rows or no columns where data is needed.

    Also a ``ValueError``, which is what scikit-learn expects of an estimator given no data.
    """


class ColumnMismatchError(SchemaError, ValueError):
    """The columns given to a fitted step do not match the ones it was fitted on.

    Also a ``ValueError``, which is what scikit-learn expects of a transformer given the wrong
    features.
    """


class FeatureError(ApprenticeError):
    """No usable feature is left to learn from (every column excluded or empty)."""


class BudgetError(ConfigError):
    """The time budget cannot fit one real learner; the message names the budget needed."""

    def __init__(self, message: str, *, minimum: float) -> None:
        super().__init__(message)
        self.minimum = minimum


class InputWarning(UserWarning):
    """Raw rows held values a bundle's cleaning recipe could not read: they were predicted as
    missing (the warning names the columns, counts and examples)."""
