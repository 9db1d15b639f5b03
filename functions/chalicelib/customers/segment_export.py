"""A segment's members for the CSV export (exports/sources.py ``segment``): the row
numbers from the snapshot's bitmaps, then the member items 100 at a time (BatchGetItem)
for phones and nicknames. Members who revoked marketing consent are left out of every
segment export (they are marketing lists) and counted; a campaign export with phones in
full holds ONLY members who granted consent (docs/segments.md, "Export")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.customers import schemas as s
from chalicelib.customers import segment_rules as sr
from chalicelib.customers import segments
from chalicelib.db.transactions import batch_get
from chalicelib.identity.models import CustomerModel

PAGE = 100  # BatchGetItem's limit


@dataclass
class Member:
    """One row's fields: the snapshot's and the member item's."""

    customer_id: str
    phone: str
    nickname: str | None
    level: str
    source: str
    store: str
    orders: int
    spend_fen: int
    last_order_date: str | None
    rfm_group: str
    lifecycle: str
    tags: list[str]


@dataclass
class Selection:
    as_of: str
    members: int  # in the file
    excluded_no_consent: int
    pages: Iterator[tuple[list[Member], float]]


def select(f: s.SegmentFilter, *, consented_only: bool, today: date | None = None) -> Selection:
    """The export's members: revoked consent left out (counted); ``consented_only``
    (a campaign with phones in full): also those never asked, only "granted" kept."""
    ix = segments.index()
    day = today or segments.today()
    mask = ix.select(segments.to_rules(f), day)
    keep = mask & (ix.granted() if consented_only else ix.all ^ ix.revoked())
    excluded = (mask ^ keep).bit_count()
    return Selection(ix.snap.meta["as_of"], keep.bit_count(), excluded, _pages(ix, keep, day))


def _pages(ix: sr.Index, mask: int, day: date) -> Iterator[tuple[list[Member], float]]:
    rows = list(sr.rows_of(mask))
    meta, cols = ix.snap.meta, ix.snap.cols
    total = len(rows) or 1
    for start in range(0, len(rows), PAGE):
        part = rows[start : start + PAGE]
        ids = [ix.snap.customer_id(i) for i in part]
        got = batch_get({CustomerModel: [{"customer_id": c} for c in ids]}, consistent=False)
        items: dict[str, Any] = {m.customer_id: m for m in got[CustomerModel]}
        out = []
        for i, cid in zip(part, ids, strict=True):
            m = items.get(cid)
            if m is None or m.erased_at:  # erased since the snapshot
                continue
            last = cols["last_day"][i]
            ref = cols["ref_day"][i]
            bits = cols["tags"][i]
            out.append(
                Member(
                    customer_id=cid,
                    phone=m.phone or "",
                    nickname=m.nickname,
                    level=meta["levels"][cols["level"][i]],
                    source=meta["sources"][cols["source"][i]],
                    store=meta["stores"][cols["store"][i]],
                    orders=cols["orders"][i],
                    spend_fen=cols["spend"][i],
                    last_order_date=date.fromordinal(last).isoformat() if last else None,
                    rfm_group=meta["groups"][cols["group"][i]],
                    lifecycle=sr.stage_of_day(ref, day) if ref else "",
                    tags=[t for b, t in enumerate(meta["tags"]) if bits >> b & 1],
                )
            )
        yield out, min(1.0, (start + len(part)) / total)
