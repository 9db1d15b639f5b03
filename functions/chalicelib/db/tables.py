"""Every table of the system, in one list: the template, the local stack and the tests
create and check tables from it."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.audit.models import AUDIT_MODELS
from chalicelib.campaign_budgets.models import CAMPAIGN_BUDGET_MODELS
from chalicelib.campaigns.models import CAMPAIGN_MODELS
from chalicelib.campaigns.review_models import CAMPAIGN_REVIEW_MODELS
from chalicelib.catalogue.models import CATALOGUE_MODELS
from chalicelib.coupons.models import COUPON_MODELS
from chalicelib.customers.models import CUSTOMER_MODELS
from chalicelib.events.models import EVENT_MODELS
from chalicelib.exports.models import EXPORT_MODELS
from chalicelib.group_buys.models import GROUP_BUY_MODELS
from chalicelib.identity.models import IDENTITY_MODELS
from chalicelib.lottery.models import LOTTERY_MODELS
from chalicelib.loyalty.models import LOYALTY_MODELS
from chalicelib.loyalty.programme_models import PROGRAMME_MODELS
from chalicelib.members.models import MEMBER_MODELS
from chalicelib.orders.models import ORDER_MODELS
from chalicelib.printing.models import PRINT_MODELS
from chalicelib.printing.relay_models import RELAY_MODELS
from chalicelib.promotions.models import PROMOTION_MODELS
from chalicelib.reports.models import REPORT_MODELS
from chalicelib.store_tiers.models import STORE_TIER_MODELS
from chalicelib.stored_value.models import STORED_VALUE_MODELS
from chalicelib.stores.models import STORE_MODELS
from chalicelib.subscriptions.models import SUBSCRIPTION_MODELS
from chalicelib.traffic.models import TRAFFIC_MODELS
from chalicelib.zones.models import ZONE_MODELS

ALL_MODELS: tuple[type[Model], ...] = (
    STORE_MODELS
    + CATALOGUE_MODELS
    + IDENTITY_MODELS
    + MEMBER_MODELS
    + ORDER_MODELS
    + PRINT_MODELS
    + RELAY_MODELS
    + COUPON_MODELS
    + PROMOTION_MODELS
    + EVENT_MODELS
    + AUDIT_MODELS
    + EXPORT_MODELS
    + REPORT_MODELS
    + STORED_VALUE_MODELS
    + LOYALTY_MODELS
    + PROGRAMME_MODELS
    + CUSTOMER_MODELS
    + CAMPAIGN_BUDGET_MODELS
    + TRAFFIC_MODELS
    + CAMPAIGN_MODELS
    + STORE_TIER_MODELS
    + CAMPAIGN_REVIEW_MODELS
    + SUBSCRIPTION_MODELS
    + LOTTERY_MODELS
    + GROUP_BUY_MODELS
    + ZONE_MODELS
)
