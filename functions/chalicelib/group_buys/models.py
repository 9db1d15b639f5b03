"""Group buy (拼团) tables (docs/mechanics.md, "Group buy").

* ``group_buy_offers``: head office's offer in a campaign (SKU, group price, size, ...).
* ``group_buy_groups``: one group of an offer at one store: its seats taken at placing
  (``seats_taken``, the conditional seat of the order's transaction) and paid
  (``seats_paid``: the last seat's payment fills the group), its state and expiry. While
  the expiry job has work on it (open, or succeeded/failed and not yet settled) it is in
  the sparse ``by_due`` index (``due_state``, ``due_at``).
* ``group_buy_members``: a member's seat in a group (group_id, customer_id) with its
  order and state (placed, paid, left); under the hash key "tally#<offer id>" the
  member's count of seats held in the offer's groups (the per-member limit's condition).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list


class OffersByListing(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # "offers"
    created_at = UnicodeAttribute(range_key=True)


class GroupOfferModel(Model):
    Meta = _meta("group_buy_offers")

    offer_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(default="offers")
    campaign_id = UnicodeAttribute()
    title = UnicodeAttribute()
    sku = UnicodeAttribute()
    group_price_fen = NumberAttribute()
    size = NumberAttribute()  # 2..100
    time_limit_min = NumberAttribute()
    per_member_limit = NumberAttribute()  # seats a member may hold in the offer's groups
    stores = string_list()
    pickup_only = NumberAttribute(default=1)  # 1: pickup only; 0: delivery allowed too
    on_timeout = UnicodeAttribute()  # "fail" | "complete"
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute(null=True)

    by_listing = OffersByListing()


class GroupsDue(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()

    due_state = UnicodeAttribute(hash_key=True)  # "open" | "settling"
    due_at = NumberAttribute(range_key=True)  # epoch seconds of the expiry


class GroupsByOffer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_offer"
        projection = AllProjection()

    offer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class GroupModel(Model):
    Meta = _meta("group_buy_groups")

    group_id = UnicodeAttribute(hash_key=True)
    offer_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    size = NumberAttribute()
    price_fen = NumberAttribute()
    on_timeout = UnicodeAttribute()
    state = UnicodeAttribute()  # open | succeeded | failed
    seats_taken = NumberAttribute(default=0)
    seats_paid = NumberAttribute(default=0)
    expires_at = UnicodeAttribute()  # UTC ISO
    due_state = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    opened_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    ended_at = UnicodeAttribute(null=True)
    ended_why = UnicodeAttribute(null=True)  # "full" | "timeout_refunded" | "timeout_completed"

    by_due = GroupsDue()
    by_offer = GroupsByOffer()


class GroupMemberModel(Model):
    Meta = _meta("group_buy_members")

    group_id = UnicodeAttribute(hash_key=True)  # or "tally#<offer id>" for the tally
    customer_id = UnicodeAttribute(range_key=True)
    order_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)  # placed | paid | left
    masked = UnicodeAttribute(null=True)
    discount_fen = NumberAttribute(null=True)  # regular price less the group price
    joined_at = UnicodeAttribute(null=True)
    seats = NumberAttribute(null=True)  # on the tally: seats held in the offer's groups


GROUP_BUY_MODELS: tuple[type[Model], ...] = (GroupOfferModel, GroupModel, GroupMemberModel)
