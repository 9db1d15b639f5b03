"""SQS access through boto3, created on first use so cold starts that never touch a
queue do not import boto3."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.config import Config

from chalicelib.kernel import config

# Fail fast: a health check or an enqueue should not hang on a dead endpoint.
_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=25, retries={"max_attempts": 2, "mode": "standard"}
)


@lru_cache(maxsize=1)
def sqs_client() -> Any:
    import boto3

    return boto3.client("sqs", region_name=config.REGION, config=_CLIENT_CONFIG)


@lru_cache(maxsize=64)
def queue_url(short_name: str) -> str:
    """URL of one of our queues by short name (cached for the life of the process)."""
    url: str = sqs_client().get_queue_url(QueueName=config.queue_name(short_name))["QueueUrl"]
    return url
