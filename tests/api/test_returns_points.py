"""Gifts follow the order (issue 18 item 2): the points a member day's multiplier earned
on an order are taken back with its refunds, in proportion, multiplier included."""

from __future__ import annotations

from chalicelib.events.types import OrderCompleted
from chalicelib.kernel import clock
from chalicelib.loyalty import points, programme_subscribers, subscribers

from tests.api.test_points import member, no_order_tasks, now, refund, save_order  # noqa: F401


def test_points_earned_with_a_multiplier_are_reversed_with_the_refunds(member, now):  # noqa: F811
    oid = "261124AAAA0009"
    save_order(oid, "completed", 10_000, 0)
    programme_subscribers.order_completion(
        OrderCompleted(
            event_id=f"order.completed:{oid}",
            occurred_at=clock.now_iso(),
            order_id=oid,
            customer_id="c-1",
            store_id="sh-a",
            paid_fen=10_000,
            refunded_fen=0,
            lines=[],
            points_multiplier="2",  # 会员日 2 倍积分
        )
    )
    assert points.balance("c-1").balance == 200  # ¥100 x 1 point x 2
    save_order(oid, "completed", 10_000, 7_500)  # a return of three quarters
    subscribers.reverse_on_refund(refund("rp1", order_id=oid, amount=7_500))
    assert points.balance("c-1").balance == 50  # the doubled points go back with it
    save_order(oid, "completed", 10_000, 10_000)
    subscribers.reverse_on_refund(refund("rp2", order_id=oid, amount=2_500))
    assert points.balance("c-1").balance == 0
