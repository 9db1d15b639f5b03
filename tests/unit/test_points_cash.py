"""Points as cash (checkout/points_cash.py): whole fen only, the cap, the split over the
lines; and the order events carry the points an order locked (events/records.py)."""

from __future__ import annotations

from chalicelib.checkout import points_cash as pc
from chalicelib.events import records as r
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_event_records import moved, order, record


@given(st.integers(0, 10**7), st.integers(1, 100_000))
def test_the_points_taken_buy_exactly_their_fen_and_no_fewer_would(points, rate):
    used, fen = pc.use(points, rate)
    assert used <= points  # never more than asked; the rest stay with the member
    assert pc.fen_for(used, rate) == fen == pc.fen_for(points, rate)
    assert used == 0 or pc.fen_for(used - 1, rate) < fen  # the fewest that buy them


@given(st.integers(0, 10**7), st.integers(0, 10**6), st.integers(1, 1000), st.integers(0, 100))
def test_the_offer_never_passes_the_cap_the_points_held_or_the_whole_goods(
    spendable, goods, rate, cap
):
    o = pc.offer(spendable, goods, rate, cap)
    assert o.fen <= goods * cap // 100 and o.points <= spendable
    assert o.fen < goods or goods == 0  # money always pays at least 1 fen of the goods
    assert pc.use(o.points, rate) == (o.points, o.fen)  # placing takes just these
    more = pc.points_for(o.fen + 1, rate)  # the fewest points that pay more than the offer
    assert more > spendable or pc.fen_for(more, rate) > o.cap_fen  # the offer is the most


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=20), st.data())
def test_the_split_over_lines_is_exact_and_within_each_line(paid, data):
    fen = data.draw(st.integers(0, sum(paid)))
    shares = pc.split_over_lines(fen, paid)
    assert sum(shares) == fen and all(0 <= s <= p for s, p in zip(shares, paid, strict=True))


def test_the_order_events_carry_the_points_locked_on_the_head():
    paid = order("paid", pts=500, paid_fen=2200, history=[moved("paid", "pay")])
    [event] = r.events_of("orders", record("MODIFY", paid, order("awaiting_payment", pts=500)))
    assert event.points_locked == 500
    expired = order("expired", pts=300, history=[moved("expired", "expire")])
    [event] = r.events_of("orders", record("MODIFY", expired, order("awaiting_payment", pts=300)))
    assert event.points_locked == 300
    unpaid = order("cancelled", pts=200, history=[moved("cancelled", "cancel")])
    [event] = r.events_of("orders", record("MODIFY", unpaid, order("awaiting_payment", pts=200)))
    assert event.points_locked == 200
    # a paid order's points were spent: its refund returns them, nothing to release
    was_paid = order("cancelled", pts=200, paid_fen=100, history=[moved("cancelled", "cancel")])
    [event] = r.events_of("orders", record("MODIFY", was_paid, order("paid", pts=200)))
    assert event.points_locked == 0
    [event] = r.events_of("orders", record("MODIFY", order("expired"), order("awaiting_payment")))
    assert event.points_locked == 0


def test_the_stored_name_read_raw_is_the_models():
    from chalicelib.orders.models import OrderModel

    assert OrderModel.get_attributes()["points_used"].attr_name == r.POINTS_NAME
