"""One botocore session per thread for every PynamoDB model.

PynamoDB gives each model's connection a botocore session of its own (per thread), and a
new session loads the endpoint and DynamoDB service descriptions again: about 0.13 s of
CPU per model touched, so a cold Lambda that reads ten tables spent over a second making
clients. Sessions are not safe to share between threads, so each thread keeps one and
every model's connection in that thread takes it (about 0.02 s per client after the
first)."""

from __future__ import annotations

import threading

import pynamodb.connection.base as pynamodb_base
from botocore.session import Session, get_session

_local = threading.local()


def thread_session() -> Session:
    """This thread's botocore session, made on first use."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = get_session()
    return session


def share_per_thread() -> None:
    """Make PynamoDB's connections take ``thread_session`` (it looks the name up when a
    connection first needs a session)."""
    pynamodb_base.get_session = thread_session


def forget_thread_session() -> None:
    """Drop this thread's session (tests that move the app between AWS endpoints)."""
    _local.session = None
