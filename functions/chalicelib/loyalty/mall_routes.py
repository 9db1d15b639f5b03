"""Points mall routes (积分商城): head office's rewards, members' mall and redemptions."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module
from chalicelib.loyalty import mall_schemas as s

mall = lazy_module("chalicelib.loyalty.mall")

area = Area(
    "mall",
    __name__,
    "The points mall (积分商城): rewards for points or points + cash, and redemptions.",
)
X = s.EXAMPLES


@area.route(
    "/admin/loyalty/mall/rewards",
    "GET",
    summary="Every mall reward, newest first",
    roles={HQ_ADMIN},
    response=s.RewardList,
    errors=(403,),
    response_example=X["RewardList"],
)
def list_rewards(principal: Principal) -> s.RewardList:
    """Head office only; with units left and redemptions made."""
    return mall.list_rewards()


@area.route(
    "/admin/loyalty/mall/rewards",
    "POST",
    summary="List a reward (audited)",
    roles={HQ_ADMIN},
    body=s.RewardCreate,
    response=s.Reward,
    status=201,
    errors=(403, 404, 409, 422),
    request_example=X["RewardCreate"],
    response_example=X["Reward"],
)
def create_reward(body: s.RewardCreate, principal: Principal) -> s.Reward:
    """Head office only. A coupon reward names a coupon template (points only); a product
    reward a SKU (points or points + cash, placed as an order at the member's chosen
    store). 404 ``coupon_template_not_found`` / ``product_not_found``; 409
    ``reward_exists`` when ``reward_id`` is taken."""
    return mall.create_reward(principal, body)


@area.route(
    "/admin/loyalty/mall/rewards/{reward_id}",
    "GET",
    summary="One mall reward",
    roles={HQ_ADMIN},
    response=s.Reward,
    errors=(403, 404),
    response_example=X["Reward"],
)
def get_reward(reward_id: str, principal: Principal) -> s.Reward:
    return mall.reward_view(mall.get_reward(reward_id))


@area.route(
    "/admin/loyalty/mall/rewards/{reward_id}",
    "PATCH",
    summary="Change a reward's terms (audited)",
    roles={HQ_ADMIN},
    body=s.RewardUpdate,
    response=s.Reward,
    errors=(403, 404, 409, 422),
    request_example=X["RewardUpdate"],
    response_example=X["Reward"],
)
def update_reward(reward_id: str, body: s.RewardUpdate, principal: Principal) -> s.Reward:
    """Head office only. Send the ``version`` read: 409 ``reward_changed`` when another
    edit landed meanwhile. A member redeeming at the old price is refused, never charged
    the new one unseen."""
    return mall.update_reward(principal, reward_id, body)


@area.route(
    "/admin/loyalty/mall/rewards/{reward_id}/stock",
    "POST",
    summary="Add or withdraw a reward's units (audited)",
    roles={HQ_ADMIN},
    body=s.StockChange,
    response=s.Reward,
    errors=(403, 404, 409, 422),
    request_example=X["StockChange"],
    response_example=X["Reward"],
)
def change_stock(reward_id: str, body: s.StockChange, principal: Principal) -> s.Reward:
    """Head office only. A conditional ADD: 409 ``stock_too_low`` (``details.stock``) when
    fewer units are left than withdrawn; ``delta`` 0 is 422."""
    return mall.change_stock(principal, reward_id, body.delta)


@area.route(
    "/members/me/mall",
    "GET",
    summary="The points mall: rewards on offer and what I can afford",
    roles={CUSTOMER},
    response=s.MallView,
    errors=(403,),
    response_example=X["MallView"],
)
def my_mall(principal: Principal) -> s.MallView:
    """``affordable``: enough spendable points, units left and under the per-member limit."""
    return mall.mall_view(principal.subject)


@area.route(
    "/members/me/mall/redemptions",
    "POST",
    summary="Redeem a coupon reward for points (send an Idempotency-Key)",
    roles={CUSTOMER},
    body=s.RedemptionRequest,
    response=s.Redemption,
    status=201,
    errors=(400, 404, 409, 422),
    request_example=X["RedemptionRequest"],
    response_example=X["Redemption"],
    idempotency_key=True,
    replays=True,
)
def redeem(body: s.RedemptionRequest, principal: Principal) -> Response:
    """Header ``Idempotency-Key`` (8-64 characters) is required: the same key and body
    again answer the same redemption (200, ``Idempotent-Replayed: true``); with another
    body 422 ``idempotency_key_reused``. A coupon reward takes the points and issues the
    coupon at once, all or nothing. 409 ``insufficient_points`` (``details.spendable``),
    ``reward_sold_out``, ``reward_limit_reached``, ``reward_not_available``,
    ``reward_changed`` (the price changed: look again); a product reward is placed as an
    order (409 ``reward_is_product``: POST /orders with ``reward_id``)."""
    request = current_request_of(area)
    result, created = mall.redeem(principal, request.headers.get("idempotency-key"), body)
    return respond(result, 201 if created else 200)


@area.route(
    "/members/me/mall/redemptions",
    "GET",
    summary="My mall redemptions, newest first",
    roles={CUSTOMER},
    response=s.RedemptionList,
    errors=(403,),
    response_example=X["RedemptionList"],
)
def my_redemptions(principal: Principal) -> s.RedemptionList:
    return mall.my_redemptions(principal.subject)
