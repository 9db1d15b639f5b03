"""Lotteries (免单抽奖): head office sets one up in a campaign, draws it once and reads
its proof; the storefront reads its rules, committed seed hash and (after the draw) the
seed and the winners, masked."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.lottery import schemas as s

service = lazy_module("chalicelib.lottery.service")

area = Area(
    "lottery",
    __name__,
    "Lottery free order (免单抽奖): a committed seed, a draw anyone can recompute, the "
    "winners refunded once.",
)


@area.route(
    "/admin/lotteries",
    "GET",
    summary="Every lottery, newest first (never the seed)",
    roles={HQ_ADMIN},
    response=s.LotteryList,
    errors=(403,),
    response_example=s.LIST_EXAMPLE,
)
def list_lotteries(principal: Principal) -> s.LotteryList:
    return service.list_lotteries()


@area.route(
    "/admin/lotteries",
    "POST",
    summary="Set up a lottery in a campaign; its seed is drawn and sealed, its hash published",
    roles={HQ_ADMIN},
    body=s.LotteryBody,
    response=s.Lottery,
    status=201,
    errors=(403, 409, 422),
    request_example=s.BODY_EXAMPLE,
    response_example=s.LOTTERY_EXAMPLE,
)
def create(body: s.LotteryBody, principal: Principal) -> s.Lottery:
    """422 ``campaign_not_found`` / ``segment_not_found``; 409 ``campaign_ended``. The
    lottery is added to the campaign's ``mechanic_ids``."""
    return service.create(principal, body)


@area.route(
    "/admin/lotteries/{lottery_id}",
    "GET",
    summary="One lottery with its winners and their refunds (never the seed: see proof)",
    roles={HQ_ADMIN},
    response=s.Lottery,
    errors=(403, 404),
    response_example=s.LOTTERY_EXAMPLE,
)
def get(lottery_id: str, principal: Principal) -> s.Lottery:
    return service.get(lottery_id)


@area.route(
    "/admin/lotteries/{lottery_id}",
    "PUT",
    summary="Replace a lottery's rules before its window opens",
    roles={HQ_ADMIN},
    body=s.LotteryBody,
    response=s.Lottery,
    errors=(403, 404, 409, 422),
    request_example=s.BODY_EXAMPLE,
    response_example=s.LOTTERY_EXAMPLE,
)
def put(lottery_id: str, body: s.LotteryBody, principal: Principal) -> s.Lottery:
    """409 ``lottery_locked`` once the window has opened, ``lottery_changed`` on a
    concurrent edit."""
    return service.update(principal, lottery_id, body)


@area.route(
    "/admin/lotteries/{lottery_id}/draw",
    "POST",
    summary="Draw the winners (once) and refund them; a second call answers the same result",
    roles={HQ_ADMIN},
    response=s.Lottery,
    errors=(403, 404, 409),
    response_example=s.LOTTERY_EXAMPLE,
)
def draw(lottery_id: str, principal: Principal) -> s.Lottery:
    """409 ``lottery_not_due`` before ``draw_at``, ``campaign_not_launched`` while the
    campaign is a draft. Concurrent calls draw once and refund each winner once; a call
    after a crash mid-draw finishes it."""
    return service.draw(principal, lottery_id)


@area.route(
    "/admin/lotteries/{lottery_id}/proof",
    "GET",
    summary="The audit proof: seed, seed hash, entrants, winners' scores",
    roles={HQ_ADMIN},
    response=s.Proof,
    errors=(403, 404, 409),
    response_example=s.PROOF_EXAMPLE,
)
def get_proof(lottery_id: str, principal: Principal) -> s.Proof:
    """409 ``lottery_not_drawn`` before the draw recorded its entrants."""
    return service.proof(lottery_id)


@area.route(
    "/lotteries/{lottery_id}",
    "GET",
    summary="A lottery's rules, committed seed hash and, after the draw, seed and winners",
    response=s.PublicLottery,
    errors=(404,),
    response_example=s.PUBLIC_EXAMPLE,
)
def public(lottery_id: str) -> s.PublicLottery:
    """Anyone: check sha256(seed) == seed_hash after the draw, and recompute the
    winners from GET /admin/lotteries/{id}/proof's entrants (docs/mechanics.md)."""
    return service.public(lottery_id)
