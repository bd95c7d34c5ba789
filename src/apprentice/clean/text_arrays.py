"""Byte-level views of text columns, for the stages after clean that scan many columns (the
PII scan): the same kernels the cleaner's type checks use, so a wide table is read the same
way in both stages. The kernels live in the cleaner's private arrow helpers; this module is
their public face."""

from __future__ import annotations

from apprentice.clean._arrow import DIGITS, ByteView, column_arrays

__all__ = ["DIGITS", "ByteView", "column_arrays"]
