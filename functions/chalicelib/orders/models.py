"""Tables of the order flow: orders, idempotency keys, payments, refunds, returns (print
jobs and counters are in printing/models.py). Money is integer fen; times are UTC
ISO-8601 strings, except epoch-second attributes used as index sort keys or TTL."""

from __future__ import annotations

from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib.db.models import _meta
from chalicelib.db.transitions import HistoryAttribute

# An order's detail and its maps are stored under short names (``attr_name``; the code
# uses the Python names): the detail is written inside the place transaction, where each
# KB costs two write units, and a line's long names were repeated on every line (a
# 5-line order took 1.7 KB, now under 1 KB: tests/unit/test_order_detail_size.py).
# events/records.py reads the lines and coupon uses of stream images and raw details by
# these stored names (LINE_NAMES there; test_event_records checks they agree). Orders
# stored before the split hold long names in their head: infra/migrate_order_details.py
# writes their detail through this model. Never rename a stored name.


class AddressAttribute(MapAttribute):
    name = UnicodeAttribute(attr_name="n")
    phone = UnicodeAttribute(attr_name="p")
    line = UnicodeAttribute(attr_name="l")  # street, building, room
    lat = NumberAttribute()
    lng = NumberAttribute()


class OrderLineAttribute(MapAttribute):
    """A line as sold: a snapshot of the product and price at the time of the order."""

    sku = UnicodeAttribute(attr_name="s")
    name = UnicodeAttribute(attr_name="n")
    unit = UnicodeAttribute(attr_name="u")
    category1 = UnicodeAttribute(attr_name="c1")
    category2 = UnicodeAttribute(attr_name="c2")
    zone = UnicodeAttribute(null=True, attr_name="z")
    shelf = UnicodeAttribute(null=True, attr_name="sh")
    fresh = BooleanAttribute(default=False, attr_name="f")
    unit_price_fen = NumberAttribute(attr_name="up")
    qty = NumberAttribute(attr_name="q")
    amount_fen = NumberAttribute(attr_name="a")  # unit price x qty
    # this line's share of order-level discounts
    discount_fen = NumberAttribute(default=0, attr_name="d")
    # this line's share of what points paid (points as cash, checkout/points_cash.py);
    # unset when none (the detail stays within one write unit)
    points_fen = NumberAttribute(null=True, attr_name="pt")
    # amount - discount - points: what the customer paid for the line in money
    paid_fen = NumberAttribute(attr_name="p")
    picked_qty = NumberAttribute(null=True, attr_name="pq")  # set when picking finishes
    refunded_units = NumberAttribute(default=0, attr_name="ru")
    refunded_fen = NumberAttribute(default=0, attr_name="rf")
    # a gift with purchase (满赠, issue 18) placed at price 0; unset on other lines
    gift = BooleanAttribute(null=True, attr_name="g")


class DiscountAttribute(MapAttribute):
    code = UnicodeAttribute(attr_name="c")
    label = UnicodeAttribute(attr_name="l")
    amount_fen = NumberAttribute(attr_name="a")
    # What it is and the price it was computed on (docs/promotions.md); null on orders
    # placed before promotions existed.
    kind = UnicodeAttribute(null=True, attr_name="k")
    base_fen = NumberAttribute(null=True, attr_name="bf")
    base = UnicodeAttribute(null=True, attr_name="b")
    funded_by = UnicodeAttribute(null=True, attr_name="fb")


class CouponUseAttribute(MapAttribute):
    """A coupon this order locked (unpaid) or used (paid): given back on cancel/expiry."""

    coupon_id = UnicodeAttribute(attr_name="c")
    template_id = UnicodeAttribute(attr_name="t")
    kind = UnicodeAttribute(attr_name="k")  # amount_off | percent_off | free_delivery
    discount_fen = NumberAttribute(attr_name="d")  # spent against the template's budget


class FlashUseAttribute(MapAttribute):
    """Flash-sale units this order took, and the shard they came from (given back there)."""

    promotion_id = UnicodeAttribute(attr_name="p")
    sku = UnicodeAttribute(attr_name="s")
    units = NumberAttribute(attr_name="u")
    shard = NumberAttribute(attr_name="sh")


class ZoneUseAttribute(MapAttribute):
    """Units this order counts against a fixed-price zone's per-customer limit (given
    back on cancel/expiry)."""

    zone_id = UnicodeAttribute(attr_name="z")
    sku = UnicodeAttribute(attr_name="s")
    units = NumberAttribute(attr_name="u")


class BudgetUseAttribute(MapAttribute):
    """A tiered promotion's campaign budget this order spent."""

    promotion_id = UnicodeAttribute(attr_name="p")
    amount_fen = NumberAttribute(attr_name="a")


class CampaignUseAttribute(MapAttribute):
    """A campaign budget this order spent (issue 16), split by funder, so that its
    give-back (cancel, expiry, full refund) returns exactly this."""

    campaign_id = UnicodeAttribute(attr_name="c")
    amount_fen = NumberAttribute(attr_name="a")
    hq_fen = NumberAttribute(default=0, attr_name="h")
    store_fen = NumberAttribute(default=0, attr_name="s")
    supplier_fen = NumberAttribute(default=0, attr_name="u")


# The order indexes hold keys and the few attributes their queries filter or total on,
# never the whole order: DynamoDB writes an index entry again whenever a projected
# attribute changes, and the order changes at every step of its life. Projecting the
# whole order made each store step cost ~12 index write units; list routes now read the
# orders a page names with one BatchGetItem (reads cost a fifth of writes).


class OrdersByStoreQueue(GlobalSecondaryIndex):
    """A store's orders by work-queue bucket (kernel.states.order_queue), oldest first:
    "<store>#open" holds every order from payment until it is delivered, cancelled or
    completed; "<store>#delivered" the delivered ones until they complete (the
    auto-completion job reads it). Unpaid and final orders are in no bucket (their lists
    come from by_store_day). The key stays the same from one step to the next, so a step
    rewrites the entry (one small index write) instead of moving it (two); lists filter
    on the projected status in the query itself. pickup_code is projected for the pickup
    counter's lookup."""

    class Meta:
        index_name = "by_store_queue"
        projection = IncludeProjection(["status", "pickup_code"])

    store_queue = UnicodeAttribute(hash_key=True)  # "<store_id>#open", "<store_id>#delivered"
    created_at = UnicodeAttribute(range_key=True)


class OrdersByCustomer(GlobalSecondaryIndex):
    """A customer's orders, newest first. Keys only: never rewritten after placing."""

    class Meta:
        index_name = "by_customer"
        projection = KeysOnlyProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrdersByStoreDay(GlobalSecondaryIndex):
    """A store's orders of one business day (store time zone), for head office and reports.
    Projects what the dashboard totals (one small entry, rewritten when payment or refunds
    change it); not the status, which changes at every step (the day list reads the
    orders to filter on it)."""

    class Meta:
        index_name = "by_store_day"
        projection = IncludeProjection(
            [
                "paid_at",
                "paid_fen",
                "refunded_fen",
                "returned_payments_fen",
                "print_job_ids",
                # a mechanic's held order (paid, waiting for its group; "held" below):
                # not a sale until released. Absent on ordinary orders (no extra write)
                "hold",
            ]
        )

    store_day = UnicodeAttribute(hash_key=True)  # "<store_id>#2026-11-24"
    created_at = UnicodeAttribute(range_key=True)


class OrdersDue(GlobalSecondaryIndex):
    """Sparse index of unpaid orders by payment deadline (due_kind "expire"), for the
    expiry job. Delivered orders are not in it: the auto-completion job reads each store's
    delivered bucket of by_store_queue (the order keeps its due_at, without a due_kind)."""

    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()

    due_kind = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class OrderDetailModel(Model):
    """What an order is given when it is placed and (refunds and returns aside) never
    changes: its lines, address, discounts and the promotions it took. Kept apart from
    the order's head (OrderModel), which every step of the order's life rewrites:
    DynamoDB charges a write by the size of the whole item, and the head stays under
    1 KB (one write unit) whatever the size of the basket. Read with its head in one
    BatchGetItem (order_flow.get, service.load_many)."""

    Meta = _meta("order_details")

    # Stored under short names, as its maps are (see above).
    order_id = UnicodeAttribute(hash_key=True)
    address = AddressAttribute(null=True, attr_name="ad")
    remark = UnicodeAttribute(null=True, attr_name="rm")
    # picked_qty of a line is on the head (OrderModel.short_picked) for orders picked
    # after the split; refunded units and amounts change here, with their refund.
    lines = ListAttribute(of=OrderLineAttribute, attr_name="ln")
    discounts = ListAttribute(of=DiscountAttribute, default=list, attr_name="ds")
    coupon_uses = ListAttribute(of=CouponUseAttribute, default=list, attr_name="cu")
    flash_uses = ListAttribute(of=FlashUseAttribute, default=list, attr_name="fu")
    budget_uses = ListAttribute(of=BudgetUseAttribute, default=list, attr_name="bu")
    # by a free-delivery coupon
    delivery_fee_waived_fen = NumberAttribute(default=0, attr_name="fw")
    subtotal_fen = NumberAttribute(attr_name="st")
    discount_fen = NumberAttribute(default=0, attr_name="dc")
    delivery_fee_fen = NumberAttribute(default=0, attr_name="fee")
    # The campaign budgets the order spent (issue 16): None (not stored) on other orders,
    # so that their detail stays the size it was
    campaign_uses = ListAttribute(of=CampaignUseAttribute, null=True, attr_name="cpu")
    # Fixed-price zone units under a per-customer limit (issue 17): None on other orders
    zone_uses = ListAttribute(of=ZoneUseAttribute, null=True, attr_name="zu")
    # Counters of limited promotions the order added one to (issue 18 item 3): None on
    # other orders
    limit_uses = cast(
        "ListAttribute[str]", ListAttribute(of=UnicodeAttribute, null=True, attr_name="lu")
    )
    # Returns re-evaluated (issue 18 item 2): the rules of the discounts whose policy is
    # reevaluate (checkout/reprice.py, compact JSON) and what the returns have deducted
    # so far. None (not stored) on other orders, so their detail stays the size it was
    reprice = UnicodeAttribute(null=True, attr_name="rp")
    reprice_clawed_fen = NumberAttribute(null=True, attr_name="rpc")


# The head's attributes that live in the detail item, read through the head once the
# detail is attached (OrderModel.attach).
DETAIL_FIELDS = (
    "address",
    "remark",
    "lines",
    "discounts",
    "coupon_uses",
    "flash_uses",
    "budget_uses",
    "delivery_fee_waived_fen",
    "subtotal_fen",
    "discount_fen",
    "delivery_fee_fen",
    "campaign_uses",
    "zone_uses",
    "limit_uses",
    "reprice",
    "reprice_clawed_fen",
)


def _from_detail(name: str) -> Any:
    def get(self: OrderModel) -> Any:
        return getattr(self.detail, name)

    get.__name__ = name
    return property(get, doc=f"The detail's {name} (OrderDetailModel).")


class OrderModel(Model):
    """An order's head: what its steps change, and what conditions, indexes and lists
    need. Its write-once rest is its OrderDetailModel; ``order.lines`` etc. read the
    attached detail (``attach``), and fail loudly where only the head was read."""

    Meta = _meta("orders")
    # Domain events come from this stream (events/records.py: STREAM_VIEWS)
    Meta.stream_view_type = "NEW_AND_OLD_IMAGES"

    order_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    fulfilment = UnicodeAttribute()  # "delivery" | "pickup"
    status = UnicodeAttribute()
    # "<store_id>#<kernel.states.order_queue(status)>" while paid and not final (unset
    # before payment and once final: order_flow.queue_key)
    store_queue = UnicodeAttribute(null=True)
    # The store_queue the order takes when paid, written at placing: the payment's
    # update copies it (it reads nothing, so it does not know the store).
    paid_queue = UnicodeAttribute(null=True)
    store_day = UnicodeAttribute()
    delivery_fee_refunded_fen = NumberAttribute(default=0)
    total_fen = NumberAttribute()
    paid_fen = NumberAttribute(default=0)
    refunded_fen = NumberAttribute(default=0)
    # Payments the order could not take (late, a second one, the wrong amount), each
    # refunded whole: not part of paid_fen / refunded_fen, counted in the day's refunds.
    returned_payments_fen = NumberAttribute(null=True)
    # Paid (partly or wholly) with stored value (储值), taken when the order was placed:
    # how much, split into principal and bonus, the account's store (its liability), what
    # refunds gave back so far, and what the payment provider is asked for (total less
    # stored value; the payment's condition). All unset on orders without stored value.
    stored_value_fen = NumberAttribute(null=True, attr_name="sv")
    stored_value_principal_fen = NumberAttribute(null=True, attr_name="svp")
    stored_value_bonus_fen = NumberAttribute(null=True, attr_name="svb")
    stored_value_store = UnicodeAttribute(null=True, attr_name="svs")
    stored_value_returned_fen = NumberAttribute(null=True, attr_name="svr")
    payable_fen = NumberAttribute(null=True, attr_name="due")
    # Points as cash (积分抵现), locked when the order was placed: the points and the fen
    # they paid (total_fen is after them). On the head so the stream's events carry them
    # (events/records.py: ``points_locked``); unset on orders without points.
    points_used = NumberAttribute(null=True, attr_name="pts")
    points_fen = NumberAttribute(null=True, attr_name="ptf")
    # A points-mall product reward redeemed as this order (loyalty/mall.py) and the
    # points it locked: its events carry the id to the mall's subscribers. Unset on
    # other orders.
    reward_id = UnicodeAttribute(null=True, attr_name="rw")
    reward_points = NumberAttribute(null=True, attr_name="rwp")
    # A member day's extra points multiplier (decimal text, "2"), recorded when placed
    # on the member day, so the completion, days later, earns with it (events/records.py
    # carries it on order.completed). Unset on other orders: the head stays small.
    points_multiplier = UnicodeAttribute(null=True, attr_name="pmx")
    # The campaign of the member day giving that multiplier (issue 16: its extra points
    # are the campaign's cost); None (not stored) otherwise
    points_campaign_id = UnicodeAttribute(null=True, attr_name="pmc")
    # A new-customer benefit the order took (issue 18 item 3; promotions/limits.py
    # NewCustomerUse: "<promotion>|<fen>|<declared payer hash>"): the payment's update,
    # which reads nothing, gets it back and records who actually paid. Unset otherwise.
    new_customer = UnicodeAttribute(null=True, attr_name="nc")
    # Set when picking finishes: sku -> picked quantity of the lines picked short (empty:
    # all found); a line not in it was picked whole. Picking writes the head alone.
    short_picked: MapAttribute[str, Any] = MapAttribute(attr_name="short", null=True)
    pickup_code = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    payment_provider = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    daily_seq = NumberAttribute(null=True)  # 今日第 N 单, per store and business day
    missed_print = BooleanAttribute(default=False)
    print_job_ids = UnicodeSetAttribute(default=set)
    history = HistoryAttribute(derive_from=True, default=list)
    expires_at = UnicodeAttribute()  # payment deadline
    due_kind = UnicodeAttribute(null=True)  # "expire" while unpaid (by_due)
    due_at = NumberAttribute(null=True)  # payment deadline, or auto-completion once delivered
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()
    # The placing request body's hash (orders/service.py ``_stored_hash``, short: the
    # head's size is each step's write cost): a retry with the order's Idempotency-Key (the
    # order id is derived from it) gets the order only with the same body. None on
    # orders placed before (their key's record is in idempotency_keys).
    request_hash = UnicodeAttribute(null=True, attr_name="rh")
    # A mechanic's order (issue 17): the group buy it holds a seat in ("<group id>"), and
    # while it is held (paid but not for the store yet) "group:<group id>"
    # (orders/extensions.py). Unset on ordinary orders: the head stays small.
    group_id = UnicodeAttribute(null=True, attr_name="grp")
    held = UnicodeAttribute(null=True, attr_name="hold")

    by_store_queue = OrdersByStoreQueue()
    by_customer = OrdersByCustomer()
    by_store_day = OrdersByStoreDay()
    by_due = OrdersDue()

    _detail: OrderDetailModel | None = None

    def attach(self, detail: OrderDetailModel) -> OrderModel:
        """Give the head its detail (read with it); returns the head."""
        self._detail = detail
        return self

    @property
    def detail(self) -> OrderDetailModel:
        if self._detail is None:
            raise RuntimeError(f"order {self.order_id}: its detail was not read with it")
        return self._detail

    @property
    def has_detail(self) -> bool:
        return self._detail is not None

    address = _from_detail("address")
    remark = _from_detail("remark")
    discounts = _from_detail("discounts")
    coupon_uses = _from_detail("coupon_uses")
    flash_uses = _from_detail("flash_uses")
    budget_uses = _from_detail("budget_uses")
    delivery_fee_waived_fen = _from_detail("delivery_fee_waived_fen")
    subtotal_fen = _from_detail("subtotal_fen")
    discount_fen = _from_detail("discount_fen")
    delivery_fee_fen = _from_detail("delivery_fee_fen")
    campaign_uses = _from_detail("campaign_uses")
    zone_uses = _from_detail("zone_uses")
    limit_uses = _from_detail("limit_uses")
    reprice = _from_detail("reprice")
    reprice_clawed_fen = _from_detail("reprice_clawed_fen")

    @property
    def lines(self) -> list[OrderLineAttribute]:
        """The detail's lines, with picked_qty as the head records it."""
        lines = self.detail.lines
        short = self.short_picked
        if short is not None:
            got = short.as_dict() if isinstance(short, MapAttribute) else dict(short)
            for line in lines:
                line.picked_qty = int(got.get(line.sku, line.qty))
        return lines


def short_picks(order: OrderModel, picked: list[int]) -> dict[str, int]:
    """``short_picked`` for the picked quantity of each line (in the order's line order)."""
    return {line.sku: n for line, n in zip(order.lines, picked, strict=True) if n < int(line.qty)}


def line_path(index: int) -> Any:
    """``OrderDetailModel.lines[index]`` in an update or condition, e.g.
    ``line_path(0).refunded_units.add(1)``: PynamoDB types a list element as a Path without
    its map's attributes."""
    return OrderDetailModel.lines[index]


class IdempotencyModel(Model):
    """An Idempotency-Key a customer used, and what it created (kept 24 h): a return
    (orders/returns.py). Placing an order no longer writes one (the order's id is derived
    from the key, orders/service.py); place records written before are read until they
    expire."""

    Meta = _meta("idempotency_keys")

    key = UnicodeAttribute(hash_key=True)  # "<customer_id>#<Idempotency-Key>"
    request_hash = UnicodeAttribute()
    order_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = TTLAttribute()


class PaymentModel(Model):
    """A captured payment, keyed by the provider's transaction id: a second notification
    for the same transaction finds it and changes nothing."""

    Meta = _meta("payments")

    payment_id = UnicodeAttribute(hash_key=True)  # "<provider>:<transaction id>"
    order_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    amount_fen = NumberAttribute()
    # "captured" | "late_refunded" (order was no longer payable) | "mismatch_refunded"
    # (amount differs from the total) | "unknown_order_refunded" (no such order or sale)
    outcome = UnicodeAttribute()
    received_at = UnicodeAttribute()


class RefundLineAttribute(MapAttribute):
    sku = UnicodeAttribute()
    units = NumberAttribute()
    amount_fen = NumberAttribute()


class RefundsByOrder(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_order"
        projection = AllProjection()

    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RefundsDue(GlobalSecondaryIndex):
    """Sparse: refunds not yet confirmed by the provider, for the retry job."""

    class Meta:
        index_name = "by_pending"
        projection = KeysOnlyProjection()

    pending = UnicodeAttribute(hash_key=True)  # "pending" while not succeeded
    created_at = UnicodeAttribute(range_key=True)


class RefundModel(Model):
    """Money going back to the customer. The id is derived from its cause
    ("<order>:cancel", "<order>:shortage", "<order>:return:<id>"), so a retried request
    finds the refund it already made instead of making a second one."""

    Meta = _meta("refunds")
    # Domain events come from this stream (events/records.py: STREAM_VIEWS)
    Meta.stream_view_type = "NEW_AND_OLD_IMAGES"

    refund_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    payment_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    # cancel | shortage | return | late_payment | amount_mismatch | unknown_order
    reason = UnicodeAttribute()
    lines = ListAttribute(of=RefundLineAttribute, default=list)
    delivery_fee_fen = NumberAttribute(default=0)
    amount_fen = NumberAttribute()  # the whole refund: provider part + stored_value_fen
    stored_value_fen = NumberAttribute(null=True)  # of amount_fen, back to the stored value
    status = UnicodeAttribute()  # pending | succeeded | failed
    # True: with this refund the order has paid back all it was paid (its after-payment
    # gifts are voided when the refund is executed).
    completes_order = BooleanAttribute(null=True)
    pending = UnicodeAttribute(null=True)
    provider_refund_id = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    history = HistoryAttribute(default=list)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Issue 18 item 2: what this return's refund deducts from its units' paid share for
    # discounts no longer earned (negative: a deduction given back), and what the order
    # keeps paid after it (after-payment gifts below their minimum are voided); None
    # on other refunds
    deducted_fen = NumberAttribute(null=True)
    kept_fen = NumberAttribute(null=True)

    by_order = RefundsByOrder()
    by_pending = RefundsDue()


class ReturnLineAttribute(MapAttribute):
    sku = UnicodeAttribute()
    units = NumberAttribute()
    fresh = BooleanAttribute(default=False)


class ReturnsByStore(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_store_status"
        projection = AllProjection()

    store_status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ReturnModel(Model):
    """退货: goods of a completed order coming back."""

    Meta = _meta("returns")

    return_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    lines = ListAttribute(of=ReturnLineAttribute)
    reason = UnicodeAttribute(null=True)
    requested_by = UnicodeAttribute()
    status = UnicodeAttribute()
    store_status = UnicodeAttribute()
    refund_id = UnicodeAttribute(null=True)
    history = HistoryAttribute(default=list)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_store_status = ReturnsByStore()


ORDER_MODELS: tuple[type[Model], ...] = (
    OrderModel,
    OrderDetailModel,
    IdempotencyModel,
    PaymentModel,
    RefundModel,
    ReturnModel,
)
