"""Flash-sale reservations and campaign budgets as TransactWriteItems pieces.

The order flow adds these pieces to the transaction that creates (or cancels) the order,
so taking flash-sale units, counting them against the buyer's limit and creating the
order succeed or fail together. ``reserve`` and ``release`` run them on their own (tests,
tools). Design and numbers: docs/flash-sales.md.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, batch_get, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    field_error,
)
from chalicelib.promotions.models import (
    FlashBuyerModel,
    FlashShardModel,
    PromotionModel,
    buyer_key,
    shard_key,
)

# Reasons a transaction was cancelled with nothing written and the shard may still have
# units: a concurrent transaction on the item, or the item's partition throttled (a hot
# shard at peak). Another shard may serve; if none does, the buyer is told to retry.
BUSY = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# The same for the whole request, once botocore's own retries are spent.
BUSY_RESPONSES = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)
Failure = Literal["shard_empty", "per_customer_limit"]


@dataclass(frozen=True)
class Reservation:
    """Take ``units`` from one shard and count them against the buyer's limit.

    ``add_to(tx)`` adds two updates, the shard first, then the buyer's counter; with
    ``order_repo.transact`` their cancellation codes are at the positions they were added,
    and ``failure(shard_code, buyer_code)`` says which condition failed. Record ``shard``
    on the order line: ``release_items`` gives the units back to that shard."""

    promotion_id: str
    customer_id: str
    units: int
    shard: int
    shard_update: TxPiece
    buyer_update: TxPiece

    def add_to(self, tx: Tx) -> None:
        tx.add(self.shard_update, self.buyer_update)

    def failure(self, exc: TransactionCancelled) -> Failure | None:
        """Why the reservation's items cancelled the transaction (None: not because of
        them). The buyer's limit wins: trying another shard would not help."""
        if self.buyer_update.label in exc.failed:
            return "per_customer_limit"
        if self.shard_update.label in exc.failed:
            return "shard_empty"
        return None


def reservation_items(
    promotion_id: str,
    customer_id: str,
    units: int,
    shard: int,
    *,
    per_customer_limit: int,
    now_iso: str | None = None,
) -> Reservation:
    """The two conditional updates that reserve ``units`` of a flash sale.

    Shard: ``remaining >= units`` and the sale open and in its window at ``now_iso`` (the
    window is copied onto every shard so the promotion item is not touched per purchase).
    Buyer: the counter is created if absent, and ``units`` already bought plus these stay
    within ``per_customer_limit`` (DynamoDB conditions cannot add, so the bound
    ``limit - units`` is computed here)."""
    if units < 1 or units > per_customer_limit:
        raise ValidationFailed(
            f"A customer may buy 1 to {per_customer_limit} units of this flash sale.",
            code="flash_sale_limit",
            details=[field_error("qty", f"at most {per_customer_limit}")],
        )
    now_iso = now_iso or clock.now_iso()
    s = FlashShardModel
    shard_update = TxPiece(
        FlashShardModel(shard_key(promotion_id, shard)),
        {
            "actions": [s.remaining.add(-units)],
            "condition": (s.remaining >= units)
            & (s.open == 1)
            & (s.starts_at <= now_iso)
            & (s.ends_at > now_iso),
        },
        f"flash_shard:{promotion_id}#{shard}",
    )
    b = FlashBuyerModel
    buyer_update = TxPiece(
        FlashBuyerModel(buyer_key(promotion_id, customer_id)),
        {
            "actions": [b.units.add(units)],
            "condition": b.units.does_not_exist() | (b.units <= per_customer_limit - units),
        },
        f"flash_buyer:{promotion_id}",
    )
    return Reservation(promotion_id, customer_id, units, shard, shard_update, buyer_update)


def release_items(promotion_id: str, customer_id: str, units: int, shard: int) -> list[TxPiece]:
    """Give ``units`` back to the shard they came from and off the buyer's count (order
    cancelled, or expired unpaid). Add them to the transaction that moves the order out
    of its state, so they run once. Units go back even after the sale ended: they are
    then simply not sold."""
    return [
        TxPiece(
            FlashShardModel(shard_key(promotion_id, shard)),
            {
                "actions": [FlashShardModel.remaining.add(units)],
                "condition": FlashShardModel.shard_key.exists(),
            },
            f"flash_shard:{promotion_id}#{shard}",
        ),
        TxPiece(
            FlashBuyerModel(buyer_key(promotion_id, customer_id)),
            {
                "actions": [FlashBuyerModel.units.add(-units)],
                "condition": FlashBuyerModel.units >= units,
            },
            f"flash_buyer:{promotion_id}",
        ),
    ]


def get_promotion(promotion_id: str) -> PromotionModel:
    """The promotion (consistent read), or 404."""
    try:
        return PromotionModel.get(promotion_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No promotion {promotion_id!r}.", code="promotion_not_found") from None


def reserve(promotion_id: str, customer_id: str, units: int) -> int:
    """Reserve ``units`` for the customer on its own transaction; the shard used.

    Picks a random shard; when that shard cannot serve, tries the others in random order
    before answering sold out, so shards running dry unevenly never strand a sale. 409
    ``flash_sale_limit_reached`` when the customer's limit is the reason, 409
    ``flash_sale_sold_out`` when no shard has ``units`` left, 409
    ``flash_sale_not_live`` outside the window or after the sale was ended, 503
    ``flash_sale_busy`` when no shard had units to give and one or more were contended or
    throttled (nothing was taken: try again)."""
    promo = get_promotion(promotion_id)
    if promo.kind != "flash_sale":
        raise Conflict(f"{promotion_id!r} is not a flash sale.", code="not_a_flash_sale")
    now_iso = clock.now_iso()
    if promo.status != "active" or not (promo.starts_at <= now_iso < promo.ends_at):
        raise Conflict("This flash sale is not on now.", code="flash_sale_not_live")
    order = list(range(int(promo.shards)))
    random.shuffle(order)
    contended = False
    for shard in order:
        piece = reservation_items(
            promotion_id,
            customer_id,
            units,
            shard,
            per_customer_limit=int(promo.per_customer_limit),
            now_iso=now_iso,
        )
        try:
            transact(piece.add_to)
            return shard
        except TransactionCancelled as exc:
            why = piece.failure(exc)
            if why == "per_customer_limit":
                raise Conflict(
                    f"You can buy at most {int(promo.per_customer_limit)} of this item "
                    "at the flash price.",
                    code="flash_sale_limit_reached",
                ) from None
            if why is None and BUSY & exc.codes:
                contended = True
                continue
            if why is None:
                raise
        except TransactWriteError as exc:  # not cancelled: the request itself failed
            if exc.cause_response_code in BUSY_RESPONSES:
                contended = True
                continue
            raise
    if contended:
        raise ServiceUnavailable(
            "The flash sale is very busy; try again in a moment.", code="flash_sale_busy"
        )
    raise Conflict("This flash sale is sold out.", code="flash_sale_sold_out")


def release(promotion_id: str, customer_id: str, units: int, shard: int) -> None:
    """Run ``release_items`` on their own transaction (tests, tools)."""
    pieces = release_items(promotion_id, customer_id, units, shard)

    transact(lambda tx: tx.add(*pieces))


def remaining_many(shards_of: dict[str, int]) -> dict[str, int]:
    """Units left of each flash sale ({promotion_id: shard count}), summing its shards
    with BatchGetItem (one call per 100 shards)."""
    keys = [shard_key(pid, k) for pid, n in shards_of.items() for k in range(int(n))]
    left = dict.fromkeys(shards_of, 0)
    for start in range(0, len(keys), 100):
        chunk = keys[start : start + 100]
        got = batch_get({FlashShardModel: [{"shard_key": k} for k in chunk]})
        for item in got[FlashShardModel]:
            left[item.promotion_id] += int(item.remaining)
    return left


def remaining(promotion_id: str, shards: int | None = None) -> int:
    """Units left of one flash sale: one BatchGetItem (plus a GetItem of the promotion
    when the shard count is not given)."""
    if shards is None:
        shards = int(get_promotion(promotion_id).shards or 0)
    return remaining_many({promotion_id: shards})[promotion_id]


def shard_items(promo: PromotionModel) -> Iterable[FlashShardModel]:
    """A new flash sale's shards with the quantity split evenly (the first ones get the
    remainder)."""
    n, quantity = int(promo.shards), int(promo.quantity)
    for k in range(n):
        yield FlashShardModel(
            shard_key(promo.promotion_id, k),
            promotion_id=promo.promotion_id,
            shard=k,
            remaining=quantity // n + (1 if k < quantity % n else 0),
            starts_at=promo.starts_at,
            ends_at=promo.ends_at,
            open=1 if promo.status == "active" else 0,  # a draft's open when published
        )


def budget_items(promotion_id: str, amount_fen: int) -> TxPiece:
    """Spend ``amount_fen`` of a tiered promotion's campaign budget: fails the transaction
    (ConditionalCheckFailed) rather than go past it. For promotions without a budget the
    order flow adds nothing."""
    m = PromotionModel
    return TxPiece(
        PromotionModel(promotion_id),
        {
            "actions": [m.budget_left_fen.add(-amount_fen)],
            "condition": m.budget_left_fen >= amount_fen,
        },
        f"promotion_budget:{promotion_id}",
    )


def budget_release_items(promotion_id: str, amount_fen: int) -> TxPiece:
    """Give ``amount_fen`` back to the budget (order cancelled or expired unpaid)."""
    m = PromotionModel
    return TxPiece(
        PromotionModel(promotion_id),
        {"actions": [m.budget_left_fen.add(amount_fen)], "condition": m.budget_left_fen.exists()},
        f"promotion_budget:{promotion_id}",
    )
