"""Column layout for receipt paper, counting what the printer prints: a full-width
(Chinese) character takes two columns, an ASCII character one.

Font A is 12 dots wide: 384 dots on 58 mm paper is 32 columns, 576 dots on 80 mm is 48.
"""

from __future__ import annotations

import re

from print_relay.gbk import char_width

COLUMNS = {58: 32, 80: 48}

# words of printable ASCII stay together when wrapping; anything else breaks anywhere
_TOKEN = re.compile(r"[!-~]+| |.", re.DOTALL)


def columns_for(paper_mm: int) -> int:
    """Columns of normal-size text on ``paper_mm`` paper (58 or 80)."""
    try:
        return COLUMNS[paper_mm]
    except KeyError:
        raise ValueError(f"paper width {paper_mm} mm is not supported: use 58 or 80") from None


def width(text: str) -> int:
    """Printed width of ``text`` in columns."""
    return sum(char_width(ch) for ch in text)


def _hard_split(token: str, limit: int) -> list[str]:
    pieces, current, used = [], "", 0
    for ch in token:
        w = char_width(ch)
        if used + w > limit and current:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += w
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, limit: int) -> list[str]:
    """``text`` broken into lines of at most ``limit`` columns (at least one line).

    Breaks between Chinese characters anywhere and between ASCII words at spaces; a word
    longer than a line is split. Spaces at the start of a continuation line are dropped.
    """
    if limit < 2:
        raise ValueError("a line needs at least 2 columns")
    lines: list[str] = []
    current, used = "", 0
    for token in _TOKEN.findall(text):
        w = width(token)
        if used + w <= limit:
            current += token
            used += w
            continue
        if token.isspace():
            lines.append(current)
            current, used = "", 0
            continue
        if current.strip():
            lines.append(current.rstrip())
        current, used = "", 0
        for piece in _hard_split(token, limit):
            if used + width(piece) > limit:
                lines.append(current)
                current, used = "", 0
            current += piece
            used += width(piece)
    lines.append(current.rstrip())
    return [line for line in lines if line] or [""]


def pad(text: str, limit: int, align: str = "left") -> str:
    """``text`` padded with spaces to ``limit`` columns (left, center or right)."""
    gap = max(limit - width(text), 0)
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def rule(limit: int, char: str = "-") -> str:
    """A separator line filling ``limit`` columns."""
    return char * (limit // max(width(char), 1))


def row(left: str, right: str, limit: int, right_width: int | None = None) -> list[str]:
    """Left text and right-aligned text on one line; the left side wraps in the space the
    right one leaves, and the right text sits on the first line. ``right_width`` overrides
    the right side's width (for text printed larger than normal)."""
    rw = width(right) if right_width is None else right_width
    room = limit - rw - 1
    if room < 4:  # right side too long to share a line: give each its own
        return [*wrap(left, limit), pad(right, limit, "right")]
    lefts = wrap(left, room)
    first = lefts[0] + " " * (limit - width(lefts[0]) - rw)
    return [first + right, *lefts[1:]]
