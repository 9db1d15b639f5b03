"""Member history for the demo: about 2,000 extra members and every demo member's
aggregates (``member_stats``), so the customer pages (lifecycle stages, RFM groups, the
20/80 view, the recall list) show real figures on a fresh ``./daojia up``.

- **History members** ``c-hist-0001`` ... ``c-hist-2000``: phones 19900000001 ...
  19900002000 (a block no demo or test phone uses), nicknames, registered over the last
  30 months, sources (store, shelf, staff, campaign, ticket, invite) and home stores
  spread over the 4 demo stores, a level from their spend, marketing consent granted,
  revoked or never asked, a few erased. Each follows one order PATTERN (``PATTERNS``):
  loyal big spenders still buying, big spenders lapsed 5-9 months, one-order new
  members, frequent small buyers, lapsed and lost ones, members who never ordered...
  so that every lifecycle stage and every RFM group has members, and each store's
  recall list has lapsed members with several orders. Their orders are synthetic (not
  in the orders table): only what their completion events would have carried, counted
  by the REAL rules (customers/rules.py ``apply_completion``, ``apply_refunds``).
- **The 24 demo members** ``c-demo-NN``: the completions of the 60 days of orders
  infra/local/history.py writes, re-derived deterministically
  (``history.completed_orders``), counted through customers/aggregates.py ``change``
  (conditional: an order a member places meanwhile is counted by its event as well).

Deterministic (a seed per member, dates relative to today) and idempotent: history
members already there are skipped (one BatchGetItem per 100), and the demo members'
orders are recorded on their item, so a second run writes nothing new. Batch writes
(BatchWriteItem): a few seconds on moto. ``./daojia up`` runs it in the background
after infra/local/history.py; alone: ``python -m infra.local.member_history`` against
the local stack.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

_FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

MEMBERS = 2000
PHONE_BLOCK = "199"  # 199 0000 NNNN: no demo (138/158/188/139) or test phone
REGISTERED_MONTHS = 30
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"  # split: line length
    "许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
)
_TITLES = ("女士", "先生", "阿姨", "小姐", "老师")
# category1 -> fresh (the demo catalogue's)
_CATEGORIES = {
    "水果": True,
    "蔬菜": True,
    "肉禽蛋": True,
    "水产": True,
    "乳品烘焙": True,
    "粮油调味": False,
    "酒水饮料": False,
    "休闲零食": False,
    "日用清洁": False,
}


@dataclass(frozen=True)
class Pattern:
    """How a kind of member orders: how many orders, their size, and when the last one
    was (days before today); the others are spread back from it."""

    name: str
    share: int  # members out of 100
    orders: tuple[int, int]
    order_yuan: tuple[int, int]
    last_days_ago: tuple[int, int]
    gap_days: tuple[int, int]  # between two orders
    stores: int = 1  # how many stores they buy in (the first is the favourite)


# Recency by months since the last order: 0-3 joining (active), 4-6 awakening, 7-9
# churn recall, 10-12 dormant, > 12 lost. "High" R/F/M is a quintile score of 4-5, so the
# patterns keep clear of the cut-offs: frequent = 8+ orders, big = ¥1,000+ in all.
PATTERNS = (
    Pattern("loyal_big_spender", 8, (14, 30), (120, 320), (1, 20), (5, 14), 2),
    Pattern("new_big_spender", 5, (1, 2), (900, 1600), (1, 60), (3, 20)),
    Pattern("frequent_small_buyer", 8, (10, 18), (6, 15), (1, 25), (3, 8)),
    Pattern("new_one_order", 12, (1, 1), (15, 60), (1, 80), (1, 1)),
    Pattern("regular", 10, (3, 6), (40, 120), (1, 80), (10, 30)),
    Pattern("lapsed_big_spender", 8, (8, 16), (150, 350), (150, 280), (6, 20), 2),
    Pattern("lapsed_frequent_small", 6, (9, 15), (6, 14), (120, 330), (3, 10)),
    Pattern("lapsed_big_once", 5, (1, 2), (1000, 1800), (120, 360), (5, 30)),
    Pattern("lapsed_small", 10, (1, 3), (15, 60), (120, 370), (10, 40)),
    Pattern("lost", 10, (1, 5), (20, 150), (380, 780), (10, 30)),
    Pattern("never_ordered", 18, (0, 0), (0, 0), (0, 0), (1, 1)),
)
_SOURCES = (
    ("store", 40),
    ("shelf", 15),
    ("staff", 20),
    ("campaign", 10),
    ("ticket", 10),
    ("invite", 5),
)
_LEVELS = ((12000, "V5"), (5000, "V4"), (2000, "V3"), (500, "V2"), (0, "V1"))  # yuan


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def pattern_of(n: int) -> Pattern:
    """Member n's pattern: the shares dealt out in turn, so any 100 members in a row hold
    every pattern in its share."""
    slot = (n * 37) % 100  # 37 is prime to 100: a permutation of the slots
    for p in PATTERNS:
        if slot < p.share:
            return p
        slot -= p.share
    raise AssertionError("shares add up to 100")


def plan_member(n: int, today: date, store_ids: list[str]) -> dict[str, Any]:
    """History member n as plain data: the member item's fields and the completions
    their orders' events would carry, oldest first (deterministic for n and today)."""
    from chalicelib.customers import rules

    rng = random.Random(f"member-history:{n}")
    p = pattern_of(n)
    tz = rules.TZ
    home = store_ids[rng.randrange(len(store_ids))]
    others = [s for s in store_ids if s != home]
    rng.shuffle(others)
    stores = [home, *others][: p.stores]
    count = rng.randint(*p.orders)
    completions: list[dict[str, Any]] = []
    day = today - timedelta(days=rng.randint(*p.last_days_ago))
    days: list[date] = []
    for _ in range(count):
        days.append(day)
        day -= timedelta(days=rng.randint(*p.gap_days))
    days.reverse()
    for k, d in enumerate(days):
        at = datetime(d.year, d.month, d.day, tzinfo=tz) + timedelta(
            seconds=rng.randint(8 * 3600, 21 * 3600)
        )
        store = stores[0] if len(stores) == 1 or rng.random() < 0.7 else rng.choice(stores[1:])
        total = rng.randint(*p.order_yuan) * 100 + rng.choice((0, 50, 90))
        cats = rng.sample(sorted(_CATEGORIES), k=rng.randint(1, 4))
        shares = [rng.randint(1, 5) for _ in cats]
        lines = []
        left = total
        for i, (c, w) in enumerate(zip(cats, shares, strict=True)):
            fen = left if i == len(cats) - 1 else total * w // sum(shares)
            left -= fen
            lines.append(
                {"category1": c, "fresh": _CATEGORIES[c], "qty": rng.randint(1, 3), "paid_fen": fen}
            )
        # now and then a line refunded at completion (short-picked), or after it (a return)
        refund = rng.random()
        refunded_line = 0 if refund < 0.05 else (1 if refund < 0.08 else None)
        completions.append(
            {
                "order_id": f"HIST-{n:04d}-{k:02d}",
                "store_id": store,
                "completed_at": _iso(at),
                "paid_fen": total,
                "lines": lines,
                "refund_after": refunded_line == 1,
                "refund_at_completion": refunded_line == 0,
            }
        )
    first_order = days[0] if days else today
    # registered before the first order: over the last 30 months for those who never
    # ordered, up to a year before it otherwise (new members: days before)
    if not days:
        joined = today - timedelta(days=rng.randint(0, REGISTERED_MONTHS * 30))
    elif p.name.startswith("new_"):
        joined = first_order - timedelta(days=rng.randint(0, 10))
    else:
        joined = first_order - timedelta(days=rng.randint(0, 365))
    earliest = today - timedelta(days=REGISTERED_MONTHS * 30)
    joined = max(min(joined, first_order), min(earliest, first_order))
    created = datetime(joined.year, joined.month, joined.day, tzinfo=tz) + timedelta(
        seconds=rng.randint(7 * 3600, 22 * 3600)
    )
    if days:  # registered just before a first order on the same day
        created = min(
            created,
            datetime.fromisoformat(completions[0]["completed_at"].replace("Z", "+00:00"))
            - timedelta(minutes=5),
        )
    consent = _pick(rng, (("granted", 55), ("revoked", 10), (None, 35)))
    return {
        "n": n,
        "customer_id": f"c-hist-{n:04d}",
        "phone": f"{PHONE_BLOCK}{n:08d}",
        "nickname": f"{_SURNAMES[rng.randrange(len(_SURNAMES))]}{rng.choice(_TITLES)}",
        "home_store_id": home,
        "created_at": _iso(created),
        "source_kind": _pick(rng, _SOURCES),
        "consent": consent,
        "erased": rng.random() < 0.01,
        "pattern": p.name,
        "completions": completions,
    }


def _lines(raw: list[dict[str, Any]], refunded_first: bool) -> list[Any]:
    from chalicelib.customers import rules

    return [
        rules.Line(
            category1=x["category1"],
            fresh=bool(x["fresh"]),
            qty=int(x["qty"]),
            paid_fen=int(x["paid_fen"]),
            refunded_units=int(
                x.get("refunded_units") or (x["qty"] if refunded_first and not i else 0)
            ),
            refunded_fen=int(
                x.get("refunded_fen") or (x["paid_fen"] if refunded_first and not i else 0)
            ),
        )
        for i, x in enumerate(raw)
    ]


def stats_of(completions: list[dict[str, Any]]) -> Any:
    """A history member's aggregates: their completions (and returns after them) counted
    by the real rules, in the order their events would come."""
    from chalicelib.customers import rules

    stats = rules.Stats()
    for c in completions:
        at_completion = c["refund_at_completion"]
        lines = _lines(c["lines"], at_completion)
        refunded = lines[0].refunded_fen if at_completion else 0
        rules.apply_completion(
            stats, c["order_id"], c["store_id"], c["completed_at"], c["paid_fen"], refunded, lines
        )
        if c["refund_after"]:  # the first line returned the day after
            later = _lines(c["lines"], True)
            if c["order_id"] in stats.applied:
                rules.apply_refunds(stats, c["order_id"], later[0].refunded_fen, later)
    return stats


def _level(spend_fen: int) -> str:
    return next(code for yuan, code in _LEVELS if spend_fen >= yuan * 100)


def _stats_item(customer_id: str, stats: Any, now: str) -> Any:
    """The ``member_stats`` item of ``stats``, as customers/aggregates.py ``change``
    writes it (version 1: its first write)."""
    from chalicelib.customers import aggregates, rules
    from chalicelib.customers.models import MemberStatsModel

    item = MemberStatsModel(
        customer_id,
        version=1,
        orders=stats.orders,
        spend_fen=stats.spend_fen,
        maps=aggregates.maps_of(stats),
        updated_at=now,
    )
    favourite = rules.favourite_store(stats)
    if stats.first_date and stats.last_date and favourite:
        item.first_date = stats.first_date
        item.last_date = stats.last_date
        item.last_month = stats.last_date[:7]
        item.favourite_store = favourite
    return item


def _customer_items(m: dict[str, Any], stats: Any, store_ids: list[str]) -> list[Any]:
    """The member item (and its phone mapping, its consent change) as identity and
    members write them; an erased member as members/privacy.py leaves one."""
    from chalicelib.identity.models import CustomerModel, CustomerPhoneModel
    from chalicelib.members.models import MemberConsentModel

    cid, created, kind = m["customer_id"], m["created_at"], m["source_kind"]
    rng = random.Random(f"member-history-source:{m['n']}")
    store = m["home_store_id"]
    source: dict[str, Any] = {"source_kind": kind, "source_at": created}
    if kind in ("store", "shelf", "staff", "campaign", "ticket"):
        source["source_store_id"] = store
    if kind == "store":
        source["source"] = f"DEMO-{store}"
    elif kind == "shelf":
        source["source_shelf"] = rng.choice(("A1", "A3", "B2", "C4"))
    elif kind == "staff":
        source["source_staff"] = f"{store}-staff"  # the demo store account
    elif kind == "campaign":
        source["source_campaign"] = rng.choice(("spring-2025", "mid-autumn", "new-store"))
    elif kind == "ticket":
        source["source_order_id"] = f"HIST-TICKET-{m['n']:04d}"
    else:
        source["invited_by"] = f"c-hist-{max(1, m['n'] - 7):04d}"
    member = CustomerModel(
        cid,
        phone=m["phone"],
        nickname=m["nickname"],
        home_store_id=store,
        created_at=created,
        reg_month=created[:7],
        level=_level(stats.spend_fen),
        **source,
    )
    out: list[Any] = [member]
    consent = m["consent"]
    if consent or m["erased"]:
        at = _iso(datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(minutes=1))
        if consent:
            member.marketing_consent, member.consent_at, member.consent_channel = (
                consent,
                at,
                "miniapp",
            )
            out.append(
                MemberConsentModel(
                    cid,
                    f"{at}#hist",
                    granted=consent == "granted",
                    channel="miniapp",
                    at=at,
                    actor="customer",
                )
            )
    if m["erased"]:
        # erased since (members/privacy.py delete_account): no phone, nickname, level,
        # registration month; consent revoked; the aggregates stay (accounting)
        at = (stats.last_date and f"{stats.last_date}T04:00:00.000Z") or _iso(
            datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(days=3)
        )
        member.erased_at, member.phone, member.nickname = at, "", None
        member.reg_month = member.level = None
        member.marketing_consent, member.consent_at, member.consent_channel = (
            "revoked",
            at,
            "account_deleted",
        )
        out.append(
            MemberConsentModel(
                cid,
                f"{at}#deleted",
                granted=False,
                channel="account_deleted",
                at=at,
                actor="customer",
            )
        )
    else:
        out.append(CustomerPhoneModel(m["phone"], customer_id=cid))
    return out


def _today() -> date:
    from chalicelib.customers import rules
    from chalicelib.kernel import clock

    return clock.now().astimezone(rules.TZ).date()


def seed_history_members(count: int = MEMBERS, today: date | None = None) -> int:
    """Write the history members missing (member, phone, consent, aggregates). Returns
    how many were written."""
    from chalicelib.customers.models import MemberStatsModel
    from chalicelib.identity.models import CustomerModel, CustomerPhoneModel
    from chalicelib.kernel import clock
    from chalicelib.members.models import MemberConsentModel

    from infra.local import demo_data

    today = today or _today()
    store_ids = [s["store_id"] for s in demo_data.stores()]
    now = clock.now_iso()
    ids = [f"c-hist-{n:04d}" for n in range(1, count + 1)]
    there: set[str] = set()
    for i in range(0, len(ids), 100):
        there |= {
            c.customer_id
            for c in CustomerModel.batch_get(ids[i : i + 100], attributes_to_get=["customer_id"])
        }
    written = 0
    with (
        CustomerModel.batch_write() as customers,
        CustomerPhoneModel.batch_write() as phones,
        MemberConsentModel.batch_write() as consents,
        MemberStatsModel.batch_write() as stats_items,
    ):
        writers = {
            CustomerModel: customers,
            CustomerPhoneModel: phones,
            MemberConsentModel: consents,
        }
        for n in range(1, count + 1):
            if f"c-hist-{n:04d}" in there:
                continue
            m = plan_member(n, today, store_ids)
            stats = stats_of(m["completions"])
            for item in _customer_items(m, stats, store_ids):
                writers[type(item)].save(item)
            if stats.orders:
                stats_items.save(_stats_item(m["customer_id"], stats, now))
            written += 1
    return written


def count_demo_orders(days: int | None = None, today: date | None = None) -> int:
    """Count the demo members' history orders (infra/local/history.py) into their
    aggregates, through the events' own path (``aggregates.change``, one conditional
    write per member). Returns how many members' items changed."""
    from chalicelib.customers import aggregates, rules

    from infra.local import history

    by_member: dict[str, list[dict[str, Any]]] = {}
    for o in history.completed_orders(days or history.DAYS, today):
        by_member.setdefault(o["customer_id"], []).append(o)
    changed = 0
    for customer_id, orders in sorted(by_member.items()):

        def apply(stats: rules.Stats, orders: list[dict[str, Any]] = orders) -> bool:
            counted = False
            for o in orders:  # oldest first, as their events come
                counted |= rules.apply_completion(
                    stats,
                    o["order_id"],
                    o["store_id"],
                    o["completed_at"],
                    o["paid_fen"],
                    o["refunded_fen"],
                    _lines(o["lines"], False),
                )
            return counted

        changed += aggregates.change(customer_id, apply)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed the demo's member history.")
    parser.add_argument("--members", type=int, default=MEMBERS)
    args = parser.parse_args(argv)
    from chalicelib.kernel import config

    from infra.local.seed import _require_loopback_endpoint

    _require_loopback_endpoint()
    if not config.is_local():
        raise SystemExit(
            f"member history: refusing to write demo members into stage {config.STAGE!r}"
        )
    started = time.perf_counter()
    members = seed_history_members(args.members)
    demo = count_demo_orders()
    print(
        f"member history: {members} history members written, {demo} demo members' "
        f"aggregates updated ({time.perf_counter() - started:.1f} s)"
    )
    # The segments' snapshot now, so the customer overview and the segment builder show
    # this history at once (the local worker's nightly run would take up to an hour).
    from chalicelib.customers.segments import run_refresh

    state = run_refresh()
    print(f"member history: segments snapshot built ({state.get('members', '?')} members)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
