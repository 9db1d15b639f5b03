"""The domain events: versioned payloads, the contract subscribers are written against.

Each event is a msgspec Struct tagged by ``type`` ("order.paid", ...) with a
``schema_version``; ``docs/schemas/events.v1.json`` is generated from these Structs
(``python -m chalicelib.events.types``) and a test fails while it is stale. The rules for
changing them are those of the print message (docs/schemas/README.md): additive changes
keep version "1"; anything else is a new version beside the old one.

An ``event_id`` names the change, not the delivery: the same change delivered twice (a
stream batch retried, a record read again) has the same id, so a subscriber's
(event_id, subscriber) marker makes the second delivery a no-op.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta, Struct

SCHEMA_VERSION = "1"
Fen = Annotated[int, Meta(description="Integer fen (分), CNY.")]
Time = Annotated[str, Meta(description="UTC ISO-8601.")]


class Event(Struct, kw_only=True, frozen=True, tag_field="type"):
    """Fields every event has."""

    schema_version: Literal["1"] = "1"
    event_id: Annotated[
        str, Meta(description="Stable per change: a redelivery carries the same id.")
    ]
    occurred_at: Annotated[Time, Meta(description="When the change was made (UTC ISO-8601).")]

    TYPE: ClassVar[str] = ""

    @property
    def type(self) -> str:
        return str(self.__struct_config__.tag)


PointsLocked = Annotated[
    int,
    Meta(
        description="Points the order locked as cash when placed (0: none); the points "
        "subscribers read the member's account only for events where this is > 0."
    ),
]


class OrderLine(Struct, kw_only=True, frozen=True):
    sku: str
    qty: int
    paid_fen: Annotated[Fen, Meta(description="What was paid for the line (after discounts).")]
    refunded_units: int = 0
    refunded_fen: Fen = 0
    category1: Annotated[
        str | None,
        Meta(
            description="The product's first-level category when sold (customers' "
            "category spend). Added within v1: absent in events from before it."
        ),
    ] = None
    fresh: Annotated[
        bool,
        Meta(description="A fresh (生鲜) product. Added within v1: false in events before it."),
    ] = False


class OrderPaid(Event, tag="order.paid", frozen=True):
    """An order moved from awaiting_payment to paid (once per order)."""

    TYPE: ClassVar[str] = "order.paid"
    order_id: str
    customer_id: str
    store_id: str
    fulfilment: Literal["delivery", "pickup"]
    paid_fen: Fen
    payment_id: str | None
    lines: list[OrderLine]
    coupon_ids: Annotated[
        list[str],
        Meta(description="The coupons the order used (locked when placed, used once paid)."),
    ] = msgspec.field(default_factory=list)
    points_locked: PointsLocked = 0
    reward_id: Annotated[
        str | None,
        Meta(description="A points-mall product reward placed as this order (loyalty/mall.py)."),
    ] = None
    campaign_ids: Annotated[
        list[str],
        Meta(
            description="The campaigns whose budget the order spent (issue 16; "
            "docs/campaigns.md). Added within v1: empty in events from before it."
        ),
    ] = msgspec.field(default_factory=list)
    discounts: Annotated[
        dict[str, Fen],
        Meta(
            description="The order's discounts in fen by source: 'p:<promotion_id>' for a "
            "promotion's, 't:<coupon template id>' for a coupon's (a campaign's review counts "
            "its redemptions from them). Added within v1: empty in events before it."
        ),
    ] = msgspec.field(default_factory=dict)


class OrderCompleted(Event, tag="order.completed", frozen=True):
    """An order reached completed (collected, receipt confirmed, or auto-completed).
    ``paid_fen - refunded_fen`` is what the customer kept paying for."""

    TYPE: ClassVar[str] = "order.completed"
    order_id: str
    customer_id: str
    store_id: str
    paid_fen: Fen
    refunded_fen: Fen
    lines: list[OrderLine]
    points_multiplier: Annotated[
        str | None,
        Meta(
            description="A member day's extra points multiplier recorded when the order "
            'was placed (decimal text, e.g. "2"); null: none.',
            examples=["2"],
        ),
    ] = None
    campaign_ids: Annotated[
        list[str],
        Meta(
            description="The campaigns whose budget the order spent (issue 16; "
            "docs/campaigns.md). Added within v1: empty in events from before it."
        ),
    ] = msgspec.field(default_factory=list)
    points_campaign_id: Annotated[
        str | None,
        Meta(
            description="The campaign of the member day that gave ``points_multiplier``: "
            "its extra points are that campaign's cost. Added within v1: null before it."
        ),
    ] = None


class OrderCancelled(Event, tag="order.cancelled", frozen=True):
    """An order was cancelled (by the customer, the store, or out of stock). A paid one
    is refunded in full: that refund comes as its own refund.succeeded."""

    TYPE: ClassVar[str] = "order.cancelled"
    order_id: str
    customer_id: str
    store_id: str
    from_status: str
    paid_fen: Annotated[Fen, Meta(description="0 when it was cancelled before payment.")]
    reason: str | None
    points_locked: Annotated[
        int,
        Meta(
            description="Points the unpaid order held as cash (0: none, or it was paid: "
            "its points were spent and its refund returns them)."
        ),
    ] = 0
    reward_id: Annotated[
        str | None,
        Meta(description="A points-mall product reward placed as this order (loyalty/mall.py)."),
    ] = None


class OrderExpired(Event, tag="order.expired", frozen=True):
    """An unpaid order passed its payment deadline (its stock and coupons came back)."""

    TYPE: ClassVar[str] = "order.expired"
    order_id: str
    customer_id: str
    store_id: str
    points_locked: PointsLocked = 0
    reward_id: Annotated[
        str | None,
        Meta(description="A points-mall product reward placed as this order (loyalty/mall.py)."),
    ] = None


class RefundLine(Struct, kw_only=True, frozen=True):
    sku: str
    units: int
    amount_fen: Fen


class RefundSucceeded(Event, tag="refund.succeeded", frozen=True):
    """The payment provider confirmed a refund (money is back with the customer)."""

    TYPE: ClassVar[str] = "refund.succeeded"
    refund_id: str
    order_id: Annotated[str, Meta(description="The order (or coupon sale, 'CS…') refunded.")]
    reason: Annotated[
        str,
        Meta(
            description="cancel | shortage | return | late_payment | amount_mismatch | "
            "unknown_order (new reasons may be added: ignore unknown ones)"
        ),
    ]
    amount_fen: Fen
    delivery_fee_fen: Fen
    lines: Annotated[list[RefundLine], Meta(description="Empty for refunds of a whole payment.")]
    completes_order: Annotated[
        bool, Meta(description="With this refund the order paid back all it was paid.")
    ]


class MemberRegistered(Event, tag="member.registered", frozen=True):
    """A member (会员) was registered (first sign-in, or created by head office)."""

    TYPE: ClassVar[str] = "member.registered"
    customer_id: str
    source: Annotated[
        str | None,
        Meta(
            description="The QR code that brought them (head office's code, or "
            "'ticket:<order_id>' for a receipt ticket); its kind, store, shelf, staff and "
            "campaign are on the member item (members/sources.py); 'invite:<customer_id>' "
            "for a friend's invitation."
        ),
    ]
    home_store_id: str | None
    invited_by: Annotated[
        str | None,
        Meta(
            description="The member whose invitation brought them (source 'invite:<id>'), "
            "else null. Added within v1: absent in events from before it."
        ),
    ] = None


class CampaignBudgetAlert(Event, tag="campaign.budget_alert", frozen=True):
    """A campaign's spend reached 80 % of its budget (once per campaign: its
    ``alerted_at`` was set; docs/campaigns.md, "The 80 % alert")."""

    TYPE: ClassVar[str] = "campaign.budget_alert"
    campaign_id: str
    budget_fen: Fen
    left_fen: Annotated[int, Meta(description="Fen left when alerted; may be negative.")]
    percent: Annotated[int, Meta(description="Spent as a whole percent of the budget.")]


AnyEvent = (
    OrderPaid
    | OrderCompleted
    | OrderCancelled
    | OrderExpired
    | RefundSucceeded
    | MemberRegistered
    | CampaignBudgetAlert
)
EVENT_TYPES: dict[str, type[Event]] = {
    t.TYPE: t
    for t in (
        OrderPaid,
        OrderCompleted,
        OrderCancelled,
        OrderExpired,
        RefundSucceeded,
        MemberRegistered,
        CampaignBudgetAlert,
    )
}


def encode(event: Event) -> str:
    return msgspec.json.encode(event).decode()


def decode(body: str | bytes) -> Event:
    """Parse and check an encoded event (raises msgspec.ValidationError)."""
    return msgspec.json.decode(body, type=AnyEvent)


EXAMPLES: list[dict[str, Any]] = [
    {
        "type": "order.paid",
        "schema_version": "1",
        "event_id": "order.paid:261124K7M2Q9XD",
        "occurred_at": "2026-11-24T02:29:58Z",
        "order_id": "261124K7M2Q9XD",
        "customer_id": "c-5f2a9e01b7c44d10",
        "store_id": "sh-jingan",
        "fulfilment": "delivery",
        "paid_fen": 7670,
        "payment_id": "wechat:4200001234202611241234567890",
        "lines": [
            {
                "sku": "100231",
                "qty": 1,
                "paid_fen": 3990,
                "refunded_units": 0,
                "refunded_fen": 0,
                "category1": "水果",
                "fresh": True,
            }
        ],
        "coupon_ids": ["tpl-autumn-10:claim:c-5f2a9e01b7c44d10:1"],
        "points_locked": 500,
        "reward_id": None,
        "campaign_ids": ["cmp-2026-1111"],
        "discounts": {"t:tpl-autumn-10": 1000},
    },
    {
        "type": "refund.succeeded",
        "schema_version": "1",
        "event_id": "refund.succeeded:261124K7M2Q9XD:shortage",
        "occurred_at": "2026-11-24T03:02:11Z",
        "refund_id": "261124K7M2Q9XD:shortage",
        "order_id": "261124K7M2Q9XD",
        "reason": "shortage",
        "amount_fen": 1590,
        "delivery_fee_fen": 0,
        "lines": [{"sku": "200518", "units": 1, "amount_fen": 1590}],
        "completes_order": False,
    },
    {
        "type": "member.registered",
        "schema_version": "1",
        "event_id": "member.registered:c-5f2a9e01b7c44d10",
        "occurred_at": "2026-11-24T02:10:00Z",
        "customer_id": "c-5f2a9e01b7c44d10",
        "source": "Q7K2M9XA",
        "home_store_id": "sh-jingan",
        "invited_by": None,
    },
]


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of every event, as committed in docs/schemas/."""
    _, defs = msgspec.json.schema_components(
        list(EVENT_TYPES.values()), ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Daojia domain events, version {SCHEMA_VERSION}",
        "description": (
            "Payloads of the domain events delivered to subscribers (docs/events.md), one of "
            "the types below, told apart by `type`. Generated from "
            "functions/chalicelib/events/types.py; compatibility rules as in "
            "docs/schemas/README.md. Consumers ignore fields they do not know."
        ),
        "oneOf": [{"$ref": f"#/$defs/{t.__name__}"} for t in EVENT_TYPES.values()],
        "$defs": defs,
        "examples": EXAMPLES,
    }


def render() -> str:
    """The schema file as committed: stable key order, UTF-8, trailing newline."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
