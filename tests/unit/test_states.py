"""Every legal and every illegal transition of each state machine."""

import pytest
from chalicelib.domain.states import ORDER, PRINT_JOB, REFUND, RETURN, Machine
from chalicelib.errors import Conflict

MACHINES = [ORDER, REFUND, RETURN, PRINT_JOB]
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
