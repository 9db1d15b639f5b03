"""Orders: quote, place, pay, follow, cancel, confirm; store workflow; returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import (
    Fen,
    Latitude,
    Longitude,
    Out,
    Phone,
    Schema,
    Sku,
    StoreId,
    Timestamp,
)

Qty = Annotated[int, Meta(ge=1, le=999, description="Units of the product.")]
Fulfilment = Literal["delivery", "pickup"]
MAX_LINES = 40


class CartItem(Schema, kw_only=True):
    sku: Sku
    qty: Qty


class DeliveryAddress(Schema, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=30, examples=["王女士"])]
    phone: Phone
    line: Annotated[
        str, Meta(min_length=1, max_length=200, examples=["南京西路1618号 2号楼 1201室"])
    ]
    lat: Latitude
    lng: Longitude


Items = Annotated[
    list[CartItem],
    Meta(min_length=1, max_length=MAX_LINES, description=f"1 to {MAX_LINES} lines, each SKU once."),
]


# A payer as the providers name one (WeChat Pay openid, Alipay buyer_id)
PaymentAccount = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        examples=["oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"],
    ),
]


class QuoteRequest(Schema, kw_only=True):
    store_id: StoreId
    fulfilment: Fulfilment = "delivery"
    address: DeliveryAddress | None = None  # required for delivery
    items: Items
    coupon_ids: (
        Annotated[
            list[Annotated[str, Meta(min_length=1, max_length=120)]],
            Meta(
                max_length=5,
                description="Customers only. Absent: the best combination of the "
                "customer's coupons is applied (the quote's suggested_coupon_ids). []: no "
                "coupon. A list: exactly these (at most one goods coupon and one free-"
                "delivery coupon); one that cannot apply is a 422 coupon_not_applicable "
                "when placing (the quote shows why in `coupons`).",
            ),
        ]
        | None
    ) = None
    device_id: (
        Annotated[
            str,
            Meta(
                min_length=8,
                max_length=64,
                pattern=r"^[A-Za-z0-9_.:-]+$",
                description="The storefront's device id (as on storefront events). Used "
                "only for new-customer offers: accounts sharing a device may count as one "
                "customer.",
                examples=["3f6c2a8e-51b4-4c1e-9d0a-7b2f1e6c9a40"],
            ),
        ]
        | None
    ) = None
    payment_account: (
        Annotated[
            PaymentAccount,
            Meta(
                description="The payer the storefront will pay with, when the provider "
                "knows it before the payment (WeChat Pay JSAPI openid, Alipay buyer_id). "
                "Used only for new-customer offers: accounts sharing a payment account may "
                "count as one customer. Stored only as a hash; the payment's notice "
                "confirms who actually paid.",
            ),
        ]
        | None
    ) = None


class PlaceOrder(QuoteRequest, kw_only=True):
    remark: Annotated[str, Meta(max_length=200, examples=["不要辣，放门口"])] | None = None
    stored_value_fen: (
        Annotated[
            Fen,
            Meta(
                description="Pay this much with the member's stored value (储值), at most the "
                "order's total, after all discounts; the payment provider is asked only for "
                "the rest (none: the order is paid at once). 409 insufficient_stored_value "
                "when the balance does not cover it.",
                examples=[2000],
            ),
        ]
        | None
    ) = None
    points_to_use: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=100_000_000,
                description="Members only. Pay part of the goods with this many points (积分"
                "抵现), after every discount and before stored value: at the settings' rate "
                "(e.g. 100 points = ¥1), at most their cap (e.g. 50 % of the goods after "
                "discounts; the quote's points.max_points). Only whole fen: the order takes "
                "just the points the fen they buy cost (the rest stay with the member). The "
                "points are locked with the order, spent when it is paid, released if it is "
                "cancelled or expires unpaid, and returned in proportion by refunds. 409 "
                "insufficient_points (details.spendable) when the member holds fewer; 422 "
                "points_above_cap / points_below_one_fen.",
                examples=[500],
            ),
        ]
        | None
    ) = None
    reward_id: (
        Annotated[
            str,
            Meta(
                pattern=r"^[A-Za-z0-9_-]{1,40}$",
                description="Redeem a points-mall product reward (积分商城) as this order: "
                "items is exactly the reward's SKU, qty 1, at the reward's cash price (no "
                "promotions, coupons or minimum order; the delivery fee as usual); the "
                "reward's points are locked with the order, spent when it is paid, released "
                "if it is cancelled or expires unpaid. An order that costs nothing is paid "
                "at once. 409 reward_sold_out, reward_limit_reached, insufficient_points, "
                "reward_not_available; 404 reward_not_found.",
                examples=["rw-rice-5kg"],
            ),
        ]
        | None
    ) = None
    expected_total_fen: (
        Annotated[
            Fen,
            Meta(
                description="The total the storefront showed (the quote's total_fen). When "
                "sent and the order would cost anything else (a price, promotion or fee "
                "changed since the quote), placing is refused with 409 total_changed and "
                "nothing is reserved: quote again and show the new total.",
                examples=[4490],
            ),
        ]
        | None
    ) = None


class QuoteLine(Out, kw_only=True):
    sku: str
    name: str
    unit: str
    unit_price_fen: int
    qty: int
    amount_fen: int
    discount_fen: int
    paid_fen: int
    stock: int


class AppliedDiscount(Out, kw_only=True):
    """A discount applied: ``code`` is "flash:<promotion>", "fixed_price:<zone>" (a
    fixed-price zone's price, 9.9元专区), "second_half:<promotion>",
    "tiered:<promotion>", "coupon:<coupon>", "free_delivery:<coupon>", a member price
    "member_price:level:<level>" (label e.g. "V3 会员价") or "member_price:card:<plan>"
    ("付费会员价"), or a member's free delivery "member_free_delivery:level:<level>" or
    "member_free_delivery:card:<plan>" ("会员免配送费"; docs/loyalty.md, "Where member
    benefits sit in the stacking"); ``base_fen``/``base`` say what it was computed on
    (docs/promotions.md). The last four fields are null on orders placed before
    promotions existed."""

    code: str
    label: str
    amount_fen: int
    kind: (
        Literal[
            "flash",
            "fixed_price",
            "member_price",
            "second_half",
            "tiered",
            "coupon",
            "free_delivery",
        ]
        | None
    )
    base_fen: int | None
    base: str | None
    funded_by: Literal["hq", "store", "supplier"] | None


class CouponVerdict(Out, kw_only=True):
    """One of the customer's coupons against this cart: does it apply on its own (true
    means choosing just this coupon works), what it would take off alone, and if not,
    why (``reason``: threshold_not_reached (with ``shortfall_fen``), out_of_scope,
    other_store, not_yet_valid, expired, not_available, budget_exhausted,
    below_margin_floor, not_combinable, no_delivery_fee, outside_window (the coupon's
    recurring window is not on: ``message`` says when it is, e.g. "Usable Wednesdays
    18:00–21:00"), not_stackable (left out by a stacking policy, e.g. exclusive with
    another discount, not with 满减, a second goods coupon in the same stack group),
    limit_reached (its template's redemption limit per customer per day or week, or per
    store per day, is used up: "Its limit is used up"))."""

    coupon_id: str
    name: str
    kind: str
    valid_until: Timestamp
    applies: bool
    discount_fen: int
    reason: str | None
    message: str | None
    shortfall_fen: int


class FlashLine(Out, kw_only=True):
    """Units priced at a flash price (秒杀); placing the order reserves them."""

    promotion_id: str
    sku: str
    units: int
    price_fen: int


class OrderCoupon(Out, kw_only=True):
    coupon_id: str
    kind: str
    discount_fen: int  # taken off (a free-delivery coupon: the fee waived)


class PointsOffer(Out, kw_only=True):
    """Points as cash on this cart for the signed-in member (积分抵现)."""

    spendable: Annotated[int, Meta(description="The member's spendable points.", examples=[1280])]
    max_points: Annotated[
        int,
        Meta(
            description="The most points this order can use (send as points_to_use): the "
            "fewer of what the member holds and the cap, in whole fen.",
            examples=[1280],
        ),
    ]
    max_fen: Annotated[int, Meta(description="What max_points pay.", examples=[1280])]
    cap_fen: Annotated[
        int, Meta(description="The cap alone: the most points may pay on this cart.")
    ]
    points_per_yuan: Annotated[int, Meta(description="Points per ¥1.", examples=[100])]
    cap_percent: Annotated[
        int, Meta(description="Points pay at most this share of the goods after discounts.")
    ]


class PointsMultiplierOut(Out, kw_only=True):
    """A member day's extra points on this order: the order records it when placed, and
    its completion earns points times it (on top of the level's multiplier)."""

    code: str  # "member_day:<promotion_id>"
    label: str
    promotion_id: str
    multiplier: float


class NextTier(Out, kw_only=True):
    """The 满减 the cart works toward: the applied one's next tier, or when none applies
    yet the one closest to its first tier."""

    promotion_id: str
    name: str
    threshold_fen: int
    off_fen: Annotated[int, Meta(description="What the next tier takes off.")]
    base_fen: Annotated[
        int,
        Meta(
            description="The cart's eligible base for it: in-scope goods after item "
            "promotions, flash and fixed-price units left out."
        ),
    ]
    gap_fen: Annotated[int, Meta(description="threshold_fen - base_fen: how much more reaches it.")]
    basis: Annotated[
        Literal["amount", "units"],
        Meta(description="units (满件减): threshold_fen, base_fen and gap_fen count units."),
    ] = "amount"


class FreeDelivery(Out, kw_only=True):
    threshold_fen: Annotated[int, Meta(description="The store's free-delivery threshold.")]
    gap_fen: Annotated[
        int, Meta(description="How much more goods (after discounts) reach it; 0 when reached.")
    ]


class AddOnUnit(Out, kw_only=True):
    sku: str
    name: str
    unit: str
    image_url: str | None
    qty: int
    unit_price_fen: Annotated[int, Meta(description="What one unit adds toward the gap.")]
    stock: int


class AddOnSuggestion(Out, kw_only=True):
    """Products from the store's add-on zone (凑单专区) that close the gap named by
    ``closes``; add them to the cart as they are and quote again."""

    closes: Literal["tiered", "free_delivery"]
    gap_fen: int
    items: list[AddOnUnit]
    total_fen: Annotated[int, Meta(description="What the items add together (at least the gap).")]


class QuoteGift(Out, kw_only=True):
    promotion_id: str
    name: str
    sku: str
    sku_name: str
    units: int
    value_fen: Annotated[int, Meta(description="The gift's list price (what it is worth).")]
    in_stock: bool


class AddOnOfferOut(Out, kw_only=True):
    promotion_id: str
    name: str
    sku: str
    price_fen: int
    max_units: int
    threshold_fen: int
    base_fen: int
    gap_fen: int
    reached: bool
    units: int


class Quote(Out, kw_only=True):
    store_id: str
    fulfilment: str
    lines: list[QuoteLine]
    subtotal_fen: int
    discounts: list[AppliedDiscount]
    discount_fen: int
    delivery_fee_fen: int  # after a free-delivery coupon
    delivery_fee_waived_fen: int
    total_fen: int
    minimum_order_fen: int
    shortfall_fen: int  # > 0: add this much to reach the store's minimum order (起送金额)
    can_place: bool
    coupons: list[CouponVerdict]  # the customer's available coupons, each judged
    suggested_coupon_ids: list[str]  # the best combination the stacking rules allow
    applied_coupon_ids: list[str]
    rejected_coupon_ids: list[str]  # chosen but cannot apply (see coupons[].reason)
    flash: list[FlashLine]
    notes: list[str]  # promotions left out or capped, and why
    points: Annotated[
        PointsOffer | None,
        Meta(
            description="Signed-in members: how many points may pay on this cart (points "
            "as cash come off total_fen after every discount, before stored value). Null "
            "for anyone else."
        ),
    ] = None
    points_multiplier: Annotated[
        PointsMultiplierOut | None,
        Meta(description="A member day's extra points on this order (null: none)."),
    ] = None
    next_tier: Annotated[
        NextTier | None,
        Meta(
            description="How much more reaches the next tier of the best tiered discount "
            "(满减) for this cart, and what it takes off; null at the top tier or when no "
            "tiered discount is on."
        ),
    ] = None
    free_delivery: Annotated[
        FreeDelivery | None,
        Meta(
            description="The store's free-delivery threshold and the gap to it; null for "
            "pickup or a store without one."
        ),
    ] = None
    add_on_suggestions: Annotated[
        list[AddOnSuggestion],
        Meta(
            description="Up to 3 combinations of 1-3 units from the store's add-on zone, "
            "in stock, that close the smaller open gap (next_tier or free_delivery, when "
            "a fee is payable): the cheapest first, ties to fewer units. A product out of "
            "the tiered discount's scope or at a per-SKU price never closes its gap. "
            "Empty when no gap is open or nothing closes it."
        ),
    ] = msgspec.field(default_factory=list)
    # issue 18, more mechanics
    gifts: Annotated[
        list[QuoteGift],
        Meta(
            description="Gifts with purchase (满赠) this cart earns: added to the order at "
            "price 0 and printed as 赠品; in_stock false: the order goes without it."
        ),
    ] = msgspec.field(default_factory=list)
    add_on_offers: Annotated[
        list[AddOnOfferOut],
        Meta(
            description="加价购 on at the store: reached says whether the cart's goods reach "
            "the threshold (gap_fen more otherwise); units: how many of sku are priced at "
            "price_fen in this cart (add sku to the cart to use it)."
        ),
    ] = msgspec.field(default_factory=list)


class OrderLine(Out, kw_only=True):
    sku: str
    name: str
    unit: str
    category1: str
    category2: str
    zone: str | None
    shelf: str | None
    fresh: bool
    unit_price_fen: int
    qty: int
    amount_fen: int
    discount_fen: int
    paid_fen: Annotated[
        int, Meta(description="amount - discount - points_fen: what money paid for the line.")
    ]
    points_fen: Annotated[int, Meta(description="The line's share of what points paid.")] = 0
    picked_qty: int | None
    refunded_units: int
    refunded_fen: int
    gift: Annotated[
        bool, Meta(description="A gift with purchase (满赠, price 0), printed as 赠品.")
    ] = False


HistoryRole = Literal["customer", "store_staff", "store_manager", "hq_admin", "relay", "system"]


class Transition(Out, kw_only=True):
    """One entry of an order's history. ``role`` system: no person (the payment
    provider's notification, expiry and other scheduled jobs). ``action`` is a
    transition, or a note that leaves the state as it is (``from_state`` =
    ``to_state``): late_payment, amount_mismatch (a payment the order could not take,
    refunded in full; see ``refunds``)."""

    at: Timestamp
    actor: str
    role: HistoryRole
    action: str
    from_state: str | None
    to_state: str
    reason: str | None


def history_view(
    entries: Iterable[Any], shown: Callable[[str, str], str] | None = None
) -> list[Transition]:
    """The API view of a recorded history (db.transitions entries) of an order, return
    or print job; ``shown(actor, role)`` is the name the viewer may see (staff names are
    hidden from customers)."""
    return [
        Transition(
            at=h.at,
            actor=h.actor if shown is None else shown(h.actor, h.role),
            role=h.role,
            action=h.action,
            from_state=h.from_state,
            to_state=h.to_state,
            reason=h.reason,
        )
        for h in entries
    ]


RefundReason = Literal["cancel", "shortage", "return", "late_payment", "amount_mismatch"]


class RefundLine(Out, kw_only=True):
    sku: str
    units: int
    amount_fen: int


class OrderRefund(Out, kw_only=True):
    """Money going back to the customer for this order. ``reason``: cancel (the whole
    order), shortage (units not found at picking), return (退货), late_payment (a payment
    that arrived when the order could no longer take it, paid back whole),
    amount_mismatch (a payment of the wrong amount, paid back whole). ``status``:
    pending until the payment provider confirms it, then succeeded (failed: head office
    must act)."""

    refund_id: str
    reason: RefundReason
    amount_fen: int
    delivery_fee_fen: int  # the part of amount_fen that is delivery fee
    # the part of amount_fen that went back to the member's stored value (储值); the
    # payment provider pays back the rest
    stored_value_fen: int = 0
    lines: list[RefundLine]  # units refunded per SKU (empty for a whole payment)
    status: Literal["pending", "succeeded", "failed"]
    created_at: Timestamp
    updated_at: Timestamp


class RefundDeduction(Out, kw_only=True):
    """A return's refund of an order whose discount is re-evaluated on returns
    (docs/promotions.md "Refund rule"): what its amount_fen is less than the lines' paid
    share because the units kept no longer earn the discount (negative: a deduction of
    an earlier return given back), and that as its own line to show."""

    refund_id: str
    deducted_fen: int
    deduction: Annotated[str, Meta(examples=["优惠不再满足: -¥7.50"])]


class Address(Out, kw_only=True):
    name: str
    phone: str  # shown only to the customer, the order's store and head office
    line: str
    lat: float
    lng: float


class PaymentStart(Out, kw_only=True):
    """What the storefront needs to open the payment sheet (provider specific)."""

    order_id: str
    provider: str
    amount_fen: int
    params: dict[str, str]


class Order(Out, kw_only=True):
    order_id: str  # also the order code printed on the ticket as QR/barcode for the POS
    customer_id: str
    store_id: str
    fulfilment: str
    status: str
    address: Address | None
    remark: str | None
    lines: list[OrderLine]
    discounts: list[AppliedDiscount]
    coupons: list[OrderCoupon]
    subtotal_fen: int
    discount_fen: int
    delivery_fee_fen: int
    delivery_fee_waived_fen: int
    total_fen: int
    paid_fen: int
    # Paid with stored value (储值), taken when placed: principal + bonus; the payment
    # provider is asked for total_fen - stored_value_fen (0 when none).
    stored_value_fen: int = 0
    stored_value_principal_fen: int = 0
    stored_value_bonus_fen: int = 0
    points_used: Annotated[
        int,
        Meta(
            description="Points the order used as cash (积分抵现), locked when placed, "
            "spent when paid (0: none).",
            examples=[500],
        ),
    ] = 0
    points_fen: Annotated[
        int,
        Meta(
            description="What those points paid: already taken off total_fen (total_fen = "
            "subtotal - discount + delivery fee - points_fen).",
            examples=[500],
        ),
    ] = 0
    # A points-mall reward redeemed as this order, and the points it takes (0: none)
    reward_id: str | None = None
    reward_points: int = 0
    points_multiplier: Annotated[
        float | None,
        Meta(
            description="A member day's extra points multiplier recorded when the order "
            "was placed (e.g. 2.0: the points earned at completion are doubled, on top of "
            "the level's multiplier); null: none.",
            examples=[2.0],
        ),
    ] = None
    refunded_fen: int
    pickup_code: str | None  # shown to the customer; staff verify it at the counter
    # 今日第 N 单: given when the ticket is sent to the store, moments after payment
    daily_seq: int | None
    missed_print: bool
    expires_at: Timestamp  # unpaid orders expire then
    paid_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    history: list[Transition]
    refunds: Annotated[
        list[OrderRefund] | None,
        Meta(
            description="Every refund of the order, oldest first, with its status. Read on "
            "GET /orders/{order_id}; null in lists and in the answers of actions (read the "
            "order to see them)."
        ),
    ]
    payment: Annotated[
        PaymentStart | None,
        Meta(
            description="The payment sheet's parameters, ready at once: only in the answer "
            "to POST /orders (and its replays) while the order awaits payment, so the "
            "storefront can open the sheet without another request; null everywhere "
            "else, or if the provider could not be reached (then call "
            "POST /orders/{order_id}/pay, which also gives fresh ones later)."
        ),
    ]
    refund_deductions: Annotated[
        list[RefundDeduction] | None,
        Meta(
            description="Issue 18: the refunds (of ``refunds``) that deduct a discount the "
            "units kept no longer earn, each with its line to show. Null when none does, "
            "and where ``refunds`` is null."
        ),
    ] = None


class OrderPage(Out, kw_only=True):
    items: list[Order]
    next_cursor: str | None


class OrderListQuery(Schema, kw_only=True):
    cursor: Annotated[str, Meta(max_length=2000)] | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class StoreOrderQuery(OrderListQuery, kw_only=True):
    status: Annotated[
        str,
        Meta(
            pattern=r"^[a-z_]+$",
            description="An order status, or 'any' (every status; only with date).",
            examples=["paid"],
        ),
    ] = "paid"
    date: (
        Annotated[
            str,
            Meta(
                pattern=r"^\d{4}-\d{2}-\d{2}$",
                description="A business day (YYYY-MM-DD, store time zone): that day's "
                "orders, newest first.",
                examples=["2026-11-24"],
            ),
        ]
        | None
    ) = None


class Reason(Schema, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class SimulatePaymentQuery(Schema, kw_only=True):
    payer: Annotated[
        PaymentAccount | None,
        Meta(
            description="The account the local provider says paid (as WeChat Pay's payer "
            "openid). Absent: the order's payment_account, if it declared one, stands.",
        ),
    ] = None


class PaymentAck(Out, kw_only=True):
    """Our answer to the provider's notification."""

    code: Literal["SUCCESS", "FAIL"]
    message: str


_LINE_EXAMPLE = {
    "sku": "200001",
    "name": "赣南脐橙 5斤装",
    "unit": "箱",
    "category1": "水果",
    "category2": "柑橘",
    "zone": "A 生鲜区",
    "shelf": "A-01",
    "fresh": True,
    "unit_price_fen": 3990,
    "qty": 1,
    "amount_fen": 3990,
    "discount_fen": 0,
    "paid_fen": 3990,
    "picked_qty": None,
    "refunded_units": 0,
    "refunded_fen": 0,
}
ORDER_EXAMPLE = {
    "order_id": "261124K7QX3M9P",
    "customer_id": "c-8f14e45fceea167a",
    "store_id": "sh-jingan",
    "fulfilment": "delivery",
    "status": "paid",
    "address": {
        "name": "王女士",
        "phone": "13800000001",
        "line": "南京西路1618号 2号楼 1201室",
        "lat": 31.224,
        "lng": 121.446,
    },
    "remark": "放门口",
    "lines": [_LINE_EXAMPLE],
    "discounts": [],
    "coupons": [],
    "subtotal_fen": 3990,
    "discount_fen": 0,
    "delivery_fee_fen": 500,
    "delivery_fee_waived_fen": 0,
    "total_fen": 4490,
    "paid_fen": 4490,
    "refunded_fen": 0,
    "pickup_code": None,
    "daily_seq": 17,
    "missed_print": False,
    "expires_at": "2026-11-24T02:45:00Z",
    "paid_at": "2026-11-24T02:31:12Z",
    "created_at": "2026-11-24T02:30:00.120Z",
    "updated_at": "2026-11-24T02:31:12Z",
    "history": [
        {
            "at": "2026-11-24T02:30:00Z",
            "actor": "c-8f14e45fceea167a",
            "role": "customer",
            "action": "place",
            "from_state": None,
            "to_state": "awaiting_payment",
            "reason": None,
        },
        {
            "at": "2026-11-24T02:31:12Z",
            "actor": "payment-provider",
            "role": "system",
            "action": "pay",
            "from_state": "awaiting_payment",
            "to_state": "paid",
            "reason": None,
        },
    ],
    "refunds": [],
    "payment": None,
}
QUOTE_EXAMPLE = {
    "store_id": "sh-jingan",
    "fulfilment": "delivery",
    "lines": [
        {
            "sku": "200001",
            "name": "赣南脐橙 5斤装",
            "unit": "箱",
            "unit_price_fen": 3990,
            "qty": 1,
            "amount_fen": 3990,
            "discount_fen": 500,
            "paid_fen": 3490,
            "stock": 42,
        }
    ],
    "subtotal_fen": 3990,
    "discounts": [
        {
            "code": "coupon:tpl-30off5:claim:r-1",
            "label": "满30减5",
            "amount_fen": 500,
            "kind": "coupon",
            "base_fen": 3990,
            "base": "after item promotions",
            "funded_by": "hq",
        }
    ],
    "discount_fen": 500,
    "delivery_fee_fen": 500,
    "delivery_fee_waived_fen": 0,
    "total_fen": 3990,
    "minimum_order_fen": 2000,
    "shortfall_fen": 0,
    "can_place": True,
    "coupons": [
        {
            "coupon_id": "tpl-30off5:claim:r-1",
            "name": "满30减5",
            "kind": "amount_off",
            "valid_until": "2026-12-01T00:00:00Z",
            "applies": True,
            "discount_fen": 500,
            "reason": None,
            "message": None,
            "shortfall_fen": 0,
        },
        {
            "coupon_id": "tpl-99off20:bulk-1124:c-8f14e45fceea167a",
            "name": "满99减20",
            "kind": "amount_off",
            "valid_until": "2026-12-31T16:00:00Z",
            "applies": False,
            "discount_fen": 0,
            "reason": "threshold_not_reached",
            "message": "Spend ¥59.10 more on eligible items",
            "shortfall_fen": 5910,
        },
    ],
    "suggested_coupon_ids": ["tpl-30off5:claim:r-1"],
    "applied_coupon_ids": ["tpl-30off5:claim:r-1"],
    "rejected_coupon_ids": [],
    "flash": [],
    "notes": [],
}

# Component-level examples for the OpenAPI document (schema name -> example).
EXAMPLES = {
    "Order": ORDER_EXAMPLE,
    "Quote": QUOTE_EXAMPLE,
    "OrderPage": {"items": [dict(ORDER_EXAMPLE, refunds=None)], "next_cursor": None},
    "PaymentStart": {
        "order_id": "261124K7QX3M9P",
        "provider": "local",
        "amount_fen": 4490,
        "params": {"simulate_url": "/local/payments/261124K7QX3M9P/complete"},
    },
    "PaymentAck": {"code": "SUCCESS", "message": "paid"},
}


_STORE_IDS = r"^[a-z0-9][a-z0-9-]{1,31}(,[a-z0-9][a-z0-9-]{1,31}){0,49}$"
_Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-11-24"])]


class AllOrdersQuery(OrderListQuery, kw_only=True):
    """Head office's orders across stores: business days ``from``..``to`` (at most 92;
    default today), newest first, or oldest first with ``sort=oldest`` (a cursor goes on
    in the order it was made in)."""

    store_ids: (
        Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,31}(,[a-z0-9][a-z0-9-]{1,31}){0,49}$")]
        | None
    ) = None
    status: Annotated[str, Meta(pattern=r"^[a-z_]{1,32}$")] | None = None
    from_: _Day | None = msgspec.field(default=None, name="from")
    to: _Day | None = None
    fulfilment: Literal["delivery", "pickup"] | None = None
    min_paid_fen: Annotated[int, Meta(ge=0)] | None = None
    max_paid_fen: Annotated[int, Meta(ge=0)] | None = None
    has_refund: bool | None = None
    missed_print: bool | None = None
    sort: Literal["newest", "oldest"] = "newest"
    # issue 18 item 6: the orders carrying a promotion's or a coupon template's discount
    promotion_id: (
        Annotated[
            str,
            Meta(
                max_length=64,
                description="Only orders with a discount of this promotion (its code names it).",
            ),
        ]
        | None
    ) = None
    coupon_template_id: (
        Annotated[
            str, Meta(max_length=64, description="Only orders that used a coupon of this template.")
        ]
        | None
    ) = None
