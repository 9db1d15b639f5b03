"""Print jobs: the relay's acknowledgements, missed prints (漏单), reprints."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import BACK_OFFICE, HQ_ADMIN, RELAY, STORE_MANAGER, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module
from chalicelib.printing import schemas as s

service = lazy_module("chalicelib.printing.print_jobs")
test_prints = lazy_module("chalicelib.printing.test_prints")

area = Area("printing", __name__, "Print jobs, relay acknowledgements and missed prints.")


@area.route(
    "/relay/print-jobs/{job_id}/ack",
    "POST",
    summary="The relay printed copies of a job",
    roles={RELAY},
    body=s.AckRequest,
    response=s.PrintJob,
    errors=(401, 403, 404, 409, 422),
    request_example=s.EXAMPLES["AckRequest"],
)
def acknowledge(job_id: str, body: s.AckRequest, principal: Principal) -> s.PrintJob:
    """Send once the job's copies are printed, naming them in ``copies`` (``picking``,
    ``delivery``, or ``slip`` for cancellation and amendment slips), each with its
    ``printer`` and ``reprinted`` (a copy printed again marked 补打 after an unclear
    outcome), which go into the job's history. A copy that printed while another could
    not (the printer went away) is acknowledged on its own, and the rest later. The older
    form ``{"copy": ..., "printer": ..., "reprinted": ...}`` acknowledges one copy.
    Idempotent: acknowledging a copy again changes nothing and returns the job. When every
    copy is acknowledged the job is ``printed``; the order stops showing as a missed print
    (漏单) once none of its jobs is missed. Only the relay of the job's store may
    acknowledge it (403 ``other_store``); 422 ``copy_not_in_job`` for a copy the job does
    not have, 422 ``validation_failed`` for neither or both forms, or a copy named twice;
    409 ``print_job_changed`` when the job kept changing at the same moment (retry); 401
    ``token_revoked`` once head office revoked the relay."""
    return service.acknowledge(principal, job_id, body)


@area.route(
    "/relay/print-jobs/{job_id}/failure",
    "POST",
    summary="The relay cannot print a job",
    roles={RELAY},
    body=s.FailureReport,
    response=s.PrintJob,
    errors=(401, 403, 404, 422),
    request_example={
        "reason": "render_failed",
        "message": "template error: 'lines' is undefined",
        "receive_count": 5,
    },
)
def report_failure(job_id: str, body: s.FailureReport, principal: Principal) -> s.PrintJob:
    """Sent when a message keeps failing at the relay (it cannot be rendered, or it reached
    the queue's receive limit and goes to the dead-letter queue). The job is shown as a
    missed print (漏单) at once with the reason in its history; a job already printed only
    gets the history entry."""
    return service.report_failure(principal, job_id, body)


@area.route(
    "/admin/print-jobs",
    "GET",
    summary="Missed prints (漏单) and resolved ones, oldest first",
    roles=BACK_OFFICE,
    query=s.PrintJobQuery,
    response=s.PrintJobPage,
    errors=(403,),
)
def list_jobs(query: s.PrintJobQuery, principal: Principal) -> s.PrintJobPage:
    """``status=missed`` (the default) lists jobs not acknowledged in time: they are being
    re-sent and stay here until the store's relay acknowledges them or staff resolve them
    (``status=resolved`` lists those). Each item has the
    order's daily number (``daily_seq``) and the job's age in seconds. Head office sees
    every store without ``store_id``; store staff see their own store. Jobs on the normal
    path (pending, sent, printed) are not listed here: an order's jobs in every state are
    at ``GET /admin/orders/{order_id}/print-jobs``, and how timely printing is, per store,
    on the dashboard."""
    return service.list_jobs(principal, query)


@area.route(
    "/admin/orders/{order_id}/reprint",
    "POST",
    summary="Print an order's ticket again (补打)",
    roles=BACK_OFFICE,
    body=s.ReprintRequest,
    response=s.PrintJob,
    status=201,
    errors=(404, 409, 422),
    request_example={"copies": ["picking"], "reason": "小票卡纸"},
)
def reprint(order_id: str, body: s.ReprintRequest, principal: Principal) -> s.PrintJob:
    """Creates a job of kind ``reprint`` (both copies unless ``copies`` says otherwise);
    the ticket says it is a reprint. Paid orders only (409 ``order_not_printable``). Staff
    of the order's store and head office. Send ``{}`` for both copies."""
    return service.reprint(principal, order_id, body)


@area.route(
    "/admin/print-jobs/{job_id}/resolve",
    "POST",
    summary="Resolve a missed print (漏单) that was dealt with another way",
    roles=BACK_OFFICE,
    body=s.ResolveRequest,
    response=s.PrintJob,
    errors=(404, 409, 422),
    request_example={"reason": "打印机缺纸，已手写拣货单并送出"},
)
def resolve(job_id: str, body: s.ResolveRequest, principal: Principal) -> s.PrintJob:
    """For a job in status ``missed`` only (409 ``illegal_transition`` otherwise): staff
    dealt with the order without this ticket (reprinted it, wrote the picking list by
    hand...) and say how in ``reason`` (1 to 200 characters), which goes into the job's
    history with who and when. The job becomes ``resolved``: it is no longer re-sent and
    leaves ``GET /admin/print-jobs?status=missed`` (list it with ``status=resolved``), and
    the order stops showing as a missed print once none of its jobs is missed. If the
    store's relay prints it after all, its acknowledgement is still accepted and the job
    becomes ``printed``. Staff of the job's store and head office; 404 for an unknown job
    or another store's job."""
    return service.resolve(principal, job_id, body)


@area.route(
    "/admin/orders/{order_id}/print-jobs",
    "GET",
    summary="Every print job of an order",
    roles=BACK_OFFICE,
    response=s.PrintJobList,
    errors=(404,),
)
def order_jobs(order_id: str, principal: Principal) -> s.PrintJobList:
    """Tickets, reprints and cancellation slips of the order with their state and history:
    when each was sent, re-sent, and printed."""
    return service.order_jobs(principal, order_id)


@area.route(
    "/admin/stores/{store_id}/test-print",
    "POST",
    summary="Print a test slip at the store (打印测试); send an Idempotency-Key",
    roles={HQ_ADMIN, STORE_MANAGER},
    body=s.TestPrintRequest,
    response=s.PrintJob,
    status=201,
    errors=(400, 403, 404, 409, 422),
    request_example={"relay_id": "rly-sh-jingan-1a2b3c"},
    idempotency_key=True,
    replays=True,
)
def test_print(store_id: str, body: s.TestPrintRequest, principal: Principal) -> Response:
    """Queues a job of kind ``test`` through the normal print path (the store's queue and
    relay): a short slip with the store's name, the time, "打印测试 / test print" and the
    relay's label. Follow it with ``GET /admin/print-jobs/{job_id}``: ``sent`` is queued,
    ``printed`` came out of the printer, ``missed`` means the relay reported it cannot
    print it (its history says why). Header ``Idempotency-Key`` is required: a retry with
    the same key returns the same job (200, ``Idempotent-Replayed: true``) and prints
    nothing more. 409 ``no_relay`` when the store has no active relay token (nothing
    would print; nothing is queued), 409 ``relay_revoked`` for a revoked ``relay_id``.
    Head office and the store's manager. A test job is never re-sent or listed as a
    missed print."""
    request = current_request_of(area)
    job, created = test_prints.request(
        principal, store_id, body, request.headers.get("idempotency-key")
    )
    return respond(job, 201 if created else 200)


@area.route(
    "/admin/print-jobs/{job_id}",
    "GET",
    summary="One print job and its state",
    roles=BACK_OFFICE,
    response=s.PrintJob,
    errors=(404,),
)
def get_job(job_id: str, principal: Principal) -> s.PrintJob:
    """Staff of the job's store and head office (404 otherwise). Poll it after a test
    print: ``pending``/``sent`` (queued), ``printed``, ``missed`` (the relay could not)."""
    return test_prints.get(principal, job_id)
