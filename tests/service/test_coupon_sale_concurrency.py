"""Races on coupon sales against a moto server: twenty copies of one payment notification
at once issue one coupon; a refund racing an order locking the coupon lets exactly one
through; the last coupon paid for by two buyers at once goes to one, the other is
refunded. The tables are checked afterwards."""

from __future__ import annotations

import msgspec
from chalicelib.auth.principal import Principal
from chalicelib.coupons import sales as coupon_sales
from chalicelib.coupons import schemas as s
from chalicelib.coupons import service
from chalicelib.coupons.models import CouponModel, CouponSaleModel, CouponTemplateModel
from chalicelib.coupons.repo import redemption_items
from chalicelib.db.transactions import add_all, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.orders.models import PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice
from pynamodb.exceptions import TransactWriteError

from tests.publishing import publish_template
from tests.service.test_coupon_concurrency import race

HQ = Principal("hq-admin", "hq_admin")


def sale_template(**over) -> str:
    body = {
        "name": "满300减100",
        "kind": "amount_off",
        "threshold_fen": 30000,
        "amount_off_fen": 10000,
        "days_after_claim": 30,
        "sale_price_fen": 100,
        **over,
    }
    return publish_template(
        service.create_template(HQ, msgspec.convert(body, s.TemplateCreate))
    ).template_id


def buy(template_id: str, customer: str) -> str:
    r = coupon_sales.create(
        Principal(customer, "customer"),
        s.CouponSaleCreate(template_id=template_id, request_id="r-1"),
    )
    return msgspec.json.decode(r.body)["sale_id"]


def notice(sale_id: str, tx: str = "tx-1") -> PaymentNotice:
    return PaymentNotice("local", tx, sale_id, 100, clock.now_iso())


def test_twenty_copies_of_one_notification_at_once_issue_one_coupon(ready):
    tid = sale_template()
    sale_id = buy(tid, "c-1")
    n = notice(sale_id)
    acks = race(20, lambda i: coupon_sales.record_payment(n))
    assert all(not isinstance(a, Exception) and a.code == "SUCCESS" for a in acks), acks
    assert sorted(a.message for a in acks).count("paid") == 1
    assert len(list(CouponModel.by_customer.query("c-1"))) == 1
    assert int(CouponTemplateModel.get(tid, consistent_read=True).issued_count) == 1
    assert CouponSaleModel.get(sale_id, consistent_read=True).status == "paid"
    assert [p.payment_id for p in PaymentModel.scan()] == [n.payment_id]
    assert list(RefundModel.scan()) == []


def test_a_refund_racing_an_order_locking_the_coupon_lets_one_through(ready):
    tid = sale_template()
    sale_id = buy(tid, "c-1")
    coupon_sales.record_payment(notice(sale_id))
    coupon_id = coupon_sales.coupon_id_for(tid, sale_id)
    customer = Principal("c-1", "customer")

    def work(i: int):
        if i % 2 == 0:
            return coupon_sales.refund(customer, sale_id)
        pieces = redemption_items(coupon_id, "c-1", f"26112400000{i:03d}", 10000, tid)
        return transact(lambda tx: add_all(tx, pieces))

    outcomes = race(10, work)
    coupon = CouponModel.get(coupon_id, consistent_read=True)
    sale = CouponSaleModel.get(sale_id, consistent_read=True)
    refunds = [r for r in RefundModel.scan() if r.order_id == sale_id]
    if coupon.state == "voided":
        assert sale.status == "refunded" and len(refunds) == 1
        assert all(isinstance(o, TransactWriteError) for o in outcomes[1::2])
    else:
        assert coupon.state == "locked" and sale.status == "paid" and refunds == []
        assert all(isinstance(o, ApiError) and o.code == "coupon_in_use" for o in outcomes[0::2]), (
            outcomes
        )


def test_two_buyers_paying_for_the_last_coupon_at_once(ready):
    tid = sale_template(total_quantity=1)
    sales = [buy(tid, f"c-{i}") for i in range(2)]
    acks = race(2, lambda i: coupon_sales.record_payment(notice(sales[i], f"tx-{i}")))
    assert sorted(a.message for a in acks) == ["coupon not issued (sold_out); refunded", "paid"]
    states = sorted(CouponSaleModel.get(x, consistent_read=True).status for x in sales)
    assert states == ["paid", "refunded"]
    assert int(CouponTemplateModel.get(tid, consistent_read=True).issued_count) == 1
    [refund] = list(RefundModel.scan())
    assert int(refund.amount_fen) == 100 and refund.status == "succeeded"
