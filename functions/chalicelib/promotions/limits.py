"""Limits marketers use, and anti-abuse for new-customer benefits (issue 18 item 3;
docs/promotions.md, "Limits and anti-abuse").

A promotion's ``limits``: how often it may benefit one customer per local day, per ISO
week and over the promotion (``per_customer_per_*``), how many units one order gets it
on (``per_order_units``: read by the engine), how many orders one store gives it per
local day (``per_store_per_day``), and who may have it (``first_order_only``,
``new_customers_only``: registered within N days and no order before). ``one_per``
names the fingerprints ("device", "address", "payment") that make two accounts one customer
for a new-customer benefit.

Counting: one ``LimitCounterModel`` item per counter, added to (+1 per order that gets
the promotion) under the limit in the order's own TransactWriteItems, and taken off in
the transaction that cancels or expires the order. The quote reads the counters in the
cart's BatchGetItem, only when a limited promotion is live at the store. Days and weeks
are the chain's local calendar (Asia/Shanghai, as member days).

Coupon templates' redemption limits (``per_customer_per_day``, ``per_customer_per_week``,
``per_store_per_day``; kernel/period_limits.py) use the same counters and keys under a
"t#<template>" prefix (``template_counter_keys``); checkout reads and adds to them as it
does for promotions.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.db.transactions import TxPiece
from chalicelib.kernel import clock
from chalicelib.kernel import period_limits as kperiod
from chalicelib.kernel.errors import field_error
from chalicelib.promotions import member_day as md
from chalicelib.promotions.limits_schemas import (
    AbuseOrder,
    AbuseReport,
    LimitsOut,
    LimitsSpec,
    SharedFingerprint,
)
from chalicelib.promotions.models import LimitCounterModel, LimitsAttribute, NewCustomerMarkerModel

# Why the engine leaves a limited promotion out of a cart (its note says so).
LIMIT_REACHED = "limit_reached"
FIRST_ORDER_ONLY = "first_order_only"
NEW_CUSTOMERS_ONLY = "new_customers_only"
NEW_CUSTOMER_ALREADY_USED = "new_customer_already_used"
MESSAGES = {
    LIMIT_REACHED: "Its limit is used up",
    FIRST_ORDER_ONLY: "It is for a customer's first order only",
    NEW_CUSTOMERS_ONLY: "It is for new customers only",
    NEW_CUSTOMER_ALREADY_USED: (
        "Another account with this device, address or payment account already had it"
    ),
}
# Kinds whose discount a per-order unit cap can bound (the engine reads it there):
# half-price units, add-on units (with max_units, the lower wins), bundles. A gift is
# given once per order already.
UNIT_CAPPED_KINDS = {"second_half_price", "add_on", "bundle"}
LIMITED_KINDS = {"tiered", "second_half_price", "add_on", "gift", "bundle"}
# The applied discounts' kinds (checkout) that use a limited promotion.
COUNTED_DISCOUNTS = {"tiered", "second_half", "add_on", "gift", "bundle"}


def limits_errors(kind: str, spec: LimitsSpec | None) -> list[dict[str, str]]:
    """What a promotion of ``kind`` cannot take: limits on a kind without them (flash
    sales keep ``per_customer_limit``), a unit cap where the engine has none, anti-abuse
    without a new-customer benefit."""
    if spec is None:
        return []
    if kind not in LIMITED_KINDS:
        return [field_error("limits", f"not used by a {kind} promotion")]
    errors = []
    if spec.per_order_units is not None and kind not in UNIT_CAPPED_KINDS:
        errors.append(field_error("limits.per_order_units", f"not used by a {kind} promotion"))
    if spec.one_per and not (spec.first_order_only or spec.new_customers_only):
        errors.append(
            field_error("limits.one_per", "only with first_order_only or new_customers_only")
        )
    if len(set(spec.one_per)) != len(spec.one_per):
        errors.append(field_error("limits.one_per", "listed twice"))
    return errors


def to_attribute(spec: LimitsSpec | None) -> LimitsAttribute | None:
    """What the promotion stores: None without any limit (the item stays as it was)."""
    if spec is None or spec == LimitsSpec():
        return None
    return LimitsAttribute(
        per_customer_per_day=spec.per_customer_per_day,
        per_customer_per_week=spec.per_customer_per_week,
        per_customer_per_campaign=spec.per_customer_per_campaign,
        per_order_units=spec.per_order_units,
        per_store_per_day=spec.per_store_per_day,
        first_order_only=spec.first_order_only or None,
        new_customers_only=spec.new_customers_only,
        one_per=list(spec.one_per),
    )


@dataclass(frozen=True)
class Limits:
    """A promotion's limits as checkout uses them (from the promotions cache)."""

    per_customer_per_day: int | None = None
    per_customer_per_week: int | None = None
    per_customer_per_campaign: int | None = None
    per_order_units: int | None = None
    per_store_per_day: int | None = None
    first_order_only: bool = False
    new_customers_only: int | None = None
    one_per: tuple[str, ...] = ()

    @property
    def new_customer(self) -> bool:
        """A new-customer benefit (first order or new customers only)."""
        return self.first_order_only or self.new_customers_only is not None

    @property
    def counted(self) -> bool:
        """Some counter is read with the cart and added to by the order."""
        return self.new_customer or any(
            v is not None
            for v in (
                self.per_customer_per_day,
                self.per_customer_per_week,
                self.per_customer_per_campaign,
                self.per_store_per_day,
            )
        )


def limits_of(attr: LimitsAttribute | None) -> Limits | None:
    if attr is None:
        return None

    def n(v: Any) -> int | None:
        return None if v is None else int(v)

    return Limits(
        n(attr.per_customer_per_day),
        n(attr.per_customer_per_week),
        n(attr.per_customer_per_campaign),
        n(attr.per_order_units),
        n(attr.per_store_per_day),
        bool(attr.first_order_only),
        n(attr.new_customers_only),
        tuple(attr.one_per or ()),
    )


def view(attr: LimitsAttribute | None) -> LimitsOut | None:
    lim = limits_of(attr)
    if lim is None:
        return None
    return LimitsOut(
        per_customer_per_day=lim.per_customer_per_day,
        per_customer_per_week=lim.per_customer_per_week,
        per_customer_per_campaign=lim.per_customer_per_campaign,
        per_order_units=lim.per_order_units,
        per_store_per_day=lim.per_store_per_day,
        first_order_only=lim.first_order_only,
        new_customers_only=lim.new_customers_only,
        one_per=list(lim.one_per),
    )


# --- counters ---------------------------------------------------------------------------


def local_day(now: datetime) -> str:
    return md.day_key(md.local_day(now))


def local_week(now: datetime) -> str:
    year, week, _ = md.local_day(now).isocalendar()
    return f"{year}W{week:02d}"


def first_key(customer_id: str) -> str:
    """The customer's first-order counter, shared by every new-customer benefit: held
    (1) by the order that took one, back to 0 when it is cancelled or expires unpaid."""
    return f"first#{customer_id}"


def counter_keys(
    promotion_id: str, lim: Limits, customer_id: str | None, store_id: str, now: datetime
) -> dict[str, int]:
    """The counters an order getting the promotion adds one to: key -> its limit."""
    day = local_day(now)
    out: dict[str, int] = {}
    if lim.per_store_per_day is not None:
        out[f"{promotion_id}#s#{store_id}#d{day}"] = lim.per_store_per_day
    if customer_id is None:
        return out
    c = f"{promotion_id}#c#{customer_id}"
    if lim.per_customer_per_day is not None:
        out[f"{c}#d{day}"] = lim.per_customer_per_day
    if lim.per_customer_per_week is not None:
        out[f"{c}#w{local_week(now)}"] = lim.per_customer_per_week
    if lim.per_customer_per_campaign is not None:
        out[c] = lim.per_customer_per_campaign
    if lim.new_customer:
        out[first_key(customer_id)] = 1
    return out


# --- coupon templates' limits (the same counters, keys under "t#<template>") -------------

# Every counter a coupon template may have: read with the cart for chosen coupons, whose
# limits (copied on the coupon) are known only once the coupon is read in the same batch.
ANY_PERIOD = Limits(per_customer_per_day=1, per_customer_per_week=1, per_store_per_day=1)


def template_scope(template_id: str) -> str:
    """The counters' prefix for a coupon template: promotion ids hold no '#', so
    "t#<template>" keys never meet a promotion's "<promotion>#..." ones."""
    return f"t#{template_id}"


def period_limits(raw: Any) -> Limits | None:
    """A coupon's (or template's) stored ``limits`` map as counted limits (None: none)."""
    d = kperiod.as_dict(raw)
    if not d:
        return None
    return Limits(
        per_customer_per_day=d.get("per_customer_per_day"),
        per_customer_per_week=d.get("per_customer_per_week"),
        per_store_per_day=d.get("per_store_per_day"),
    )


def template_counter_keys(
    template_id: str, lim: Limits, customer_id: str | None, store_id: str, now: datetime
) -> dict[str, int]:
    """The counters an order redeeming a coupon of the template adds one to."""
    return counter_keys(template_scope(template_id), lim, customer_id, store_id, now)


def used_up(keys: dict[str, int], counts: dict[str, int]) -> bool:
    """Whether some counter is already at its limit (the order would pass it)."""
    return any(counts.get(k, 0) >= limit for k, limit in keys.items())


def is_new_customer(
    lim: Limits, registered_at: str | None, has_ordered: bool, now: datetime
) -> str | None:
    """Why a customer may not have a new-customer benefit (None: they may). A first
    order: no completed order on the loyalty account and no order holding the customer's
    first-order counter (checked with the counters). New: also registered within
    ``new_customers_only`` days."""
    if not lim.new_customer:
        return None
    if has_ordered:
        return FIRST_ORDER_ONLY if lim.first_order_only else NEW_CUSTOMERS_ONLY
    if lim.new_customers_only is not None:
        if registered_at is None:
            return NEW_CUSTOMERS_ONLY
        if clock.parse(registered_at) < now - timedelta(days=lim.new_customers_only):
            return NEW_CUSTOMERS_ONLY
    return None


def take_piece(key: str, limit: int) -> TxPiece:
    """+1 on the counter, within ``limit`` (the bound ``limit - 1`` computed here:
    DynamoDB conditions cannot add)."""
    m = LimitCounterModel
    return TxPiece(
        LimitCounterModel(key),
        {
            "actions": [m.used.add(1)],
            "condition": m.used.does_not_exist() | (m.used <= limit - 1),
        },
        f"promotion_limit:{key}",
    )


def release_piece(key: str) -> TxPiece:
    """-1 on the counter (the order cancelled or expired unpaid)."""
    m = LimitCounterModel
    return TxPiece(
        LimitCounterModel(key),
        {"actions": [m.used.add(-1)], "condition": m.used >= 1},
        f"promotion_limit_release:{key}",
    )


def counts_of(rows: Any) -> dict[str, int]:
    return {r.limit_key: int(r.used) for r in rows}


# --- anti-abuse: fingerprints -----------------------------------------------------------


def normalise_address(line: str) -> str:
    """An address line as the same place: full-width folded (NFKC), case-folded,
    whitespace and punctuation dropped ("南京西路 1618号，2号楼" = "南京西路1618号2号楼")."""
    text = unicodedata.normalize("NFKC", line).casefold()
    return "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PS"
    )


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def payment_marker(payer: str) -> str:
    """The marker key of a payment account (WeChat Pay openid, Alipay buyer_id)."""
    return f"fp#payment#{_hash(payer.strip())}"


def fingerprints(
    one_per: tuple[str, ...] | set[str],
    device_id: str | None,
    address_line: str | None,
    payment_account: str | None = None,
) -> dict[str, str]:
    """Marker keys of the order's fingerprints among ``one_per``: kind -> key (the raw
    values are not stored: a device id, an address or a payer only as a hash)."""
    out = {}
    if "device" in one_per and device_id:
        out["device"] = f"fp#device#{_hash(device_id.strip())}"
    if "address" in one_per and address_line and normalise_address(address_line):
        out["address"] = f"fp#address#{_hash(normalise_address(address_line))}"
    if "payment" in one_per and payment_account and payment_account.strip():
        out["payment"] = payment_marker(payment_account)
    return out


def taken_by_other(markers: Any, customer_id: str) -> bool:
    """A marker read with the cart names another customer as its owner."""
    return any(m.owner != customer_id for m in markers)


def marker_piece(
    key: str,
    customer_id: str,
    order_id: str,
    amount_fen: int,
    promotion_id: str,
    *,
    enforce: bool,
) -> TxPiece:
    """Record the order's use of a new-customer benefit on the fingerprint's marker: the
    first customer owns it; with ``enforce`` (the promotion's ``one_per`` names this
    fingerprint) another customer's order is refused."""
    m = NewCustomerMarkerModel
    now = clock.now_iso()
    use = f"{order_id}|{customer_id}|{amount_fen}|{promotion_id}|{now}"
    kwargs: dict[str, Any] = {
        "actions": [
            m.owner.set(m.owner | customer_id),
            m.kind.set("fp"),
            m.takers.add({customer_id}),
            m.uses.set((m.uses | []).append([use])),
            m.updated_at.set(now),
        ]
    }
    if enforce:
        kwargs["condition"] = m.owner.does_not_exist() | (m.owner == customer_id)
    return TxPiece(NewCustomerMarkerModel(key), kwargs, f"new_customer:{key}")


@dataclass(frozen=True)
class NewCustomerUse:
    """What an order that took a new-customer benefit keeps on its head
    (``OrderModel.new_customer``), so that the payment callback, which reads nothing, can
    record who actually paid: the benefit (promotion, fen) and the payer declared at
    placing (its hash; None: none was declared)."""

    promotion_id: str
    discount_fen: int
    declared_payer: str | None = None

    def encode(self) -> str:
        return f"{self.promotion_id}|{self.discount_fen}|{self.declared_payer or ''}"

    @classmethod
    def decode(cls, text: str) -> NewCustomerUse:
        promotion_id, fen, declared = text.split("|", 2)
        return cls(promotion_id, int(fen), declared or None)


def payer_piece(
    note: str | None, payer: str | None, customer_id: str, order_id: str, paid_at: str
) -> TxPiece | None:
    """The payment callback's record of the account that paid an order holding a
    new-customer benefit (``note``, the order's ``new_customer``), on that payer's
    marker: the first customer owns it (a later order declaring it is refused where the
    promotion says ``one_per: payment``), and the report lists the customers who paid
    with it. None when the order took no such benefit, the provider named no payer or
    the payer is the one declared (placing recorded it already).

    Unconditional: money already captured is never refused. Idempotent: the use is added
    to a set with the provider's paid_at, so a retried notice adds nothing."""
    if not note or not payer or not payer.strip():
        return None
    use = NewCustomerUse.decode(note)
    key = payment_marker(payer)
    if use.declared_payer is not None and key == f"fp#payment#{use.declared_payer}":
        return None
    m = NewCustomerMarkerModel
    entry = f"{order_id}|{customer_id}|{use.discount_fen}|{use.promotion_id}|{paid_at}"
    return TxPiece(
        NewCustomerMarkerModel(key),
        {
            "actions": [
                m.owner.set(m.owner | customer_id),
                m.kind.set("fp"),
                m.takers.add({customer_id}),
                m.paid_uses.add({entry}),
                m.updated_at.set(clock.now_iso()),
            ],
        },
        f"new_customer_payer:{key}",
    )


# --- the suspected-abuse report ---------------------------------------------------------


def abuse_report(days: int, now: datetime | None = None) -> AbuseReport:
    """Fingerprints several customers used to take new-customer benefits within ``days``
    (latest first): one Query of the markers' index (new customers' orders only)."""
    now = now or clock.now()
    since = clock.iso(now - timedelta(days=days))
    m = NewCustomerMarkerModel
    items = []
    for marker in m.by_kind.query("fp", m.updated_at >= since, scan_index_forward=False):
        if len(marker.takers or ()) < 2:
            continue
        # placing's uses, then the payment callback's (the payer confirmed): an order
        # both declared and paid with this account is listed once
        orders: dict[str, AbuseOrder] = {}
        for use in [*(marker.uses or []), *sorted(marker.paid_uses or ())]:
            order_id, customer_id, fen, promotion_id, at = use.split("|", 4)
            orders.setdefault(
                order_id,
                AbuseOrder(
                    order_id=order_id,
                    customer_id=customer_id,
                    discount_fen=int(fen),
                    promotion_id=promotion_id,
                    at=at,
                ),
            )
        _, kind, digest = marker.marker_key.split("#", 2)
        items.append(
            SharedFingerprint(
                kind=kind,
                fingerprint=digest,
                first_customer_id=marker.owner,
                customers=sorted(marker.takers),
                orders=sorted(orders.values(), key=lambda o: o.at),
                discount_fen=sum(o.discount_fen for o in orders.values()),
                last_at=marker.updated_at,
            )
        )
    return AbuseReport(days=days, items=items)
