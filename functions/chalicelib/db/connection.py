"""The low-level PynamoDB connection used for transactions."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection

from chalicelib.kernel import config


@lru_cache(maxsize=1)
def connection() -> Connection:
    """One shared connection (PynamoDB keeps a botocore client per thread inside it)."""
    return Connection(region=config.REGION)
