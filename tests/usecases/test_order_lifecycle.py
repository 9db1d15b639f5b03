"""The order's lifecycle as use cases, without HTTP: payment, a pick with a shortage and
its refund, and the state machine refusing what it must (a stale read, a wrong state)."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, STORE_STAFF, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel.errors import Conflict
from chalicelib.orders import order_flow, payments, store_workflow
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderModel, PaymentModel, RefundModel
from chalicelib.orders.payment_providers import provider
from chalicelib.orders.schemas import PlaceOrder
from chalicelib.orders.store_workflow_schemas import PickResult
from chalicelib.printing.models import PrintJobModel

ME = Principal("c-usecase-2", CUSTOMER)
PICKER = Principal("sh-a-staff", STORE_STAFF, "sh-a")


def placed(key: str):
    cart = {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": "100", "qty": 2}, {"sku": "101", "qty": 1}],
    }
    order, _ = orders.place(ME, key, msgspec.convert(cart, PlaceOrder))
    return order


def paid(key: str):
    order = placed(key)
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    assert payments.notify("local", headers, body).code == "SUCCESS"
    return order_flow.get(order.order_id)


def test_a_payment_notice_pays_once_and_a_copy_changes_nothing(catalogue):
    order = placed("uc-life-0001")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    assert payments.notify("local", headers, body).message == "paid"
    assert payments.notify("local", headers, body).message == "already recorded"
    saved = order_flow.get(order.order_id)
    assert saved.status == "paid" and int(saved.paid_fen) == order.total_fen
    assert [h.action for h in saved.history] == ["place", "pay"]


def test_a_pick_with_a_shortage_refunds_the_missing_unit(catalogue):
    order = paid("uc-life-0002")
    result = msgspec.convert(
        {"lines": [{"sku": "100", "picked_qty": 1}, {"sku": "101", "picked_qty": 1}]},
        PickResult,
    )
    picked = store_workflow.pick(PICKER, order.order_id, result)
    assert picked.status == "picked"
    [refund] = RefundModel.by_order.query(order.order_id)
    assert refund.reason == "shortage" and int(refund.amount_fen) == picked.refunded_fen > 0
    assert [(x.sku, int(x.units)) for x in refund.lines] == [("100", 1)]
    # a shortage gives no stock back: the goods were not on the shelf
    assert int(StoreItemModel.get("sh-a", "100").stock) == 8


def test_a_stale_read_loses_to_the_write_that_moved_the_order(catalogue):
    order = paid("uc-life-0003")
    stale = order_flow.get(order.order_id)
    order_flow.apply(order_flow.get(order.order_id), "start_picking", PICKER)
    with pytest.raises(Conflict) as refused:
        order_flow.apply(stale, "cancel", ME)
    assert refused.value.code == "illegal_transition"
    assert OrderModel.get(order.order_id).status == "picking"


def test_an_action_from_the_wrong_state_writes_nothing(catalogue):
    order = placed("uc-life-0004")
    before = order_flow.get(order.order_id)
    with pytest.raises(Conflict) as refused:
        order_flow.apply(before, "deliver", PICKER)
    assert refused.value.code == "illegal_transition"
    assert order_flow.get(order.order_id).version == before.version


def test_a_payment_is_one_update_of_the_order_and_one_batch_write(catalogue, monkeypatch):
    """The normal path: the order's conditional update, then the ticket and the payment
    record in one BatchWriteItem: no read, no transaction."""
    import botocore.client

    order = placed("uc-pay-0001")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    calls: list[str] = []
    make_call = botocore.client.BaseClient._make_api_call

    def counted(self, operation, params):  # type: ignore[no-untyped-def]
        calls.append(operation)
        return make_call(self, operation, params)

    with monkeypatch.context() as patched:
        patched.setattr(botocore.client.BaseClient, "_make_api_call", counted)
        assert payments.notify("local", headers, body).message == "paid"
    assert calls == ["UpdateItem", "BatchWriteItem"]
    saved = order_flow.get(order.order_id)
    (job_id,) = saved.print_job_ids
    job = PrintJobModel.get(job_id)
    assert (job.order_id, job.store_id, job.kind, job.status) == (
        order.order_id,
        "sh-a",
        "order",
        "pending",
    )
    payment = PaymentModel.get(saved.payment_id)
    assert (payment.order_id, payment.outcome, int(payment.amount_fen)) == (
        order.order_id,
        "captured",
        order.total_fen,
    )
    assert saved.due_at is None and saved.paid_at is not None


def test_a_payment_whose_second_write_failed_is_completed_by_the_providers_retry(
    catalogue, monkeypatch
):
    """The function dies between the order's update and the batch write (simulated: the
    batch write raises). The provider, answered with an error, retries: the retry finds
    the order paid by this payment and writes the ticket and the payment record, once."""
    order = placed("uc-pay-0002")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)

    def dies(items):  # type: ignore[no-untyped-def]
        raise RuntimeError("the function died here")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "batch_put", dies)
        with pytest.raises(RuntimeError):
            payments.notify("local", headers, body)
    half = order_flow.get(order.order_id)
    assert half.status == "paid" and PrintJobModel.count() == 0 and PaymentModel.count() == 0

    for _ in range(2):  # the provider's retry, and one more copy
        assert payments.notify("local", headers, body).message == "already recorded"
    saved = order_flow.get(order.order_id)
    assert [h.action for h in saved.history] == ["place", "pay"]
    assert int(saved.paid_fen) == order.total_fen and saved.version == half.version
    assert [j.job_id for j in PrintJobModel.scan()] == sorted(saved.print_job_ids)
    assert [(p.payment_id, p.outcome) for p in PaymentModel.scan()] == [
        (saved.payment_id, "captured")
    ]
    assert RefundModel.count() == 0


def test_a_copy_of_the_notice_does_not_rewrite_a_ticket_already_under_way(catalogue):
    """The records of a completed payment are only checked by a copy of its notice: the
    ticket, sent and printed meanwhile, is not put back to pending."""
    order = placed("uc-pay-0003")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    assert payments.notify("local", headers, body).message == "paid"
    (job_id,) = order_flow.get(order.order_id).print_job_ids
    PrintJobModel(job_id).update(actions=[PrintJobModel.status.set("printed")])
    assert payments.notify("local", headers, body).message == "already recorded"
    assert PrintJobModel.get(job_id).status == "printed"


def test_a_reader_of_the_unpaid_order_cannot_overwrite_the_payment(catalogue):
    """The payment's update is conditioned on the state, not on the version read, but it
    moves the version: a write prepared from the unpaid order fails (409) rather than
    cancel a paid order as if it were unpaid (no refund)."""
    order = placed("uc-pay-0004")
    stale = order_flow.get(order.order_id)
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    assert payments.notify("local", headers, body).message == "paid"
    with pytest.raises(Conflict) as refused:
        order_flow.apply(stale, "cancel", ME)
    assert refused.value.code == "order_changed"
    assert order_flow.get(order.order_id).status == "paid"
    assert order_flow.get(order.order_id).version == stale.version + 1


def test_a_retry_after_the_order_was_cancelled_writes_the_payment_record_but_no_ticket(
    catalogue, monkeypatch
):
    """The first request died before its batch write, the customer cancelled the paid
    order (refunded), then the provider's retry comes: the ledger gets the payment, the
    store gets no order ticket for a cancelled order."""
    order = placed("uc-pay-0005")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)

    def dies(items):  # type: ignore[no-untyped-def]
        raise RuntimeError("the function died here")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "batch_put", dies)
        with pytest.raises(RuntimeError):
            payments.notify("local", headers, body)
    orders.cancel(ME, order.order_id, "changed my mind")

    assert payments.notify("local", headers, body).message == "already recorded"
    saved = order_flow.get(order.order_id)
    assert saved.status == "cancelled"
    assert [p.outcome for p in PaymentModel.scan()] == ["captured"]
    assert [j.kind for j in PrintJobModel.scan()] == ["cancellation"]
