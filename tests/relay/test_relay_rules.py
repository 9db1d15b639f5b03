"""The relay's small rules on their own: when a ticket is late, which messages print."""

from __future__ import annotations

import json

import pytest

from print_relay.relay import BadMessage, check_message, late_minutes, parse_time
from tests.relay.conftest import STORE, make_job

PAID = "2026-11-24T02:30:00Z"
T = parse_time(PAID)


@pytest.mark.parametrize(
    ("after_s", "late_after_s", "expected"),
    [(60, 120, 0), (120, 120, 0), (121, 120, 2), (59 * 60, 120, 59), (10, 0, 0), (100, 30, 1)],
)
def test_late_minutes_count_from_payment(after_s, late_after_s, expected):
    job = make_job(1, paid_at=PAID)
    assert late_minutes(job, T + after_s, late_after_s) == expected


def test_late_minutes_by_kind():
    assert late_minutes(make_job(1, kind="reprint", paid_at=PAID), T + 3600, 120) == 0
    slip = make_job(
        1,
        kind="cancellation",
        paid_at=PAID,
        cancellation={"at": "2026-11-24T03:00:00Z", "reason": None},
    )
    assert late_minutes(slip, T + 30 * 60 + 60, 120) == 0  # one minute after the cancellation
    assert late_minutes(slip, T + 40 * 60, 120) == 10
    unpaid = make_job(1, paid_at=None, created_at=PAID)
    assert late_minutes(unpaid, T + 300, 120) == 5


def check(body):
    return check_message(
        body if isinstance(body, str) else json.dumps(body), store_id=STORE, paper_widths={58, 80}
    )


def test_a_good_message_passes():
    job = make_job(1)
    assert check(job) == job


@pytest.mark.parametrize(
    ("body", "reason", "has_job_id", "words"),
    [
        ("{not json", "bad_message", False, "not JSON"),
        ("[1, 2]", "bad_message", False, "not a JSON object"),
        ({"schema_version": "1"}, "bad_message", False, "no job_id"),
        (make_job(1, schema_version="2"), "bad_message", True, "upgrade the relay"),
        (make_job(1, copies=["picking", "receipt"]), "bad_message", True, "copies"),
        (make_job(1, copies=[]), "bad_message", True, "copies"),
        (make_job(1, store_id="bj-chaoyang"), "bad_message", True, "queue of store"),
        (make_job(1, lines=None), "render_failed", True, "picking copy"),
    ],
)
def test_messages_that_must_not_print(body, reason, has_job_id, words):
    with pytest.raises(BadMessage) as info:
        check(body)
    assert info.value.reason == reason
    assert (info.value.job_id is not None) == has_job_id
    assert words in info.value.message
