"""User hints that override detection."""

from __future__ import annotations

from dataclasses import dataclass

from apprentice.errors import ConfigError

_NAMED_DELIMITERS = {
    "comma": ",",
    "tab": "\t",
    "\\t": "\t",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
    "comma+space": ", ",
}


@dataclass(frozen=True)
class ReadHints:
    """Dialect and source hints; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None  # "" means: no quoting
    escapechar: str | None = None  # "" means: doubled quotes only
    header: int | None = None  # number of header rows (0 = none)
    skip_rows: int | None = None  # preamble lines to skip
    sheet: str | int | None = None
    table: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None:
            delim = _NAMED_DELIMITERS.get(self.delimiter.lower(), self.delimiter)
            if delim == "" or "\n" in delim or "\r" in delim or len(delim) > 3:
                raise ConfigError(
                    f"delimiter {self.delimiter!r} is not usable; give one to three characters "
                    "such as ',', ';', '\\t', '|' or a name (comma, tab, semicolon, pipe, space)"
                )
            object.__setattr__(self, "delimiter", delim)
        for name in ("quotechar", "escapechar"):
            value = getattr(self, name)
            if value is not None and len(value) > 1:
                raise ConfigError(f"{name} {value!r} must be a single character or empty")
        if self.header is not None and self.header < 0:
            raise ConfigError(f"header={self.header} must be 0 (no header) or a positive count")
        if self.skip_rows is not None and self.skip_rows < 0:
            raise ConfigError(f"skip_rows={self.skip_rows} must be 0 or more")
        if self.encoding is not None:
            import codecs

            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(
                    f"encoding {self.encoding!r} is unknown; use a name such as utf-8, cp1252, "
                    "latin-1 or utf-16"
                ) from None
