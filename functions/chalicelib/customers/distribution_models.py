"""Staff distribution's table (``distribution``): three kinds of item.

- ``pk`` "p#<username>", ``sk`` "-": a staff member's distribution profile (the upline
  head office set: two levels at most);
- ``pk`` "s#<username>", ``sk`` "e#<YYYY-MM>#<order_id>#<kind>": a commission entry
  (kind "a1"/"a2": accrued to level 1/2; "r1#<refunded>"/"r2#<refunded>": reversed when
  the order's refunds reached that total), put under ``attribute_not_exists`` so a
  redelivered event writes nothing; the month is the local month of the event's time;
- ``pk`` "m#<YYYY-MM>", ``sk`` "<username>": a staff member's month (new members,
  commissioned orders and their GMV, accrued, reversed, paid): ADDed in the transaction
  of the entry or binding it counts (O(1) per event); index ``by_staff`` lists a staff
  member's months (the balance carried into a month).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta


class MonthsByStaff(GlobalSecondaryIndex):
    """A staff member's months (only month items have ``staff`` and ``month``)."""

    class Meta:
        index_name = "by_staff"
        projection = AllProjection()

    staff = UnicodeAttribute(hash_key=True)
    month = UnicodeAttribute(range_key=True)


class DistributionModel(Model):
    Meta = _meta("distribution")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # profile
    upline = UnicodeAttribute(null=True)
    downlines = UnicodeSetAttribute(null=True)  # who chose this one as upline
    # entry and month
    store_id = UnicodeAttribute(null=True)
    # entry
    kind = UnicodeAttribute(null=True)  # accrued | reversed
    level = NumberAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    amount_fen = NumberAttribute(null=True)  # negative for a reversal
    nth = NumberAttribute(null=True)  # the member's 1st or 2nd completed order
    at = UnicodeAttribute(null=True)
    available_at = UnicodeAttribute(null=True)  # an accrual's end of the return window
    # month
    staff = UnicodeAttribute(null=True)
    month = UnicodeAttribute(null=True)
    new_members = NumberAttribute(null=True)
    orders = NumberAttribute(null=True)
    ordered_members = NumberAttribute(null=True)  # bound members' first orders
    gmv_fen = NumberAttribute(null=True)
    accrued_fen = NumberAttribute(null=True)
    reversed_fen = NumberAttribute(null=True)  # positive: the sum of the reversals
    paid_fen = NumberAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    paid_by = UnicodeAttribute(null=True)
    paid_request = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)

    by_staff = MonthsByStaff()


DISTRIBUTION_MODELS = (DistributionModel,)
