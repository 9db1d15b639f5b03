"""The campaigns feature's own tables. The campaign item itself lives in
campaign_budgets/models.py (below checkout, which spends its budget)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db.models import _meta


class CalendarNodeModel(Model):
    """Head office's change to a year of the campaign calendar (issue 16 item 1): a
    moved, regraded or renamed seed node, a hidden seed, or an added (ad hoc) node. The
    seed nodes themselves are computed (campaigns/calendar_rules.py), never stored, so
    every year is pre-filled with no job and no write. The item holds the node as it now
    reads, whole; dates are local days (Asia/Shanghai)."""

    Meta = _meta("calendar_nodes")

    year = NumberAttribute(hash_key=True)
    node_id = UnicodeAttribute(range_key=True)  # "<year>:<key>", "<year>:adhoc:<hex>"
    key = UnicodeAttribute()
    kind = UnicodeAttribute()  # seed | anniversary | adhoc
    name_zh = UnicodeAttribute()
    name_en = UnicodeAttribute()
    grade = UnicodeAttribute()  # S | A | B | C
    starts_on = UnicodeAttribute()  # YYYY-MM-DD, local
    ends_on = UnicodeAttribute()  # inclusive
    store_id = UnicodeAttribute(null=True)  # anniversaries
    notes = UnicodeAttribute(null=True)
    hidden = BooleanAttribute(default=False)  # a seed head office removed from the year
    version = NumberAttribute(default=1)  # the seed computed is version 0; + 1 per edit
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()


CAMPAIGN_MODELS: tuple[type[Model], ...] = (CalendarNodeModel,)
