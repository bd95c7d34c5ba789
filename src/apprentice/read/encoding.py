"""Text encoding detection.

Order of evidence: a byte-order mark (UTF-8/16/32), BOM-less UTF-16/32 (regular NUL bytes),
strict UTF-8 (plain ASCII reported as such), then a single-byte code page chosen by
charset-normalizer among the common Western ones, cp1252 by default (another code page wins
only when its text is less of a mess than cp1252's by the detector's measure). Decoding never fails:
undecodable bytes become U+FFFD and are counted, so a bad byte costs one character, not the file.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 1 << 20
_SINGLE_BYTE = ("cp1252", "latin-1", "iso-8859-15", "cp1250", "cp1251", "mac-roman", "cp437")


@dataclass(frozen=True)
class Decoded:
    """Decoded text and how it was decoded."""

    text: str
    encoding: str
    bom: bool
    undecodable: int


def detect_bom(raw: bytes) -> tuple[str | None, int]:
    """The encoding a BOM announces and the BOM's length in bytes."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name, len(bom)
    return None, 0


def _bomless_utf16(raw: bytes) -> str | None:
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def is_utf8(raw: bytes) -> bool:
    """``raw`` is UTF-8 (a multi-byte sequence cut at its end is fine)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte sequence cut by the sample's end is still UTF-8
        return exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data"
    return True


def guess_encoding(raw: bytes) -> tuple[str, bool]:
    """The most likely encoding of ``raw`` and whether it came from a BOM."""
    name, _ = detect_bom(raw)
    if name is not None:
        return name, True
    utf16 = _bomless_utf16(raw)
    if utf16 is not None:
        return utf16, False
    if raw.isascii():
        return "ascii", False
    if is_utf8(raw):
        return "utf-8", False
    return _single_byte(raw), False


def _single_byte(raw: bytes) -> str:
    """Pick a single-byte code page for non-UTF-8 bytes."""
    try:
        from charset_normalizer import from_bytes

        found = from_bytes(raw[:_SAMPLE], cp_isolation=list(_SINGLE_BYTE))
        best = found.best()
    except Exception:  # pragma: no cover - the detector is advisory only
        found, best = None, None
    cp1252_clean = True
    try:
        raw[:_SAMPLE].decode("cp1252")
    except UnicodeDecodeError:
        cp1252_clean = False
    if best is not None:
        enc = codecs.lookup(best.encoding).name
        # Western code pages agree on letters; cp1252 is what Windows and Excel write, so it
        # wins unless the detector saw another script (Cyrillic, Greek, ...) or cp1252 fails
        if (
            not cp1252_clean
            or enc in ("cp1251", "cp437")
            or not enc.startswith(("cp125", "iso8859", "latin", "mac"))
        ):
            return enc
        if found is not None and enc != "cp1252":
            # another code page wins when its text is more coherent than cp1252's by the
            # detector's measure of mess (Czech "Datum zaúčtování", not "zaúètování")
            western = [m for m in found if codecs.lookup(m.encoding).name == "cp1252"]
            if western and best.chaos < western[0].chaos:
                return enc
    return "cp1252"


def decode(raw: bytes, encoding: str | None = None) -> Decoded:
    """Decode ``raw`` with the given or detected encoding, never failing."""
    bom = False
    if encoding is None:
        encoding, bom = guess_encoding(raw)
    else:
        bom_name, _ = detect_bom(raw)
        bom = bom_name is not None
    codec = codecs.lookup(encoding).name
    data = raw
    if codec in ("utf-8", "utf_8") and raw.startswith(codecs.BOM_UTF8):
        codec, bom = "utf-8-sig", True
    if codec.startswith(("utf-16", "utf-32")) and bom:
        # strip the BOM ourselves so the LE/BE codec does not keep U+FEFF
        _, size = detect_bom(raw)
        data = raw[size:]
    if codec == "ascii":
        text = data.decode("utf-8", errors="replace")
    else:
        text = data.decode(codec, errors="replace")
    if codec == "utf-8-sig" or (
        codec.startswith(("utf-16", "utf-32")) and text.startswith("\ufeff")
    ):
        text = text.removeprefix("\ufeff")
    undecodable = text.count("\ufffd") - _count_replacement_in_source(raw, codec)
    return Decoded(text=text, encoding=encoding, bom=bom, undecodable=max(undecodable, 0))


def _count_replacement_in_source(raw: bytes, codec: str) -> int:
    """U+FFFD characters that the source itself contains (not decoding failures)."""
    if codec.startswith("utf-8") or codec == "ascii":
        return raw.count("\ufffd".encode())
    return 0
