"""Two demo campaigns over the demo history, so the campaign pages show real figures on
a fresh ``./daojia up`` (issue 16's acceptance).

* **An ended campaign**, "国庆 · 门店狂欢" (grade A, every store): its window is the 7
  local days ending 10 days ago, so it and its baseline (the 7 days before) lie inside
  history's 60 days whatever the date, and it ended before the live one started. It
  holds a tiered promotion (满99减15, every product). Created through the campaigns
  service; the service's launch refuses a window that has ended (the checklist's
  ``window`` check), so its states are written as the tick job would have written them:
  draft -> scheduled -> live -> ended in one conditional write with a recorded transition
  per step (actor ``demo_seed``), with its spend. The spend is what the promotion would
  have given on its window's history orders (15.00 on each sale of 99.00 or more): the
  same amounts are set on those orders' ``report_orders.disc`` and the days' rollups
  (``report_days.disc``), so the review's redemptions, the campaign's ``discounts_fen``
  and its spend by funder (head office) agree. The history orders themselves are not
  re-priced (their paid amounts stay as written). Then its review is frozen
  (``review.freeze``) and a review note and next goal recorded through the service
  (state reviewed).
* **A live campaign**, "双12 · 年终囤货" (grade S, every store), from 7 days ago to 7
  days ahead, with a tiered promotion on 水果 (满99减15, 满199减40: the second tier
  outbids the demo's chain-wide 满199减30, so the checklist's test order applies it),
  launched through the service (the checklist runs). The checklist's test order is a
  storefront quote, which a closed store refuses: it is launched as of the last local
  noon. Today's traffic comes from real storefront event batches
  (``traffic.ingest.ingest``, the route's code) and a few orders of fruit are placed and
  paid (``orders.service.place`` and the local payment simulation,
  ``orders.payments.simulate``) at the stores open now, so its budget shows spend.
* **Traffic days** (``traffic_days``) for every demo store from the ended campaign's
  baseline to yesterday: visitors so that the history's orders convert at 5-15 %, carts
  and checkouts in funnel order, on the campaign's row on its days (``-`` otherwise)
  and the day's ``*`` row.

Deterministic (seeded random, fixed ids, fixed idempotency keys and batch ids) and
idempotent: a campaign in its final state is skipped, traffic rows that exist are not
written, orders are replays of their Idempotency-Key and event batches replays of their
batch id. ``./daojia up`` runs it in the background at the end of ``infra.local.history``
(``--campaigns``), once the report days it reads exist. Alone: ``python -m
infra.local.campaign_history`` against the local stack (after history)."""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

_FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

log = logging.getLogger("daojia.campaign_history")

TZ = ZoneInfo("Asia/Shanghai")
ENDED_ID = "demo-campaign-national-day"
ENDED_PROMO = "demo-cmp-national-day"
LIVE_ID = "demo-campaign-double-12"
LIVE_PROMO = "demo-cmp-double-12-fruit"
LIVE_CATEGORY = "水果"
ENDED_DAYS = 7
ENDED_ENDS_DAYS_AGO = 10  # its last day; the live campaign starts 7 days ago
LIVE_BEFORE, LIVE_AFTER = 7, 7
ENDED_TIERS = [{"threshold_fen": 9900, "off_fen": 1500}]
LIVE_TIERS = [{"threshold_fen": 9900, "off_fen": 1500}, {"threshold_fen": 19900, "off_fen": 4000}]
TODAY_DEVICES = 8  # event batches per store today (one device each)
TODAY_ORDERS = 4
DEMO_ACTOR = ("demo_seed", "system")


def _hq() -> Any:
    from chalicelib.auth.principal import Principal

    return Principal("hq-admin", "hq_admin")


def _local(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _today() -> date:
    from chalicelib.kernel import clock

    return clock.now().astimezone(TZ).date()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def ended_window(today: date) -> tuple[date, date]:
    last = today - timedelta(days=ENDED_ENDS_DAYS_AGO)
    return last - timedelta(days=ENDED_DAYS - 1), last


def live_window(today: date) -> tuple[date, date]:
    return today - timedelta(days=LIVE_BEFORE), today + timedelta(days=LIVE_AFTER)


def _off(tiers: list[dict[str, int]], amount_fen: int) -> int:
    """The tiered discount on an amount: the highest tier reached."""
    off = 0
    for t in tiers:
        if amount_fen >= t["threshold_fen"]:
            off = t["off_fen"]
    return off


def _history_orders(day: date) -> dict[str, list[dict[str, Any]]]:
    """store_id -> history's orders of that day (re-derived: deterministic)."""
    from infra.local import demo_data, history

    products = {p["sku"]: p for p in demo_data.products()}
    members = [m["customer_id"] for m in demo_data.members()]
    out = {}
    for idx, store in enumerate(demo_data.stores()):
        items = history._store_items(store["store_id"], products)
        out[store["store_id"]] = history._orders_of_day(store, day, items, members, idx)
    return out


def _campaign(campaign_id: str) -> Any:
    from chalicelib.campaign_budgets.models import CampaignModel
    from pynamodb.exceptions import DoesNotExist

    try:
        return CampaignModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        return None


def _promotion(promotion_id: str, name: str, first: date, last: date, **extra: Any) -> None:
    """A tiered promotion over the window (the promotions service, fixed id; skipped once
    it exists: once in a campaign it names it)."""
    import msgspec
    from chalicelib.kernel import clock
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions.models import PromotionModel
    from chalicelib.promotions.schemas import PromotionCreate

    if PromotionModel.count(promotion_id) > 0:
        return
    body = {
        "promotion_id": promotion_id,
        "kind": "tiered",
        "name": name,
        "starts_at": clock.iso(_local(first)),
        "ends_at": clock.iso(_local(last + timedelta(days=1))),
        **extra,
    }
    from infra.local.seed import publish

    publish(promotions.create(_hq(), msgspec.convert(body, PromotionCreate)))


def _create(campaign_id: str, body: dict[str, Any]) -> Any:
    import msgspec
    from chalicelib.campaigns import service as campaigns
    from chalicelib.campaigns.schemas import CampaignCreate

    campaigns.create(_hq(), msgspec.convert({"campaign_id": campaign_id, **body}, CampaignCreate))
    return _campaign(campaign_id)


# --- traffic ----------------------------------------------------------------------------


def _traffic_row(rng: random.Random, placed: int, lift: float) -> dict[str, Any]:
    """A day's counters for ``placed`` orders: conversion 5-15 % (lower on campaign days,
    which bring more visitors), carts and checkouts in funnel order."""
    conversion = rng.uniform(0.08, 0.14) / lift
    visitors = max(placed + 1, round(placed / conversion))
    cart_visitors = max(placed, round(visitors * rng.uniform(0.3, 0.45)))
    checkout_visitors = max(placed, min(cart_visitors, round(placed * rng.uniform(1.1, 1.5))))
    visits = round(visitors * rng.uniform(1.1, 1.4))
    return {
        "visits": visits,
        "visitors": visitors,
        "product_views": round(visits * rng.uniform(3, 6)),
        "carts": round(cart_visitors * rng.uniform(1.2, 1.8)),
        "cart_visitors": cart_visitors,
        "checkouts": round(checkout_visitors * rng.uniform(1.0, 1.2)),
        "checkout_visitors": checkout_visitors,
    }


def seed_traffic(today: date) -> int:
    """Traffic days for every demo store from the ended campaign's baseline to
    yesterday (rows that exist are left as they are). Returns the rows written."""
    from chalicelib.kernel import clock
    from chalicelib.traffic.models import ALL_CAMPAIGNS, NO_CAMPAIGN, TrafficDayModel
    from chalicelib.traffic.models import day_campaign as key

    e_first, e_last = ended_window(today)
    l_first, _ = live_window(today)
    first, last = e_first - timedelta(days=ENDED_DAYS), today - timedelta(days=1)
    expires = clock.now() + timedelta(days=800)
    written = 0
    for day in _days(first, last):
        in_ended = e_first <= day <= e_last
        campaign = ENDED_ID if in_ended else LIVE_ID if day >= l_first else NO_CAMPAIGN
        lift = 1.3 if campaign != NO_CAMPAIGN else 1.0
        for sid, orders in _history_orders(day).items():
            cond = TrafficDayModel.day_campaign.startswith(f"{day}#")
            existing = list(TrafficDayModel.query(sid, cond, limit=1))
            if existing:
                continue  # the day has counters (seeded before, or real events)
            rng = random.Random(f"traffic:{sid}:{day.isoformat()}")
            row = _traffic_row(rng, len(orders), lift)
            with TrafficDayModel.batch_write() as batch:
                batch.save(
                    TrafficDayModel(
                        sid,
                        key(day.isoformat(), campaign),
                        **row,
                        updated_at=clock.now_iso(),
                        expires_at=expires,
                    )
                )
                distinct = ("visitors", "cart_visitors", "checkout_visitors")
                batch.save(
                    TrafficDayModel(
                        sid,
                        key(day.isoformat(), ALL_CAMPAIGNS),
                        **{k: v for k, v in row.items() if k in distinct},
                        updated_at=clock.now_iso(),
                        expires_at=expires,
                    )
                )
            written += 2
    return written


def seed_today_events(today: date) -> int:
    """A few storefront event batches per store today, naming the live campaign, through
    traffic's ingest (the route's code). Fixed batch ids and times (the first minutes of
    today), so a rerun is a replay that counts nothing. Returns the events counted."""
    import msgspec
    from chalicelib.kernel import clock
    from chalicelib.traffic import ingest
    from chalicelib.traffic.schemas import EventBatch

    from infra.local import demo_data, history

    products = {p["sku"]: p for p in demo_data.products()}
    start = _local(today)
    counted = 0
    for store in demo_data.stores():
        sid = store["store_id"]
        skus = [i["sku"] for i in history._store_items(sid, products)]
        rng = random.Random(f"events:{sid}:{today.isoformat()}")
        for n in range(TODAY_DEVICES):
            at = clock.iso(start + timedelta(seconds=10 * n + 1))  # never ahead of now
            events: list[dict[str, Any]] = [{"type": "visit_store"}]
            events += [{"type": "view_product", "sku": s} for s in rng.sample(skus, 4)]
            if n % 2 == 0:
                events.append({"type": "add_to_cart", "sku": rng.choice(skus)})
            if n % 4 == 0:
                events.append({"type": "start_checkout"})
            body = {
                "batch_id": f"demo-{today:%Y%m%d}-{sid}-{n:02d}",
                "device_id": f"demo-device-{sid}-{n:03d}",
                "events": [
                    {**e, "store_id": sid, "at": at, "campaign_id": LIVE_ID} for e in events
                ],
            }
            result = ingest.ingest(msgspec.convert(body, EventBatch))
            counted += 0 if result.duplicate else result.accepted
    return counted


# --- the ended campaign -----------------------------------------------------------------


def _ended_discounts(today: date) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(store, day) -> [(order_id, discount)] the ended campaign's promotion gave on the
    history's sales of its window."""
    first, last = ended_window(today)
    out: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for day in _days(first, last):
        for sid, orders in _history_orders(day).items():
            out[(sid, day.isoformat())] = [
                (o["order_id"], off)
                for o in orders
                if not o["cancelled"] and (off := _off(ENDED_TIERS, o["paid_fen"]))
            ]
    return out


def _write_discounts(discounts: dict[tuple[str, str], list[tuple[str, int]]]) -> None:
    """The promotion's discounts on the history's report rows and day rollups, as
    order.paid would have left them (reports/service.py)."""
    from chalicelib.reports import rules
    from chalicelib.reports.models import ReportDayModel, ReportOrderModel

    source = f"p:{ENDED_PROMO}"
    for (sid, day), orders in discounts.items():
        for order_id, off in orders:
            encoded = rules.encode_disc({source: off})
            assert encoded is not None  # off > 0
            ReportOrderModel(order_id).update(
                actions=[ReportOrderModel.disc.set(encoded)],
                condition=ReportOrderModel.order_id.exists(),
            )
        if orders:
            disc = {source: [len(orders), sum(off for _, off in orders)]}
            ReportDayModel(sid, day).update(
                actions=[ReportDayModel.disc.set(rules.dump_json(disc))],
                condition=ReportDayModel.store_id.exists(),
            )


def seed_ended(today: date) -> str:
    """The ended campaign, reviewed. Returns what was done."""
    from chalicelib.campaign_budgets.models import CampaignModel as C
    from chalicelib.campaigns import review
    from chalicelib.campaigns import service as campaigns
    from chalicelib.campaigns.schemas import Goal, ReviewNote
    from chalicelib.db.transitions import Who
    from chalicelib.kernel import clock

    existing = _campaign(ENDED_ID)
    if existing is not None and existing.state == "reviewed":
        return "ended campaign: already reviewed"
    first, last = ended_window(today)
    discounts = _ended_discounts(today)
    spent = sum(off for orders in discounts.values() for _, off in orders)
    n_orders = sum(len(orders) for orders in discounts.values())
    _promotion(ENDED_PROMO, "国庆 满99减15", first, last, tiers=ENDED_TIERS)
    m = existing or _create(
        ENDED_ID,
        {
            "name": "国庆 · 门店狂欢",
            "grade": "A",
            "starts_at": clock.iso(_local(first)),
            "ends_at": clock.iso(_local(last + timedelta(days=1))),
            "stores_mode": "all",
            "goal": {"gmv_fen": 30_000_000, "orders": 2_000, "new_members": 50},
            "plan_notes": "全场满99减15，门店海报与社群推送同步；总部承担满减。",
            "budget": {"hq_fen": 800_000, "store_fen": 200_000, "supplier_fen": 100_000},
            "promotion_ids": [ENDED_PROMO],
        },
    )
    if m.state == "draft":
        _write_discounts(discounts)
        # What the tick job would have written at its start and end, with the spend the
        # orders' transactions would have taken (its promotion is funded by head office).
        campaigns._move(
            m,
            ["launch", "start", "end"],
            Who(*DEMO_ACTOR),
            extra=[
                C.left_fen.set(int(m.budget_fen) - spent),
                C.discounts_fen.set(spent),
                C.spent_hq_fen.set(spent),
                C.spending_orders.set(n_orders),
            ],
            reason="demo history",
        )
    review.freeze(ENDED_ID)
    if _campaign(ENDED_ID).state == "ended":
        campaigns.review_note(
            _hq(),
            ENDED_ID,
            ReviewNote(
                note="客流明显上升，但转化率偏低：满减门槛偏高，下次降到69元并加推生鲜单品。",
                next_goal=Goal(gmv_fen=32_000_000, orders=2_200, new_members=60),
            ),
        )
    return f"ended campaign: reviewed, {n_orders} orders discounted, spent {spent} fen"


# --- the live campaign ------------------------------------------------------------------


def _last_noon() -> datetime:
    from chalicelib.kernel import clock

    now = clock.now().astimezone(TZ)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= now else noon - timedelta(days=1)


def seed_live(today: date) -> str:
    from chalicelib.campaigns import service as campaigns
    from chalicelib.kernel import clock

    first, last = live_window(today)
    _promotion(
        LIVE_PROMO,
        "双12 水果 满99减15 满199减40",
        first,
        last,
        tiers=LIVE_TIERS,
        scope={"categories": [LIVE_CATEGORY]},
    )
    m = _campaign(LIVE_ID) or _create(
        LIVE_ID,
        {
            "name": "双12 · 年终囤货",
            "grade": "S",
            "starts_at": clock.iso(_local(first)),
            "ends_at": clock.iso(_local(last + timedelta(days=1))),
            "stores_mode": "all",
            "goal": {"gmv_fen": 60_000_000, "orders": 4_000, "aov_fen": 15_000},
            "plan_notes": "水果满99减15、满199减40；会员日叠加积分，门店堆头陈列。",
            "budget": {"hq_fen": 1_500_000, "store_fen": 500_000, "supplier_fen": 500_000},
            "promotion_ids": [LIVE_PROMO],
        },
    )
    did = []
    if m.state == "draft":
        with clock.as_of(_last_noon()):  # the test order quotes a store that is open
            campaigns.launch(_hq(), LIVE_ID)
        did.append("launched")
    if campaigns.tick():
        did.append("live")
    # this process may have cached the promotions and spending campaigns before these
    from chalicelib.campaign_budgets import live
    from chalicelib.promotions import service as promotions

    promotions.forget_active_cache()
    live.forget_cache()
    events = seed_today_events(today)
    orders = place_orders(today)
    return f"live campaign: {', '.join(did) or 'already live'}, {events} events, {orders} orders"


def _fruit_cart(sid: str, rng: random.Random) -> list[dict[str, Any]]:
    """Fruit lines worth 120.00 to about 280.00 at the store's prices."""
    from infra.local import demo_data, history

    products = {p["sku"]: p for p in demo_data.products()}
    flash = {p["sku"] for p in demo_data.promotions() if p["kind"] == "flash_sale"}
    fruit = [
        i
        for i in history._store_items(sid, products)
        if i["category1"] == LIVE_CATEGORY and i["sku"] not in flash  # priced on their own
    ]
    rng.shuffle(fruit)
    # above 99.00 once member prices (up to about 5 % off) are taken
    target = rng.choice((12000, 16000, 22000))
    lines, total = [], 0
    for item in fruit:
        qty = max(1, min(3, (target - total) // max(item["price_fen"], 1) or 1))
        lines.append({"sku": item["sku"], "qty": qty})
        total += qty * item["price_fen"]
        if total >= target:
            break
    return lines


def place_orders(today: date) -> int:
    """A few fruit orders today, placed and paid as a customer would (the order service
    and the local payment simulation), at the stores open now. Fixed Idempotency-Keys:
    a rerun the same day replays them. Returns the orders placed or paid by this run."""
    import msgspec
    from chalicelib.auth.principal import CUSTOMER, Principal
    from chalicelib.kernel.errors import ApiError
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import PlaceOrder

    from infra.local import demo_data

    members = [m["customer_id"] for m in demo_data.members()]
    stores = [s["store_id"] for s in demo_data.stores()]
    done = 0
    for n in range(TODAY_ORDERS):
        who = Principal(members[n % len(members)], CUSTOMER)
        rng = random.Random(f"order:{today.isoformat()}:{n}")
        for sid in stores[n % len(stores) :] + stores[: n % len(stores)]:
            body = {"store_id": sid, "fulfilment": "pickup", "items": _fruit_cart(sid, rng)}
            try:
                order, created = orders.place(
                    who, f"demo-cmp-{today:%Y%m%d}-{n}", msgspec.convert(body, PlaceOrder)
                )
            except ApiError as err:
                if err.code in ("store_closed", "validation_failed"):  # closed, or no stock
                    continue
                log.warning(
                    "campaign_history: order %d at %s refused: %s %s", n, sid, err.code, err
                )
                break
            if order.status == "awaiting_payment":
                payments.simulate(who, order.order_id)
                done += 1
            elif created:
                done += 1
            break
    return done


def seed_campaigns(today: date | None = None) -> list[str]:
    """Both campaigns and their traffic (history's report days must exist)."""
    today = today or _today()
    return [
        f"traffic: {seed_traffic(today)} rows",
        seed_ended(today),
        seed_live(today),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed the demo campaigns over the history.")
    parser.parse_args(argv)
    from chalicelib.kernel import config

    from infra.local.seed import _require_loopback_endpoint

    _require_loopback_endpoint()
    if not config.is_local():
        raise SystemExit(f"campaigns: refusing to write demo campaigns into stage {config.STAGE!r}")
    started = time.perf_counter()
    for line in seed_campaigns():
        print(f"campaigns: {line}")
    print(f"campaigns: done ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
