"""A promotion's or coupon template's stacking policy in the API and in storage (issue 18
item 1; docs/promotions.md "Stacking policy"). Shared by promotions/ and coupons/; the
engine's own type is ``checkout.promotion_engine.StackingPolicy`` (checkout/service.py
converts). Absent everywhere = the fixed stacking matrix."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema

MarginFloor = Literal["refuse", "exclude"]
MARGIN_FLOOR_DOC = (
    'What the margin floor does when this discount would take a line below cost: "refuse" '
    '(default) leaves the discount out; "exclude" takes the thin-margin SKUs out of its base '
    "and computes it again on the other lines (the threshold checked on what is left)."
)
StackGroup = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9_-]{1,20}$",
        description="Coupon templates: two goods coupons combine on one order when both "
        "name a group and the groups differ.",
        examples=["supplier"],
    ),
]


class Stacking(Schema, kw_only=True):
    """How this discount stacks with the others; every field optional, defaults = the
    fixed stacking matrix."""

    exclusive: Annotated[
        bool,
        Meta(
            description="互斥: when it applies, no other tiered / half-price promotion or "
            "goods coupon does (flash and fixed prices, member prices and free delivery "
            "still do); the engine keeps the higher priority, then the lower total."
        ),
    ] = False
    priority: Annotated[
        int, Meta(ge=0, le=100, description="Higher wins between exclusive ones and in a slot.")
    ] = 0
    not_with_tiered: Annotated[bool, Meta(description="不与满减同享.")] = False
    not_with_member_price: Annotated[
        bool, Meta(description="不与会员价同享: lines with a member price are not in its base.")
    ] = False
    stack_group: StackGroup | None = None


class StackingOut(Out, kw_only=True):
    exclusive: bool
    priority: int
    not_with_tiered: bool
    not_with_member_price: bool
    stack_group: str | None


STACKING_EXAMPLE: dict[str, Any] = {
    "exclusive": False,
    "priority": 0,
    "not_with_tiered": True,
    "not_with_member_price": False,
    "stack_group": "supplier",
}

DEFAULT_STORED: dict[str, Any] = {
    "exclusive": False,
    "priority": 0,
    "not_with_tiered": False,
    "not_with_member_price": False,
    "stack_group": None,
}


def stored(spec: Stacking | None) -> dict[str, Any] | None:
    """What the item holds: None for the default policy (no attribute, no bigger item)."""
    if spec is None:
        return None
    out = {
        "exclusive": spec.exclusive,
        "priority": spec.priority,
        "not_with_tiered": spec.not_with_tiered,
        "not_with_member_price": spec.not_with_member_price,
        "stack_group": spec.stack_group,
    }
    if out == DEFAULT_STORED:
        return None
    return {k: v for k, v in out.items() if v is not None}  # a map attribute holds no nulls


def view(raw: Any) -> StackingOut:
    """The API's view of a stored policy (None or a partial map: defaults)."""
    if raw is not None and hasattr(raw, "as_dict"):
        raw = raw.as_dict()  # a map attribute read back
    d = {**DEFAULT_STORED, **(dict(raw) if raw else {})}
    return StackingOut(
        exclusive=bool(d["exclusive"]),
        priority=int(d["priority"]),
        not_with_tiered=bool(d["not_with_tiered"]),
        not_with_member_price=bool(d["not_with_member_price"]),
        stack_group=d["stack_group"] or None,
    )
