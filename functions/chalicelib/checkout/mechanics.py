"""Issue 18's mechanics at checkout: the add_on / gift / bundle promotions live at the
store turned into the engine's types, and a gift earned placed as an order line at
price 0 (docs/promotions.md, "More mechanics")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from chalicelib.checkout import promotion_engine as promo
from chalicelib.checkout.pricing import CartLine, PricedLine
from chalicelib.kernel import clock
from chalicelib.promotions.mechanics import Mechanic, TierOptions


def gift_skus(mechanics: Sequence[Mechanic], cart_skus: Iterable[str]) -> list[str]:
    """The gift SKUs to read with the cart (none when no gift promotion is live)."""
    have = set(cart_skus)
    out = [m.sku for m in mechanics if m.kind == "gift" and m.sku and m.sku not in have]
    return list(dict.fromkeys(out))


def tier_fields(o: TierOptions) -> dict[str, Any]:
    """A tiered promotion's options as the engine's TieredDiscount fields."""
    return {"basis": o.basis, "every": o.every, "cap_fen": o.cap_fen, "percent": o.percent}


def engine_promotions(
    mechanics: Sequence[Mechanic],
    items: Mapping[str, Any],
    products: Mapping[str, Any],
    cart_qty: Mapping[str, int],
) -> list[promo.Promotion]:
    """The engine's AddOnPrice, BundlePrice and GiftWithPurchase. A gift is in stock when
    the store sells its SKU and has its units beyond what the cart itself takes; a gift
    SKU the store does not sell is left out."""
    out: list[promo.Promotion] = []
    for m in mechanics:
        scope = promo.Scope(m.categories, m.skus)
        start, end = clock.parse(m.starts_at), clock.parse(m.ends_at)
        funded = cast(Any, m.funded_by)
        if m.kind == "bundle" and m.price_fen is not None:
            out.append(
                promo.BundlePrice(
                    m.promotion_id,
                    m.name,
                    m.units,
                    m.price_fen,
                    start,
                    end,
                    scope,
                    funded,
                    m.campaign_id,
                    max_bundles=m.per_order_cap,
                )
            )
        elif m.kind == "add_on" and m.sku and m.price_fen is not None:
            cap = m.per_order_cap
            out.append(
                promo.AddOnPrice(
                    m.promotion_id,
                    m.name,
                    m.sku,
                    m.price_fen,
                    m.units if cap is None else min(m.units, cap),
                    int(m.threshold_fen or 0),
                    start,
                    end,
                    scope,
                    funded,
                    m.campaign_id,
                )
            )
        elif m.kind == "gift" and m.sku:
            item, product = items.get(m.sku), products.get(m.sku)
            if item is None or product is None:
                continue
            stock = int(item.stock) - cart_qty.get(m.sku, 0)
            in_stock = bool(item.on_sale) and bool(product.active) and stock >= m.units
            out.append(
                promo.GiftWithPurchase(
                    m.promotion_id,
                    m.name,
                    m.sku,
                    product.name,
                    int(m.threshold_fen or 0),
                    int(item.price_fen),
                    start,
                    end,
                    m.units,
                    in_stock,
                    scope,
                    funded,
                    m.campaign_id,
                )
            )
    return out


def gift_lines(co: promo.Checkout, products: Mapping[str, Any]) -> list[PricedLine]:
    """The gifts earned and in stock as lines at price 0 (nothing paid, nothing to
    refund; their stock is taken with the order's other lines)."""
    out = []
    for g in co.gifts:
        product = products.get(g.sku)
        if not g.in_stock or product is None:
            continue
        line = CartLine(
            g.sku,
            product.name,
            product.unit,
            product.category1,
            product.category2,
            product.zone,
            product.shelf,
            bool(product.fresh),
            0,
            g.units,
        )
        out.append(PricedLine(line, 0))
    return out
