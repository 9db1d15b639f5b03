"""Text to GBK bytes for Chinese-mode ESC/POS printers.

python-escpos's own CJK path is unsafe (it sends GB18030 without ``FS &``, turns ¥ into a
4-byte sequence GBK printers misprint, and mixes code-page bytes into Chinese mode). We
encode every character ourselves, one at a time, so the printer receives only ASCII
bytes (0x20-0x7E) and 2-byte GBK sequences: never a control byte from the data, never a
4-byte GB18030 sequence, never the cp936 single byte 0x80.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

REPLACEMENT = "?"

# Characters GBK lacks, or has in a form printers get wrong, mapped to what to print.
SUBSTITUTES: dict[str, str] = {
    "¥": "￥",  # U+00A5 is not in GBK; the full-width yen sign is (A3A4)
    "€": "EUR",
    "£": "￡",
    "•": "·",
    "‧": "·",
    "\u00a0": " ",  # no-break space
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\t": " ",
    "–": "-",
    "\u2212": "-",  # minus sign
    "\u2011": "-",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "✓": "√",
    "✔": "√",
}

# Private use areas: GBK's user-defined rows have no glyph on a receipt printer.
_PRIVATE_USE = ((0xE000, 0xF8FF),)


def _is_safe_gbk(raw: bytes) -> bool:
    """True for one printable ASCII byte or one 2-byte GBK sequence."""
    if len(raw) == 1:
        return 0x20 <= raw[0] <= 0x7E
    if len(raw) == 2:
        lead, trail = raw
        return 0x81 <= lead <= 0xFE and 0x40 <= trail <= 0xFE and trail != 0x7F
    return False


@lru_cache(maxsize=4096)
def encode_char(ch: str) -> bytes:
    """The bytes printed for one character (ASCII, 2-byte GBK or the replacement)."""
    if ch in SUBSTITUTES:
        return b"".join(encode_char(c) for c in SUBSTITUTES[ch])
    code = ord(ch)
    if any(lo <= code <= hi for lo, hi in _PRIVATE_USE):
        return REPLACEMENT.encode()
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me", "Zl", "Zp"):
        # control bytes would be ESC/POS commands; combining marks and format characters
        # (zero-width joiners, variation selectors) have no cell of their own
        return b"" if category in ("Mn", "Me", "Cf") else REPLACEMENT.encode()
    try:
        raw = ch.encode("gbk")
    except UnicodeEncodeError:
        return REPLACEMENT.encode()
    return raw if _is_safe_gbk(raw) else REPLACEMENT.encode()


def encode(text: str) -> bytes:
    """``text`` as bytes for a printer in Chinese (GBK) mode.

    Characters GBK lacks are substituted (¥ → ￥) or replaced by ``?`` (emoji, rare
    characters outside GBK such as 𠀀); control characters become ``?`` so data can never
    inject printer commands. Newlines are the caller's business: pass one line at a time.
    """
    return b"".join(encode_char(ch) for ch in text)


def char_width(ch: str) -> int:
    """Columns one character takes on the printer: a 2-byte GBK character prints as a
    full-width (24-dot) glyph, an ASCII byte as a half-width (12-dot) one."""
    return len(encode_char(ch))


def printable(text: str) -> str:
    """``text`` as it will look once printed (substitutions and replacements applied)."""
    return encode(text).decode("gbk")
