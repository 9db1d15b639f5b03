"""One FIFO print queue per store, with its dead-letter queue.

``daojia-<stage>-print-<store_id>.fifo``: one message group per store keeps its tickets in
order; explicit de-duplication ids (content-based de-duplication off) let a job be sent
twice without printing twice, and a re-send (a higher attempt) get through. The queues
are created when a store is created and, as a safety net, on the first dispatch to a
store whose queue is missing. URLs are cached for the life of the process.

They are not in infra/resources.py because stores come and go at run time; the IAM
policies grant the functions these queues by name pattern (``daojia-<stage>-print-*``).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from chalicelib.kernel import config

log = logging.getLogger("daojia.print")

VISIBILITY_TIMEOUT_S = 60  # a relay that received a job and died gives it back after this
MAX_RECEIVES = 5  # then the message goes to the dead-letter queue (the watchdog re-sends)
RETENTION_S = 4 * 24 * 3600  # a store closed over a long weekend still gets its tickets
DLQ_RETENTION_S = 14 * 24 * 3600

_urls: dict[str, str] = {}
_lock = threading.Lock()


def queue_name(store_id: str) -> str:
    """``daojia-<stage>-print-<store_id>.fifo``."""
    return f"{config.queue_name('print-' + store_id)}.fifo"


def dlq_name(store_id: str) -> str:
    """``daojia-<stage>-print-<store_id>-dlq.fifo``."""
    return f"{config.queue_name('print-' + store_id)}-dlq.fifo"


def _sqs() -> Any:
    from chalicelib.kernel.queues import sqs_client

    return sqs_client()


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def is_missing_queue(exc: Exception) -> bool:
    """True when an SQS call failed because the queue does not exist."""
    return _error_code(exc) in (
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NonExistentQueue",
    )


def create(store_id: str) -> str:
    """Create (or bring up to date) the store's queue and dead-letter queue; its URL."""
    sqs = _sqs()
    dlq_url = sqs.create_queue(
        QueueName=dlq_name(store_id),
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "MessageRetentionPeriod": str(DLQ_RETENTION_S),
            "SqsManagedSseEnabled": "true",
        },
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {
        "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
        "MessageRetentionPeriod": str(RETENTION_S),
        "ContentBasedDeduplication": "false",
        "SqsManagedSseEnabled": "true",
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}
        ),
    }
    try:
        url = sqs.create_queue(
            QueueName=queue_name(store_id), Attributes={"FifoQueue": "true", **attributes}
        )["QueueUrl"]
    except Exception as exc:
        # It exists with other attributes (an older definition): bring it up to date.
        if _error_code(exc) not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=queue_name(store_id))["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    with _lock:
        _urls[store_id] = url
    return url


def url(store_id: str) -> str:
    """The URL of the store's queue, creating the queue if it is missing."""
    with _lock:
        cached = _urls.get(store_id)
    if cached:
        return cached
    try:
        found = _sqs().get_queue_url(QueueName=queue_name(store_id))["QueueUrl"]
    except Exception as exc:
        if not is_missing_queue(exc):
            raise
        log.warning("print queue of store %s is missing: creating it", store_id)
        return create(store_id)
    with _lock:
        _urls[store_id] = found
    return found


def forget(store_id: str | None = None) -> None:
    """Drop cached URLs (one store's, or all): the next call looks the queue up again."""
    with _lock:
        if store_id is None:
            _urls.clear()
        else:
            _urls.pop(store_id, None)


def create_for_new_store(store_id: str) -> None:
    """Called when a store is created. A failure is logged, not raised: the store is
    saved already, and the first dispatch creates a missing queue anyway."""
    try:
        create(store_id)
    except Exception:
        log.exception("print queue of store %s not created; the first ticket will", store_id)
