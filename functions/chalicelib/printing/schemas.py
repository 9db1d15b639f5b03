"""Print jobs in the API: the relay's acknowledgement, reprints, missed prints (漏单).

The message a relay reads from its queue is a separate, versioned contract:
printing/messages.py and docs/schemas/print-job.v1.json.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, StoreId, Timestamp
from chalicelib.orders.schemas import Transition

Copy = Literal["picking", "delivery", "slip", "test", "pick_list"]
Kind = Literal["order", "reprint", "cancellation", "amendment", "test", "group_pick_list"]
JobStatus = Literal["pending", "sent", "missed", "resolved", "printed"]


Printer = Annotated[str, Meta(max_length=60, description="Which printer printed it.")]
Reprinted = Annotated[
    bool,
    Meta(
        description="True when the relay printed this copy again marked 补打 because the "
        "first attempt's outcome was unclear (the connection dropped mid-ticket)."
    ),
]


class CopyAck(Schema, kw_only=True):
    copy: Annotated[
        Copy,
        Meta(description="A copy that came out of the printer.", examples=["picking"]),
    ]
    printer: Printer | None = None
    reprinted: Reprinted = False


class AckRequest(Schema, kw_only=True):
    """Either ``copies`` (every copy printed, one request per job) or ``copy`` (one copy,
    the form relays sent before ``copies`` existed; ``printer`` and ``reprinted`` then
    belong to it)."""

    copies: (
        Annotated[
            list[CopyAck],
            Meta(
                min_length=1,
                max_length=3,
                description="The copies that came out of the printer, each once.",
            ),
        ]
        | None
    ) = None
    copy: (
        Annotated[
            Copy,
            Meta(description="One copy that came out of the printer.", examples=["picking"]),
        ]
        | None
    ) = None
    printer: Printer | None = None
    reprinted: Reprinted = False


class FailureReport(Schema, kw_only=True):
    reason: Annotated[
        Literal["render_failed", "bad_message", "dead_letter"],
        Meta(
            description="render_failed: the ticket cannot be built from the message; "
            "bad_message: the message does not follow the schema; dead_letter: the message "
            "failed on every receive and SQS moves it to the dead-letter queue."
        ),
    ]
    message: Annotated[str, Meta(max_length=500)] = ""
    receive_count: Annotated[int, Meta(ge=0)] = 0


class ReprintRequest(Schema, kw_only=True):
    copies: (
        Annotated[
            list[Literal["picking", "delivery"]],
            Meta(
                min_length=1,
                max_length=2,
                description="Copies to print again; both when absent.",
                examples=[["picking"]],
            ),
        ]
        | None
    ) = None
    reason: Annotated[str, Meta(max_length=200, examples=["小票卡纸"])] | None = None


class ResolveRequest(Schema, kw_only=True):
    reason: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=200,
            description="How the order was dealt with, for the job's history.",
            examples=["打印机缺纸，已手写拣货单并送出"],
        ),
    ]


class TestPrintRequest(Schema, kw_only=True):
    relay_id: (
        Annotated[
            str,
            Meta(
                max_length=80,
                description="The relay token to test (its label goes on the slip); the "
                "store's newest active relay when absent.",
            ),
        ]
        | None
    ) = None


class PrintJobQuery(Schema, kw_only=True):
    store_id: StoreId | None = None  # head office: absent = every store
    # Only the states someone works from are listed (a sparse index: the normal path
    # pending -> sent -> printed writes no index entry); an order's jobs in any state are
    # at GET /admin/orders/{order_id}/print-jobs.
    status: Annotated[
        Literal["missed", "resolved"],
        Meta(
            description="missed: not acknowledged in time, being re-sent (漏单); resolved: "
            "missed jobs staff dealt with another way."
        ),
    ] = "missed"
    limit: Annotated[int, Meta(ge=1, le=500)] = 100


class PrintJob(Out, kw_only=True):
    job_id: str
    store_id: str
    order_id: str  # empty for a test print
    kind: Kind
    copies: list[Copy]
    acked_copies: list[Copy]
    status: JobStatus
    attempts: int  # sends so far (re-sends by the watchdog included)
    original_job_id: str | None  # the ticket a reprint or cancellation slip belongs to
    created_at: Timestamp
    sent_at: Timestamp | None  # the latest send
    printed_at: Timestamp | None
    next_check_at: Timestamp | None  # when the watchdog re-sends if still unacknowledged
    history: list[Transition]


class PrintJobList(Out, kw_only=True):
    items: list[PrintJob]


class PrintJobListItem(PrintJob, kw_only=True):
    daily_seq: int | None  # the order's 今日第 N 单
    age_s: int  # seconds since the job was created


class PrintJobPage(Out, kw_only=True):
    items: list[PrintJobListItem]
    truncated: bool  # more jobs than ``limit``: the oldest are listed


_JOB = {
    "job_id": "261124K7M2Q9XD-p1",
    "store_id": "sh-jingan",
    "order_id": "261124K7M2Q9XD",
    "kind": "order",
    "copies": ["picking", "delivery"],
    "acked_copies": ["picking", "delivery"],
    "status": "printed",
    "attempts": 1,
    "original_job_id": None,
    "created_at": "2026-11-24T02:30:00.120Z",
    "sent_at": "2026-11-24T02:30:00Z",
    "printed_at": "2026-11-24T02:30:04Z",
    "next_check_at": None,
    "history": [
        {
            "at": "2026-11-24T02:30:00Z",
            "actor": "system",
            "role": "system",
            "action": "send",
            "from_state": "pending",
            "to_state": "sent",
            "reason": "attempt 1",
        },
        {
            "at": "2026-11-24T02:30:04Z",
            "actor": "relay-sh-jingan",
            "role": "relay",
            "action": "print",
            "from_state": "sent",
            "to_state": "printed",
            "reason": None,
        },
    ],
}
_MISSED = dict(
    _JOB,
    acked_copies=[],
    status="missed",
    attempts=2,
    printed_at=None,
    next_check_at="2026-11-24T02:33:01Z",
    history=[],
    daily_seq=12,
    age_s=185,
)

EXAMPLES = {
    "AckRequest": {
        "copies": [
            {"copy": "picking", "printer": "front", "reprinted": False},
            {"copy": "delivery", "printer": "front", "reprinted": False},
        ]
    },
    "FailureReport": {
        "reason": "render_failed",
        "message": "template error: 'lines' is undefined",
        "receive_count": 5,
    },
    "ReprintRequest": {"copies": ["picking"], "reason": "小票卡纸"},
    "ResolveRequest": {"reason": "打印机缺纸，已手写拣货单并送出"},
    "PrintJob": _JOB,
    "PrintJobList": {"items": [_JOB]},
    "PrintJobPage": {"items": [_MISSED], "truncated": False},
}
