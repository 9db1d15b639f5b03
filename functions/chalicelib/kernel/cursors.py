"""Opaque list cursors: the DynamoDB key a page ended at, as URL-safe base64 JSON.

A cursor comes back from the client, so it is input like any other: decoding checks
that it has exactly the key names of the listing that gave it out, each a string
attribute value (every key our listings page on is a string), and that its partition
key is the listing's (a customer's cursor cannot start a page in another customer's
orders). Anything else is 400 ``bad_cursor``, never an ExclusiveStartKey that DynamoDB
refuses with a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.kernel.errors import BadRequest


def encode(key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _value_ok(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    v = value.get("S")
    return isinstance(v, str) and 0 < len(v) <= 1024


def decode(
    cursor: str | None, names: Iterable[str], partition: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The key ``cursor`` holds, or None without one. ``names``: the key attributes of
    the listing (table and index keys); ``partition``: attribute -> the value the
    listing's partition key must have."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        key = None
    if not isinstance(key, dict):
        raise BadRequest("The cursor is not one this API gave out.", code="bad_cursor")
    if (
        set(key) != set(names)
        or not all(_value_ok(v) for v in key.values())
        or any(key[name] != {"S": value} for name, value in (partition or {}).items())
    ):
        raise foreign()
    return key


def foreign() -> BadRequest:
    return BadRequest("The cursor does not belong to this listing.", code="bad_cursor")
