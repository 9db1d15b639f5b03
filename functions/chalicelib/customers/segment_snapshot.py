"""The nightly segments snapshot (docs/segments.md, "Segments"): a parallel Scan of
``member_stats``, identity's ``customers``, ``paid_cards`` and the manual tags, scored
and laid out by segment_rules into ONE zlib-compressed object under ``segments/`` in the
imports bucket; then the "current snapshot" pointer (written last: a rerun, or a run
that dies half way, leaves the previous snapshot in use).

Scans belong here and only here: a job, never a request path. Erased members are left
out. Favourite store: the store with the most completed orders (member_stats.fs); a
member without orders counts at their home store.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Protocol

from chalicelib.customers import rules
from chalicelib.customers import segment_rules as sr
from chalicelib.customers.models import MemberStatsModel, SegmentModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock, config
from chalicelib.loyalty.paid_models import PaidCardModel

log = logging.getLogger("daojia.segments")

PREFIX = "segments/"
SEGMENTS = 8  # parallel Scan segments (threads) per table
NEW_MEMBER_DAYS = 90


class TagSource(Protocol):
    """Where the snapshot's tags come from: customers/tags.py through ``tags_adapter``;
    tests pass a stub. ``needs_stats``: the rules read the member's whole
    ``member_stats`` item (its maps: category spend, day buckets), so the Scan reads it."""

    needs_stats: bool

    def manual(self, segment: int, total: int) -> Iterable[tuple[str, str]]: ...

    def auto(
        self,
        stats_item: dict[str, Any] | None,
        member_item: dict[str, Any],
        *,
        paid: bool,
        today: date,
    ) -> Iterable[str]: ...


class NoTags:
    needs_stats = False

    def manual(self, segment: int, total: int) -> Iterable[tuple[str, str]]:
        return ()

    def auto(
        self,
        stats_item: dict[str, Any] | None,
        member_item: dict[str, Any],
        *,
        paid: bool,
        today: date,
    ) -> Iterable[str]:
        return ()


@dataclass
class TagsModule:
    """customers/tags.py behind TagSource: ``scan_manual_tags(segment, total)`` yields
    (customer_id, tag); ``auto_tags(rules(), stats, member, paid=, today=)`` evaluates
    head office's rules on the member's ``member_stats`` item and member item (built
    here from the Scan's raw items, no read)."""

    module: Any
    needs_stats: bool = True
    _rules: Any = field(default=None)

    def manual(self, segment: int, total: int) -> Iterable[tuple[str, str]]:
        return self.module.scan_manual_tags(segment, total)

    def auto(
        self,
        stats_item: dict[str, Any] | None,
        member_item: dict[str, Any],
        *,
        paid: bool,
        today: date,
    ) -> Iterable[str]:
        if self._rules is None:
            self._rules = self.module.rules()
        if not self._rules:
            return ()
        stats = MemberStatsModel.from_raw_data(stats_item) if stats_item else None
        member = CustomerModel.from_raw_data(member_item)
        return self.module.auto_tags(self._rules, stats, member, paid=paid, today=today)


def tags_adapter() -> TagSource:
    """customers/tags.py when it is there, else no tags."""
    import importlib

    try:
        module = importlib.import_module("chalicelib.customers.tags")
    except ImportError:
        return NoTags()
    if not hasattr(module, "scan_manual_tags") or not hasattr(module, "auto_tags"):
        return NoTags()
    return TagsModule(module)


@lru_cache(maxsize=1)
def _ddb() -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=config.REGION)


@lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    # as exports/jobs.py (customers may not import exports: the same layer)
    return boto3.client("s3", region_name=config.REGION, config=Config(signature_version="s3v4"))


def _scan(
    table: str,
    projection: str | None,
    on_page: Callable[[list[dict[str, Any]]], None],
    names: dict[str, str] | None = None,
) -> None:
    """Every item of ``table`` (projected; None: whole items), ``SEGMENTS`` parallel Scan
    segments; ``on_page`` gets each page in turn (under a lock: nothing is kept but what
    it keeps)."""
    lock = threading.Lock()

    def one(segment: int) -> None:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "Segment": segment,
            "TotalSegments": SEGMENTS,
        }
        if projection:
            kwargs["ProjectionExpression"] = projection
        if names:
            kwargs["ExpressionAttributeNames"] = names
        while True:
            page = _ddb().scan(**kwargs)
            with lock:
                on_page(page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(SEGMENTS) as pool:
        list(pool.map(one, range(SEGMENTS)))


def _s(item: dict[str, Any], name: str) -> str | None:
    v = item.get(name)
    return v["S"] if v and "S" in v else None


def _n(item: dict[str, Any], name: str) -> int:
    v = item.get(name)
    return int(v["N"]) if v and "N" in v else 0


@lru_cache(maxsize=65536)
def _local_hour_day(utc_hour: str) -> date:
    """The Shanghai day of a UTC "YYYY-MM-DDTHH" (an hour is wholly in one local day):
    a million registrations fall in a few tens of thousands of hours."""
    return date.fromisoformat(rules.local_date(utc_hour + ":00:00Z"))


def _joined(created_at: str) -> date:
    if created_at.endswith("Z") and len(created_at) >= 13:
        return _local_hour_day(created_at[:13])
    return date.fromisoformat(rules.local_date(created_at))


def _day(iso_date: str | None) -> int:
    return date.fromisoformat(iso_date).toordinal() if iso_date else 0


@dataclass(slots=True)
class _Member:
    level: str | None
    source: str | None
    created: str | None
    consent: str | None
    home: str | None


def collect(tags: TagSource, today: date) -> tuple[list[sr.Row], dict[str, Any]]:
    """The rows (erased members left out) and the overview's new members per day.
    Members first (small tuples), then each ``member_stats`` page turned into rows as it
    comes: the aggregates' items are never all held at once."""
    members: dict[str, _Member] = {}

    def member_page(items: list[dict[str, Any]]) -> None:
        for it in items:
            if it.get("erased_at"):
                continue
            members[it["customer_id"]["S"]] = _Member(
                _s(it, "level"),
                _s(it, "source_kind"),
                _s(it, "created_at"),
                _s(it, "marketing_consent"),
                _s(it, "home_store_id"),
            )

    _scan(
        CustomerModel.Meta.table_name,
        "customer_id, #l, source_kind, created_at, marketing_consent, erased_at, home_store_id",
        member_page,
        names={"#l": "level"},
    )
    now = clock.iso(clock.now())
    paid: set[str] = set()

    def paid_page(items: list[dict[str, Any]]) -> None:
        paid.update(it["customer_id"]["S"] for it in items if (_s(it, "ends_at") or "") > now)

    _scan(PaidCardModel.Meta.table_name, "customer_id, ends_at", paid_page)
    manual: dict[str, set[str]] = {}
    with ThreadPoolExecutor(SEGMENTS) as pool:
        for pairs in pool.map(lambda seg: list(tags.manual(seg, SEGMENTS)), range(SEGMENTS)):
            for cid, tag in pairs:
                manual.setdefault(cid, set()).add(tag)

    rows: list[sr.Row] = []

    def row(cid: str, m: _Member, stats_item: dict[str, Any] | None) -> sr.Row:
        n = _n(stats_item, "n") if stats_item else 0
        last = _s(stats_item, "ld") if stats_item else None
        fav = _s(stats_item, "fs") if stats_item else None
        joined = _joined(m.created) if m.created else None
        is_paid = cid in paid
        member_item = {"customer_id": {"S": cid}}
        for name, value in (
            ("level", m.level),
            ("source_kind", m.source),
            ("created_at", m.created),
            ("home_store_id", m.home),
        ):
            if value is not None:
                member_item[name] = {"S": value}
        auto = tags.auto(stats_item if n else None, member_item, paid=is_paid, today=today)
        return sr.Row(
            customer_id=cid,
            spend_fen=_n(stats_item, "sp") if stats_item else 0,
            orders=n,
            last_day=_day(last) if n else 0,
            join_day=joined.toordinal() if joined else 0,
            level=m.level,
            source=m.source,
            store=fav if n and fav else m.home,
            consent=m.consent,
            paid=is_paid,
            tags=sorted(manual.get(cid, set()) | set(auto)),
        )

    seen: set[str] = set()

    def stats_page(items: list[dict[str, Any]]) -> None:
        for it in items:
            cid = it["customer_id"]["S"]
            m = members.get(cid)
            if m is not None:  # erased members (or aggregates of no member) left out
                rows.append(row(cid, m, it))
                seen.add(cid)

    _scan(
        MemberStatsModel.Meta.table_name,
        None if tags.needs_stats else "customer_id, n, sp, ld, fs",
        stats_page,
    )
    for cid, m in members.items():
        if cid not in seen:  # no completed order yet
            rows.append(row(cid, m, None))

    since = today - timedelta(days=NEW_MEMBER_DAYS - 1)
    new: Counter[tuple[str, str]] = Counter()
    for m in members.values():
        joined = _joined(m.created) if m.created else None
        if joined and joined >= since:
            new[(joined.isoformat(), m.source or "unknown")] += 1
    new_members = [{"day": d, "source_kind": k, "members": c} for (d, k), c in sorted(new.items())]
    return rows, {"new_members": new_members}


def run(tags: TagSource | None = None, *, today: date | None = None) -> dict[str, Any]:
    """Build and publish a snapshot; returns the pointer's fields. Safe to rerun: each
    run writes a new object, then moves the pointer."""
    day = today or clock.now().astimezone(rules.TZ).date()
    rows, extra = collect(tags or tags_adapter(), day)
    snap = sr.build(rows, as_of=day, extra=extra)
    body = sr.encode(snap)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    # never overwritten: an action keeps reading the snapshot it was created from
    key = f"{PREFIX}{day.isoformat()}/{stamp}-{secrets.token_hex(4)}.bin"
    _s3().put_object(Bucket=config.bucket_name("imports"), Key=key, Body=body)
    SegmentModel(
        "snapshot",
        "current",
        object_key=key,
        as_of=day.isoformat(),
        members=snap.n,
        updated_at=clock.now_iso(),
    ).save()
    log.info("segments snapshot %s: %d members, %d bytes", key, snap.n, len(body))
    return {"object_key": key, "as_of": day.isoformat(), "members": snap.n, "bytes": len(body)}
