"""Conditional writes that turn DynamoDB's condition failures into API errors."""

from __future__ import annotations

import time
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pynamodb.constants import ALL_NEW, ALL_OLD
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib.db.connection import connection
from chalicelib.kernel.errors import Conflict

M = TypeVar("M", bound=Model)


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


def claim_lease(job: Model, lease_s: int) -> bool:
    """Take a background job (import, export, bulk change) for ``lease_s`` seconds: one
    conditional update from ``queued``, or from ``running`` whose lease ran out. A
    redelivered message (a worker that timed out, SQS's at-least-once delivery) finds it
    claimed and leaves it alone, so one job never runs twice at the same time; a crashed
    worker's lease runs out and the next delivery takes over. The model has ``status``
    and ``lease_until`` (epoch seconds). False when another worker holds it."""
    model = type(job)
    status, lease_until = model.status, model.lease_until  # type: ignore[attr-defined]
    now = int(time.time())
    try:
        job.update(
            actions=[status.set("running"), lease_until.set(now + lease_s)],
            condition=(status == "queued") | ((status == "running") & (lease_until < now)),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


class Refused(Exception):
    """A conditional write whose condition did not hold. ``old``: the item as it was when
    the condition was checked (None: there is no such item)."""

    def __init__(self, old: Any) -> None:
        super().__init__("condition not met")
        self.old = old


def update_or_refused(model: type[M], hash_key: str, actions: list[Any], condition: Any) -> M:
    """One conditional UpdateItem that needs no read to decide what happened: the item as
    written (ReturnValues ALL_NEW), or ``Refused`` carrying the item as the condition found
    it (ReturnValuesOnConditionCheckFailure ALL_OLD), which PynamoDB's model API cannot
    ask for. Unlike ``Model.update`` it adds no version condition and no version bump:
    ``actions`` say what happens to a VersionAttribute."""
    kwargs = model._get_connection().get_operation_kwargs(
        hash_key,
        actions=actions,
        condition=condition,
        return_values=ALL_NEW,
        return_values_on_condition_failure=ALL_OLD,
    )
    try:
        answer = connection().client.update_item(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old = exc.response.get("Item")
        raise Refused(None if old is None else model.from_raw_data(old)) from None
    return model.from_raw_data(answer["Attributes"])
