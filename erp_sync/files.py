"""Splitting ERP files into uploadable parts, and mapping line numbers back.

The API takes at most 6 MiB per upload (Lambda's synchronous payload limit). A larger
file is cut at row boundaries into parts of at most ``part_bytes`` each:

* CSV: every part is a CSV file of its own that repeats the original header line(s)
  byte for byte, followed by whole records copied byte for byte. Record boundaries are
  found with the same ``csv`` reader the API uses, so a quoted field containing a line
  break never gets cut. A UTF-8 BOM stays in the first part only (the API accepts both).
* JSON: every part is an array holding a run of the original items (an array of
  objects, or ``{"rows": [...]}`` as the API also accepts), re-encoded with ``json``;
  the API decodes them with ``json`` too, so every value arrives unchanged.

Each :class:`Part` knows how to turn a line number reported for it (file line, header =
1; or JSON item number from 1) into the line of the original file, because the operator
fixes the original file, not our parts.

Nothing here does I/O: the functions take the file's bytes and return bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_UPLOAD_BYTES",
    "PART_BYTES",
    "Part",
    "SplitError",
    "count_rows",
    "detect_format",
    "split_csv",
    "split_file",
    "split_json",
]

MAX_UPLOAD_BYTES = 6 * 1024 * 1024
"""The API refuses bodies larger than this (422)."""

PART_BYTES = 5 * 1024 * 1024
"""Target size of each part of a split file; leaves headroom below the API's limit."""

_BOM = "\ufeff"
_LINE_IN_REASON = re.compile(r"\bline (\d+)\b")


class SplitError(ValueError):
    """The file cannot be split as it is; the message says what to fix."""


@dataclass(frozen=True)
class Part:
    """One uploadable piece of a file.

    ``rows`` is the number of data rows it holds (CSV records that are not blank, or JSON
    items), or ``None`` when the file could not be read locally (it is then uploaded
    whole and the API reports the problem). A line ``n`` reported by the API for this
    part is line ``n + line_offset`` of the original file; lines inside the repeated
    header (``n <= header_lines``) are the original header's lines.
    """

    index: int
    data: bytes
    rows: int | None
    line_offset: int = 0
    header_lines: int = 0
    first_line: int = 0
    """Original line (CSV) or item number (JSON) of the part's first row; 0 if unknown."""

    def original_line(self, line: int) -> int:
        """The original file's line for a line number the API reported for this part."""
        if line <= self.header_lines:
            return line
        return line + self.line_offset

    def original_reason(self, reason: str) -> str:
        """A rejection reason with the line numbers it cites ("duplicate of line 7")
        mapped to the original file too."""
        if not self.line_offset:
            return reason
        return _LINE_IN_REASON.sub(lambda m: f"line {self.original_line(int(m.group(1)))}", reason)


def detect_format(filename: str, explicit: str | None = None) -> str:
    """``"csv"`` or ``"json"``: ``explicit`` if given, else from the file's extension."""
    if explicit:
        fmt = explicit.lower()
        if fmt not in ("csv", "json"):
            raise SplitError(f"unknown format {explicit!r}; use csv or json")
        return fmt
    lowered = filename.lower()
    for ext in (".csv", ".json"):
        if lowered.endswith(ext):
            return ext[1:]
    raise SplitError(
        f"cannot tell the format of {filename!r} from its extension; "
        "name it .csv or .json, or pass --format csv|json"
    )


def split_file(
    data: bytes,
    file_format: str,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    part_bytes: int = PART_BYTES,
) -> list[Part]:
    """Cut ``data`` into parts the API accepts.

    A file of at most ``max_bytes`` is returned as one part holding the original bytes
    untouched (rows counted if the file can be read, for the progress bar). A larger
    file is split into parts of at most ``part_bytes`` each (a single row larger than
    that gets a part of its own). Raises :class:`SplitError` when a larger file cannot
    be read or a single row alone exceeds ``max_bytes``.
    """
    if part_bytes > max_bytes:
        raise ValueError("part_bytes must not exceed max_bytes")
    splitter = split_csv if file_format == "csv" else split_json
    if len(data) <= max_bytes:
        return [Part(0, data, count_rows(data, file_format), first_line=0)]
    parts = splitter(data, part_bytes=part_bytes)
    where = "line" if file_format == "csv" else "item"
    for part in parts:
        if len(part.data) > max_bytes:
            raise SplitError(
                f"the row at {where} {part.first_line} alone is larger than the "
                f"{max_bytes / (1024 * 1024):g} MiB upload limit; shorten it"
            )
    return parts


def count_rows(data: bytes, file_format: str) -> int | None:
    """Data rows in a file as the API will count them, or ``None`` if it cannot be read
    here (it is then sent as it is, and the API says what is wrong with it)."""
    try:
        if file_format == "csv":
            return sum(p.rows or 0 for p in split_csv(data, part_bytes=len(data) + 1))
        return len(_json_items(data))
    except SplitError:
        return None


def _decode(data: bytes) -> tuple[str, bool]:
    """The file's text without BOM, and whether it had one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SplitError(f"the file is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    if text.startswith(_BOM):
        return text[1:], True
    return text, False


class _LineCounter:
    """Feeds physical lines to ``csv.reader`` and counts how many it has taken.

    ``csv.reader`` pulls lines only until a record is complete, so the count after each
    record is where that record ends. Lines are split exactly as the API's reader
    (``io.StringIO(text, newline="")``) splits them: on ``\\n``, ``\\r\\n`` and ``\\r``.
    """

    def __init__(self, text: str) -> None:
        self.lines = io.StringIO(text, newline="").readlines()
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.taken >= len(self.lines):
            raise StopIteration
        self.taken += 1
        return self.lines[self.taken - 1]


def split_csv(data: bytes, *, part_bytes: int = PART_BYTES) -> list[Part]:
    """Split a UTF-8 CSV file (header row first) at record boundaries.

    Every part repeats the header; part 0 keeps the BOM if the file had one. Blank
    records are kept (they take up lines) but not counted as rows.
    """
    text, had_bom = _decode(data)
    source = _LineCounter(text)
    reader = csv.reader(source)
    try:
        next(reader)
    except StopIteration:
        raise SplitError("the file is empty") from None
    except csv.Error as exc:
        raise SplitError(f"line {source.taken}: {exc}") from None
    header_lines = source.taken
    header = "".join(source.lines[:header_lines]).encode("utf-8")
    bom = _BOM.encode("utf-8") if had_bom else b""

    # Each record: (first physical line index, last index + 1, is it a data row).
    records: list[tuple[int, int, bool]] = []
    start = header_lines
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SplitError(f"line {source.taken}: {exc}") from None
        records.append((start, source.taken, any(v.strip() for v in values)))
        start = source.taken

    parts: list[Part] = []
    line_bytes = [len(line.encode("utf-8")) for line in source.lines]
    budget = part_bytes - len(header) - len(bom)
    chunk: list[tuple[int, int, bool]] = []
    size = 0

    def flush() -> None:
        first_index = chunk[0][0]
        body = "".join(source.lines[first_index : chunk[-1][1]]).encode("utf-8")
        index = len(parts)
        parts.append(
            Part(
                index=index,
                data=(bom if index == 0 else b"") + header + body,
                rows=sum(1 for _, _, is_row in chunk if is_row),
                # Line header_lines + 1 of the part is original line first_index + 1.
                line_offset=first_index - header_lines,
                header_lines=header_lines,
                first_line=first_index + 1,
            )
        )

    for record in records:
        record_size = sum(line_bytes[record[0] : record[1]])
        if chunk and size + record_size > budget:
            flush()
            chunk, size = [], 0
        chunk.append(record)
        size += record_size
    if chunk:
        flush()
    if not parts:  # a header and nothing else: still one (empty) import
        parts.append(Part(0, bom + header, 0, header_lines=header_lines, first_line=0))
    return parts


def _json_items(data: bytes) -> list[Any]:
    """The items of a JSON import, read as the API reads them."""
    text, _ = _decode(data)
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SplitError(f"the file is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        doc = doc["rows"]
    if not isinstance(doc, list):
        raise SplitError("a JSON import is an array of row objects")
    return doc


def split_json(data: bytes, *, part_bytes: int = PART_BYTES) -> list[Part]:
    """Split a JSON array of rows (or ``{"rows": [...]}``) into arrays of whole items."""
    doc = _json_items(data)
    parts: list[Part] = []
    chunk: list[bytes] = []
    first = 0  # index in doc of chunk[0]
    size = 2  # "[" and "]"

    def flush() -> None:
        parts.append(
            Part(
                index=len(parts),
                data=b"[" + b",\n".join(chunk) + b"]",
                rows=len(chunk),
                line_offset=first,
                header_lines=0,
                first_line=first + 1,
            )
        )

    for i, item in enumerate(doc):
        encoded = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        extra = len(encoded) + (2 if chunk else 0)  # ",\n" between items
        if chunk and size + extra > part_bytes:
            flush()
            chunk, first, size = [], i, 2
            extra = len(encoded)
        chunk.append(encoded)
        size += extra
    if chunk or not parts:
        flush()
    return parts
