"""Lotteries in the API (issue 17 item 2): head office sets one up in a campaign and
draws it; the storefront shows its rules, the committed seed hash and, once drawn, the
seed and the winners (masked); the proof lets anyone recompute the draw."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Fen, Out, PositiveFen, Schema, Timestamp

Eligibility = Literal["all", "members", "segment", "min_amount"]
State = Literal["open", "drawing", "drawn"]
Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Name = Annotated[str, Meta(min_length=1, max_length=60, examples=["双11 免单抽奖"])]
Hex64 = Annotated[str, Meta(description="64 hex digits (SHA-256 / HMAC-SHA256).")]


class LotteryBody(Schema, kw_only=True):
    """A lottery as head office writes it (create, and the whole of it on PUT before the
    window opens). Orders paid in [``starts_at``, ``ends_at``) at the campaign's stores
    enter; ``eligibility``: ``all`` paid orders, ``members`` (customers holding a running
    paid membership card at the draw), ``segment`` (customers in the saved segment
    ``segment_id`` in the current snapshot) or ``min_amount`` (orders paid at least
    ``min_fen``). The prize is the order's paid amount, up to ``cap_fen`` when given.
    ``draw_at`` is at or after ``ends_at``. Times may carry any offset; stored in UTC."""

    campaign_id: Id
    name: Name
    starts_at: Timestamp
    ends_at: Timestamp
    draw_at: Timestamp
    winners: Annotated[int, Meta(ge=1, le=100, description="N winners (1-100).")]
    eligibility: Eligibility = "all"
    segment_id: Id | None = None
    min_fen: PositiveFen | None = None
    cap_fen: PositiveFen | None = None


class Winner(Out, kw_only=True):
    order_code: Annotated[str, Meta(description="The order's code (its id).")]
    name_masked: Annotated[str, Meta(description="The winner, masked (phone 138****0001).")]
    prize_fen: Fen


class AdminWinner(Winner, kw_only=True):
    customer_id: str
    paid_fen: Fen
    score: Hex64
    refund_id: str
    refund_status: str | None = None


class Lottery(Out, kw_only=True):
    """Head office's view: never the seed before the draw."""

    lottery_id: str
    campaign_id: str
    name: str
    starts_at: Timestamp
    ends_at: Timestamp
    draw_at: Timestamp
    winners_n: int
    eligibility: Eligibility
    segment_id: str | None
    min_fen: int | None
    cap_fen: int | None
    state: State
    seed_hash: Hex64
    entrants_count: int | None
    winners: list[AdminWinner]
    drawn_at: Timestamp | None
    drawn_by: str | None
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class LotteryList(Out, kw_only=True):
    items: list[Lottery]


class PublicLottery(Out, kw_only=True):
    """What the storefront shows: the rules, the committed seed hash, and after the draw
    the revealed seed (sha256(seed) = seed_hash) and the winners, masked."""

    lottery_id: str
    name: str
    starts_at: Timestamp
    ends_at: Timestamp
    draw_at: Timestamp
    winners_n: int
    eligibility: Eligibility
    min_fen: int | None
    cap_fen: int | None
    state: State
    seed_hash: Hex64
    seed: Annotated[str | None, Meta(description="Hex of the 32-byte seed, after the draw.")]
    entrants_count: int | None
    winners: list[Winner]
    rule: str


class ProofWinner(Out, kw_only=True):
    order_id: str
    score: Hex64


class Entrant(Out, kw_only=True):
    order_id: str
    holder: Annotated[
        str, Meta(description="The customer as a token: equal tokens are the same customer.")
    ]


class Proof(Out, kw_only=True):
    """Everything needed to recompute the draw: sha256(seed) == seed_hash, the entrants
    (sorted by order id; their hash is sha256 of the ids joined by newlines) and
    rules.draw(seed, order ids, N, holders) == the winners."""

    lottery_id: str
    seed_hash: Hex64
    seed: str
    winners_n: int
    entrants_count: int
    entrants_hash: Hex64
    entrants: list[Entrant]
    winners: list[ProofWinner]


_HASH = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
BODY_EXAMPLE = {
    "campaign_id": "double11-2026",
    "name": "双11 免单抽奖",
    "starts_at": "2026-11-11T00:00:00+08:00",
    "ends_at": "2026-11-12T00:00:00+08:00",
    "draw_at": "2026-11-12T10:00:00+08:00",
    "winners": 11,
    "eligibility": "min_amount",
    "min_fen": 9900,
    "cap_fen": 50000,
}
_WINNER = {"order_code": "O20261111AB12CD", "name_masked": "138****0001", "prize_fen": 12800}
LOTTERY_EXAMPLE = {
    "lottery_id": "lot-3f9a1c2b7d",
    "campaign_id": "double11-2026",
    "name": "双11 免单抽奖",
    "starts_at": "2026-11-10T16:00:00Z",
    "ends_at": "2026-11-11T16:00:00Z",
    "draw_at": "2026-11-12T02:00:00Z",
    "winners_n": 11,
    "eligibility": "min_amount",
    "segment_id": None,
    "min_fen": 9900,
    "cap_fen": 50000,
    "state": "drawn",
    "seed_hash": _HASH,
    "entrants_count": 4210,
    "winners": [
        {
            **_WINNER,
            "customer_id": "c-1a2b3c",
            "paid_fen": 12800,
            "score": "00a3" + "0" * 60,
            "refund_id": "O20261111AB12CD:lottery:lot-3f9a1c2b7d",
            "refund_status": "succeeded",
        }
    ],
    "drawn_at": "2026-11-12T02:00:05Z",
    "drawn_by": "hq-admin",
    "created_at": "2026-11-01T02:00:00Z",
    "updated_at": "2026-11-12T02:00:05Z",
    "version": 1,
}
LIST_EXAMPLE = {"items": [LOTTERY_EXAMPLE]}
PUBLIC_EXAMPLE = {
    "lottery_id": "lot-3f9a1c2b7d",
    "name": "双11 免单抽奖",
    "starts_at": "2026-11-10T16:00:00Z",
    "ends_at": "2026-11-11T16:00:00Z",
    "draw_at": "2026-11-12T02:00:00Z",
    "winners_n": 11,
    "eligibility": "min_amount",
    "min_fen": 9900,
    "cap_fen": 50000,
    "state": "drawn",
    "seed_hash": _HASH,
    "seed": "a1" * 32,
    "entrants_count": 4210,
    "winners": [_WINNER],
    "rule": "score = HMAC-SHA256(seed, order_id); the 11 lowest scores win, one per customer.",
}
PROOF_EXAMPLE = {
    "lottery_id": "lot-3f9a1c2b7d",
    "seed_hash": _HASH,
    "seed": "a1" * 32,
    "winners_n": 11,
    "entrants_count": 1,
    "entrants_hash": "b" * 64,
    "entrants": [{"order_id": "O20261111AB12CD", "holder": "9f2c1e0a7b3d"}],
    "winners": [{"order_id": "O20261111AB12CD", "score": "00a3" + "0" * 60}],
}
