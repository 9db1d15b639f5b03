"""Stored value (储值) tables.

- ``stored_value_accounts``: one item per member, principal and bonus apart. Its numbers
  change only by ADD with a condition (``principal_fen >= x``...), in the same
  transaction as the ledger entry that says why (stored_value/ledger.py).
- ``stored_value_entries``: the ledger, keyed (customer, ref) where ref is fixed by the
  cause (``topup:<id>``, ``pay:<order>``, ``release:<order>``, ``refund:<refund>``,
  ``withdraw:<id>``, ``adjust:<request id>``): a retried write cannot write it twice.
- ``stored_value_totals``: the outstanding liability per store (the account's store),
  ADDed in the same transactions, so head office reads it without a scan.
- ``stored_value_top_ups``: a top-up awaiting payment, paid through the provider like
  an order ("TU…" ids).
- ``stored_value_settings``: bonus tiers and the cap. Issue 14 puts these in the points
  engineer's ``loyalty_settings`` table (area "stored_value"); that table is not on main
  yet, so this part keeps its own item (key ``area``) until the lead merges the two.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta

NO_STORE = "-"  # an account not tied to a store (no home store, top-up without a store)


class StoredValueAccountModel(Model):
    Meta = _meta("stored_value_accounts")

    customer_id = UnicodeAttribute(hash_key=True)
    principal_fen = NumberAttribute(default=0)
    bonus_fen = NumberAttribute(default=0)
    balance_fen = NumberAttribute(default=0)  # principal + bonus, for the cap's condition
    # Bonus spent (net of bonus returned by refunds) since the last withdrawal: the
    # withdrawal quote deducts it (rules.withdrawal_quote).
    bonus_spent_fen = NumberAttribute(default=0)
    store_id = UnicodeAttribute(default=NO_STORE)  # where its liability is reported
    updated_at = UnicodeAttribute(null=True)


class EntriesByTime(GlobalSecondaryIndex):
    """A member's entries, newest first."""

    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<created_at ms>#<ref>"


class StoredValueEntryModel(Model):
    Meta = _meta("stored_value_entries")

    customer_id = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # top_up | pay | release | refund | withdraw | adjust
    principal_fen = NumberAttribute()  # signed: what the entry added to the principal
    bonus_fen = NumberAttribute()
    reason = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    paid_out_fen = NumberAttribute(null=True)  # a withdrawal: what it paid back
    refund_ids: ListAttribute[str] = ListAttribute(null=True)  # a withdrawal: its refunds
    created_at = UnicodeAttribute()
    created_key = UnicodeAttribute()
    by_time = EntriesByTime()


class StoredValueTotalsModel(Model):
    """Outstanding principal and bonus per store; one Query of the "stores" scope lists
    them all (a few dozen items)."""

    Meta = _meta("stored_value_totals")

    scope = UnicodeAttribute(hash_key=True)  # always "stores"
    store_id = UnicodeAttribute(range_key=True)
    principal_fen = NumberAttribute(default=0)
    bonus_fen = NumberAttribute(default=0)


class TierAttribute(MapAttribute):
    min_fen = NumberAttribute()
    bonus_fen = NumberAttribute()


class StoredValueSettingsModel(Model):
    Meta = _meta("stored_value_settings")

    area = UnicodeAttribute(hash_key=True)  # "stored_value"
    tiers = ListAttribute(of=TierAttribute, default=list)
    cap_fen = NumberAttribute()
    trial_threshold_fen = NumberAttribute(null=True)  # placeholder (issue 14 item 7)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class TopUpsByCustomer(GlobalSecondaryIndex):
    """A member's top-ups, newest first (a withdrawal pays back through them)."""

    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class TopUpModel(Model):
    Meta = _meta("stored_value_top_ups")

    top_up_id = UnicodeAttribute(hash_key=True)  # "TU" + 16 [0-9A-F]
    customer_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    store_id = UnicodeAttribute(default=NO_STORE)
    amount_fen = NumberAttribute()
    bonus_fen = NumberAttribute()
    # awaiting_payment | paid | refunded (the payment could not be credited: cap)
    status = UnicodeAttribute()
    payment_id = UnicodeAttribute(null=True)
    payment_provider = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    withdrawn_fen = NumberAttribute(default=0)  # principal paid back from this payment
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    by_customer = TopUpsByCustomer()


STORED_VALUE_MODELS: tuple[type[Model], ...] = (
    StoredValueAccountModel,
    StoredValueEntryModel,
    StoredValueTotalsModel,
    StoredValueSettingsModel,
    TopUpModel,
)
