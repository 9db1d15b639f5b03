"""Orders paid with stored value (储值): the balance taken in the placing transaction and
split as the rules say; the provider asked only for the rest; an order paid wholly by
balance paid at once through the one paid path; cancellation and expiry give the balance
back; a refund gives back principal and bonus in proportion. Against a moto server: 20
concurrent orders paying with one balance: never negative, exactly the affordable ones
succeed. The tables are checked, not only the answers."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import refunds

from tests.order_steps import CUSTOMER_1, HQ, seed_catalogue


def credit(customer_id: str, principal_fen: int, bonus_fen: int) -> None:
    from chalicelib.stored_value import schemas as s
    from chalicelib.stored_value import service

    service.adjust(
        HQ,
        customer_id,
        s.StoredValueAdjustment(
            principal_fen=principal_fen,
            bonus_fen=bonus_fen,
            reason="test credit",
            request_id=f"credit-{uuid.uuid4().hex[:12]}",
        ),
    )


def account(customer_id: str = "c-1"):
    from chalicelib.stored_value.service import account as read

    return read(customer_id)


def place(stored_value_fen=None, items=(("100", 1),), customer=CUSTOMER_1, key=None):
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import PlaceOrder

    body = {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": s, "qty": q} for s, q in items],
        "stored_value_fen": stored_value_fen,
    }
    order, _ = orders.place(customer, key or uuid.uuid4().hex, msgspec.convert(body, PlaceOrder))
    return order


def refs(customer_id: str = "c-1") -> dict[str, tuple[int, int]]:
    from chalicelib.stored_value.models import StoredValueEntryModel

    return {
        e.ref: (int(e.principal_fen), int(e.bonus_fen))
        for e in StoredValueEntryModel.query(customer_id)
        if not e.ref.startswith("adjust:")
    }


def totals() -> int:
    from chalicelib.stored_value.service import liability

    return liability().total_fen


@pytest.fixture
def shop(aws):
    seed_catalogue(["sh-a"], count=5)


def test_part_balance_part_provider(shop):
    from chalicelib.orders import order_flow, payments

    credit("c-1", 1000, 100)
    order = place(stored_value_fen=550)
    assert (order.stored_value_fen, order.stored_value_principal_fen) == (550, 500)
    assert order.stored_value_bonus_fen == 50
    assert order.payment.amount_fen == order.total_fen - 550  # the provider: the rest only
    a = account()
    assert (a.principal_fen, a.bonus_fen, a.bonus_spent_fen) == (500, 50, 50)
    assert refs() == {f"pay:{order.order_id}": (-500, -50)}
    ack = payments.simulate(CUSTOMER_1, order.order_id)
    assert ack.message == "paid"
    paid = order_flow.get(order.order_id)
    assert paid.status == "paid" and int(paid.paid_fen) == order.total_fen
    assert totals() == 550


def test_the_whole_total_by_balance_is_paid_at_once(shop):
    from chalicelib.orders.models import PaymentModel
    from chalicelib.printing.models import PrintJobModel
    from chalicelib.printing.print_jobs import paid_ticket_id

    credit("c-1", 100_000, 0)
    probe = place(stored_value_fen=None)  # to learn the total
    order = place(stored_value_fen=probe.total_fen)
    assert order.status == "paid" and order.payment is None
    assert order.paid_fen == order.total_fen
    assert PaymentModel.get(f"stored_value:{order.order_id}").amount_fen == 0
    assert PrintJobModel.get(paid_ticket_id(order.order_id)) is not None


def test_more_than_the_balance_or_the_total_is_refused(shop):
    credit("c-1", 100, 0)
    with pytest.raises(ApiError) as err:
        place(stored_value_fen=101)
    assert err.value.code == "insufficient_stored_value"
    with pytest.raises(ApiError) as err:
        place(stored_value_fen=10**7)
    assert err.value.code == "stored_value_above_total"
    assert int(account().principal_fen) == 100 and refs() == {}


def test_cancel_and_expiry_give_the_balance_back(shop):
    from chalicelib.orders import service as orders

    credit("c-1", 1000, 100)
    order = place(stored_value_fen=330)
    orders.cancel(CUSTOMER_1, order.order_id, "changed my mind")
    a = account()
    assert (a.principal_fen, a.bonus_fen, a.bonus_spent_fen) == (1000, 100, 0)
    assert refs()[f"release:{order.order_id}"] == (300, 30)
    second = place(stored_value_fen=110)
    assert orders.expire_due(now_epoch=2**40) == 1
    assert refs()[f"release:{second.order_id}"] == (100, 10)
    assert int(account().balance_fen) == 1100 and totals() == 1100


def test_a_paid_order_cancelled_gives_back_principal_and_bonus_as_taken(shop):
    from chalicelib.orders import order_flow, payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.models import RefundModel

    credit("c-1", 700, 300)
    order = place(stored_value_fen=500)
    assert (order.stored_value_principal_fen, order.stored_value_bonus_fen) == (350, 150)
    payments.simulate(CUSTOMER_1, order.order_id)
    orders.cancel(CUSTOMER_1, order.order_id, "too late")
    [refund] = RefundModel.by_order.query(order.order_id)
    assert int(refund.stored_value_fen) == 500
    assert int(refund.amount_fen) == order.total_fen  # the whole refund
    assert refunds.provider_part(refund) == order.total_fen - 500  # the provider pays the rest
    assert refund.status == "succeeded"
    assert refs()[f"refund:{refund.refund_id}"] == (350, 150)
    a = account()
    assert (a.principal_fen, a.bonus_fen, a.bonus_spent_fen) == (700, 300, 0)
    assert int(order_flow.get(order.order_id).stored_value_returned_fen) == 500


# --- concurrency against the moto server --------------------------------------------------


@pytest.fixture
def server_shop(aws_server):
    from tests.service.conftest import warm_clients

    seed_catalogue(["sh-a"], stock=100, count=5)
    warm_clients()


def test_20_concurrent_orders_on_one_balance_take_exactly_what_it_affords(server_shop):
    probe = place(stored_value_fen=None)
    each = probe.total_fen  # every order is paid wholly by balance
    affordable = 7
    credit("c-1", each * affordable - 3 * affordable, 3 * affordable)  # odd fen on purpose
    barrier = threading.Barrier(20)

    def run(i: int):
        barrier.wait()
        try:
            return place(stored_value_fen=each)
        except ApiError as err:
            return err

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(run, range(20)))
    placed = [r for r in results if not isinstance(r, ApiError)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(placed) == affordable, [getattr(r, "code", None) for r in results]
    assert {r.code for r in refused} == {"insufficient_stored_value"}
    a = account()
    assert int(a.principal_fen) == 0 and int(a.bonus_fen) == 0
    assert len(refs()) == affordable
    assert sum(p + b for p, b in refs().values()) == -each * affordable
    assert all(o.status == "paid" for o in placed)


def test_demo_top_ups_seed_once(aws):
    """The local stack's demo members' top-ups (infra/local/seed.py): paid through the
    top-up's own paths, and a second run changes nothing."""
    from chalicelib.stored_value.service import balance, liability

    from infra.local import demo_data
    from infra.local.seed import _seed_stored_value

    _seed_stored_value()
    first = liability()
    _seed_stored_value()
    assert liability() == first
    paid = sum(t["amount_fen"] for t in demo_data.stored_value_top_ups())
    assert first.principal_fen == paid and first.bonus_fen == 5_000 + 12_000 + 5_000
    assert balance("c-demo-01").balance_fen == 50_000 + 5_000 + 20_000


def test_a_shortage_refund_splits_between_balance_and_provider(shop):
    from chalicelib.orders import order_flow, payments
    from chalicelib.orders.models import RefundModel
    from chalicelib.stored_value import rules

    from tests.order_steps import pick

    credit("c-1", 800, 200)
    order = place(stored_value_fen=1000, items=(("100", 2), ("101", 1)))
    payments.simulate(CUSTOMER_1, order.order_id)
    pick(order.order_id, {"101": 0})  # one line not found: refunded
    [refund] = RefundModel.by_order.query(order.order_id)
    line = next(x for x in order.lines if x.sku == "101")
    share = rules.stored_value_share(1000, order.total_fen, 0, line.paid_fen)
    assert int(refund.stored_value_fen or 0) == share > 0
    assert int(refund.amount_fen) == line.paid_fen  # the whole refund
    assert refunds.provider_part(refund) == line.paid_fen - share  # the provider pays the rest
    back = rules.split_back(rules.Split(800, 200), 0, share)
    assert refs()[f"refund:{refund.refund_id}"] == (back.principal_fen, back.bonus_fen)
    assert int(order_flow.get(order.order_id).stored_value_returned_fen) == share
    assert int(account().balance_fen) == share
