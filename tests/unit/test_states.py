"""Every legal and every illegal transition of each state machine."""

import pytest
from chalicelib.kernel.errors import Conflict
from chalicelib.kernel.states import COUPON_SALE, ORDER, PRINT_JOB, REFUND, RETURN, Machine

MACHINES = [ORDER, REFUND, RETURN, PRINT_JOB, COUPON_SALE]
CASES = [
    (m, action, state) for m in MACHINES for action in m.transitions for state in sorted(m.states())
]


@pytest.mark.parametrize(
    ("machine", "action", "state"), CASES, ids=[f"{m.name}:{a}:{s}" for m, a, s in CASES]
)
def test_each_action_from_each_state(machine: Machine, action, state):
    sources, to = machine.transitions[action]
    if state in sources:
        assert machine.target(action, state) == to
    else:
        with pytest.raises(Conflict) as info:
            machine.target(action, state)
        assert info.value.status == 409 and info.value.code == "illegal_transition"
        assert info.value.details["from"] == state


def test_final_states_have_no_way_out_except_documented_ones():
    for machine in MACHINES:
        for final in machine.final:
            leaving = [a for a, (sources, _) in machine.transitions.items() if final in sources]
            assert leaving == [], f"{machine.name}: {final} is final but {leaving} leave it"


def test_the_delivery_and_pickup_paths_end_completed():
    state = ORDER.initial
    for action in [
        "pay",
        "start_picking",
        "finish_picking",
        "checkout",
        "dispatch",
        "deliver",
        "confirm_receipt",
    ]:
        state = ORDER.target(action, state)
    assert state == "completed"
    state = ORDER.initial
    for action in [
        "pay",
        "start_picking",
        "finish_picking",
        "checkout",
        "ready_for_pickup",
        "collect",
    ]:
        state = ORDER.target(action, state)
    assert state == "completed"


def test_cancellation_only_before_picking():
    assert ORDER.target("cancel", "paid") == "cancelled"
    with pytest.raises(Conflict):
        ORDER.target("cancel", "picking")


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        ORDER.target("teleport", "paid")


def test_a_store_cancels_only_while_picking_when_nothing_is_there():
    assert ORDER.target("cancel_out_of_stock", "picking") == "cancelled"
    for state in ["paid", "picked", "checked_out", "delivered", "completed"]:
        with pytest.raises(Conflict):
            ORDER.target("cancel_out_of_stock", state)


def test_returns_of_fresh_goods_are_refunded_from_their_own_entry_state():
    from chalicelib.kernel.states import RETURN_FRESH_ENTRY, RETURN_OTHER_ENTRY

    assert RETURN.target("refund", RETURN_FRESH_ENTRY) == "refunded"
    assert RETURN_OTHER_ENTRY == RETURN.initial == "awaiting_verification"
    for action in ["verify", "reject", "collect", "receive_at_counter"]:
        with pytest.raises(Conflict):
            RETURN.target(action, RETURN_FRESH_ENTRY)


@pytest.mark.parametrize("receive", ["collect", "receive_at_counter"])
def test_other_returns_are_verified_then_received_then_refunded(receive):
    state = RETURN.initial
    for action in ["verify", receive, "refund"]:
        state = RETURN.target(action, state)
    assert state == "refunded"
    with pytest.raises(Conflict):
        RETURN.target("refund", "verified")  # never refunded before the goods are back


def test_a_return_can_be_rejected_until_the_goods_are_back():
    assert RETURN.target("reject", "awaiting_verification") == "rejected"
    assert RETURN.target("reject", "verified") == "rejected"
    for state in ["goods_received", "refunded", "refund_at_once"]:
        with pytest.raises(Conflict):
            RETURN.target("reject", state)


def test_a_resolved_print_job_is_not_sent_again_but_can_still_print():
    assert PRINT_JOB.target("resolve", "missed") == "resolved"
    assert PRINT_JOB.target("print", "resolved") == "printed"
    for action in ("send", "miss", "resolve"):
        with pytest.raises(Conflict):
            PRINT_JOB.target(action, "resolved")
    for state in ("pending", "sent", "printed"):
        with pytest.raises(Conflict):
            PRINT_JOB.target("resolve", state)


def test_a_pick_may_start_from_paid_and_nothing_else_skips_a_step():
    assert ORDER.path("finish_picking", "picking") == ["finish_picking"]
    assert ORDER.path("finish_picking", "paid") == ["start_picking", "finish_picking"]
    assert ORDER.path("cancel_out_of_stock", "paid") == ["start_picking", "cancel_out_of_stock"]
    with pytest.raises(Conflict) as refused:
        ORDER.path("finish_picking", "cancelled")
    assert refused.value.details["allowed_from"] == ["paid", "picking"]
    with pytest.raises(Conflict):
        ORDER.path("dispatch", "picked")  # no lead: checkout is its own step
    assert ORDER.walk(["checkout", "dispatch"], "picked") == [
        ("checkout", "picked", "checked_out"),
        ("dispatch", "checked_out", "out_for_delivery"),
    ]
    with pytest.raises(Conflict):
        ORDER.walk(["checkout", "ready_for_pickup", "dispatch"], "picked")
