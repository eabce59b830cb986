"""Turning bytes and header values of unknown or mislabelled charsets into text, never raising.

Real mail lies about its charset: "iso-8859-1" bodies full of cp1252 quotes, "us-ascii" with UTF-8 inside,
charset names Python does not know ("ks_c_5601-1987", "unknown-8bit", "x-user-defined"), raw 8-bit header
bytes with no declared charset at all. The order of attempts is: the declared charset (widened to its
common superset), UTF-8, then charset_normalizer's guess for longer undeclared text, then cp1252.
"""

from __future__ import annotations

import codecs
import email.header
import re
import unicodedata

# Declared name -> the superset mailers really use. Decoding with the superset never loses a character
# the declared charset had, and recovers the ones mailers add without saying so.
_WIDEN = {
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "iso8859-1": "cp1252",
    "us-ascii": "utf-8", "ascii": "utf-8", "ansi_x3.4-1968": "utf-8",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "korean": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext", "big5": "big5hkscs", "tis-620": "cp874", "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8", "iso-8859-6-i": "iso-8859-6", "utf8": "utf-8", "x-unicode20utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7", "iso-8859-9": "cp1254", "iso-8859-11": "cp874",
}
# Labels that say nothing about the bytes.
_UNKNOWN = {"", "unknown-8bit", "x-unknown", "unknown", "8bit", "default", "x-user-defined", "binary",
            "charset", "none", "us"}
# When the widened codec fails (cp1252 leaves 5 bytes undefined), the declared charset itself still fits.
_STRICT_FALLBACK = {"cp1252": "latin-1", "cp1254": "iso8859-9", "cp874": "tis-620"}
_GUESS_MIN = 24
_GUESS_SAMPLE = 4096  # below this a statistical guess is noise; cp1252 is the better bet

_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?]*\?=")


def codec_for(label: str | None) -> str | None:
    """Python codec name for a declared charset label, or None when the label is unknown/unusable."""
    name = (label or "").strip().strip("\"'").lower()
    if name in _UNKNOWN:
        return None
    name = _WIDEN.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _valid(text: str) -> bool:
    # Some codecs produce lone surrogates; those are not text and break UTF-8 sinks downstream.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def guess_charset(data: bytes) -> str | None:
    """Codec name for undeclared 8-bit text: UTF-8 when it decodes, else charset_normalizer's guess."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if len(data) < _GUESS_MIN:
        return None
    try:
        from charset_normalizer import from_bytes  # lazy: only undeclared 8-bit text pays for it
        best = from_bytes(data[:_GUESS_SAMPLE]).best()  # a sample: the guess costs ~10 ms per 10 KB
    except Exception:
        return None
    return best.encoding if best is not None else None


def _guess(data: bytes) -> str | None:
    codec = guess_charset(data)
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, bool]:
    """Decode `data`; returns (text, clean). clean=False when a fallback was needed (a defect to report)."""
    if not data:
        return "", True
    codec = codec_for(declared)
    if codec:
        for attempt in (codec, _STRICT_FALLBACK.get(codec)):
            if attempt is None:
                continue
            try:
                text = data.decode(attempt)
                if _valid(text):
                    return text, True
            except (UnicodeError, LookupError, ValueError):
                pass
    try:
        return data.decode("utf-8"), codec is not None or data.isascii() or declared is None
    except UnicodeDecodeError:
        pass
    guessed = _guess(data) if codec is None else None
    if guessed is not None and _valid(guessed):
        return guessed, False
    if codec is not None:
        # The sender named a charset and broke it: mark the broken bytes (U+FFFD) rather than guess.
        try:
            return data.decode(codec, "replace"), False
        except (LookupError, ValueError):
            pass
    return data.decode("cp1252", "replace"), False


def _raw_8bit(value: str) -> bytes | None:
    """Header values the stdlib read from 8-bit bytes carry them as surrogate escapes."""
    if value.isascii():
        return None
    try:
        return value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return None  # real non-ASCII text (already decoded), keep as is


def repair_8bit(value: str, fallback: str | None = None) -> str:
    """Only the raw 8-bit bytes of a header value turned into text; encoded words are left alone (for
    address headers, whose encoded display names may hold commas)."""
    raw = _raw_8bit(value)
    return value if raw is None else decode_bytes(raw, fallback)[0]


def _join_words(chunks: list[tuple[bytes | str, str | None]], fallback: str | None) -> str:
    out: list[str] = []
    for data, charset in chunks:
        if isinstance(data, str):
            out.append(data)
            continue
        if charset is None:  # text between encoded words: decode_header carries it as raw-unicode-escape
            out.append(data.decode("raw-unicode-escape", "replace"))
        else:
            out.append(decode_bytes(data, charset)[0])
    return "".join(out)


def decode_header_value(value: object, fallback: str | None = None) -> str:
    """RFC 2047 decoding of one header value, with raw 8-bit bytes and broken encoded words tolerated.
    `fallback` is a charset to try for undeclared 8-bit bytes (e.g. the body's charset)."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    text = repair_8bit(str(value), fallback)
    text = re.sub(r"\r?\n[ \t]*", " ", text) if "\n" in text else text
    if "=?" in text and _ENCODED_WORD.search(text):
        # Mailers split one encoded word's bytes across words; decode_header joins same-charset runs first.
        try:
            text = _join_words(email.header.decode_header(text), fallback)
        except Exception:
            pass
    return unicodedata.normalize("NFC", text).strip() if not text.isascii() else text.strip()
