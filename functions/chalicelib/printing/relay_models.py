"""Print relays: one record per relay credential head office issued for a store.

The relay's token names its record (``sub``) and carries the record's ``token_id``
(``jti``); a relay route accepts the token only while the record is active and holds that
token id, so revoking is one write and takes effect on the relay's next call.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta

# Both indexes project keys only: a heartbeat (every 15 s per store) then writes the table
# alone, not the indexes too. Readers fetch the records with BatchGetItem.


class RelaysByStore(GlobalSecondaryIndex):
    """The relays of one store."""

    class Meta:
        index_name = "by_store"
        projection = KeysOnlyProjection()

    store_id = UnicodeAttribute(hash_key=True)
    relay_id = UnicodeAttribute(range_key=True)


class RelaysListing(GlobalSecondaryIndex):
    """Every relay, for head office's health view (no Scan: the API may not scan)."""

    class Meta:
        index_name = "by_listing"
        projection = KeysOnlyProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "relays"
    relay_id = UnicodeAttribute(range_key=True)


class RelayModel(Model):
    Meta = _meta("relays")

    relay_id = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute()
    listing = UnicodeAttribute(default="relays")
    name = UnicodeAttribute()
    status = UnicodeAttribute()  # active | revoked
    token_id = UnicodeAttribute()  # the jti of the one token that is valid for this relay
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    last_heartbeat_at = UnicodeAttribute(null=True)
    # The latest heartbeat as the relay sent it (printers, ledger, errors): shown, not queried.
    heartbeat = JSONAttribute(null=True)
    # Which running relay sent the latest heartbeat ("hostname|started_at"), the one before
    # it when that changed, and the one before that: two relays sharing one token (a cloned
    # PC) alternate A, B, A..., which a restart (A, then B for good) never does.
    instance = UnicodeAttribute(null=True)
    instance_changed_at = UnicodeAttribute(null=True)
    previous_instance = UnicodeAttribute(null=True)
    earlier_instance = UnicodeAttribute(null=True)
    earlier_changed_at = UnicodeAttribute(null=True)

    by_store = RelaysByStore()
    by_listing = RelaysListing()


RELAY_MODELS: tuple[type[Model], ...] = (RelayModel,)
