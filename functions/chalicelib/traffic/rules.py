"""Storefront traffic figures as plain numbers (no AWS): what a store's day counted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALL_CAMPAIGNS = "*"  # as traffic/models.py (rules import no models)

COUNTERS = (
    "visits",
    "visitors",
    "product_views",
    "carts",
    "cart_visitors",
    "checkouts",
    "checkout_visitors",
)

DISTINCT_COUNTERS = ("visitors", "cart_visitors", "checkout_visitors")
EVENT_COUNTERS = ("visits", "product_views", "carts", "checkouts")


@dataclass
class Counts:
    """A store's day of storefront events (or a sum of them)."""

    visits: int = 0
    visitors: int = 0  # distinct devices that visited (进店量)
    product_views: int = 0
    carts: int = 0
    cart_visitors: int = 0  # distinct devices that added to cart
    checkouts: int = 0
    checkout_visitors: int = 0

    def add(self, other: Counts) -> Counts:
        """In place, returning self: sums are built with ``total.add(day)``."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


# --- ingesting a batch (traffic/ingest.py): plain rules, no AWS ------------------------

MAX_LAG = timedelta(days=1)  # an event older than this is dropped
MAX_LEAD = timedelta(minutes=5)  # a client clock this far ahead is not believed
BATCH_MARKER_TTL = timedelta(days=2)  # > MAX_LAG: a replay after expiry counts nothing
DAY_MARKER_TTL = timedelta(days=2)  # after the end of the local day it is about
COUNTER_TTL = timedelta(days=800)  # last year's same node stays comparable
MAX_TX_ITEMS = 100  # DynamoDB's TransactWriteItems limit

EVENT_COUNTER = {
    "visit_store": "visits",
    "view_product": "product_views",
    "add_to_cart": "carts",
    "start_checkout": "checkouts",
}
# Events that may add a distinct device: (flag kind, counter).
DISTINCT = {
    "visit_store": ("v", "visitors"),
    "add_to_cart": ("c", "cart_visitors"),
    "start_checkout": ("k", "checkout_visitors"),
}


def time_problem(at: datetime, now: datetime) -> str | None:
    """Why an event's client time is not believed, or None."""
    if at < now - MAX_LAG:
        return "too_old"
    if at > now + MAX_LEAD:
        return "in_the_future"
    return None


def local_day(at: datetime, zone: str) -> str:
    """The store's local day of an instant (Asia/Shanghai unless the store says other)."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    return at.astimezone(tz).date().isoformat()


def batch_key(device_id: str, batch_id: str) -> str:
    return f"b#{device_id}#{batch_id}"


def day_key(device_id: str, store_id: str, day: str) -> str:
    return f"d#{device_id}#{store_id}#{day}"


def day_marker_expiry(day: str) -> datetime:
    """2 days after the end of the local day (taken as UTC+8; a few hours either way do
    not matter against MAX_LAG)."""
    end = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1, hours=-8)
    return end + DAY_MARKER_TTL


@dataclass(frozen=True)
class Counted:
    """One accepted event, placed: the store's local day and the campaign it counts under
    (``NO_CAMPAIGN`` when none or unknown)."""

    type: str
    store_id: str
    day: str
    campaign: str


@dataclass
class Plan:
    """What a batch adds: counter increments per (store, "day#campaign") row, and the
    flags each (store, day) marker of the device gains."""

    rows: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    new_flags: dict[tuple[str, str], set[str]] = field(default_factory=dict)


def plan(events: list[Counted], flags: dict[tuple[str, str], set[str]]) -> Plan:
    """Counter increments for accepted events, given the flags the device's (store, day)
    markers already hold. Event counters go to the event's campaign row; a distinct
    counter (visitors, cart/checkout visitors) is added once per device and store-day on
    the campaign's row and once on the day's ``ALL_CAMPAIGNS`` row, so every campaign's
    visitors and the day's visitors across campaigns are exact."""
    out = Plan()
    for e in events:
        row = out.rows.setdefault((e.store_id, f"{e.day}#{e.campaign}"), {})
        counter = EVENT_COUNTER[e.type]
        row[counter] = row.get(counter, 0) + 1
        if e.type not in DISTINCT:
            continue
        kind, distinct = DISTINCT[e.type]
        sd = (e.store_id, e.day)
        have = flags.get(sd, set())
        gained = out.new_flags.setdefault(sd, set())
        for campaign in (e.campaign, ALL_CAMPAIGNS):
            flag = f"{kind}|{campaign}"
            if flag in have or flag in gained:
                continue
            gained.add(flag)
            target = out.rows.setdefault((e.store_id, f"{e.day}#{campaign}"), {})
            target[distinct] = target.get(distinct, 0) + 1
    out.new_flags = {sd: f for sd, f in out.new_flags.items() if f}
    return out


def most_tx_items(events: list[Counted]) -> int:
    """The most items a batch's transaction can need, whatever the markers hold: the batch
    marker, a row per store-day-campaign, and per store-day its all-campaigns row and the
    device's marker."""
    rows = {(e.store_id, e.day, e.campaign) for e in events}
    store_days = {(e.store_id, e.day) for e in events}
    return 1 + len(rows) + 2 * len(store_days)


def digest(device_id: str, events: list[dict[str, object]]) -> str:
    """A short hash of what a batch says, to tell a replay from another batch under a
    reused id."""
    raw = json.dumps([device_id, events], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
