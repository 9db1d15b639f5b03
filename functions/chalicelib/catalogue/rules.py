"""Catalogue rows as the chain's ERP sends them, and the rules each row must meet.

Rows come from CSV (every value a string) or JSON (typed values); both go through the
same checks, so a row is accepted or refused the same way whichever format carried it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "category1",
    "category2",
    "unit",
    "barcode",
    "fresh",
    "zone",
    "shelf",
    "image_url",
    "active",
    "cost_fen",
)
PRODUCT_REQUIRED = ("sku", "name", "category1", "category2", "unit")
STORE_ITEM_COLUMNS = ("store_id", "sku", "price_fen", "stock", "on_sale")
STORE_ITEM_REQUIRED = ("store_id", "sku", "price_fen", "stock")

SKU_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
STORE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
BARCODE_RE = re.compile(r"^\d{8}$|^\d{12,14}$")
URL_RE = re.compile(r"^https?://\S{1,500}$")
MAX_PRICE_FEN = 10_000_000  # ¥100,000 for one unit: anything above is a typo
MAX_STOCK = 1_000_000

_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}


@dataclass(frozen=True)
class RowError:
    """Why one row was refused: ``line`` is the file line (header = 1) or JSON item number."""

    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    category1: str
    category2: str
    unit: str
    barcode: str | None
    fresh: bool
    zone: str | None
    shelf: str | None
    image_url: str | None
    active: bool
    cost_fen: int | None = None  # unit cost, for the checkout margin floor

    @property
    def category_prefix(self) -> str:
        return f"{self.category1}#{self.category2}#"


@dataclass(frozen=True)
class StoreItemRow:
    store_id: str
    sku: str
    price_fen: int
    stock: int
    on_sale: bool


def category_key(category1: str, category2: str, sku: str) -> str:
    """Sort key of a store's catalogue index: browsing a category is a prefix query."""
    return f"{category1}#{category2}#{sku}"


def matches_search(q: str, sku: str, barcode: str | None, name: str) -> bool:
    """The back office's item search: ``q`` is a SKU prefix, a whole barcode, or part of
    the product's name; case does not matter (SKUs may hold letters)."""
    q = q.strip().casefold()
    if not q:
        return True
    return sku.casefold().startswith(q) or (barcode or "") == q or q in name.casefold()


class _Row:
    """Reads typed values from one raw row, collecting every problem."""

    def __init__(self, raw: dict[str, Any], line: int) -> None:
        self.raw = raw
        self.line = line
        self.errors: list[RowError] = []

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(RowError(self.line, field, reason))

    def text(
        self,
        field: str,
        *,
        required: bool,
        max_len: int,
        pattern: re.Pattern[str] | None = None,
        forbid: str = "",
    ) -> str | None:
        value = self.raw.get(field)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if required:
                self.fail(field, "required")
            return None
        if not isinstance(value, str):
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # JSON numbers for sku/barcode are forgiven
            else:
                self.fail(field, "must be text")
                return None
        value = value.strip()
        if len(value) > max_len:
            self.fail(field, f"longer than {max_len} characters")
        elif pattern is not None and not pattern.match(value):
            self.fail(field, f"{value!r} is not in the expected format")
        elif forbid and any(c in value for c in forbid):
            self.fail(field, f"must not contain {forbid!r}")
        return value

    def present(self, field: str) -> bool:
        value = self.raw.get(field)
        return not (value is None or (isinstance(value, str) and value.strip() == ""))

    def boolean(self, field: str, default: bool) -> bool:
        value = self.raw.get(field)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE:
            return True
        if isinstance(value, str) and value.strip().lower() in _FALSE:
            return False
        self.fail(field, f"{value!r} is not true/false")
        return default

    def integer(self, field: str, *, minimum: int, maximum: int, hint: str = "") -> int:
        value = self.raw.get(field)
        if value is None or value == "":
            self.fail(field, "required")
            return 0
        if isinstance(value, bool | float):
            self.fail(field, f"{value!r} is not a whole number{hint}")
            return 0
        if isinstance(value, str):
            v = value.strip()
            if not re.fullmatch(r"-?\d+", v):
                self.fail(field, f"{value!r} is not a whole number{hint}")
                return 0
            value = int(v)
        if not isinstance(value, int):
            self.fail(field, "must be a whole number")
            return 0
        if value < minimum:
            self.fail(field, f"must be at least {minimum}")
        elif value > maximum:
            self.fail(field, f"must be at most {maximum}")
        return value


def parse_product(raw: dict[str, Any], line: int) -> ProductRow | list[RowError]:
    """A valid product, or every reason the row is refused."""
    r = _Row(raw, line)
    row = ProductRow(
        sku=r.text("sku", required=True, max_len=32, pattern=SKU_RE) or "",
        name=r.text("name", required=True, max_len=60) or "",
        category1=r.text("category1", required=True, max_len=20, forbid="#") or "",
        category2=r.text("category2", required=True, max_len=20, forbid="#") or "",
        unit=r.text("unit", required=True, max_len=10) or "",
        barcode=r.text("barcode", required=False, max_len=14, pattern=BARCODE_RE),
        fresh=r.boolean("fresh", False),
        zone=r.text("zone", required=False, max_len=20),
        shelf=r.text("shelf", required=False, max_len=20),
        image_url=r.text("image_url", required=False, max_len=500, pattern=URL_RE),
        active=r.boolean("active", True),
        cost_fen=r.integer(
            "cost_fen", minimum=0, maximum=MAX_PRICE_FEN, hint=" (integer fen: 1290 is ¥12.90)"
        )
        if r.present("cost_fen")
        else None,
    )
    return r.errors or row


def parse_store_item(raw: dict[str, Any], line: int) -> StoreItemRow | list[RowError]:
    """A valid per-store price and stock, or every reason the row is refused."""
    r = _Row(raw, line)
    row = StoreItemRow(
        store_id=r.text("store_id", required=True, max_len=32, pattern=STORE_ID_RE) or "",
        sku=r.text("sku", required=True, max_len=32, pattern=SKU_RE) or "",
        price_fen=r.integer(
            "price_fen", minimum=1, maximum=MAX_PRICE_FEN, hint=" (integer fen: 1290 is ¥12.90)"
        ),
        stock=r.integer("stock", minimum=0, maximum=MAX_STOCK),
        on_sale=r.boolean("on_sale", True),
    )
    return r.errors or row


class FileError(ValueError):
    """The file as a whole cannot be read (bad encoding, no header, not a JSON array)."""


def read_rows(
    data: bytes, file_format: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line, raw row) from a CSV or JSON file.

    CSV: UTF-8 (with or without BOM), a header row naming the columns; ``line`` is the
    file line, the header being line 1. JSON: an array of objects (or ``{"rows": [...]}``);
    ``line`` is the item's position starting at 1.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(f"the file is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    if file_format == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileError(f"the file is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
            doc = doc["rows"]
        if not isinstance(doc, list):
            raise FileError("a JSON import is an array of row objects")
        for i, item in enumerate(doc, start=1):
            yield i, item if isinstance(item, dict) else {"__not_an_object__": item}
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileError("the file is empty") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise FileError(f"the header lacks the column(s): {', '.join(missing)}")
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise FileError(f"unknown column(s): {', '.join(unknown)}; expected {', '.join(columns)}")
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines are not rows
        if len(values) != len(header):
            yield line, {"__width__": len(values), "__expected__": len(header)}
            continue
        yield line, dict(zip(header, values, strict=True))


def shape_errors(raw: dict[str, Any], line: int) -> list[RowError]:
    """Errors about the row's shape itself (wrong column count, not an object)."""
    if "__width__" in raw:
        return [
            RowError(
                line,
                "(row)",
                f"has {raw['__width__']} values; the header has {raw['__expected__']}",
            )
        ]
    if "__not_an_object__" in raw:
        return [RowError(line, "(row)", "is not a JSON object")]
    return []
