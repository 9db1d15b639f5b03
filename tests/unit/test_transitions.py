"""db/transitions.py, the one transition writer (orders, returns, coupon sales, refunds,
print jobs):
the condition comes from the state machine, one history entry per step, and a write
made after the item moved is refused."""

from __future__ import annotations

import pytest
from chalicelib.db.applied import applied
from chalicelib.db.transitions import Who, entry, move
from chalicelib.kernel.errors import ApiError
from chalicelib.kernel.states import ORDER, PRINT_JOB, RETURN
from chalicelib.orders.models import OrderModel, RefundModel, ReturnModel
from chalicelib.orders.schemas import history_view
from chalicelib.printing.models import PrintJobModel
from pynamodb.exceptions import UpdateError

STAFF = Who("li", "store_staff")


def an_order(order_id: str, status: str) -> OrderModel:
    return OrderModel(
        order_id,
        customer_id="c-1",
        store_id="sh-a",
        fulfilment="delivery",
        status=status,
        store_queue="sh-a#open",
        store_day="sh-a#2026-12-04",
        total_fen=1290,
        expires_at="2026-12-04T00:15:00Z",
        created_at="2026-12-04T00:00:00Z",
        updated_at="2026-12-04T00:00:00Z",
    )


def entries(m, start: str) -> list:
    """The history entries a move from ``start`` appends, replayed on an order whose
    history has brought it to ``start`` (db/applied.py): an order's entry stores no
    ``from``, it reads as the previous entry's ``to``."""
    order = an_order("O-1", start)
    order.history = [entry("before", None, start, STAFF)]
    return list(applied(order, m.actions).history)[1:]


def test_one_step_is_conditioned_on_the_actions_source_states():
    m = move(OrderModel, ORDER, "awaiting_payment", [("cancel", "changed my mind")], STAFF)
    assert m.to == "cancelled"
    assert ORDER.transitions["cancel"][0] == {"awaiting_payment", "paid"}
    assert m.condition == OrderModel.status.is_in(*ORDER.transitions["cancel"][0])
    [e] = [
        (h.action, h.from_state, h.to_state, h.actor, h.role, h.reason)
        for h in entries(m, "awaiting_payment")
    ]
    assert e == ("cancel", "awaiting_payment", "cancelled", "li", "store_staff", "changed my mind")


def test_several_steps_are_conditioned_on_the_state_read_and_recorded_each():
    steps = [("start_picking", None), ("finish_picking", "2 units short")]
    m = move(OrderModel, ORDER, "paid", steps, STAFF)
    assert m.to == "picked"
    assert m.condition == (OrderModel.status == "paid")
    assert [(h.action, h.from_state, h.to_state, h.reason) for h in entries(m, "paid")] == [
        ("start_picking", "paid", "picking", None),
        ("finish_picking", "picking", "picked", "2 units short"),
    ]


def test_exact_conditions_one_step_on_the_state_read():
    m = move(ReturnModel, RETURN, "verified", [("reject", "wrong item")], STAFF, exact=True)
    assert m.condition == (ReturnModel.status == "verified")


def test_without_history_only_status_and_time_are_written():
    from chalicelib.kernel.states import REFUND

    m = move(RefundModel, REFUND, "pending", [("succeed", None)], STAFF, history=False)
    assert len(m.actions) == 2 and not any("history" in str(a) for a in m.actions)


def test_an_illegal_step_is_409_before_anything_is_written():
    with pytest.raises(ApiError) as err:
        move(OrderModel, ORDER, "completed", [("cancel", None)], STAFF)
    assert (err.value.status, err.value.code) == (409, "illegal_transition")


def test_a_move_worked_out_from_a_stale_read_is_refused(aws):
    order = an_order("O-MOVE-1", "paid")
    order.history = [entry("pay", "awaiting_payment", "paid", Who("payment-provider", "system"))]
    order.save()
    first = move(OrderModel, ORDER, "paid", [("start_picking", None)], STAFF)
    second = move(OrderModel, ORDER, "paid", [("start_picking", None)], Who("wang", "store_staff"))
    OrderModel("O-MOVE-1").update(
        actions=first.actions, condition=first.condition, add_version_condition=False
    )
    with pytest.raises(UpdateError):  # the other press: the order is picking now
        OrderModel("O-MOVE-1").update(
            actions=second.actions, condition=second.condition, add_version_condition=False
        )
    stored = OrderModel.get("O-MOVE-1", consistent_read=True)
    assert stored.status == "picking"
    assert [(h.action, h.actor) for h in stored.history[1:]] == [("start_picking", "li")]
    view = history_view(
        stored.history[1:], lambda actor, role: "staff" if role != "customer" else actor
    )
    assert [(t.actor, t.from_state, t.to_state) for t in view] == [("staff", "paid", "picking")]


def a_print_job(status: str) -> PrintJobModel:
    return PrintJobModel(
        "J-1",
        store_id="sh-a",
        order_id="O-1",
        kind="order",
        copies={"picking"},
        status=status,
        created_at="2026-12-04T00:00:00Z",
    )


def test_print_jobs_stamp_their_own_time_and_record_notes_in_the_same_write():
    """A print job has no updated_at (stamp names its attribute, or None), and its acks
    and re-sends are notes appended around the step's entry, in order, in one action."""
    ack = entry("ack", "sent", "sent", STAFF, "picking")
    resend = entry("resend", "missed", "missed", STAFF, "attempt 2")
    m = move(
        PrintJobModel,
        PRINT_JOB,
        "sent",
        [("miss", "late")],
        STAFF,
        stamp=None,
        notes_before=[ack],
        notes_after=[resend],
    )
    assert len(m.actions) == 2 and not any("updated_at" in str(a) for a in m.actions)
    job = applied(a_print_job("sent"), m.actions)
    assert job.status == "missed"
    assert [(h.action, h.from_state, h.to_state, h.reason) for h in job.history] == [
        ("ack", "sent", "sent", "picking"),
        ("miss", "sent", "missed", "late"),
        ("resend", "missed", "missed", "attempt 2"),
    ]
    printed = move(PrintJobModel, PRINT_JOB, "sent", [("print", None)], STAFF, stamp="printed_at")
    assert applied(a_print_job("sent"), printed.actions).printed_at is not None


def test_recorded_as_names_the_cause_of_a_one_step_move():
    m = move(
        PrintJobModel,
        PRINT_JOB,
        "pending",
        [("miss", "render error")],
        STAFF,
        stamp=None,
        recorded_as="relay_failure",
    )
    assert m.condition == PrintJobModel.status.is_in(*PRINT_JOB.transitions["miss"][0])
    [h] = applied(a_print_job("pending"), m.actions).history
    assert (h.action, h.from_state, h.to_state, h.reason) == (
        "relay_failure",
        "pending",
        "missed",
        "render error",
    )
    with pytest.raises(ValueError):
        move(
            OrderModel,
            ORDER,
            "paid",
            [("start_picking", None), ("finish_picking", None)],
            STAFF,
            recorded_as="x",
        )


# --- stored form: one string per entry, map entries written before still read -----------


def _history_of(model, raw_entries):
    item = an_order("O-H", "paid").serialize() if model is OrderModel else None
    if item is None:
        item = ReturnModel(
            "R-H",
            order_id="O-H",
            store_id="sh-a",
            customer_id="c-1",
            lines=[],
            requested_by="c-1",
            status="x",
            store_status="sh-a#x",
            created_at="2026-12-04T00:00:00Z",
            updated_at="2026-12-04T00:00:00Z",
        ).serialize()
    item["history"] = {"L": raw_entries}
    return list(model.from_raw_data(item).history)


OLD_MAP = {
    "M": {
        "at": {"S": "2026-12-04T00:00:00Z"},
        "actor": {"S": "c-1"},
        "role": {"S": "customer"},
        "action": {"S": "place"},
        "to": {"S": "awaiting_payment"},
    }
}


def test_entries_are_stored_as_one_short_string_each():
    e = entry("cancel", "awaiting_payment", "cancelled", STAFF, "changed my mind")
    (stored,) = RefundModel.history.serialize([e])
    assert stored == {"S": f"{_epoch(e.at)}|cancel|awaiting_payment|cancelled|li|s|changed my mind"}
    (ordered,) = OrderModel.history.serialize([e])  # an order's from is the previous to
    assert ordered == {"S": f"{_epoch(e.at)}|cancel||cancelled|li|s|changed my mind"}


def _epoch(at: str) -> int:
    from chalicelib.kernel import clock

    return int(clock.parse(at).timestamp())


@pytest.mark.parametrize("model", [OrderModel, ReturnModel])
def test_old_map_entries_and_new_strings_read_alike_and_show_the_same_history(model):
    new = entry("cancel", "awaiting_payment", "cancelled", Who("c-1", "customer"), "a|b")
    got = _history_of(model, [OLD_MAP, *model.history.serialize([new])])
    assert [(h.action, h.from_state, h.to_state, h.reason) for h in got] == [
        ("place", None, "awaiting_payment", None),
        ("cancel", "awaiting_payment", "cancelled", "a|b"),  # a "|" in the reason is kept
    ]
    assert history_view(got)[1].at == new.at and history_view(got)[1].role == "customer"


def test_what_the_string_cannot_hold_exactly_is_stored_as_the_map():
    odd = [
        entry("x", "a", "b", Who("li|wang", "store_staff")),  # a separator in a field
        entry("x", "", "b", STAFF),  # an empty from (coupon sales record one)
        entry("x", "a", "b", STAFF, ""),  # an empty reason
        entry("x", "a", "b", Who("li", "s")),  # a role that looks like a code
    ]
    odd.append(entry("x", "a", "b", STAFF))
    odd[-1].at = "2026-12-04T00:00:00.123Z"  # not at second precision
    stored = RefundModel.history.serialize(odd)
    assert all("M" in s for s in stored)
    back = _history_of(ReturnModel, stored)

    def fields(h):
        return (h.at, h.action, h.from_state, h.to_state, h.actor, h.role, h.reason)

    assert [fields(h) for h in back] == [fields(h) for h in odd]
