"""Stream records -> domain events: pure functions, no AWS.

The source of every event is a table's own DynamoDB stream: DynamoDB writes the record
in the same commit as the change, so an event exists if and only if its change
committed, at no extra write (an outbox item in each transaction would cost two more
write units per event). Which records become events:

- orders (NEW_AND_OLD_IMAGES), MODIFY where ``status`` changed: awaiting_payment ->
  paid gives order.paid; -> completed, -> cancelled, -> expired give order.completed,
  order.cancelled, order.expired;
- refunds (NEW_AND_OLD_IMAGES), INSERT or MODIFY where ``status`` became succeeded:
  refund.succeeded;
- customers (NEW_IMAGE), INSERT: member.registered;
- campaigns (NEW_AND_OLD_IMAGES), MODIFY where ``alerted_at`` was set: campaign.budget_alert.

Every other record gives nothing. ``STREAM_FILTERS`` are the Lambda event filters that
keep the other records from invoking the function at all (infra/template.py); the
functions here decide anyway, so the local worker, which reads every record, does the
same. Event ids name the change (``order.paid:<order_id>``), so a record delivered
twice gives the same event twice, which the (event, subscriber) markers make one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.db.transitions import stored_entry
from chalicelib.events import types as t

# Tables (short names) whose streams carry events, and the stream view each needs: a
# status change needs the old image too.
STREAM_VIEWS: dict[str, str] = {
    "orders": "NEW_AND_OLD_IMAGES",
    "refunds": "NEW_AND_OLD_IMAGES",
    "customers": "NEW_IMAGE",
    "campaigns": "NEW_AND_OLD_IMAGES",
}
# An order's lines are in its detail item (orders/models.py: OrderDetailModel), not in the
# orders stream's images: the handler reads the details of a batch's order events that
# carry lines (``detail_ids``) and passes them in (``details``: order id -> plain image).
DETAIL_TABLE = "order_details"
# The stored names (orders/models.py, ``attr_name``) this module reads raw: a detail's
# lines and coupon uses under short names; an order stored before the split (not yet
# migrated) has them in its head under the long ones. tests/unit/test_event_records.py
# checks these against the model.
DETAIL_NAMES = {
    "lines": "ln",
    "coupon_uses": "cu",
    "sku": "s",
    "qty": "q",
    "paid_fen": "p",
    "refunded_units": "ru",
    "refunded_fen": "rf",
    "coupon_id": "c",
    "category1": "c1",
    "fresh": "f",
    # the discounts by source (order.paid ``discounts``): promotions' codes and amounts,
    # coupons' templates and amounts
    "discounts": "ds",
    "code": "c",
    "amount_fen": "a",
    "template_id": "t",
    "discount_fen": "d",
}
HEAD_NAMES = {name: name for name in DETAIL_NAMES}
POINTS_NAME = "pts"  # the head's points_used
MULTIPLIER_NAME = "pmx"  # the head's points_multiplier (a member day's)
POINTS_CAMPAIGN_NAME = "pmc"  # the head's points_campaign_id (that member day's campaign)
EVENTS_WITH_LINES = ("paid", "completed")
# The detail's campaign uses (issue 16), read raw too (orders/models.py CampaignUseAttribute)
CAMPAIGN_NAMES = {"campaign_uses": "cpu", "campaign_id": "c"}
ORDER_STATUS_EVENTS = {
    "paid": t.OrderPaid,
    "completed": t.OrderCompleted,
    "cancelled": t.OrderCancelled,
    "expired": t.OrderExpired,
}


def _became(status: str) -> dict[str, Any]:
    """Lambda filter: a MODIFY whose new status is ``status`` and old status is not."""
    return {
        "eventName": ["MODIFY"],
        "dynamodb": {
            "NewImage": {"status": {"S": [status]}},
            "OldImage": {"status": {"S": [{"anything-but": [status]}]}},
        },
    }


STREAM_FILTERS: dict[str, list[dict[str, Any]]] = {
    "orders": [_became(s) for s in ORDER_STATUS_EVENTS],
    "refunds": [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["succeeded"]}}}},
        _became("succeeded"),
    ],
    "customers": [{"eventName": ["INSERT"]}],
    # the 80 % alert: alerted_at set now (every order of a campaign writes its item too)
    "campaigns": [
        {
            "eventName": ["MODIFY"],
            "dynamodb": {
                "NewImage": {"alerted_at": {"S": [{"exists": True}]}},
                "OldImage": {"alerted_at": [{"exists": False}]},
            },
        }
    ],
}


def plain(value: dict[str, Any]) -> Any:
    """One DynamoDB-JSON attribute value ({"S": "x"}, {"N": "1"}, {"M": {...}}, ...) as
    plain Python; numbers become int (or Decimal when not whole)."""
    (kind, v), *_ = value.items()
    if kind == "S" or kind == "B":
        return v
    if kind == "N":
        d = Decimal(v)
        return int(d) if d == d.to_integral_value() else d
    if kind == "BOOL":
        return bool(v)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: plain(x) for k, x in v.items()}
    if kind == "L":
        return [plain(x) for x in v]
    if kind == "SS" or kind == "BS":
        return set(v)
    if kind == "NS":
        return {plain({"N": x}) for x in v}
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def image(record: dict[str, Any], which: str) -> dict[str, Any] | None:
    """The record's NewImage or OldImage as a plain dict (None when absent)."""
    raw = (record.get("dynamodb") or {}).get(which)
    return None if raw is None else {k: plain(v) for k, v in raw.items()}


def detail_ids(table: str, records: list[dict[str, Any]]) -> list[str]:
    """The orders whose details the events of these records need (their lines)."""
    if table != "orders":
        return []
    ids = []
    for record in records:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        new = (record.get("dynamodb") or {}).get("NewImage") or {}
        status = (new.get("status") or {}).get("S")
        if record.get("eventName") == "MODIFY" and status in EVENTS_WITH_LINES:
            order_id = (keys.get("order_id") or new.get("order_id") or {}).get("S")
            if order_id and order_id not in ids:
                ids.append(order_id)
    return ids


def events_of(
    table: str, record: dict[str, Any], details: dict[str, dict[str, Any]] | None = None
) -> list[t.Event]:
    """The events one stream record of ``table`` (short name) stands for (most: none).
    ``details``: the order details ``detail_ids`` named, by order id."""
    name = record.get("eventName")
    new = image(record, "NewImage")
    if new is None:
        return []
    old = image(record, "OldImage")
    if table == "orders" and name == "MODIFY" and old is not None:
        return _order_events(old, new, details or {})
    if table == "refunds" and name in ("INSERT", "MODIFY"):
        return _refund_events(old, new)
    if table == "campaigns" and name == "MODIFY" and old is not None:
        return _campaign_events(old, new)
    if table == "customers" and name == "INSERT":
        return [
            t.MemberRegistered(
                event_id=f"member.registered:{new['customer_id']}",
                occurred_at=new["created_at"],
                customer_id=new["customer_id"],
                source=new.get("source"),
                home_store_id=new.get("home_store_id"),
                invited_by=new.get("invited_by"),
            )
        ]
    return []


def changed_at(order: dict[str, Any], to: str) -> str:
    """When the order entered ``to``: its history entry (written with the change), else
    its updated_at. Read from the image, so a redelivery gives the same time."""
    for h in map(stored_entry, reversed(order.get("history") or [])):
        if h.get("to") == to:
            return str(h["at"])
    return str(order.get("updated_at") or order.get("created_at"))


def _reason(order: dict[str, Any], to: str) -> str | None:
    for h in map(stored_entry, reversed(order.get("history") or [])):
        if h.get("to") == to:
            return h.get("reason")
    return None


def lines_of(order: dict[str, Any], names: dict[str, str]) -> list[t.OrderLine]:
    n = names
    return [
        t.OrderLine(
            sku=x[n["sku"]],
            qty=int(x[n["qty"]]),
            paid_fen=int(x[n["paid_fen"]]),
            refunded_units=int(x.get(n["refunded_units"]) or 0),
            refunded_fen=int(x.get(n["refunded_fen"]) or 0),
            category1=x.get(n["category1"]),
            fresh=bool(x.get(n["fresh"])),
        )
        for x in order.get(n["lines"]) or []
    ]


def _order_lines(
    new: dict[str, Any], details: dict[str, dict[str, Any]], paid: bool = False
) -> list[t.OrderLine]:
    """The lines from the order's detail; an order stored before the split (not yet
    migrated) still has them in its image. The detail is read when the record is
    handled, not as of the change: ``paid`` lines count no refunds (an order has none
    before it is paid, whatever came after); completed lines count the refunds made by
    the time the record is read (returns come later, so normally none since)."""
    detail = details.get(new["order_id"])
    if detail is None and "lines" not in new:
        raise LookupError(f"order {new['order_id']}: no detail to read its lines from")
    lines = lines_of(detail, DETAIL_NAMES) if detail is not None else lines_of(new, HEAD_NAMES)
    if paid:
        return [
            t.OrderLine(
                sku=x.sku, qty=x.qty, paid_fen=x.paid_fen, category1=x.category1, fresh=x.fresh
            )
            for x in lines
        ]
    return lines


def _coupon_ids(new: dict[str, Any], details: dict[str, dict[str, Any]]) -> list[str]:
    """The coupons the order used, from its detail (or its image, before the split)."""
    detail = details.get(new["order_id"])
    source, n = (new, HEAD_NAMES) if detail is None else (detail, DETAIL_NAMES)
    return [u[n["coupon_id"]] for u in source.get(n["coupon_uses"]) or []]


# Discount codes (checkout/promotion_engine.py) of coupons: counted by template from the
# order's coupon uses instead (the code names the coupon, not its template).
COUPON_CODES = ("coupon", "free_delivery")


def discounts_of(new: dict[str, Any], details: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The order's discounts in fen by source, 'p:<promotion_id>' (from the discounts'
    codes, "<kind>:<promotion_id>") and 't:<template_id>' (from the coupon uses)."""
    detail = details.get(new["order_id"])
    source, n = (new, HEAD_NAMES) if detail is None else (detail, DETAIL_NAMES)
    out: dict[str, int] = {}
    for d in source.get(n["discounts"]) or []:
        kind, _, pid = str(d.get(n["code"]) or "").partition(":")
        if pid and kind not in COUPON_CODES:
            out[f"p:{pid}"] = out.get(f"p:{pid}", 0) + int(d.get(n["amount_fen"]) or 0)
    for u in source.get(n["coupon_uses"]) or []:
        key = f"t:{u.get(n['template_id'])}"
        out[key] = out.get(key, 0) + int(u.get(n["discount_fen"]) or 0)
    return out


def _order_events(
    old: dict[str, Any], new: dict[str, Any], details: dict[str, dict[str, Any]]
) -> list[t.Event]:
    before, after = old.get("status"), new.get("status")
    if before == after or after not in ORDER_STATUS_EVENTS:
        return []
    if after == "paid" and before != "awaiting_payment":
        return []
    order_id = new["order_id"]
    common: dict[str, Any] = {
        "event_id": f"order.{after}:{order_id}",
        "occurred_at": changed_at(new, after),
        "order_id": order_id,
        "customer_id": new["customer_id"],
        "store_id": new["store_id"],
    }
    if after == "paid":
        return [
            t.OrderPaid(
                **common,
                fulfilment=new["fulfilment"],
                paid_fen=int(new.get("paid_fen") or 0),
                payment_id=new.get("payment_id"),
                lines=_order_lines(new, details, paid=True),
                coupon_ids=_coupon_ids(new, details),
                points_locked=_points(new),
                discounts=discounts_of(new, details),
                **_reward(new),
                **_campaigns(new, details),
            )
        ]
    if after == "completed":
        return [
            t.OrderCompleted(
                **common,
                paid_fen=int(new.get("paid_fen") or 0),
                refunded_fen=int(new.get("refunded_fen") or 0),
                lines=_order_lines(new, details),
                points_multiplier=new.get(MULTIPLIER_NAME) or None,
                **_campaigns(new, details),
                **(
                    {"points_campaign_id": new[POINTS_CAMPAIGN_NAME]}
                    if new.get(POINTS_CAMPAIGN_NAME)
                    else {}
                ),
            )
        ]
    if after == "cancelled":
        return [
            t.OrderCancelled(
                **common,
                from_status=str(before),
                paid_fen=int(new.get("paid_fen") or 0),
                reason=_reason(new, after),
                points_locked=_points(new) if before == "awaiting_payment" else 0,
                **_reward(new),
            )
        ]
    return [t.OrderExpired(**common, points_locked=_points(new), **_reward(new))]


def _points(order: dict[str, Any]) -> int:
    """The points the order locked (its head's ``pts``, orders/models.py ``points_used``)."""
    return int(order.get(POINTS_NAME) or 0)


def _reward(new: dict[str, Any]) -> dict[str, Any]:
    """A points-mall reward order's reward id (the head's ``rw``); nothing otherwise, so
    other orders' events stay as they were."""
    return {"reward_id": new["rw"]} if new.get("rw") else {}


def _campaign_events(old: dict[str, Any], new: dict[str, Any]) -> list[t.Event]:
    """campaign.budget_alert when the campaign's ``alerted_at`` was set by this change."""
    if not new.get("alerted_at") or old.get("alerted_at"):
        return []
    budget, left = int(new.get("budget_fen") or 0), int(new.get("left_fen") or 0)
    return [
        t.CampaignBudgetAlert(
            event_id=f"campaign.budget_alert:{new['campaign_id']}",
            occurred_at=new["alerted_at"],
            campaign_id=new["campaign_id"],
            budget_fen=budget,
            left_fen=left,
            percent=(budget - left) * 100 // budget if budget > 0 else 0,
        )
    ]


def _campaigns(new: dict[str, Any], details: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The campaigns whose budget the order spent, from its detail; nothing on other
    orders, so their events stay as they were."""
    detail = details.get(new["order_id"]) or {}
    uses = detail.get(CAMPAIGN_NAMES["campaign_uses"]) or []
    return {"campaign_ids": [u[CAMPAIGN_NAMES["campaign_id"]] for u in uses]} if uses else {}


def _refund_events(old: dict[str, Any] | None, new: dict[str, Any]) -> list[t.Event]:
    if new.get("status") != "succeeded" or (old is not None and old.get("status") == "succeeded"):
        return []
    refund_id = new["refund_id"]
    return [
        t.RefundSucceeded(
            event_id=f"refund.succeeded:{refund_id}",
            occurred_at=str(new.get("updated_at") or new.get("created_at")),
            refund_id=refund_id,
            order_id=new["order_id"],
            reason=new["reason"],
            amount_fen=int(new["amount_fen"]),
            delivery_fee_fen=int(new.get("delivery_fee_fen") or 0),
            lines=[
                t.RefundLine(sku=x["sku"], units=int(x["units"]), amount_fen=int(x["amount_fen"]))
                for x in new.get("lines") or []
            ],
            completes_order=bool(new.get("completes_order")),
        )
    ]
