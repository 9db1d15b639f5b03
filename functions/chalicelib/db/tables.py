"""Every table of the system, in one list: the template, the local stack and the tests
create and check tables from it."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.coupons.models import COUPON_MODELS
from chalicelib.db.models import CATALOGUE_AND_IDENTITY_MODELS
from chalicelib.orders.models import ORDER_MODELS
from chalicelib.printing.relay_models import RELAY_MODELS
from chalicelib.promotions.models import PROMOTION_MODELS

ALL_MODELS: tuple[type[Model], ...] = (
    CATALOGUE_AND_IDENTITY_MODELS + ORDER_MODELS + RELAY_MODELS + COUPON_MODELS + PROMOTION_MODELS
)
