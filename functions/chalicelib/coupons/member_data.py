"""What coupons hold on one member, for members' export and admin profile
(members/providers.py names these functions; members sits below coupons)."""

from __future__ import annotations

from typing import Any

from chalicelib.coupons.models import CouponModel


def export_coupons(customer_id: str) -> list[dict[str, Any]]:
    """Every coupon the member holds or held."""
    return [
        {
            "coupon_id": c.coupon_id,
            "name": c.name,
            "kind": c.kind,
            "state": c.state,
            "source": c.source,
            "valid_from": c.valid_from,
            "valid_until": c.valid_until,
            "order_id": c.order_id,
            "created_at": c.created_at,
        }
        for c in CouponModel.by_customer.query(customer_id, scan_index_forward=False)
    ]


def coupon_summaries(
    customer_id: str, store_id: str | None, limit: int = 20
) -> list[dict[str, Any]]:
    """The member's latest coupons (a store manager: those usable at their store)."""
    out = []
    for c in CouponModel.by_customer.query(customer_id, scan_index_forward=False):
        if store_id is not None and c.scope_stores and store_id not in c.scope_stores:
            continue
        out.append(
            {
                "coupon_id": c.coupon_id,
                "name": c.name,
                "state": c.state,
                "valid_until": c.valid_until,
            }
        )
        if len(out) == limit:
            break
    return out
