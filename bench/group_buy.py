"""Group buy figures: ``python bench/group_buy.py [--seats 100]``.

The app's service layer (the code the routes run) on in-process moto with the demo
stores and catalogue (bench/roundtrips.py's harness; every AWS call seen by its botocore
hook). One offer at the bench store, one hot group of ``--seats`` seats:

* ``group_join_calls``: AWS calls of one join (the seat in the order's transaction),
  counted like bench/roundtrips.py (target: 2, like placing an order), with its ``#``
  breakdown; ``group_open_calls`` the same for opening the group.
* ``group_joins_per_s``: joins of the hot group, one after another, per second of wall
  time (moto's time included; one thread: moto serialises transactions anyway).
* ``group_pay_calls``: calls of a held seat's payment (the webhook's 2 plus the group's).
* ``group_success_ms``: the last seat's payment, which fills the group and releases every
  member's order with its ticket.

Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import roundtrips as rt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seats", type=int, default=100)
    seats = parser.parse_args().seats
    rt.prepare_environment()
    meter = rt.AwsMeter().install()
    with rt.in_process_aws():
        import msgspec
        from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
        from chalicelib.campaign_budgets import live
        from chalicelib.campaign_budgets.models import CampaignModel, starts_key
        from chalicelib.group_buys import routes as _routes  # noqa: F401  (orders' hooks)
        from chalicelib.group_buys import service as gb
        from chalicelib.group_buys.schemas import OfferBody
        from chalicelib.kernel import clock
        from chalicelib.orders import order_flow, payments
        from chalicelib.orders.payment_providers import provider
        from chalicelib.orders.schemas import PlaceOrder

        now = clock.now()
        starts = clock.iso(now - timedelta(hours=1))
        CampaignModel(
            "CMPBENCH",
            name="拼团 bench",
            grade="A",
            state="live",
            starts_at=starts,
            ends_at=clock.iso(now + timedelta(days=1)),
            starts_key=starts_key(starts, "CMPBENCH"),
            budget_hq_fen=10**9,
            budget_fen=10**9,
            left_fen=10**9,
            created_by="bench",
            created_at=starts,
            updated_at=starts,
        ).save()
        live.forget_cache()
        sku = rt.sellable_skus()[0]
        offer = gb.create_offer(
            Principal("hq-bench", HQ_ADMIN),
            msgspec.convert(
                {
                    "campaign_id": "CMPBENCH",
                    "title": "bench 百人团",
                    "sku": sku,
                    "group_price_fen": 1,
                    "size": seats,
                    "time_limit_min": 1440,
                    "per_member_limit": 1,
                    "stores": [rt.STORE],
                    "starts_at": starts,
                    "ends_at": clock.iso(now + timedelta(days=1)),
                },
                OfferBody,
            ),
        )
        body = msgspec.convert(
            {"store_id": rt.STORE, "fulfilment": "pickup", "items": [{"sku": sku, "qty": 1}]},
            PlaceOrder,
        )

        def member(i: int) -> Principal:
            return Principal(f"c-bench-{i:04d}", CUSTOMER)

        from chalicelib.promotions import service as promotion_store

        live.spending()  # the caches of a warm container: campaigns, the store's promotions
        promotion_store.active_for(rt.STORE)
        with meter.measure() as calls:
            opened, _ = gb.open_group(member(0), "bench-open-0000", offer.offer_id, body)
        print(f"group_open_calls: {len(calls)}\n# {rt.breakdown(calls)}")
        group_id = order_flow.get(opened.order_id).group_id
        order_ids = [opened.order_id]
        with meter.measure() as calls:
            order, _ = gb.join_group(member(1), "bench-join-0001", group_id, body)
        order_ids.append(order.order_id)
        print(f"group_join_calls: {len(calls)}\n# {rt.breakdown(calls)}")
        started = time.perf_counter()
        for i in range(2, seats):
            order, _ = gb.join_group(member(i), f"bench-join-{i:04d}", group_id, body)
            order_ids.append(order.order_id)
        took = time.perf_counter() - started
        print(f"group_joins_per_s: {(seats - 2) / took:.1f}" if seats > 2 else "")

        def notice(order_id: str) -> tuple[dict[str, str], bytes]:
            o = order_flow.get(order_id)
            return provider("local").make_notification(order_id, int(o.total_fen))

        for order_id in order_ids[:-2]:
            payments.notify("local", *notice(order_id))
        headers, raw = notice(order_ids[-2])
        with meter.measure() as calls:
            payments.notify("local", headers, raw)
        print(f"group_pay_calls: {len(calls)}\n# {rt.breakdown(calls)}")
        headers, raw = notice(order_ids[-1])
        started = time.perf_counter()
        payments.notify("local", headers, raw)
        print(f"group_success_ms: {(time.perf_counter() - started) * 1000:.0f}")
        print(f"# group {gb._group_or_none(group_id).state}, {seats} seats")  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
