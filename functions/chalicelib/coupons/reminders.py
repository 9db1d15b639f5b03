"""Expiry reminders: a daily job finds available coupons expiring within N days and
records one notification per coupon through a pluggable notifier.

The coupons come from a sparse index (``remind`` is set only while a coupon is
available), so the job reads exactly the candidates, never the whole table. The
notification id is "coupon_expiring:<coupon_id>:<valid_until day>": a coupon is reminded
once before it lapses, however often the job runs (a coupon released back with the same
validity is not reminded twice either).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError

from chalicelib.coupons import schemas as s
from chalicelib.coupons.models import CouponModel, NotificationModel
from chalicelib.db.transactions import batch_get
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.privacy import mask_phone

log = logging.getLogger("daojia.reminders")
KIND = "coupon_expiring"
CHINA = ZoneInfo("Asia/Shanghai")


class Notifier(Protocol):
    """Sends (or records) one notification; returns False when it was already sent."""

    def send(self, notification: NotificationModel, phone: str | None) -> bool: ...


class LoggingNotifier:
    """Local and default: records the notification (listed in the admin site) and logs
    it with the phone masked. A real SMS or push notifier would do the same record
    first, then send, so a rerun never sends twice."""

    channel = "log"

    def send(self, notification: NotificationModel, phone: str | None) -> bool:
        notification.channel = self.channel
        try:
            notification.save(condition=NotificationModel.notification_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        log.info(
            "notify %s (%s): %s",
            notification.customer_id,
            mask_phone(phone) if phone else "-",
            notification.message,
        )
        return True


NOTIFIERS: dict[str, type] = {"log": LoggingNotifier}


def notifier_from_config() -> Notifier:
    """``DAOJIA_NOTIFIER`` picks the notifier (default "log")."""
    return NOTIFIERS[os.environ.get("DAOJIA_NOTIFIER", "log")]()


def _china_time(utc_iso: str) -> str:
    """The customer reads local time: coupons are chain-wide, so China Standard Time."""
    moment = clock.parse(utc_iso)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def run(now: datetime | None = None, within_days: int = 3, notifier: Notifier | None = None) -> int:
    """Record a reminder for each available coupon whose validity ends within
    ``within_days`` of ``now``; the number newly recorded. One Query (paged), then
    BatchGetItems of the coupons and their customers, 100 keys at a time."""
    now = now or clock.now()
    notifier = notifier or notifier_from_config()
    lo, hi = clock.iso(now), clock.iso(now + timedelta(days=within_days))
    keys = [
        k.coupon_id
        for k in CouponModel.by_remind.query("available", CouponModel.valid_until.between(lo, hi))
        if k.valid_until > lo
    ]
    recorded = 0
    now_iso = clock.iso(now)
    for start in range(0, len(keys), 100):
        got = batch_get({CouponModel: [{"coupon_id": c} for c in keys[start : start + 100]]})
        coupons = [c for c in got[CouponModel] if c.state == "available"]
        customers = {
            c.customer_id: c
            for c in batch_get(
                {CustomerModel: [{"customer_id": cid} for cid in {c.customer_id for c in coupons}]}
            )[CustomerModel]
        }
        for c in coupons:
            customer = customers.get(c.customer_id)
            phone = customer.phone if customer else None
            nid = f"{KIND}:{c.coupon_id}:{c.valid_until[:10]}"
            notification = NotificationModel(
                nid,
                kind=KIND,
                customer_id=c.customer_id,
                phone_masked=mask_phone(phone) if phone else None,
                coupon_id=c.coupon_id,
                message=f"您的优惠券「{c.name}」将于 {_china_time(c.valid_until)} 到期",
                created_at=now_iso,
                created_key=f"{now_iso}#{nid}",
            )
            if notifier.send(notification, phone):
                recorded += 1
    return recorded


def list_notifications(kind: str, limit: int = 100) -> s.NotificationList:
    """Newest first: one Query of the kind index."""
    items = []
    for n in NotificationModel.by_kind.query(kind, scan_index_forward=False, limit=limit):
        items.append(
            s.Notification(
                notification_id=n.notification_id,
                kind=n.kind,
                customer_id=n.customer_id,
                phone_masked=n.phone_masked,
                coupon_id=n.coupon_id,
                message=n.message,
                channel=n.channel,
                created_at=n.created_at,
            )
        )
        if len(items) >= limit:
            break
    return s.NotificationList(items=items)
