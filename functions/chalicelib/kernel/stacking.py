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


# --- a campaign's default policy (issue 18 item 1) -------------------------------------
# A promotion or template created in a campaign without a policy of its own takes a
# copy of the campaign's default: checkout keeps reading the item alone. Where the
# item's policy came from is kept beside it.
StackingSource = Literal["own", "campaign", "matrix"]
STACKING_SOURCE_DOC = (
    'Where its policy comes from: "own" (set on it), "campaign" (copied from its '
    "campaign's default_stacking when created, and by apply-default-stacking: it follows "
    'the campaign) or "matrix" (none: the fixed stacking matrix).'
)


def source_of(stored_source: str | None, raw: Any) -> StackingSource:
    """An item's source: the one stored, else "own" for a policy set before sources were
    kept, "matrix" for none."""
    if stored_source in ("own", "campaign"):
        return stored_source  # type: ignore[return-value]
    return "own" if raw else "matrix"


def follows_campaign(stored_source: str | None, raw: Any) -> bool:
    """Whether a campaign's default reaches the item: it has no policy of its own."""
    return source_of(stored_source, raw) != "own"


def inherited(campaign_default: Any, *, takes_group: bool) -> dict[str, Any] | None:
    """What an item of the campaign stores from its default: a copy, without the stack
    group where the item takes none (promotions, free-delivery coupons)."""
    if campaign_default is not None and hasattr(campaign_default, "as_dict"):
        campaign_default = campaign_default.as_dict()
    if not campaign_default:
        return None
    out = dict(campaign_default)
    if not takes_group:
        out.pop("stack_group", None)
    return None if {**DEFAULT_STORED, **out} == DEFAULT_STORED else out


def spec(raw: Any) -> Stacking | None:
    """A stored policy back as the request schema (a campaign's clone), None for none."""
    if not raw:
        return None
    v = view(raw)
    return Stacking(
        exclusive=v.exclusive,
        priority=v.priority,
        not_with_tiered=v.not_with_tiered,
        not_with_member_price=v.not_with_member_price,
        stack_group=v.stack_group,
    )
