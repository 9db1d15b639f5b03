"""Coupons (优惠券): templates head office defines, the coupons customers hold, and the
counters that keep quantities, per-customer limits and budgets. Filled in by the coupon
work of issue #6.

Invariants are conditions on single items, so they hold under concurrency:

- total quantity: ``issued_count < total_quantity`` on the template, in the same
  TransactWriteItems as the coupon's put;
- per-customer limit: ``count < per_customer_limit`` on a counter item per
  (template, customer), in that same transaction;
- budget: ``budget_left_fen >= discount`` on the template when the coupon is locked by
  an order. ``budget_left_fen`` is always ``(budget_fen or 0) - spent_fen`` (both move in
  one update), so the condition is the brief's ``spent + discount <= budget`` without
  arithmetic in the condition;
- single use: the coupon's ``state = available`` when an order locks it.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list
from chalicelib.db.transitions import HistoryAttribute


class TemplatesByCreation(GlobalSecondaryIndex):
    """Every template, newest first (head office's list, the public claimable list)."""

    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "templates": hundreds, not millions
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<template_id>"


class TemplatesByAutoIssue(GlobalSecondaryIndex):
    """Sparse: only active templates issued automatically, by trigger. Registration and
    payment read it (cached), so they cost nothing when no such template exists."""

    class Meta:
        index_name = "by_auto_issue"
        projection = AllProjection()

    auto_key = UnicodeAttribute(hash_key=True)  # "registration" | "after_payment"
    template_id = UnicodeAttribute(range_key=True)


class TemplateApprovalAttribute(MapAttribute):
    """One approval of a draft template (kernel/approvals.py): who, when (UTC ISO)."""

    by = UnicodeAttribute()
    at = UnicodeAttribute()


class CouponTemplateModel(Model):
    """What a coupon gives, to whom, for how long, how many, and who pays for it."""

    Meta = _meta("coupon_templates")

    template_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()  # amount_off | percent_off | free_delivery
    threshold_fen = NumberAttribute(default=0)  # 0 = no threshold (无门槛)
    amount_off_fen = NumberAttribute(null=True)  # amount_off
    percent_off = NumberAttribute(null=True)  # percent_off: 15 = 15 % off
    cap_fen = NumberAttribute(null=True)  # percent_off: the most it takes off
    scope_categories = string_list(default=list)  # empty = all
    scope_skus = string_list(default=list)
    scope_stores = string_list(default=list)
    # validity: a fixed window, or N days from the moment the customer gets it
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    days_after_claim = NumberAttribute(null=True)
    total_quantity = NumberAttribute(null=True)  # null = unlimited
    issued_count = NumberAttribute(default=0)
    per_customer_limit = NumberAttribute(default=1)
    funded_by = UnicodeAttribute(default="hq")  # hq | store | supplier
    funder = UnicodeAttribute(null=True)
    budget_fen = NumberAttribute(null=True)  # null = no budget
    budget_left_fen = NumberAttribute(default=0)  # (budget_fen or 0) - spent_fen
    spent_fen = NumberAttribute(default=0)
    used_count = NumberAttribute(default=0)
    claimable = BooleanAttribute(default=True)
    auto_issue = UnicodeAttribute(null=True)  # None | "registration" | "after_payment"
    auto_key = UnicodeAttribute(null=True)  # = auto_issue while active (sparse index)
    after_payment_min_fen = NumberAttribute(null=True)
    sale_price_fen = NumberAttribute(
        null=True
    )  # sold for this price (一元买百元券); null = not sold
    status = UnicodeAttribute(default="active")  # draft | pending | active | paused
    listing = UnicodeAttribute(default="templates")
    created_key = UnicodeAttribute()
    request_hash = UnicodeAttribute()  # a retried create with the same body is a replay
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(null=True)  # + 1 on every edit (absent before the first)
    # The campaign holding this template (issue 16): its discounts spend that campaign's
    # budget too and stop with it (campaign_budgets/).
    campaign_id = UnicodeAttribute(null=True)
    # Targeting (issue 18 item 4): a shareable code (upper case, unique: CouponCodeModel),
    # a weekly window the coupons are usable in (kernel/recurrence.py), and an audience
    # (members at or above a level, or in a saved segment) checked when issued.
    code = UnicodeAttribute(null=True)
    rec_weekdays: ListAttribute[int] = ListAttribute(null=True)  # untyped: ints read back
    rec_start = UnicodeAttribute(null=True)
    rec_end = UnicodeAttribute(null=True)
    aud_min_level = UnicodeAttribute(null=True)
    aud_segment_id = UnicodeAttribute(null=True)
    # Stacking policy (issue 18 item 1, kernel/stacking.py): absent = the fixed matrix.
    # A map {exclusive, priority, not_with_tiered, not_with_member_price, stack_group};
    # margin_floor "refuse" (absent) | "exclude". Issued coupons read it with the cart.
    stacking = MapAttribute(null=True)  # type: ignore[var-annotated]
    # Where the policy came from: "own" | "campaign" (copied from its campaign's default,
    # follows it); absent: "own" when a policy is stored, else none (kernel/stacking.py).
    stacking_source = UnicodeAttribute(null=True)
    margin_floor = UnicodeAttribute(null=True)
    # product (商品券, issue 18): one unit of product_sku at product_price_fen (0: free)
    product_sku = UnicodeAttribute(null=True)
    product_price_fen = NumberAttribute(null=True)
    # Issue 18 item 2: "reevaluate" (a return deducts the coupon's benefit the units kept
    # no longer earn); None is "proportional" (the default)
    returns_policy = UnicodeAttribute(null=True)
    # Redemption limits (issue 18 item 3, kernel/period_limits.py): a map of the ones set
    # {per_customer_per_day, per_customer_per_week, per_store_per_day}; absent = none.
    # Copied onto each coupon issued, so checkout knows its counters before the cart read.
    limits = MapAttribute(null=True)  # type: ignore[var-annotated]
    # Workflow (issue 18 item 5): a draft's approvals so far (cleared by a change of its
    # money fields or a rejection) and the last rejection's reason.
    approvals = ListAttribute(of=TemplateApprovalAttribute, default=list)
    rejected_reason = UnicodeAttribute(null=True)

    by_created = TemplatesByCreation()
    by_auto_issue = TemplatesByAutoIssue()


class CouponsByCustomer(GlobalSecondaryIndex):
    """A customer's wallet, newest first."""

    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class CouponsToRemind(GlobalSecondaryIndex):
    """Sparse: ``remind`` is set only while the coupon is available, so the daily
    reminder run reads exactly the available coupons expiring soon with one Query."""

    class Meta:
        index_name = "by_remind"
        projection = KeysOnlyProjection()

    remind = UnicodeAttribute(hash_key=True)  # "available"
    valid_until = UnicodeAttribute(range_key=True)


class CouponModel(Model):
    """A coupon a customer holds. It carries a copy of what pricing needs, so checkout
    reads one item per coupon and never the template."""

    Meta = _meta("coupons")

    coupon_id = UnicodeAttribute(hash_key=True)  # deterministic per issuance, see services
    customer_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    threshold_fen = NumberAttribute(default=0)
    amount_off_fen = NumberAttribute(null=True)
    percent_off = NumberAttribute(null=True)
    cap_fen = NumberAttribute(null=True)
    scope_categories = string_list(default=list)
    scope_skus = string_list(default=list)
    scope_stores = string_list(default=list)
    funded_by = UnicodeAttribute(default="hq")
    state = UnicodeAttribute(default="available")  # available | locked | used | expired | voided
    remind = UnicodeAttribute(null=True)  # "available" while available (sparse index)
    valid_from = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    # claim | registration | after_payment | bulk | staff_qr | sale | mall
    source = UnicodeAttribute()
    staff_username = UnicodeAttribute(null=True)  # 员工分销: who brought the customer
    order_id = UnicodeAttribute(null=True)  # the order locking or using it
    discount_fen = NumberAttribute(null=True)  # granted at redemption
    # "voided": an after-payment gift whose order was refunded in full while the gift was
    # locked or used; whenever it is given back (release, full refund) it becomes this
    # instead of available (docs/promotions.md, "After-payment gifts").
    given_back_as = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Targeting: the template's weekly window, copied so that checkout reads no template
    # for it (absent on coupons of templates without one: no bigger item)
    rec_weekdays: ListAttribute[int] = ListAttribute(null=True)
    rec_start = UnicodeAttribute(null=True)
    rec_end = UnicodeAttribute(null=True)
    # product (商品券, issue 18): one unit of product_sku at product_price_fen (0: free)
    product_sku = UnicodeAttribute(null=True)
    product_price_fen = NumberAttribute(null=True)
    # The template's redemption limits when it was issued (absent: none; coupons issued
    # before limits existed keep behaving as before): checkout reads their counters in
    # the cart's one BatchGetItem (promotions/limits.py ``template_counter_keys``).
    limits = MapAttribute(null=True)  # type: ignore[var-annotated]

    by_customer = CouponsByCustomer()
    by_remind = CouponsToRemind()


class CouponClaimCounterModel(Model):
    """Coupons of one template a customer has received: the per-customer limit is a
    condition on this item."""

    Meta = _meta("coupon_claim_counters")

    counter_key = UnicodeAttribute(hash_key=True)  # "<template_id>#<customer_id>"
    # Shadows Model.count (a table scan count, never called on this model): the stored
    # attribute's name.
    count = NumberAttribute(default=0)  # type: ignore[assignment]


class NotificationsByKind(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)  # "coupon_expiring"
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<notification_id>"


class NotificationModel(Model):
    """A message recorded for a customer (expiry reminders). The id is deterministic
    (coupon + reminder day), so a rerun of the job records nothing twice."""

    Meta = _meta("notifications")

    notification_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    phone_masked = UnicodeAttribute(null=True)
    coupon_id = UnicodeAttribute(null=True)
    message = UnicodeAttribute()
    channel = UnicodeAttribute(default="log")
    created_at = UnicodeAttribute()
    created_key = UnicodeAttribute()

    by_kind = NotificationsByKind()


class CouponSaleModel(Model):
    """A coupon sold for money (一元买百元券): the customer buys, pays through the payment
    provider (``sale_id`` is what the provider carries as its order id), and gets the
    coupon in the payment's transaction. Refundable in full while the coupon is unused.

    ``sale_id`` is "CS" + 16 hex characters derived from (customer, request_id), so a
    retried purchase finds its sale; order ids start with six digits, so the payment
    notification tells the two apart by the prefix."""

    Meta = _meta("coupon_sales")

    sale_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()  # the template's name when bought
    price_fen = NumberAttribute()
    status = UnicodeAttribute()  # awaiting_payment | paid | refunded | expired
    coupon_id = UnicodeAttribute()  # "<template>:sale:<sale_id>", issued when paid
    coupon_issued = BooleanAttribute(default=False)
    payment_id = UnicodeAttribute(null=True)
    payment_provider = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    refund_reason = UnicodeAttribute(null=True)  # requested | sold_out | limit_reached | ...
    refunded_at = UnicodeAttribute(null=True)
    history = HistoryAttribute(default=list)
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()  # payment deadline (15 minutes, like orders)
    updated_at = UnicodeAttribute()


class CouponCodeModel(Model):
    """A shareable code (通用码) naming its template: written with a condition that the
    code is free, so two templates never share one. Kept when the template is paused
    (the code stays taken)."""

    Meta = _meta("coupon_codes")

    code = UnicodeAttribute(hash_key=True)  # upper case, 4-20 of A-Z 0-9
    template_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


def counter_key(template_id: str, customer_id: str) -> str:
    return f"{template_id}#{customer_id}"


COUPON_MODELS: tuple[type[Model], ...] = (
    CouponTemplateModel,
    CouponModel,
    CouponClaimCounterModel,
    NotificationModel,
    CouponSaleModel,
    CouponCodeModel,
)
