"""Pricing cost of a quote: ``python bench/quote.py [--runs 2000]``.

Runs the pricing domain (``chalicelib.checkout.promotion_engine.evaluate``) in process, no AWS,
on a 10-line cart with 20 applicable coupons (amount off, percent off with caps, free
delivery, scoped to categories and SKUs, some with budgets) and promotions (two tiered
discounts, second item half price, two flash prices), with unit costs on half the SKUs
so the margin floor is checked. Each run lets ``evaluate`` find the best combination.

``--policies`` gives them stacking policies (issue 18, docs/promotions.md "Stacking
policy"), the worst case the engine meets: the goods coupons in four stack groups (so
every pair across groups is tried), one exclusive coupon, one coupon not with 满减 and an
exclusive 满减 (so the cart is priced four times).

Printed: ``quote_ms_p99`` and, last, ``quote_ms_p50`` (per evaluation, after warm-up);
``#`` lines give the cart and what was suggested. Figures only; no assertions.

Before them, the add-on search (zones/rules.py, issue 17 item 4) over a full zone of 50
products (random prices 1.00-30.00, some out of stock) for gaps from 0.01 to 100.00:
``addon_search_ms_p50``, ``addon_search_ms_p99`` and ``addon_search_ms_max`` per search;
and ``addon_search_ms_adversarial``: the median over gaps 30.00-31.00 on 50 products priced
10.00-10.49, all in stock, where nearly every triple ties near the gap (the search's
hardest case: it must rank the ties by the zone's order).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.zones import rules as zone_rules

NOW = datetime(2026, 11, 11, 4, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=3), NOW + timedelta(days=3)
CATEGORIES = [("fruit", "apple"), ("dairy", "milk"), ("meat", "pork"), ("veg", "leaf")]


def cart() -> list[CartLine]:
    return [
        CartLine(
            f"SKU{i:02d}",
            f"item {i}",
            "pc",
            *CATEGORIES[i % 4],
            None,
            None,
            i % 2 == 0,
            990 + 470 * i,
            1 + i % 3,
        )
        for i in range(10)
    ]


def coupons() -> list[p.CouponOffer]:
    out = []
    for i in range(20):
        scope = p.Scope()
        if i % 4 == 1:
            scope = p.Scope(categories=frozenset({CATEGORIES[i % 4][0]}))
        elif i % 4 == 2:
            scope = p.Scope(skus=frozenset({f"SKU{i % 10:02d}", f"SKU{(i + 3) % 10:02d}"}))
        kind = "free_delivery" if i % 7 == 0 else ("percent_off" if i % 3 == 0 else "amount_off")
        out.append(
            p.CouponOffer(
                f"C{i:02d}",
                f"T{i % 5}",
                f"coupon {i}",
                kind,  # type: ignore[arg-type]
                START,
                END + timedelta(hours=i),
                threshold_fen=(i % 5) * 2000,
                amount_off_fen=300 + 100 * i,
                percent_off=5 + i % 10,
                cap_fen=2000 if i % 2 else None,
                scope=scope,
                budget_left_fen=100_000 if i % 3 == 0 else None,
            )
        )
    return out


def promotions() -> list[p.Promotion]:
    return [
        p.TieredDiscount("P1", "满99减10", ((9900, 1000), (19900, 3000)), START, END),
        p.TieredDiscount(
            "P2",
            "fruit 满50减8",
            ((5000, 800),),
            START,
            END,
            p.Scope(categories=frozenset({"fruit"})),
            50_000,
        ),
        p.SecondItemHalfPrice("H1", "dairy 2nd half", START, END, p.Scope(frozenset({"dairy"}))),
        p.FlashPrice("F1", "flash 1", "SKU03", 990, 1, START, END),
        p.FlashPrice("F2", "flash 2", "SKU07", 1990, 2, START, END),
        # issue 18's mechanics: the costliest to price, a bundle (its units sorted)
        p.BundlePrice(
            "B1", "fruit any 3 for 20", 3, 2000, START, END, p.Scope(frozenset({"fruit"}))
        ),
    ]


def with_policies(
    offers: list[p.CouponOffer], promos: list[p.Promotion]
) -> tuple[list[p.CouponOffer], list[p.Promotion]]:
    """Stack groups on every goods coupon, C01 exclusive, C02 not with 满减, P2 exclusive."""
    from dataclasses import replace

    groups = ["store", "supplier", "brand", "hq"]
    out = []
    for i, c in enumerate(offers):
        policy = p.StackingPolicy(
            exclusive=i == 1,
            not_with_tiered=i == 2,
            stack_group=groups[i % 4] if c.kind != "free_delivery" else None,
        )
        out.append(replace(c, stacking=policy))
    promos = [
        replace(x, stacking=p.StackingPolicy(exclusive=True))
        if isinstance(x, p.TieredDiscount) and x.promotion_id == "P2"
        else x
        for x in promos
    ]
    return out, promos


def addon_search(runs: int) -> list[float]:
    """Milliseconds per add-on search: 50 zone products, a random gap each run."""
    import random

    rng = random.Random(17)
    items = [
        zone_rules.ZoneItem(f"Z{i:02d}", rng.randint(100, 3000), rng.choice([0, 1, 2, 5, 20]), i)
        for i in range(zone_rules.MAX_ZONE_ITEMS)
    ]
    gaps = [rng.randint(1, 10_000) for _ in range(runs)]
    samples = []
    for gap in gaps:
        t0 = time.perf_counter()
        zone_rules.suggest(zone_rules.eligible(items), gap)
        samples.append((time.perf_counter() - t0) * 1000)
    return sorted(samples)


def addon_adversarial(runs: int) -> float:
    items = [zone_rules.ZoneItem(f"Y{i:02d}", 1000 + i, 20, i) for i in range(50)]
    samples = []
    for r in range(runs):
        gap = 3000 + r % 101
        t0 = time.perf_counter()
        zone_rules.suggest(items, gap)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000, help="measured evaluations")
    parser.add_argument("--policies", action="store_true", help="with stacking policies")
    args = parser.parse_args(argv)
    lines, offers, promos = cart(), coupons(), promotions()
    if args.policies:
        offers, promos = with_policies(offers, promos)
    costs = {f"SKU{i:02d}": (990 + 470 * i) * 6 // 10 for i in range(0, 10, 2)}
    kw = dict(
        store_id="sh-xuhui",
        now=NOW,
        fulfilment="delivery",
        delivery=DeliveryRule(600, 20_000),
        minimum_order_fen=2000,
        coupons=offers,
        promotions=promos,
        costs=costs,
    )
    for _ in range(200):  # warm-up
        co = p.evaluate(lines, **kw)  # type: ignore[arg-type]
    samples = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        p.evaluate(lines, **kw)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    applies = sum(v.applies for v in co.coupon_verdicts)
    print(f"# cart: {len(lines)} lines, subtotal {co.priced.subtotal_fen} fen")
    print(f"# coupons: {len(offers)} offered, {applies} apply alone; promotions: {len(promos)}")
    print(f"# applied: {', '.join(a.code for a in co.applied)}; total {co.total_fen} fen")
    print(f"# runs: {args.runs}, mean {statistics.fmean(samples):.3f} ms")
    addon_search(200)  # warm-up
    search = addon_search(args.runs)
    print(f"addon_search_ms_p50: {statistics.median(search):.3f}")
    print(f"addon_search_ms_p99: {search[int(len(search) * 0.99) - 1]:.3f}")
    print(f"addon_search_ms_max: {search[-1]:.3f}")
    print(f"addon_search_ms_adversarial: {addon_adversarial(args.runs // 4):.3f}")
    print(f"quote_ms_p99: {samples[int(len(samples) * 0.99) - 1]:.3f}")
    print(f"quote_ms_p50: {statistics.median(samples):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
