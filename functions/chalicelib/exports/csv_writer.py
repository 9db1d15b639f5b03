"""CSV as Excel and a spreadsheet user expect it, with no AWS: UTF-8 with a BOM (Excel
opens Chinese correctly only with one), CRLF line ends, RFC 4180 quoting, money in yuan
with two decimals, times in the store's time zone, and text that a spreadsheet would run
as a formula neutralised (OWASP "CSV injection": a cell starting with = + - @, a tab or
a carriage return gets a leading apostrophe).

Cells are typed: ``str`` is text from data (neutralised), ``Yuan`` is money, ``int`` a
count, ``LocalTime`` a UTC time shown in a zone, ``None`` empty. Only text is neutralised,
so a refund of ``-5.00`` written as Yuan stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.kernel import clock

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Yuan:
    """Money in fen, written as yuan with two decimals: 7970 -> 79.70."""

    fen: int


@dataclass(frozen=True)
class LocalTime:
    """A stored UTC ISO-8601 time, written in ``zone`` as ``YYYY-MM-DD HH:MM:SS``."""

    utc_iso: str | None
    zone: str


Cell = str | int | bool | Yuan | LocalTime | None


def yuan(fen: int) -> str:
    """7970 -> '79.70', 5 -> '0.05', -500 -> '-5.00' (integer arithmetic, no float)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def local_time(utc_iso: str | None, zone: str) -> str:
    if not utc_iso:
        return ""
    moment: datetime = clock.parse(utc_iso).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def neutralise(text: str) -> str:
    """Text a spreadsheet would evaluate gets a leading apostrophe (shown, not run)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Yuan):
        return yuan(value.fen)
    if isinstance(value, LocalTime):
        return local_time(value.utc_iso, value.zone)
    return neutralise(value)


class CsvEncoder:
    """Turns rows into the bytes of one CSV file, a piece at a time: ``header`` first
    (it carries the BOM), then ``rows`` for each batch; nothing is kept between calls, so
    a file of any size streams through a bounded buffer."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        # QUOTE_MINIMAL quotes exactly what RFC 4180 asks: a field holding a comma, a
        # double quote (doubled inside), CR or LF.
        self._writer = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def header(self, labels: Sequence[str]) -> bytes:
        return (BOM + self._encode([[neutralise(label) for label in labels]])).encode("utf-8")

    def rows(self, rows: Iterable[Sequence[Cell]]) -> bytes:
        return self._encode([[cell_text(c) for c in row] for row in rows]).encode("utf-8")

    def _encode(self, rows: list[list[str]]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows(rows)
        return self._buffer.getvalue()
