"""Effect reports per promotion and coupon template, the suppliers' settlement statement
(JSON and CSV) and head office's orders filtered by promotion or coupon (issue 18 item 6).

A hand-made set of orders over two days and two stores, rolled up by the reports' own
rollup from the writes orders already make (the by_store_day index, the order.paid
subscriber's report_orders item, the member aggregates), so every figure below is exact:

| order | store | day | paid  | refunded | discounts                          | customer |
|-------|-------|-----|-------|----------|------------------------------------|----------|
| o1    | sh-a  | D1  | 20000 | 0        | P 3000, T 1000                     | c-new    |
| o2    | sh-a  | D1  | 10000 | 5000     | P 1000                             | c-old    |
| o3    | sh-a  | D1  | 5000  | 0        | —                                  | c-old    |
| o4    | sh-b  | D2  | 15000 | 0        | T 1000, U 500                      | c-old    |
| o5    | sh-b  | D2  | 8000  | 2000     | T 1000                             | c-new2   |
| o6    | sh-b  | D2  | 9000  | 0        | P 2000 (paid, then cancelled)      | c-old    |
| o7    | sh-b  | D2  | 3000  | 0        | —                                  | c-old    |

P: a tiered promotion funded by head office; T: a template funded by the supplier 蒙牛;
U: a template funded by 伊利. c-old completed an order before D1; c-new and c-new2 never.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.events.types import OrderLine, OrderPaid
from chalicelib.kernel import clock
from chalicelib.orders.models import (
    CouponUseAttribute,
    DiscountAttribute,
    OrderDetailModel,
    OrderModel,
)
from chalicelib.reports import service
from chalicelib.reports.models import ReportDayModel

from tests import publishing
from tests.api.conftest import token_for

D1, D2 = "2026-11-24", "2026-11-25"
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 2026-11-26 12:00 in Shanghai
STARTS, ENDS = "2026-11-23T16:00:00Z", "2026-11-26T16:00:00Z"  # D1 .. 2026-11-26 local

ORDERS = [
    # id, store, day, paid, refunded, promotion discounts, coupon uses, customer, cancelled
    ("o1", "sh-a", D1, 20000, 0, {"P": 3000}, {"T": 1000}, "c-new", False),
    ("o2", "sh-a", D1, 10000, 5000, {"P": 1000}, {}, "c-old", False),
    ("o3", "sh-a", D1, 5000, 0, {}, {}, "c-old", False),
    ("o4", "sh-b", D2, 15000, 0, {}, {"T": 1000, "U": 500}, "c-old", False),
    ("o5", "sh-b", D2, 8000, 2000, {}, {"T": 1000}, "c-new2", False),
    ("o6", "sh-b", D2, 9000, 0, {"P": 2000}, {}, "c-old", True),
    ("o7", "sh-b", D2, 3000, 0, {}, {}, "c-old", False),
]


def _create_promotion(api, token, body):
    """The one place this file creates promotions (drafts will add an approval here)."""
    status, got = publishing.create_promotion(api, body, token)
    assert status == 201, got
    return got


def _create_template(api, token, body):
    """The one place this file creates coupon templates."""
    status, got = publishing.create_template(api, body, token)
    assert status == 201, got
    return got


def _order(oid, store, day, paid, refunded, promos, coupons, customer, cancelled):
    created = f"{day}T02:00:00Z"
    discounts = [
        DiscountAttribute(code=f"tiered:{pid}", label="满减", amount_fen=fen)
        for pid, fen in promos.items()
    ] + [
        DiscountAttribute(code=f"coupon:{oid}-{tid}", label="券", amount_fen=fen)
        for tid, fen in coupons.items()
    ]
    OrderModel(
        oid,
        customer_id=customer,
        store_id=store,
        fulfilment="pickup",
        status="cancelled" if cancelled else "completed",
        store_day=f"{store}#{day}",
        total_fen=paid,
        paid_fen=paid,
        refunded_fen=paid if cancelled else refunded,
        paid_at=created,
        expires_at=created,
        created_at=created,
        updated_at=created,
    ).save()
    OrderDetailModel(
        oid,
        lines=[],
        subtotal_fen=paid,
        discounts=discounts,
        coupon_uses=[
            CouponUseAttribute(
                coupon_id=f"{oid}-{tid}", template_id=tid, kind="amount_off", discount_fen=fen
            )
            for tid, fen in coupons.items()
        ],
    ).save()
    # the order.paid subscriber's one write (reports.paid_lines)
    service.record_paid(
        OrderPaid(
            event_id=f"order.paid:{oid}",
            occurred_at=created,
            order_id=oid,
            customer_id=customer,
            store_id=store,
            fulfilment="pickup",
            paid_fen=paid,
            payment_id=None,
            lines=[OrderLine(sku="100", qty=1, paid_fen=paid)],
            discounts={**{f"p:{k}": v for k, v in promos.items()}}
            | {f"t:{k}": v for k, v in coupons.items()},
        )
    )
    if cancelled:
        service.record_cancelled(oid)


@pytest.fixture
def made(api, tokens_, catalogue, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    hq = tokens_["hq"]
    base = {"starts_at": STARTS, "ends_at": ENDS}
    p = _create_promotion(
        api,
        hq,
        {
            "kind": "tiered",
            "name": "满99减10",
            "promotion_id": "P",
            "tiers": [{"threshold_fen": 9900, "off_fen": 1000}],
            "scope": {"categories": ["水果"], "skus": []},
            **base,
        },
    )
    amount = {"kind": "amount_off", "threshold_fen": 5000, "amount_off_fen": 1000}
    t = _create_template(
        api,
        hq,
        {"template_id": "T", "name": "蒙牛 满50减10", "funded_by": "supplier", "funder": "蒙牛"}
        | amount
        | base,
    )
    u = _create_template(
        api,
        hq,
        {"template_id": "U", "name": "伊利 满50减5", "funded_by": "supplier", "funder": "伊利"}
        | amount
        | {"amount_off_fen": 500, **base},
    )
    from chalicelib.customers.models import MemberStatsModel

    MemberStatsModel("c-old", first_date="2026-10-01", last_date="2026-10-01").save()
    for row in ORDERS:
        _order(*row)
    for sid in ("sh-a", "sh-b"):
        for d in (D1, D2):
            service.rollup_day(sid, d)
    return {"P": p, "T": t, "U": u}


def get(api, token, path):
    status, body = api.call("GET", path, token=token)
    assert status == 200, body
    return body


def test_the_rollup_keeps_gmv_net_discount_and_new_customers_per_source(made):
    a1 = service.from_item(ReportDayModel.get("sh-a", D1))
    assert a1.disc == {"p:P": [2, 4000], "t:T": [1, 1000]}
    # o2 kept 5000 of 10000: its 1000 of P counts 500 net; o1 is c-new's first order
    assert a1.eff == {"p:P": [25000, 3500, 1], "t:T": [20000, 1000, 1]}
    b2 = service.from_item(ReportDayModel.get("sh-b", D2))
    # o6 was cancelled: not a sale, its discount is not counted
    assert b2.disc == {"t:T": [2, 2000], "t:U": [1, 500]}
    # o5 kept 6000 of 8000: 1000 × 6000 // 8000 = 750
    assert b2.eff == {"t:T": [21000, 1750, 1], "t:U": [15000, 500, 0]}


def test_a_promotions_effect_report_has_exact_figures(api, tokens_, made):
    r = get(api, tokens_["hq"], "/admin/promotions/P/report")
    assert (r["from"], r["to"]) == (D1, "2026-11-26")
    assert (r["source"], r["name"], r["kind"], r["issued"]) == ("p:P", "满99减10", "tiered", None)
    assert (r["redeemed"], r["orders"], r["discount_fen"], r["net_fen"]) == (2, 2, 4000, 3500)
    assert r["by_funder"] == [
        {"funded_by": "hq", "funder": None, "discount_fen": 4000, "net_fen": 3500}
    ]
    assert (r["gmv_fen"], r["aov_with_fen"]) == (25000, 12500)
    # the other sales of the store-days it was redeemed on: o3 only (sh-a, D1)
    assert r["aov_without_fen"] == 5000
    assert r["new_customers"] == 1
    assert [(d["date"], d["orders"], d["discount_fen"], d["net_fen"]) for d in r["days"]] == [
        (D1, 2, 4000, 3500),
        (D2, 0, 0, 0),
        ("2026-11-26", 0, 0, 0),
    ]
    assert [(x["store_id"], x["orders"], x["net_fen"], x["aov_fen"]) for x in r["stores"]] == [
        ("sh-a", 2, 3500, 12500),
        ("sh-b", 0, 0, None),
    ]


def test_a_templates_effect_report_counts_issued_and_both_stores(api, tokens_, made):
    r = get(api, tokens_["hq"], f"/admin/coupon-templates/T/report?from={D1}&to={D2}")
    assert r["issued"] == 0  # none issued through claims in this hand-made set
    assert (r["redeemed"], r["discount_fen"], r["net_fen"], r["gmv_fen"]) == (3, 3000, 2750, 41000)
    assert r["by_funder"] == [
        {"funded_by": "supplier", "funder": "蒙牛", "discount_fen": 3000, "net_fen": 2750}
    ]
    assert r["aov_with_fen"] == 41000 // 3
    # others: sh-a D1 o2 (5000 kept) and o3 (5000); sh-b D2 o7 (3000): 13000 / 3
    assert r["aov_without_fen"] == 13000 // 3
    assert r["new_customers"] == 2
    assert [(d["date"], d["orders"]) for d in r["days"]] == [(D1, 1), (D2, 2)]
    assert [(x["store_id"], x["orders"], x["discount_fen"], x["net_fen"]) for x in r["stores"]] == [
        ("sh-a", 1, 1000, 1000),
        ("sh-b", 2, 2000, 1750),
    ]


def test_a_store_manager_sees_their_stores_part_only(api, tokens_, made):
    manager = token_for("mgr-b", "store_manager", "sh-b")
    r = get(api, manager, f"/admin/coupon-templates/T/report?from={D1}&to={D2}")
    assert r["store_ids"] == ["sh-b"]
    assert (r["redeemed"], r["net_fen"]) == (2, 1750)
    status, _ = api.call("GET", "/admin/supplier-settlements?month=2026-11", token=manager)
    assert status == 403


def test_unknown_ids_and_bad_ranges_are_clear_4xx(api, tokens_, made):
    hq = tokens_["hq"]
    status, err = api.call("GET", "/admin/promotions/nope/report", token=hq)
    assert (status, err["error"]["code"]) == (404, "promotion_not_found")
    status, err = api.call("GET", "/admin/coupon-templates/nope/report", token=hq)
    assert (status, err["error"]["code"]) == (404, "coupon_template_not_found")
    status, err = api.call("GET", f"/admin/promotions/P/report?from={D2}&to={D1}", token=hq)
    assert (status, err["error"]["code"]) == (400, "bad_range")
    status, err = api.call("GET", "/admin/promotions/P/report?from=2026-13-01", token=hq)
    assert (status, err["error"]["code"]) == (400, "bad_date")
    status, err = api.call("GET", "/admin/supplier-settlements?month=2026-1", token=hq)
    assert (status, err["error"]["code"]) == (400, "bad_month")


def test_the_settlement_adds_up_to_the_supplier_funded_discounts(api, tokens_, made):
    st = get(api, tokens_["hq"], "/admin/supplier-settlements?month=2026-11")
    assert (st["from"], st["to"], st["owed_fen"]) == ("2026-11-01", "2026-11-30", 3250)
    yili, mengniu = st["suppliers"]  # by name: 伊 (U+4F0A) before 蒙
    assert (yili["funder"], yili["owed_fen"], yili["refunded_fen"]) == ("伊利", 500, 0)
    assert mengniu["funder"] == "蒙牛"
    assert (mengniu["discount_fen"], mengniu["refunded_fen"], mengniu["owed_fen"]) == (
        3000,
        250,
        2750,
    )
    (src,) = mengniu["sources"]
    assert (src["id"], src["name"], src["orders"], src["net_fen"]) == (
        "T",
        "蒙牛 满50减10",
        3,
        2750,
    )
    assert [(x["store_id"], x["net_fen"]) for x in src["stores"]] == [
        ("sh-a", 1000),
        ("sh-b", 1750),
    ]
    assert sum(x["net_fen"] for x in mengniu["stores"]) == mengniu["owed_fen"]
    # the hq-funded promotion is no supplier's; another month owes nothing
    assert all(s["source"].startswith("t:") for sup in st["suppliers"] for s in sup["sources"])
    assert get(api, tokens_["hq"], "/admin/supplier-settlements?month=2026-10")["suppliers"] == []


def _csv(client, token, query):
    r = client.http.get(
        f"/admin/supplier-settlements.csv?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    return r.body.decode("utf-8")


def test_the_settlement_csv_in_both_languages(client, tokens_, made):
    text = _csv(client, tokens_["hq"], "month=2026-11&lang=en")
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == (
        "row,supplier,source,name,store_id,store,orders,discount (CNY),"
        "refunded discount (CNY),owed (CNY)"
    )
    assert lines[1].startswith("line,伊利,t:U,伊利 满50减5,sh-b,")
    assert lines[1].endswith(",1,5.00,0.00,5.00")
    assert lines[2] == "supplier_total,伊利,,,,,1,5.00,0.00,5.00"
    assert lines[3].startswith("line,蒙牛,t:T,蒙牛 满50减10,sh-a,")
    assert lines[3].endswith(",1,10.00,0.00,10.00")
    assert lines[4].endswith(",2,20.00,2.50,17.50")
    assert lines[5] == "supplier_total,蒙牛,,,,,3,30.00,2.50,27.50"
    assert lines[6:] == [""]
    text = _csv(client, tokens_["hq"], "month=2026-11")
    assert text.startswith("\ufeff行,供应商,优惠来源,名称,门店,门店名称,订单数,优惠金额（元）")


def _ids(api, token, query):
    out, cursor = [], None
    while True:
        q = query + (f"&cursor={cursor}" if cursor else "")
        page = get(api, token, f"/admin/orders?from={D1}&to={D2}&limit=1&{q}")
        out += [o["order_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return sorted(out)


def test_orders_filter_by_promotion_or_coupon_template_exactly_and_paginated(api, tokens_, made):
    hq = tokens_["hq"]
    assert _ids(api, hq, "promotion_id=P") == ["o1", "o2", "o6"]
    assert _ids(api, hq, "coupon_template_id=T") == ["o1", "o4", "o5"]
    assert _ids(api, hq, "coupon_template_id=U") == ["o4"]
    # a coupon's code names the coupon, not a promotion: no promotion "o1-T"
    assert _ids(api, hq, "promotion_id=o1-T") == []
    assert _ids(api, hq, "promotion_id=P&coupon_template_id=T") == ["o1"]


def test_a_window_longer_than_a_year_reports_its_last_366_days(api, tokens_, made):
    from chalicelib.promotions.models import PromotionModel

    PromotionModel("P").update(actions=[PromotionModel.starts_at.set("2024-01-01T00:00:00Z")])
    r = get(api, tokens_["hq"], "/admin/promotions/P/report")
    assert (r["from"], r["to"], len(r["days"])) == ("2025-11-26", "2026-11-26", 366)
    assert r["redeemed"] == 2
    status, err = api.call(
        "GET", "/admin/promotions/P/report?from=2025-11-25&to=2026-11-26", token=tokens_["hq"]
    )
    assert (status, err["error"]["code"]) == (400, "range_too_long")
