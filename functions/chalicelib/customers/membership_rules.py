"""Which saved segments each member is in, and what the nightly job must write to keep
``segment_memberships`` equal to it (issue 18 item 4: promotions for a segment). Pure:
no I/O.

The table holds one item per member in at least one segment. Most members' sets do not
change from one night to the next, so the job writes only the difference: a put for
each member whose set changed or who joined a first segment, a delete for each member
who left the last one. The nightly cost follows churn, not the number of members.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    puts: dict[str, frozenset[str]]  # customer id -> their whole new set of segment ids
    deletes: list[str]  # customer ids now in no segment (their item goes)

    @property
    def unchanged(self) -> bool:
        return not self.puts and not self.deletes


def by_member(members_of: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Invert segment id -> its members into customer id -> the segments they are in."""
    out: dict[str, set[str]] = {}
    for segment_id, customers in members_of.items():
        for cid in customers:
            out.setdefault(cid, set()).add(segment_id)
    return {cid: frozenset(segs) for cid, segs in out.items()}


def diff(old: Mapping[str, frozenset[str]], new: Mapping[str, frozenset[str]]) -> Changes:
    """What turns the stored memberships ``old`` into ``new`` (both customer id -> set).
    A member in no segment has no item: an old item left empty is deleted too."""
    puts = {cid: segs for cid, segs in new.items() if segs and old.get(cid) != segs}
    deletes = sorted(cid for cid in old if not new.get(cid))
    return Changes(dict(sorted(puts.items())), deletes)
