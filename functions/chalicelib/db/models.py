"""DynamoDB tables as PynamoDB models: the one definition of every table and index.

The deployable template (infra/template.py) and the local stack create tables from these
models, and a test checks the two agree. Money is integer fen; times are UTC ISO-8601.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.kernel import config


def _meta(short_name: str) -> type:
    class Meta:
        table_name = config.table_name(short_name)
        region = config.REGION
        billing_mode = "PAY_PER_REQUEST"

    return Meta


# --- stores -------------------------------------------------------------------------


class DeliveryFeeAttribute(MapAttribute):
    base_fee_fen = NumberAttribute()
    free_above_fen = NumberAttribute(null=True)


class OpeningHoursAttribute(MapAttribute):
    day = NumberAttribute()  # 0 = Monday ... 6 = Sunday
    open = UnicodeAttribute()  # "HH:MM" local time
    close = UnicodeAttribute()  # "HH:MM", "24:00" for midnight; before open = past midnight


class PrinterAttribute(MapAttribute):
    """A receipt printer installed at the store."""

    name = UnicodeAttribute()
    paper_mm = NumberAttribute()  # 58 | 80
    copies = ListAttribute(of=UnicodeAttribute)  # "picking", "delivery", in that order
    connection = UnicodeAttribute(null=True)  # e.g. "192.168.1.50:9100", "USB 0416:5011"


class StoresByGeoCell(GlobalSecondaryIndex):
    """Active stores by geohash cell: the nearby-store search queries a few cells."""

    class Meta:
        index_name = "by_geo_cell"
        projection = AllProjection()

    geo_cell = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute(range_key=True)


class StoresListing(GlobalSecondaryIndex):
    """Every store, for head office's list (a chain has hundreds of stores at most)."""

    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "stores"
    store_id = UnicodeAttribute(range_key=True)


class StoreModel(Model):
    Meta = _meta("stores")

    store_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    lat = NumberAttribute()
    lng = NumberAttribute()
    radius_m = NumberAttribute()
    timezone = UnicodeAttribute(default="Asia/Shanghai")
    minimum_order_fen = NumberAttribute(default=0)
    delivery_fee = DeliveryFeeAttribute()
    hours = ListAttribute(of=OpeningHoursAttribute, default=list)
    active = BooleanAttribute(default=True)
    printers = ListAttribute(of=PrinterAttribute, default=list)  # 0 to 4, names unique
    # Set only while the store is active, so inactive stores drop out of the index.
    geo_cell = UnicodeAttribute(null=True)
    listing = UnicodeAttribute(default="stores")
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_geo_cell = StoresByGeoCell()
    by_listing = StoresListing()


# --- catalogue ----------------------------------------------------------------------


class ProductModel(Model):
    """A product of the chain's catalogue, the same in every store."""

    Meta = _meta("products")

    sku = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    category1 = UnicodeAttribute()
    category2 = UnicodeAttribute()
    unit = UnicodeAttribute()
    barcode = UnicodeAttribute(null=True)
    fresh = BooleanAttribute(default=False)
    zone = UnicodeAttribute(null=True)  # picking zone, e.g. "A 生鲜区"
    shelf = UnicodeAttribute(null=True)  # shelf within the zone, e.g. "A-03"
    image_url = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    # Unit cost (fen) where the ERP knows it: checkout's margin floor refuses discount
    # stacks that would sell below it. Never shown to customers.
    cost_fen = NumberAttribute(null=True)
    updated_at = UnicodeAttribute()


class CategoryTreeModel(Model):
    """The two-level category tree as one item ("category1#category2" pairs), grown by
    product imports with an atomic ADD, read with one GetItem."""

    Meta = _meta("categories")

    tree_id = UnicodeAttribute(hash_key=True)  # always "all"
    pairs = UnicodeSetAttribute(default=set)


class StoreItemsByCategory(GlobalSecondaryIndex):
    """A store's catalogue in category order: ``category_key = category1#category2#sku``."""

    class Meta:
        index_name = "by_category"
        projection = AllProjection()

    store_id = UnicodeAttribute(hash_key=True)
    category_key = UnicodeAttribute(range_key=True)


class StoreItemsBySku(GlobalSecondaryIndex):
    """Which stores carry a SKU: used to re-file store items when a product changes category."""

    class Meta:
        index_name = "by_sku"
        projection = KeysOnlyProjection()

    sku = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute(range_key=True)


class StoreItemModel(Model):
    """A product's price and stock in one store."""

    Meta = _meta("store_items")

    store_id = UnicodeAttribute(hash_key=True)
    sku = UnicodeAttribute(range_key=True)
    price_fen = NumberAttribute()
    stock = NumberAttribute()
    on_sale = BooleanAttribute(default=True)
    category_key = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_category = StoreItemsByCategory()
    by_sku = StoreItemsBySku()


class ImportsByCreation(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "imports": few jobs a day
    created_at = UnicodeAttribute(range_key=True)


class ImportJobModel(Model):
    """One ERP import (products or store prices/stock) and its outcome."""

    Meta = _meta("import_jobs")

    job_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(default="imports")
    kind = UnicodeAttribute()  # "products" | "store_items"
    file_format = UnicodeAttribute()  # "csv" | "json"
    status = UnicodeAttribute()  # queued | running | succeeded | failed
    lease_until = NumberAttribute(default=0)  # epoch s; a running job's worker holds it until then
    object_key = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    total_rows = NumberAttribute(default=0)
    processed_rows = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)
    rejected_rows = ListAttribute(default=list)  # first 1,000 of {line, field, reason}
    error = UnicodeAttribute(null=True)

    by_created = ImportsByCreation()


# --- identity -----------------------------------------------------------------------


class StaffByStore(GlobalSecondaryIndex):
    """Accounts of one store, or of head office (scope "hq")."""

    class Meta:
        index_name = "by_store"
        projection = AllProjection()

    store_scope = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)


class StaffModel(Model):
    """A head-office or store account that signs in with a password."""

    Meta = _meta("staff")

    username = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)
    store_scope = UnicodeAttribute()  # store_id, or "hq" for head office
    display_name = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Tokens carry the generation they were issued under; bumping it (disable, enable,
    # password reset, sign out everywhere) revokes every older token (auth/sessions.py).
    token_gen = NumberAttribute(default=0)
    # Part of the per-client sign-in guard keys: bumping it (unlock, password reset)
    # forgets every client's failures at once (identity/signin_guard.py).
    signin_epoch = NumberAttribute(default=0)

    by_store = StaffByStore()


class CustomerModel(Model):
    """A member (会员), registered by phone on first sign-in."""

    Meta = _meta("customers")

    customer_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute()
    nickname = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)  # from a parameterised QR code, e.g. "store:sh-jingan"
    home_store_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    token_gen = NumberAttribute(default=0)  # "sign out everywhere" bumps it (auth/sessions.py)


class CustomerPhoneModel(Model):
    """Phone -> customer: written with the customer in one transaction, so one phone is
    one member even when two first sign-ins race."""

    Meta = _meta("customer_phones")

    phone = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()


class OtpChallengeModel(Model):
    """The one-time code last sent to a phone (stored as a keyed hash, never in clear)."""

    Meta = _meta("otp_challenges")

    phone = UnicodeAttribute(hash_key=True)
    code_hash = UnicodeAttribute()
    sent_at = NumberAttribute()
    # Not counted: wrong codes are capped per phone over all clients by the sign-in guard
    # (identity/signin_guard.py, MAX_FAILED_CODES_PER_PHONE), which outlives the code.
    attempts = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class SigninGuardModel(Model):
    """Failed sign-ins for one account or phone, and the lockout they caused."""

    Meta = _meta("signin_guards")

    key = UnicodeAttribute(hash_key=True)  # "staff:<username>" or "otp:<phone>"
    failures = NumberAttribute(default=0)
    locked_until = NumberAttribute(default=0)
    expires_at = TTLAttribute()


CATALOGUE_AND_IDENTITY_MODELS: tuple[type[Model], ...] = (
    StoreModel,
    ProductModel,
    CategoryTreeModel,
    StoreItemModel,
    ImportJobModel,
    StaffModel,
    CustomerModel,
    CustomerPhoneModel,
    OtpChallengeModel,
    SigninGuardModel,
)
