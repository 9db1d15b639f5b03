"""The points mall (积分商城): head office lists rewards (a coupon template or a product)
for points or points + cash, with stock and a per-member limit; members redeem them.

Redeeming a coupon is one TransactWriteItems (through ``points.change``): the reward's
``stock`` ADD -1 on ``stock >= 1`` (and the terms the member saw), the member's counter
ADD 1 on ``redeemed < limit``, the redemption record (its id derived from the member and
the Idempotency-Key, ``attribute_not_exists``), the points spent (entry
``mall:<redemption id>``, oldest lots first) and the coupon issued (coupons' own
``issue_items``, keyed ``<template>:mall:<redemption id>``): all or nothing, so no
oversell, no double redemption and no points taken without a coupon under any
concurrency. A product reward is placed as an order (orders/service.py), whose placing
transaction takes the same stock and limit pieces (``product_pieces``) and locks the
points.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.catalogue.models import ProductModel
from chalicelib.coupons import repo as coupons
from chalicelib.db.transactions import Rows, TransactionCancelled, TxPiece, batch_get, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ValidationFailed,
    field_error,
)
from chalicelib.loyalty import mall_schemas as s
from chalicelib.loyalty import points
from chalicelib.loyalty.models import (
    LoyaltyAccountModel,
    MallCounterModel,
    MallRedemptionModel,
    MallRewardModel,
    mall_counter_key,
)
from chalicelib.loyalty.points_ledger import InsufficientPoints, Ledger

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
LISTING = "rewards"


# --- head office's rewards ---------------------------------------------------------------
def get_reward(reward_id: str, consistent: bool = True) -> MallRewardModel:
    try:
        return MallRewardModel.get(reward_id, consistent_read=consistent)
    except DoesNotExist:
        raise NotFound(f"No reward {reward_id!r}.", code="reward_not_found") from None


def reward_view(m: MallRewardModel) -> s.Reward:
    return s.Reward(
        reward_id=m.reward_id,
        kind=m.kind,  # type: ignore[arg-type]
        name=m.name,
        description=m.description,
        template_id=m.template_id,
        sku=m.sku,
        points=int(m.points),
        cash_fen=int(m.cash_fen or 0),
        stock=int(m.stock),
        redeemed_count=int(m.redeemed_count or 0),
        per_member_limit=int(m.per_member_limit),
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        active=bool(m.active),
        version=int(m.version),
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def _terms(m: MallRewardModel) -> dict[str, Any]:
    """What head office edits, as the audit log records it."""
    v = msgspec.to_builtins(reward_view(m))
    for k in ("created_at", "updated_at", "version", "redeemed_count"):
        v.pop(k)
    return v


def _check_window(starts_at: str | None, ends_at: str | None) -> list[dict[str, str]]:
    errors = []
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None:
            try:
                clock.parse(value)
            except ValueError:
                errors.append(field_error(name, "not an ISO-8601 time"))
    if not errors and starts_at and ends_at and clock.parse(ends_at) <= clock.parse(starts_at):
        errors.append(field_error("ends_at", "must be after starts_at"))
    return errors


def _check_create(body: s.RewardCreate) -> None:
    errors = _check_window(body.starts_at, body.ends_at)
    if body.kind == "coupon":
        if body.template_id is None:
            errors.append(field_error("template_id", "required for a coupon reward"))
        if body.sku is not None:
            errors.append(field_error("sku", "a coupon reward has no SKU"))
        if body.cash_fen:
            # cash is paid through an order; a coupon is issued at once, without one
            errors.append(field_error("cash_fen", "a coupon reward is for points only"))
    else:
        if body.sku is None:
            errors.append(field_error("sku", "required for a product reward"))
        if body.template_id is not None:
            errors.append(field_error("template_id", "a product reward has no coupon"))
    if errors:
        raise ValidationFailed("The reward is not valid.", details=errors)
    if body.template_id is not None:
        coupons.get_template(body.template_id)  # 404 coupon_template_not_found
    if body.sku is not None:
        try:
            ProductModel.get(body.sku)
        except DoesNotExist:
            raise NotFound(f"No product {body.sku!r}.", code="product_not_found") from None


def create_reward(principal: Principal, body: s.RewardCreate) -> s.Reward:
    """List a reward (audited in the same transaction); 409 ``reward_exists`` when the
    chosen ``reward_id`` is taken."""
    _check_create(body)
    now = clock.now_iso()
    reward_id = body.reward_id or f"rw-{secrets.token_hex(5)}"
    m = MallRewardModel(
        reward_id,
        kind=body.kind,
        name=body.name,
        description=body.description,
        template_id=body.template_id,
        sku=body.sku,
        points=body.points,
        cash_fen=body.cash_fen,
        stock=body.stock,
        redeemed_count=0,
        per_member_limit=body.per_member_limit,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        active=body.active,
        listing=LISTING,
        created_key=f"{clock.now_iso_ms()}#{reward_id}",
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
        version=1,
    )
    entry = audit.new_entry(
        principal, "mall.reward_create", audit.Target("mall_reward", reward_id), {}, _terms(m)
    )
    try:
        transact(
            lambda tx: audit.with_entry(
                tx,
                entry,
                tx.save(m, condition=MallRewardModel.reward_id.does_not_exist(), label="reward"),
            )
        )
    except TransactionCancelled as exc:
        if "reward" in exc.failed:
            raise Conflict(f"Reward {reward_id!r} exists.", code="reward_exists") from None
        raise
    return reward_view(m)


def list_rewards() -> s.RewardList:
    """Every reward, newest first (one Query of the listing index)."""
    items = MallRewardModel.by_created.query(LISTING, scan_index_forward=False)
    return s.RewardList(items=[reward_view(m) for m in items])


def update_reward(principal: Principal, reward_id: str, body: s.RewardUpdate) -> s.Reward:
    """Change the terms under the version read (409 ``reward_changed`` when another edit
    landed meanwhile), audited. A redemption in flight checks the points and cash it
    showed, so a member never pays a price changed under them."""
    current = get_reward(reward_id)
    if int(current.version) != body.version:
        raise Conflict("The reward was changed meanwhile; reload it.", code="reward_changed")
    changes = {
        k: v
        for k, v in msgspec.structs.asdict(body).items()
        if k != "version" and v is not msgspec.UNSET
    }
    starts = changes.get("starts_at", current.starts_at)
    ends = changes.get("ends_at", current.ends_at)
    errors = _check_window(starts, ends)
    if changes.get("cash_fen") and current.kind == "coupon":
        errors.append(field_error("cash_fen", "a coupon reward is for points only"))
    if errors:
        raise ValidationFailed("The reward is not valid.", details=errors)
    before = _terms(current)
    for k, v in changes.items():
        setattr(current, k, v)
    entry = audit.new_entry(
        principal, "mall.reward_update", audit.Target("mall_reward", reward_id), before,
        _terms(current),
    )  # fmt: skip
    if entry is None:
        return reward_view(current)
    m = MallRewardModel
    now = clock.now_iso()
    actions = [
        getattr(m, k).remove() if v is None else getattr(m, k).set(v) for k, v in changes.items()
    ]
    actions += [m.version.add(1), m.updated_at.set(now)]

    def build(tx: Any) -> None:
        tx.update(
            MallRewardModel(reward_id),
            actions=actions,
            condition=m.version == body.version,
            label="reward",
        )
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "reward" in exc.failed:
            raise Conflict(
                "The reward was changed meanwhile; reload it.", code="reward_changed"
            ) from None
        raise
    return reward_view(get_reward(reward_id))


def change_stock(principal: Principal, reward_id: str, delta: int) -> s.Reward:
    """Add or withdraw units: ADD under ``stock >= -delta`` (a withdrawal never takes
    units members are redeeming at the same moment below 0), audited. 409
    ``stock_too_low`` with the units left in ``details``."""
    if delta == 0:
        raise ValidationFailed("delta must not be 0.", details=[field_error("delta", "is 0")])
    current = get_reward(reward_id)
    m = MallRewardModel
    entry = audit.new_entry(
        principal,
        "mall.reward_stock",
        audit.Target("mall_reward", reward_id),
        {},
        {"delta": delta},
        always=True,
    )
    condition = m.reward_id.exists()
    if delta < 0:
        condition &= m.stock >= -delta

    def build(tx: Any) -> None:
        tx.update(
            MallRewardModel(reward_id),
            actions=[m.stock.add(delta), m.updated_at.set(clock.now_iso())],
            condition=condition,
            label="reward",
        )
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "reward" in exc.failed:
            left = int(get_reward(reward_id).stock)
            raise Conflict(
                f"Only {left} units are left; {-delta} cannot be withdrawn.",
                code="stock_too_low",
                details={"stock": left},
            ) from None
        raise
    del current
    return reward_view(get_reward(reward_id))


# --- members -----------------------------------------------------------------------------
def _on_offer(m: MallRewardModel, now: str) -> bool:
    return (
        bool(m.active)
        and (m.starts_at is None or m.starts_at <= now)
        and (m.ends_at is None or m.ends_at > now)
    )


def mall_view(customer_id: str) -> s.MallView:
    """Rewards on offer, with what the member can afford: one Query of the rewards, one
    GetItem of the points, one BatchGetItem of the member's counters."""
    now = clock.now_iso()
    rewards = [
        m
        for m in MallRewardModel.by_created.query(LISTING, scan_index_forward=False)
        if _on_offer(m, now)
    ]
    spendable = points.balance(customer_id).spendable
    counts: dict[str, int] = {}
    if rewards:
        keys = [{"counter_key": mall_counter_key(m.reward_id, customer_id)} for m in rewards]
        for c in batch_get({MallCounterModel: keys}, consistent=False)[MallCounterModel]:
            counts[c.counter_key.split("#", 1)[0]] = int(c.redeemed or 0)
    items = []
    for m in rewards:
        mine = counts.get(m.reward_id, 0)
        in_stock = int(m.stock) >= 1
        items.append(
            s.MallOffer(
                reward_id=m.reward_id,
                kind=m.kind,
                name=m.name,
                description=m.description,
                points=int(m.points),
                cash_fen=int(m.cash_fen or 0),
                in_stock=in_stock,
                redeemed_by_me=mine,
                per_member_limit=int(m.per_member_limit),
                affordable=in_stock
                and mine < int(m.per_member_limit)
                and spendable >= int(m.points),
                ends_at=m.ends_at,
            )
        )
    return s.MallView(spendable_points=spendable, items=items)


def redemption_id(customer_id: str, key: str) -> str:
    """Derived from the member and the Idempotency-Key: the same key names the same
    redemption, so its conditional put is the idempotency check."""
    digest = hashlib.sha256(f"{customer_id}#{key}".encode()).digest()
    return "MR" + base64.b32encode(digest).decode()[:20]


def _request_hash(body: s.RedemptionRequest) -> str:
    return hashlib.sha256(msgspec.json.encode(body)).hexdigest()[:32]


def redemption_view(m: MallRedemptionModel) -> s.Redemption:
    return s.Redemption(
        redemption_id=m.redemption_id,
        reward_id=m.reward_id,
        kind=m.kind,  # type: ignore[arg-type]
        name=m.name,
        points=int(m.points),
        cash_fen=int(m.cash_fen or 0),
        state=m.state,  # type: ignore[arg-type]
        coupon_id=m.coupon_id,
        order_id=m.order_id,
        store_id=m.store_id,
        created_at=m.created_at,
    )


def _existing(rid: str, request_hash: str) -> MallRedemptionModel | None:
    try:
        m = MallRedemptionModel.get(rid, consistent_read=True)
    except DoesNotExist:
        return None
    if m.request_hash != request_hash:
        raise ValidationFailed(
            "This Idempotency-Key was used for another redemption; use a new key.",
            code="idempotency_key_reused",
            details=[field_error("Idempotency-Key", "used with another body")],
        )
    return m


def redeem(
    principal: Principal, idempotency_key: str | None, body: s.RedemptionRequest
) -> tuple[s.Redemption, bool]:
    """Redeem a reward; (redemption, created). The same key and body again answer the
    redemption made (created False); the same key with another body is 422."""
    if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
        raise BadRequest(
            "Send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.', ':' "
            "(e.g. a UUID), the same one when retrying.",
            code="idempotency_key_required",
        )
    customer_id = principal.subject
    rid = redemption_id(customer_id, idempotency_key)
    request_hash = _request_hash(body)
    done = _existing(rid, request_hash)
    if done is not None:
        return redemption_view(done), False
    reward = get_reward(body.reward_id)
    _check_redeemable(reward)
    if reward.kind != "coupon":
        raise Conflict(
            "A product reward is placed as an order: POST /orders with reward_id.",
            code="reward_is_product",
        )
    return _redeem_coupon(reward, customer_id, rid, request_hash)


def _check_redeemable(reward: MallRewardModel) -> None:
    """The answers a member can act on, before any write (the transaction's conditions
    decide under concurrency; these only make the usual refusals cheap and clear)."""
    if not _on_offer(reward, clock.now_iso()):
        raise Conflict("This reward is not on offer now.", code="reward_not_available")
    if int(reward.stock) < 1:
        raise Conflict("This reward is all gone.", code="reward_sold_out")


def reward_pieces(
    reward: MallRewardModel, customer_id: str, now: str, *, label: str = "reward"
) -> list[TxPiece]:
    """Take one unit and one of the member's redemptions of ``reward``: the reward's
    ``stock`` ADD -1 on ``stock >= 1``, on offer, and at the points and cash read (the
    price the member saw), and the member's counter ADD 1 on ``redeemed < limit``. Labels
    ``<label>`` and ``<label>_limit``. Used by the coupon redemption and by placing a
    product reward's order."""
    m = MallRewardModel
    condition = (
        (m.stock >= 1)
        & (m.active == True)  # noqa: E712  (a PynamoDB condition, not a comparison)
        & (m.points == int(reward.points))
        & (m.cash_fen == int(reward.cash_fen or 0))
    )
    if reward.starts_at is not None:
        condition &= m.starts_at <= now
    if reward.ends_at is not None:
        condition &= m.ends_at > now
    c = MallCounterModel
    return [
        TxPiece(
            MallRewardModel(reward.reward_id),
            {"actions": [m.stock.add(-1), m.redeemed_count.add(1)], "condition": condition},
            label,
        ),
        TxPiece(
            MallCounterModel(mall_counter_key(reward.reward_id, customer_id)),
            {
                "actions": [c.redeemed.add(1)],
                "condition": c.redeemed.does_not_exist()
                | (c.redeemed < int(reward.per_member_limit)),
            },
            f"{label}_limit",
        ),
    ]


def give_back_pieces(reward_id: str, customer_id: str, *, label: str = "reward") -> list[TxPiece]:
    """The unit and the member's redemption back (a product reward's order cancelled or
    expired unpaid): stock ADD 1, counter ADD -1 on ``redeemed >= 1``."""
    m, c = MallRewardModel, MallCounterModel
    return [
        TxPiece(
            MallRewardModel(reward_id),
            {
                "actions": [m.stock.add(1), m.redeemed_count.add(-1)],
                "condition": m.reward_id.exists(),
            },
            label,
        ),
        TxPiece(
            MallCounterModel(mall_counter_key(reward_id, customer_id)),
            {"actions": [c.redeemed.add(-1)], "condition": c.redeemed >= 1},
            f"{label}_limit",
        ),
    ]


def _redeem_coupon(
    reward: MallRewardModel, customer_id: str, rid: str, request_hash: str
) -> tuple[s.Redemption, bool]:
    assert reward.template_id is not None
    template = coupons.get_template(reward.template_id)
    now = clock.now()
    now_iso = clock.iso(now)
    coupon_id = f"{template.template_id}:mall:{rid}"
    issue = coupons.issue_items(template, customer_id, coupon_id, "mall", now)
    record = MallRedemptionModel(
        rid,
        customer_id=customer_id,
        reward_id=reward.reward_id,
        kind="coupon",
        name=reward.name,
        points=int(reward.points),
        cash_fen=0,
        request_hash=request_hash,
        coupon_id=coupon_id,
        state="done",
        created_at=now_iso,
    )
    pieces = [
        *reward_pieces(reward, customer_id, now_iso),
        TxPiece(
            record,
            {"condition": MallRedemptionModel.redemption_id.does_not_exist()},
            "redemption",
            op="save",
        ),
        *issue,
    ]
    ref = f"mall:{rid}"
    final = frozenset(p.label for p in pieces)

    def operate(ledger: Ledger, at: str) -> points.Change:
        entry = ledger.spend(ref, int(reward.points), at, reason=f"积分商城：{reward.name}")
        return points.Change([entry], {}, pieces, final)

    try:
        points.change(customer_id, operate)
    except points.Replayed:
        done = _existing(rid, request_hash)
        assert done is not None
        return redemption_view(done), False
    except InsufficientPoints as exc:
        raise Conflict(
            f"{exc.wanted} points are needed; you have {exc.spendable}.",
            code="insufficient_points",
            details={"spendable": exc.spendable},
        ) from None
    except points.PieceRefused as exc:
        done = _existing(rid, request_hash)
        if done is not None:  # the same key won meanwhile (the redemption's put failed)
            return redemption_view(done), False
        raise _refusal(exc.labels, reward, issue) from None
    return redemption_view(record), True


def _refusal(labels: list[str], reward: MallRewardModel, issue: list[TxPiece]) -> Conflict:
    if "reward_limit" in labels or any(x.startswith("coupon_counter:") for x in labels):
        # the reward's limit, or the coupon template's own per-member limit
        return Conflict(
            "You have redeemed this reward as often as allowed.", code="reward_limit_reached"
        )
    if "reward" in labels:
        latest = get_reward(reward.reward_id)
        if int(latest.stock) < 1:
            return Conflict("This reward is all gone.", code="reward_sold_out")
        if not _on_offer(latest, clock.now_iso()):
            return Conflict("This reward is not on offer now.", code="reward_not_available")
        return Conflict(
            "The reward's price changed; look at the mall again.", code="reward_changed"
        )
    # the coupon template refused (sold out, paused, ended) or its own per-member limit
    return Conflict("This reward's coupon cannot be issued now.", code="reward_not_available")


def my_redemptions(customer_id: str) -> s.RedemptionList:
    """The member's redemptions, newest first (one Query, at most 100)."""
    items = MallRedemptionModel.by_customer.query(customer_id, scan_index_forward=False, limit=100)
    return s.RedemptionList(items=[redemption_view(m) for m in items])


# --- a product reward placed as an order (checkout/service.py, orders/service.py) --------
@dataclass
class OrderReward:
    """A product reward as placing read it, in the cart's one BatchGetItem: the reward,
    the member's redemptions of it and their spendable points (for clear refusals; the
    placing transaction's conditions decide)."""

    reward: MallRewardModel
    redeemed_by_me: int
    spendable: int


def order_keys(reward_id: str, customer_id: str) -> dict[Any, list[dict[str, Any]]]:
    """The keys placing adds to the cart's BatchGetItem for a product reward."""
    return {
        MallRewardModel: [{"reward_id": reward_id}],
        MallCounterModel: [{"counter_key": mall_counter_key(reward_id, customer_id)}],
        LoyaltyAccountModel: [{"customer_id": customer_id}],
    }


def order_read(reward_id: str, rows: Rows) -> OrderReward:
    """The reward from the batch read; 404 ``reward_not_found``, 409 when it cannot be
    redeemed (not a product, not on offer, sold out, limit reached, too few points)."""
    rewards = rows.of(MallRewardModel)
    if not rewards:
        raise NotFound(f"No reward {reward_id!r}.", code="reward_not_found")
    reward = rewards[0]
    if reward.kind != "product":
        raise Conflict(
            "A coupon reward is redeemed with POST /members/me/mall/redemptions.",
            code="reward_is_coupon",
        )
    counters = rows.of(MallCounterModel)
    accounts = rows.of(LoyaltyAccountModel)
    read = OrderReward(
        reward,
        int(counters[0].redeemed or 0) if counters else 0,
        int(accounts[0].spendable or 0) if accounts else 0,
    )
    _check_redeemable(reward)
    if read.redeemed_by_me >= int(reward.per_member_limit):
        raise Conflict(
            "You have redeemed this reward as often as allowed.", code="reward_limit_reached"
        )
    if read.spendable < int(reward.points):
        raise Conflict(
            f"{int(reward.points)} points are needed; you have {read.spendable}.",
            code="insufficient_points",
            details={"spendable": read.spendable},
        )
    return read


def order_pieces(
    read: OrderReward, customer_id: str, order_id: str, store_id: str
) -> list[TxPiece]:
    """What the order's placing transaction takes for the reward, labelled ``reward``,
    ``reward_limit``, ``reward_redemption`` and ``reward_points``: a unit and one of the
    member's redemptions (``reward_pieces``), the redemption record (id = the order's)
    and the points locked for the order (points.lock_piece: consumed when it is paid,
    released when it is cancelled or expires unpaid, loyalty/mall_subscribers.py)."""
    reward = read.reward
    now = clock.now_iso()
    record = MallRedemptionModel(
        order_id,
        customer_id=customer_id,
        reward_id=reward.reward_id,
        kind="product",
        name=reward.name,
        points=int(reward.points),
        cash_fen=int(reward.cash_fen or 0),
        request_hash="order",  # the order is the idempotency record
        order_id=order_id,
        store_id=store_id,
        state="placed",
        created_at=now,
    )
    return [
        *reward_pieces(reward, customer_id, now),
        TxPiece(
            record,
            {"condition": MallRedemptionModel.redemption_id.does_not_exist()},
            "reward_redemption",
            op="save",
        ),
        points.lock_piece(customer_id, int(reward.points), order_id).relabelled("reward_points"),
    ]


def order_paid(customer_id: str, order_id: str) -> None:
    """The reward's order was paid: its points are spent (``spend:order:<id>``) and the
    redemption is paid. Idempotent."""
    points.consume(customer_id, order_id)
    _move(order_id, ("placed",), "paid", [])


def order_given_back(
    customer_id: str, order_id: str, reward_id: str, *, paid: bool, cash_paid_fen: int = 0
) -> bool:
    """The reward's order was cancelled or expired: the unit and the member's redemption
    go back with the redemption's move to given_back (once: the move's condition). The
    points: an unpaid order's lock is released; a paid order with no money paid (points
    only: no refund will return them) gets its spent points back here (entry
    ``return:mall:<order>``, once); one paid partly in cash gets them back with its
    refund, in proportion (points.reverse_for_refund). False: given back before."""
    if not paid:
        points.release(customer_id, order_id)
    elif cash_paid_fen == 0:
        points.consume(customer_id, order_id)  # its order.paid may not be handled yet
        try:
            spent = int(MallRedemptionModel.get(order_id, consistent_read=True).points)
        except DoesNotExist:
            spent = 0
        if spent:
            points.award(
                customer_id,
                spent,
                ref=f"return:mall:{order_id}",
                kind="return",
                reason="积分商城：订单取消",
                occurred_at=clock.now_iso(),
                order_id=order_id,
            )
    return _move(
        order_id,
        ("placed", "paid") if paid else ("placed",),  # order.paid may come later
        "given_back",
        give_back_pieces(reward_id, customer_id),
    )


def _move(redemption: str, before: tuple[str, ...], after: str, pieces: list[TxPiece]) -> bool:
    """The redemption from one of ``before`` to ``after`` with ``pieces``, in one
    transaction; False when it is elsewhere (moved already: a redelivered event)."""
    r = MallRedemptionModel

    def build(tx: Any) -> None:
        tx.update(
            MallRedemptionModel(redemption),
            actions=[r.state.set(after)],
            condition=r.state.is_in(*before),
            label="redemption",
        )
        for p in pieces:
            p.add_to(tx)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "redemption" in exc.failed:
            return False
        raise
    return True
