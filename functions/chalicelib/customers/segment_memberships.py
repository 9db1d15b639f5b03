"""The ``segment_memberships`` table kept equal to the saved segments of the latest
snapshot (issue 18 item 4, docs/segments.md "Memberships"): checkout reads a member's
item with the cart to know which promotions for a segment are theirs, with no read of
the S3 snapshot.

Run by the snapshot's refresh (``segments.run_refresh``: nightly, or head office's
"refresh now"), after the pointer moved. It evaluates every saved segment on the new
snapshot (members who revoked marketing consent left out, as for coupons), reads what the
table holds (a parallel Scan of small items: a job, never a request path), and writes only
the difference (membership_rules.diff) with BatchWriteItem. A run that dies half way
leaves some items old and some new; the next run compares with what the table holds,
not with what it meant to write, so it finishes the job.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import msgspec

from chalicelib.customers import membership_rules as mr
from chalicelib.customers import schemas as s
from chalicelib.customers import segment_rules as sr
from chalicelib.customers import segment_snapshot as snapshot
from chalicelib.customers import segments
from chalicelib.customers.models import SegmentModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.promotions.models import SegmentMembershipModel

log = logging.getLogger("daojia.segments")


def members_of_segments(ix: sr.Index, day: date) -> dict[str, list[str]]:
    """Each saved segment's members in the snapshot ``ix`` (consent revoked: left out).
    A segment naming a tag the snapshot had no room for has no members (logged): its
    count is refused for the same reason."""
    out: dict[str, list[str]] = {}
    for m in SegmentModel.query("segment"):
        f = msgspec.json.decode(m.filter_json, type=s.SegmentFilter)
        try:
            segments._check_tags(ix, f)
        except ValidationFailed:
            log.warning("segment %s names a tag not in the snapshot: no members", m.id)
            out[m.id] = []
            continue
        mask, _ = segments._targets(ix, f, "issue_coupon", day)
        out[m.id] = [ix.snap.customer_id(i) for i in sr.rows_of(mask)]
    return out


def stored() -> dict[str, frozenset[str]]:
    """What the table holds now: customer id -> segment ids (a parallel Scan)."""
    got: dict[str, frozenset[str]] = {}

    def page(items: list[dict[str, Any]]) -> None:
        for it in items:
            got[it["customer_id"]["S"]] = frozenset(it.get("segs", {}).get("SS", ()))

    snapshot._scan(SegmentMembershipModel.Meta.table_name, "customer_id, segs", page)
    return got


def write(changes: mr.Changes) -> None:
    """The puts and deletes, 25 to a BatchWriteItem (unprocessed items retried)."""
    with SegmentMembershipModel.batch_write() as batch:
        for cid, segs in changes.puts.items():
            batch.save(SegmentMembershipModel(cid, segs=set(segs)))
        for cid in changes.deletes:
            batch.delete(SegmentMembershipModel(cid))


def sync(object_key: str, day: date | None = None) -> dict[str, Any]:
    """Bring the table to the snapshot ``object_key``; record the run on the segments
    item ("memberships", "current") and return its figures."""
    ix = segments.index(object_key)
    day = day or segments.today()  # lifecycle stages are today's, as for counts
    new = mr.by_member(members_of_segments(ix, day))
    changes = mr.diff(stored(), new)
    write(changes)
    got = {
        "as_of": ix.snap.meta["as_of"],
        "members": len(new),
        "written": len(changes.puts),
        "deleted": len(changes.deletes),
    }
    SegmentModel(
        "memberships",
        "current",
        object_key=object_key,
        as_of=got["as_of"],
        members=got["members"],
        done=got["written"],
        failed=got["deleted"],
        updated_at=clock.now_iso(),
    ).save()
    log.info("segment memberships as of %s: %s", got["as_of"], got)
    return got


def erase(customer_id: str) -> None:
    """A member's memberships when they are erased (members/providers.py ERASERS)."""
    SegmentMembershipModel(customer_id).delete()
