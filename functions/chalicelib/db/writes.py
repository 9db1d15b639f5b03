"""Conditional writes that turn DynamoDB's condition failures into API errors."""

from __future__ import annotations

from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.kernel.errors import Conflict


def is_condition_failure(exc: Exception) -> bool:
    """True when a write failed only because its condition did not hold."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def save_new(item: Model, conflict: Conflict) -> None:
    """Put an item that must not exist yet; raise ``conflict`` (409) if it does."""
    hash_key = item._hash_key_attribute()
    try:
        item.save(condition=hash_key.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            raise conflict from None
        raise
