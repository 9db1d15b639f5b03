"""Every table of the system, in one list: the template, the local stack and the tests
create and check tables from it."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.db.coupon_models import COUPON_MODELS
from chalicelib.db.models import CATALOGUE_AND_IDENTITY_MODELS
from chalicelib.db.order_models import ORDER_MODELS
from chalicelib.db.promotion_models import PROMOTION_MODELS
from chalicelib.db.relay_models import RELAY_MODELS

ALL_MODELS: tuple[type[Model], ...] = (
    CATALOGUE_AND_IDENTITY_MODELS + ORDER_MODELS + RELAY_MODELS + COUPON_MODELS + PROMOTION_MODELS
)
