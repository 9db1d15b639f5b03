"""Races on coupons against a moto server: concurrent claims against a per-customer limit
and a total quantity, concurrent orders locking one single-use coupon, and concurrent
redemptions against a budget. The tables are checked afterwards, not only what the
callers were told."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from chalicelib.auth.principal import Principal
from chalicelib.coupons import schemas as s
from chalicelib.coupons import service
from chalicelib.coupons.models import (
    CouponClaimCounterModel,
    CouponModel,
    CouponTemplateModel,
    counter_key,
)
from chalicelib.coupons.repo import redemption_failure, redemption_items
from chalicelib.db.transactions import TransactionCancelled, add_all, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from pynamodb.exceptions import TransactWriteError

from tests.publishing import publish_template

HQ = Principal("hq-admin", "hq_admin")


def race(n: int, work) -> list:
    """``work(i)`` on n threads released together; each result, or the error raised."""
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return work(i)
        except ApiError as err:
            return err
        except TransactWriteError as err:
            return err

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def template(**over) -> CouponTemplateModel:
    body = {
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "days_after_claim": 7,
        **over,
    }
    import msgspec

    view = publish_template(service.create_template(HQ, msgspec.convert(body, s.TemplateCreate)))
    return CouponTemplateModel.get(view.template_id, consistent_read=True)


def claim(t: CouponTemplateModel, customer: str, request_id: str):
    return service.claim(
        Principal(customer, "customer"),
        s.ClaimRequest(template_id=t.template_id, request_id=request_id),
    )


def test_twenty_claims_of_a_limit_two_template_by_one_customer_give_exactly_two(ready):
    t = template(per_customer_limit=2)
    results = race(20, lambda i: claim(t, "c-1", f"r-{i}"))
    outcomes = Counter(r.code if isinstance(r, ApiError) else r.status_code for r in results)
    assert outcomes == {201: 2, "limit_reached": 18}
    assert len(list(CouponModel.by_customer.query("c-1"))) == 2
    assert CouponClaimCounterModel.get(counter_key(t.template_id, "c-1")).count == 2
    assert CouponTemplateModel.get(t.template_id).issued_count == 2


def test_thirty_customers_racing_for_ten_coupons_get_exactly_ten(ready):
    t = template(total_quantity=10)
    results = race(30, lambda i: claim(t, f"c-{i}", "r-1"))
    outcomes = Counter(r.code if isinstance(r, ApiError) else r.status_code for r in results)
    assert outcomes == {201: 10, "sold_out": 20}
    assert CouponTemplateModel.get(t.template_id, consistent_read=True).issued_count == 10
    holders = {c.customer_id for i in range(30) for c in CouponModel.by_customer.query(f"c-{i}")}
    assert len(holders) == 10


def issue_to(t: CouponTemplateModel, customer: str, n: int) -> list[str]:
    ids = [f"{t.template_id}:test:{customer}:{k}" for k in range(n)]
    for cid in ids:
        service.issue(t, customer, cid, "bulk")
    return ids


def lock(coupon_id: str, customer: str, order_id: str, discount: int, template_id: str):
    pieces = redemption_items(coupon_id, customer, order_id, discount, template_id)
    try:
        transact(lambda tx: add_all(tx, pieces))
    except TransactionCancelled as exc:
        return redemption_failure(exc, pieces) or "other"
    return "ok"


def test_one_single_use_coupon_locked_by_fifty_orders_at_once_goes_to_exactly_one(ready):
    t = template()
    [cid] = issue_to(t, "c-1", 1)
    results = race(50, lambda i: lock(cid, "c-1", f"O{i}", 2000, t.template_id))
    assert Counter(results) == {"ok": 1, "coupon_unavailable": 49}
    coupon = CouponModel.get(cid, consistent_read=True)
    winner = results.index("ok")
    assert (coupon.state, coupon.order_id, coupon.discount_fen) == ("locked", f"O{winner}", 2000)
    assert CouponTemplateModel.get(t.template_id, consistent_read=True).spent_fen == 2000


def test_a_budget_for_five_discounts_lets_exactly_five_of_twenty_redemptions_through(ready):
    t = template(budget_fen=5 * 2000, per_customer_limit=20)
    ids = issue_to(t, "c-1", 20)
    results = race(20, lambda i: lock(ids[i], "c-1", f"O{i}", 2000, t.template_id))
    assert Counter(results) == {"ok": 5, "coupon_budget_exhausted": 15}
    after = CouponTemplateModel.get(t.template_id, consistent_read=True)
    assert (after.spent_fen, after.budget_left_fen) == (10_000, 0)
    locked = [CouponModel.get(c, consistent_read=True).state for c in ids].count("locked")
    assert locked == 5


def test_bulk_issue_racing_itself_issues_each_member_once(ready):
    from chalicelib.identity.service import register_customer

    customers = [register_customer(f"1390000{i:04d}")[0].customer_id for i in range(6)]
    t = template(total_quantity=100, per_customer_limit=3)
    body = s.IssueRequest(batch_id="b1", customer_ids=customers)
    results = race(4, lambda i: service.bulk_issue(HQ, t.template_id, body))
    assert sum(r.issued for r in results) == 6
    assert all(r.issued + r.already_issued == 6 and not r.refused for r in results)
    assert CouponTemplateModel.get(t.template_id, consistent_read=True).issued_count == 6


def test_expired_coupon_cannot_be_locked(ready):
    past = clock.now() - timedelta(days=2)
    t = template(
        days_after_claim=None,
        starts_at=clock.iso(past - timedelta(days=1)),
        ends_at=clock.iso(clock.now() + timedelta(days=1)),
    )
    [cid] = issue_to(t, "c-1", 1)
    later = clock.iso(clock.now() + timedelta(days=2))
    pieces = redemption_items(cid, "c-1", "O1", 100, t.template_id, now_iso=later)
    with pytest.raises(TransactionCancelled) as err:
        transact(lambda tx: add_all(tx, pieces))
    assert redemption_failure(err.value, pieces) == "coupon_unavailable"
