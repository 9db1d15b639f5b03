"""Sixty days of order history for the demo stores, so the admin site's charts show
real figures on a fresh ``./daojia up``.

Plausible completed orders (a few cancelled, some partly refunded), their first tickets
(printed, now and then missed first) and the lines their order.paid events would have
left in ``report_orders`` are written in batches, and each day's rollup with the reports'
own arithmetic (``rules.day_figures``) on the same figures: what the backfill
(``service.rollup_day``) computes from those items, which a test checks, without reading
them all back (on moto that took most of a minute). Deterministic (a fixed seed per store
and day); days already rolled up are skipped, so a second run writes nothing, and a run
on a later day adds only the days that are new. Today is left to real orders.

History orders are pickup orders of the demo members, "completed" (or "cancelled"), so
the store's open work queues stay as they are.

``./daojia up`` runs it in the background once the demo data is seeded (about 3,000 orders:
some 20 s on moto, which would double the stack's start time if it waited), and says so in
its banner; ``--no-history`` leaves it out. Alone: ``python -m infra.local.history``
against the local stack.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a module by the local stack, like infra.local.seed: the API's code beside it.
_FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

DAYS = 60
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _orders_of_day(
    store: dict[str, Any], day: date, items: list[dict[str, Any]], members: list[str], idx: int
) -> list[dict[str, Any]]:
    """The day's orders of one store, as plain dicts (deterministic)."""
    rng = random.Random(f"{store['store_id']}:{day.isoformat()}")
    tz = ZoneInfo(store.get("timezone") or "Asia/Shanghai")
    weekend = day.weekday() >= 5
    n = max(3, int(rng.gauss(8 + 3 * idx + (4 if weekend else 0), 3)))
    out = []
    for seq in range(n):
        local = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(
            seconds=rng.randint(8 * 3600, 21 * 3600 + 59 * 60)
        )
        lines = []
        for item in rng.sample(items, k=min(len(items), rng.choice((1, 1, 2, 2, 3, 4, 5)))):
            qty = rng.choice((1, 1, 1, 2, 2, 3))
            lines.append((item, qty, item["price_fen"] * qty))
        paid = sum(fen for _, _, fen in lines)
        cancelled = rng.random() < 0.02
        refunded = paid if cancelled else (lines[0][2] if rng.random() < 0.06 else 0)
        code = "".join(rng.choice(_ALPHABET) for _ in range(6))
        out.append(
            {
                "order_id": f"{local.strftime('%y%m%d')}H{_ALPHABET[idx]}{code}",
                "seq": seq,
                "created": local,
                "paid_at": local + timedelta(seconds=rng.randint(20, 180)),
                "lines": lines,
                "paid_fen": paid,
                "refunded_fen": refunded,
                "cancelled": cancelled,
                "customer_id": rng.choice(members),
                "latency_s": round(rng.lognormvariate(1.3, 0.5), 3),
                "missed": rng.random() < 0.01,
            }
        )
    return out


def _completed_at(o: dict[str, Any]) -> datetime:
    return o["paid_at"] + timedelta(hours=2)


def _window(store: dict[str, Any], days: int, today: date | None) -> tuple[date, date]:
    """The history's first and last day for a store: the ``days`` before today."""
    from chalicelib.kernel import clock, hours

    tz = hours.zone(store.get("timezone") or "Asia/Shanghai")
    last = (today or clock.now().astimezone(tz).date()) - timedelta(days=1)
    return last - timedelta(days=days - 1), last


def _store_items(sid: str, products: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What a store sells, with the product's fields (name, price, category, fresh)."""
    from infra.local import demo_data

    return [
        {**i, **products[i["sku"]]}
        for i in demo_data.store_items()
        if i["store_id"] == sid and i["sku"] in products and i.get("on_sale", True)
    ]


def completed_orders(days: int = DAYS, today: date | None = None) -> list[dict[str, Any]]:
    """The completed orders ``seed_history`` writes (or wrote) for the same days,
    re-derived without reading them (deterministic), oldest first, as what their
    order.completed events would carry: order_id, customer_id, store_id, completed_at,
    paid_fen, refunded_fen and lines (category1, fresh, qty, paid_fen, refunded_units,
    refunded_fen). infra/local/member_history.py counts them into the demo members'
    aggregates."""
    from infra.local import demo_data

    products = {p["sku"]: p for p in demo_data.products()}
    members = [m["customer_id"] for m in demo_data.members()]
    out: list[dict[str, Any]] = []
    for idx, store in enumerate(demo_data.stores()):
        sid = store["store_id"]
        first, last = _window(store, days, today)
        items = _store_items(sid, products)
        day = first
        while day <= last:
            for o in _orders_of_day(store, day, items, members, idx):
                if o["cancelled"]:
                    continue
                refunded = bool(o["refunded_fen"])
                out.append(
                    {
                        "order_id": o["order_id"],
                        "customer_id": o["customer_id"],
                        "store_id": sid,
                        "completed_at": _iso(_completed_at(o)),
                        "paid_fen": o["paid_fen"],
                        "refunded_fen": o["refunded_fen"],
                        "lines": [
                            {
                                "sku": item["sku"],
                                "category1": item["category1"],
                                "fresh": bool(item.get("fresh")),
                                "qty": qty,
                                "paid_fen": fen,
                                "refunded_units": qty if refunded and not n else 0,
                                "refunded_fen": fen if refunded and not n else 0,
                            }
                            for n, (item, qty, fen) in enumerate(o["lines"])
                        ],
                    }
                )
            day += timedelta(days=1)
    out.sort(key=lambda o: (o["completed_at"], o["order_id"]))
    return out


def seed_history(days: int = DAYS, today: date | None = None) -> int:
    """Write the history of the ``days`` days before ``today`` (store time zone) for each
    demo store and roll them up. Returns how many orders were written."""
    from chalicelib.kernel import clock
    from chalicelib.orders.models import OrderDetailModel, OrderLineAttribute, OrderModel
    from chalicelib.printing.models import PrintJobModel
    from chalicelib.reports import rules, service
    from chalicelib.reports.models import KEEP_DAYS, ReportDayModel, ReportOrderModel

    from infra.local import demo_data

    products = {p["sku"]: p for p in demo_data.products()}
    category_of = {sku: p["category1"] for sku, p in products.items()}
    members = [m["customer_id"] for m in demo_data.members()]
    written = 0
    for idx, store in enumerate(demo_data.stores()):
        sid = store["store_id"]
        first, last = _window(store, days, today)
        # Days with orders already rolled up are done. An empty rollup is not: the
        # worker's report_rollups job may have rolled yesterday up (empty) before this
        # background run reached the store; its next run recomputes what is written here.
        done = {
            i.day
            for i in ReportDayModel.query(
                sid, ReportDayModel.day.between(first.isoformat(), last.isoformat())
            )
            if i.orders or i.cancelled
        }
        todo = [d for d in rules.days_between(first, last) if d not in done]
        if not todo:
            continue
        items = _store_items(sid, products)
        by_day: dict[str, list[rules.DayOrder]] = {}
        with (
            OrderModel.batch_write() as orders,
            OrderDetailModel.batch_write() as details,
            PrintJobModel.batch_write() as jobs,
            ReportOrderModel.batch_write() as rows,
        ):
            for day in todo:
                for o in _orders_of_day(store, date.fromisoformat(day), items, members, idx):
                    status = "cancelled" if o["cancelled"] else "completed"
                    # no status history on these items: their completion time is
                    # updated_at (events/records.py changed_at), see completed_orders
                    job_id = f"{o['order_id']}-p1"
                    printed = o["paid_at"] + timedelta(
                        seconds=o["latency_s"] + (300 if o["missed"] else 0)
                    )
                    # Final orders are in no work-queue bucket (order_flow.queue_key);
                    # the lines are in the order's detail item.
                    orders.save(
                        OrderModel(
                            o["order_id"],
                            customer_id=o["customer_id"],
                            store_id=sid,
                            fulfilment="pickup",
                            status=status,
                            store_day=f"{sid}#{day}",
                            total_fen=o["paid_fen"],
                            paid_fen=o["paid_fen"],
                            refunded_fen=o["refunded_fen"],
                            paid_at=_iso(o["paid_at"]),
                            print_job_ids={job_id},
                            expires_at=_iso(o["created"] + timedelta(minutes=15)),
                            created_at=_iso(o["created"]),
                            updated_at=_iso(_completed_at(o)),
                            version=1,
                        )
                    )
                    details.save(
                        OrderDetailModel(
                            o["order_id"],
                            lines=[
                                OrderLineAttribute(
                                    sku=item["sku"],
                                    name=item["name"],
                                    unit=item.get("unit") or "份",
                                    category1=item["category1"],
                                    category2=item.get("category2") or "",
                                    unit_price_fen=item["price_fen"],
                                    qty=qty,
                                    amount_fen=fen,
                                    paid_fen=fen,
                                    fresh=bool(item.get("fresh")),
                                    # a refund is of the first line, whole
                                    refunded_units=qty if o["refunded_fen"] and not n else 0,
                                    refunded_fen=fen if o["refunded_fen"] and not n else 0,
                                )
                                for n, (item, qty, fen) in enumerate(o["lines"])
                            ],
                            subtotal_fen=o["paid_fen"],
                        )
                    )
                    jobs.save(
                        PrintJobModel(
                            job_id,
                            store_id=sid,
                            order_id=o["order_id"],
                            kind="order",
                            copies={"picking", "delivery"},
                            acked_copies={"picking", "delivery"},
                            status="printed",
                            store_status=f"{sid}#resolved" if o["missed"] else None,
                            attempts=2 if o["missed"] else 1,
                            created_at=_iso(o["paid_at"]),
                            printed_at=_iso(printed),
                        )
                    )
                    rows.save(
                        ReportOrderModel(
                            o["order_id"],
                            lines=rules.encode_lines(
                                rules.Line(item["sku"], qty, fen) for item, qty, fen in o["lines"]
                            ),
                            cancelled=True if o["cancelled"] else None,
                            expires_at=clock.now() + timedelta(days=KEEP_DAYS),
                        )
                    )
                    by_day.setdefault(day, []).append(
                        rules.DayOrder(
                            paid=True,
                            paid_fen=o["paid_fen"],
                            refunded_fen=o["refunded_fen"],
                            cancelled=o["cancelled"],
                            lines=tuple(
                                rules.Line(item["sku"], qty, fen) for item, qty, fen in o["lines"]
                            ),
                            latency_s=service.latency_s(_iso(o["paid_at"]), _iso(printed)),
                            missed=o["missed"],
                        )
                    )
                    written += 1
        with ReportDayModel.batch_write() as rollups:
            for day, day_orders in by_day.items():
                figures = rules.day_figures(day_orders, category_of)
                rollups.save(service.to_item(sid, day, figures))
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the history against the local stack, print what was written."""
    parser = argparse.ArgumentParser(description="Seed the demo stores' order history.")
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument(
        "--campaigns",
        action="store_true",
        help="then the demo campaigns over it (infra/local/campaign_history.py)",
    )
    args = parser.parse_args(argv)
    from chalicelib.kernel import config

    from infra.local.seed import _require_loopback_endpoint

    _require_loopback_endpoint()
    if not config.is_local():
        raise SystemExit(f"history: refusing to write demo orders into stage {config.STAGE!r}")
    started = time.perf_counter()
    n = seed_history(args.days)
    print(f"history: {n} orders over {args.days} days ({time.perf_counter() - started:.1f} s)")
    if args.campaigns:  # they read the report days just written
        from infra.local import campaign_history

        return campaign_history.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
