"""Demo group buy (issue 17 item 1): one campaign spending now, one open group-buy offer
at the 24-hour demo store and one open group with a paid member in it, through the
group-buy service (the code the routes run). Idempotent: a second run (the same day)
finds the campaign, the offer and the member's order and writes nothing new."""

from __future__ import annotations

from datetime import timedelta

CAMPAIGN_ID = "demo-groupbuy"
OFFER_ID = "GBDEMO"
STORE = "sh-xuhui"  # open around the clock
MEMBER = "c-demo-01"


def seed_group_buy() -> str:
    """The demo group's id."""
    import msgspec
    from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
    from chalicelib.campaign_budgets import live
    from chalicelib.campaign_budgets.models import CampaignModel, starts_key
    from chalicelib.db.writes import is_condition_failure
    from chalicelib.group_buys import routes as _routes  # noqa: F401  (orders' hooks)
    from chalicelib.group_buys import service as gb
    from chalicelib.group_buys.models import GroupOfferModel
    from chalicelib.group_buys.schemas import OfferBody
    from chalicelib.kernel import clock
    from chalicelib.orders import order_flow, payments
    from chalicelib.orders.schemas import PlaceOrder
    from pynamodb.exceptions import PutError

    from infra.local import demo_data

    now = clock.now()
    starts = clock.iso(now - timedelta(days=1))
    ends = clock.iso(now + timedelta(days=60))
    try:
        CampaignModel(
            CAMPAIGN_ID,
            name="拼团尝鲜季",
            grade="B",
            state="live",
            starts_at=starts,
            ends_at=ends,
            starts_key=starts_key(starts, CAMPAIGN_ID),
            budget_hq_fen=500_000,
            budget_fen=500_000,
            left_fen=500_000,
            created_by="seed",
            created_at=starts,
            updated_at=starts,
        ).save(condition=CampaignModel.campaign_id.does_not_exist())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise  # else: seeded before
    live.forget_cache()
    sku = next(i["sku"] for i in demo_data.store_items() if i["store_id"] == STORE)
    try:
        GroupOfferModel.get(OFFER_ID)
    except GroupOfferModel.DoesNotExist:
        body = {
            "campaign_id": CAMPAIGN_ID,
            "title": "鲜果 3 人团",
            "sku": sku,
            "group_price_fen": 990,
            "size": 3,
            "time_limit_min": 1440,
            "per_member_limit": 1,
            "stores": [STORE],
            "on_timeout": "fail",
            "starts_at": starts,
            "ends_at": ends,
        }
        gb.create_offer(
            Principal("seed", HQ_ADMIN), msgspec.convert(body, OfferBody), offer_id=OFFER_ID
        )
    member = Principal(MEMBER, CUSTOMER)
    cart = msgspec.convert(
        {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": sku, "qty": 1}]}, PlaceOrder
    )
    order, created = gb.open_group(member, "demo-group-buy-open", OFFER_ID, cart)
    if created:
        # The seat took a unit of the demo stock; the demo catalogue keeps its stated
        # stock (the next seed would "repair" it, and a re-seed must change nothing),
        # so the unit goes back on the shelf for the demo.
        from chalicelib.catalogue.models import StoreItemModel

        StoreItemModel(STORE, sku).update(actions=[StoreItemModel.stock.add(1)])
    if order.status == "awaiting_payment":
        payments.simulate(member, order.order_id)  # paid, held until the group fills
    return str(order_flow.get(order.order_id).group_id)
