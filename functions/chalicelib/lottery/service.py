"""Lotteries (免单抽奖): set-up, the commit-reveal seed, the draw exactly once and its
proof. Rules: docs/mechanics.md, "Lottery free order"; the draw itself is the pure
``rules.draw``.

The draw moves open -> drawing -> drawn with conditional writes. In "drawing", the
entrants and winners are recorded once (one transaction, conditioned on none being
recorded), then each winner is paid by idempotent steps (refund id, accrual key and
notification id all derived from lottery + order), so a crash resumes on the next call
and concurrent calls pay each winner once."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import msgspec
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import repo as budgets
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.coupons.models import NotificationModel
from chalicelib.coupons.reminders import Notifier, notifier_from_config
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.money import yuan
from chalicelib.kernel.privacy import mask_phone
from chalicelib.lottery import rules
from chalicelib.lottery import schemas as s
from chalicelib.lottery.models import (
    ENTRANTS_PER_CHUNK,
    LotteryEntrantsModel,
    LotteryModel,
    WinnerAttribute,
)
from chalicelib.orders import refunds
from chalicelib.orders.models import OrderModel, RefundModel
from chalicelib.stores.models import StoreModel

log = logging.getLogger("daojia.lottery")
NOTIFY_KIND = "lottery_won"
CHAIN_TZ = ZoneInfo("Asia/Shanghai")
_FINAL_UNPAID = ("cancelled", "expired", "awaiting_payment")


# --- reading -------------------------------------------------------------------------


def get_model(lottery_id: str, consistent: bool = True) -> LotteryModel:
    try:
        return LotteryModel.get(lottery_id, consistent_read=consistent)
    except DoesNotExist:
        raise NotFound(f"No lottery {lottery_id}.", code="lottery_not_found") from None


def _refund_statuses(m: LotteryModel) -> dict[str, str]:
    ids = [w.refund_id for w in m.winners or []]
    if not ids:
        return {}
    got = batch_get({RefundModel: [{"refund_id": r} for r in ids]}, consistent=False)
    return {r.refund_id: r.status for r in got[RefundModel]}


def view(m: LotteryModel, with_refunds: bool = False) -> s.Lottery:
    statuses = _refund_statuses(m) if with_refunds else {}
    return s.Lottery(
        lottery_id=m.lottery_id,
        campaign_id=m.campaign_id,
        name=m.name,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        draw_at=m.draw_at,
        winners_n=int(m.winners_n),
        eligibility=cast(Any, m.eligibility),
        segment_id=m.segment_id,
        min_fen=None if m.min_fen is None else int(m.min_fen),
        cap_fen=None if m.cap_fen is None else int(m.cap_fen),
        state=cast(Any, m.state),
        seed_hash=m.seed_hash,
        entrants_count=None if m.entrants_count is None else int(m.entrants_count),
        winners=[
            s.AdminWinner(
                order_code=w.order_id,
                name_masked=w.name_masked or "",
                prize_fen=int(w.prize_fen),
                customer_id=w.customer_id,
                paid_fen=int(w.paid_fen),
                score=w.score,
                refund_id=w.refund_id,
                refund_status=statuses.get(w.refund_id),
            )
            for w in m.winners or []
        ],
        drawn_at=m.drawn_at,
        drawn_by=m.drawn_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=int(m.version),
    )


def get(lottery_id: str) -> s.Lottery:
    return view(get_model(lottery_id), with_refunds=True)


def list_lotteries() -> s.LotteryList:
    items = LotteryModel.by_listing.query("lotteries", scan_index_forward=False)
    return s.LotteryList(items=[view(m) for m in items])


def public(lottery_id: str) -> s.PublicLottery:
    """The storefront's view: the seed only once drawn; hidden (404) while its campaign
    is a draft (not announced)."""
    m = get_model(lottery_id, consistent=False)
    try:
        campaign = CampaignModel.get(m.campaign_id)
    except DoesNotExist:
        campaign = None
    if campaign is None or campaign.state == "draft":
        raise NotFound(f"No lottery {lottery_id}.", code="lottery_not_found")
    drawn = m.state == "drawn"
    return s.PublicLottery(
        lottery_id=m.lottery_id,
        name=m.name,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        draw_at=m.draw_at,
        winners_n=int(m.winners_n),
        eligibility=cast(Any, m.eligibility),
        min_fen=None if m.min_fen is None else int(m.min_fen),
        cap_fen=None if m.cap_fen is None else int(m.cap_fen),
        state=cast(Any, m.state),
        seed_hash=m.seed_hash,
        seed=m.seed_hex if drawn else None,
        entrants_count=None if m.entrants_count is None else int(m.entrants_count),
        winners=[
            s.Winner(
                order_code=w.order_id, name_masked=w.name_masked or "", prize_fen=int(w.prize_fen)
            )
            for w in (m.winners or [] if drawn else [])
        ],
        rule=(
            f"score = HMAC-SHA256(seed, order_id); the {int(m.winners_n)} lowest scores win, "
            "one win per customer; sha256(seed) = seed_hash."
        ),
    )


def proof(lottery_id: str) -> s.Proof:
    """409 ``lottery_not_drawn`` before the draw has recorded its entrants."""
    m = get_model(lottery_id)
    if m.entrants_hash is None:
        raise Conflict("The lottery has not been drawn yet.", code="lottery_not_drawn")
    entrants = _stored_entrants(m)
    return s.Proof(
        lottery_id=m.lottery_id,
        seed_hash=m.seed_hash,
        seed=m.seed_hex,
        winners_n=int(m.winners_n),
        entrants_count=int(m.entrants_count or 0),
        entrants_hash=m.entrants_hash,
        entrants=[s.Entrant(order_id=o, holder=h) for o, h in entrants],
        winners=[s.ProofWinner(order_id=w.order_id, score=w.score) for w in m.winners or []],
    )


def _stored_entrants(m: LotteryModel) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for chunk in LotteryEntrantsModel.query(m.lottery_id, consistent_read=True):
        out += [(str(o), str(h)) for o, h in chunk.entrants]
    return out


# --- writing -------------------------------------------------------------------------


def _utc(value: str, name: str, errors: list[dict[str, str]]) -> str:
    try:
        dt = clock.parse(value)
    except ValueError:
        errors.append(field_error(name, "not an ISO-8601 time"))
        return value
    if dt.tzinfo is None:
        errors.append(field_error(name, "needs a time zone, e.g. 'Z' or '+08:00'"))
        return value
    return clock.iso(dt)


def _validate(body: s.LotteryBody) -> tuple[str, str, str]:
    errors: list[dict[str, str]] = []
    starts = _utc(body.starts_at, "starts_at", errors)
    ends = _utc(body.ends_at, "ends_at", errors)
    draw_at = _utc(body.draw_at, "draw_at", errors)
    if not errors and ends <= starts:
        errors.append(field_error("ends_at", "after starts_at"))
    if not errors and draw_at < ends:
        errors.append(field_error("draw_at", "at or after ends_at (the window must close first)"))
    if (body.eligibility == "segment") != (body.segment_id is not None):
        errors.append(field_error("segment_id", "given exactly with eligibility segment"))
    if (body.eligibility == "min_amount") != (body.min_fen is not None):
        errors.append(field_error("min_fen", "given exactly with eligibility min_amount"))
    if errors:
        raise ValidationFailed("The lottery is not valid.", details=errors)
    if body.segment_id is not None:
        from chalicelib.customers.models import SegmentModel

        try:
            SegmentModel.get("segment", body.segment_id)
        except DoesNotExist:
            raise ValidationFailed(
                "No such segment.",
                code="segment_not_found",
                details=[field_error("segment_id", "no saved segment with this id")],
            ) from None
    return starts, ends, draw_at


def _campaign(campaign_id: str) -> CampaignModel:
    try:
        return CampaignModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        raise ValidationFailed(
            f"No campaign {campaign_id}.",
            code="campaign_not_found",
            details=[field_error("campaign_id", "no campaign with this id")],
        ) from None


def _audited(m: LotteryModel) -> dict[str, Any]:
    v = msgspec.to_builtins(view(m))
    return {
        k: v[k]
        for k in (
            "campaign_id",
            "name",
            "starts_at",
            "ends_at",
            "draw_at",
            "winners_n",
            "eligibility",
            "segment_id",
            "min_fen",
            "cap_fen",
            "state",
            "seed_hash",
        )
    }


def _request_hash(body: s.LotteryBody) -> str:
    return hashlib.sha256(msgspec.json.encode(body)).hexdigest()


def create(principal: Principal, body: s.LotteryBody, lottery_id: str | None = None) -> s.Lottery:
    """A new lottery with its sealed seed drawn now (secrets.token_bytes) and its hash
    published; listed in its campaign's ``mechanic_ids`` in the same transaction. A
    given ``lottery_id`` (the demo seed) makes a retry with the same body a no-op."""
    starts, ends, draw_at = _validate(body)
    campaign = _campaign(body.campaign_id)
    if campaign.state in ("ended", "reviewed"):
        raise Conflict("The campaign has ended.", code="campaign_ended")
    lottery_id = lottery_id or "lot-" + secrets.token_hex(5)
    seed = secrets.token_bytes(rules.SEED_BYTES)
    now = clock.now_iso()
    m = LotteryModel(
        lottery_id,
        campaign_id=body.campaign_id,
        name=body.name,
        starts_at=starts,
        ends_at=ends,
        draw_at=draw_at,
        winners_n=body.winners,
        eligibility=body.eligibility,
        segment_id=body.segment_id,
        min_fen=body.min_fen,
        cap_fen=body.cap_fen,
        state="open",
        seed_hex=seed.hex(),
        seed_hash=rules.seed_hash(seed),
        request_hash=_request_hash(body),
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
        version=0,
    )
    entry = audit.new_entry(
        principal, "lottery.create", audit.Target("lottery", lottery_id), {}, _audited(m)
    )

    def build(tx: Tx) -> None:
        tx.save(m, condition=LotteryModel.lottery_id.does_not_exist(), label="lottery")
        tx.update(
            CampaignModel(body.campaign_id),
            actions=[
                CampaignModel.mechanic_ids.set(CampaignModel.mechanic_ids.append([lottery_id]))
            ],
            condition=CampaignModel.campaign_id.exists(),
            label="campaign",
        )
        audit.with_entry(tx, entry)

    try:
        transact(build, attempts=1)
    except TransactionCancelled as exc:
        if "lottery" in exc.failed:
            existing = get_model(lottery_id)
            if existing.request_hash == m.request_hash:
                return view(existing)
            raise Conflict("A lottery with this id exists.", code="lottery_exists") from None
        raise
    return view(m)


def update(principal: Principal, lottery_id: str, body: s.LotteryBody) -> s.Lottery:
    """The whole lottery again, only while it is open and its window has not opened (the
    rules are part of what the seed commits to); the campaign cannot change. 409
    ``lottery_locked`` after, ``lottery_changed`` on a concurrent edit."""
    starts, ends, draw_at = _validate(body)
    m = get_model(lottery_id)
    if m.state != "open" or clock.now_iso() >= m.starts_at:
        raise Conflict(
            "The lottery's window has opened: its rules can no longer change.",
            code="lottery_locked",
        )
    if body.campaign_id != m.campaign_id:
        raise ValidationFailed(
            "A lottery stays in its campaign.",
            details=[field_error("campaign_id", "cannot change")],
        )
    before = _audited(m)
    L = LotteryModel
    now = clock.now_iso()
    try:
        m.update(
            actions=[
                L.name.set(body.name),
                L.starts_at.set(starts),
                L.ends_at.set(ends),
                L.draw_at.set(draw_at),
                L.winners_n.set(body.winners),
                L.eligibility.set(body.eligibility),
                L.segment_id.set(body.segment_id) if body.segment_id else L.segment_id.remove(),
                L.min_fen.set(body.min_fen) if body.min_fen else L.min_fen.remove(),
                L.cap_fen.set(body.cap_fen) if body.cap_fen else L.cap_fen.remove(),
                L.updated_at.set(now),
                L.version.add(1),
            ],
            condition=(L.version == m.version) & (L.state == "open") & (L.starts_at > now),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise Conflict(
                "The lottery changed meanwhile; reload.", code="lottery_changed"
            ) from None
        raise
    audit.record(
        principal, "lottery.update", audit.Target("lottery", lottery_id), before, _audited(m)
    )
    return view(m)


# --- the draw ------------------------------------------------------------------------


def _stores(campaign: CampaignModel) -> list[str]:
    if campaign.stores_mode == "all":
        return sorted(st.store_id for st in StoreModel.by_listing.query("stores"))
    return sorted(campaign.stores)


def _days(starts_at: str, ends_at: str) -> list[str]:
    """The business days (chain's local) whose orders may have been paid in the window:
    from the day before it opens (orders placed then, paid after) to the day it closes."""
    tz = CHAIN_TZ
    day = (clock.parse(starts_at).astimezone(tz) - timedelta(days=1)).date()
    last = clock.parse(ends_at).astimezone(tz).date()
    out = []
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _segment_customers(segment_id: str) -> set[str]:
    from chalicelib.customers import schemas as cs
    from chalicelib.customers import segment_rules as sr
    from chalicelib.customers import segments
    from chalicelib.customers.models import SegmentModel

    seg = SegmentModel.get("segment", segment_id)
    f = msgspec.json.decode(seg.filter_json or "{}", type=cs.SegmentFilter)
    ix = segments.index()
    mask = ix.select(segments.to_rules(f), segments.today())
    return {ix.snap.customer_id(i) for i in sr.rows_of(mask)}


def _members(customer_ids: set[str], paid_at: dict[str, str]) -> set[str]:
    """Customers holding a paid membership card (付费会员) running when they paid."""
    from chalicelib.loyalty.paid_models import PaidCardModel

    ids = sorted(customer_ids)
    cards: dict[str, Any] = {}
    for start in range(0, len(ids), 100):
        got = batch_get({PaidCardModel: [{"customer_id": c} for c in ids[start : start + 100]]})
        cards.update({c.customer_id: c for c in got[PaidCardModel]})
    return {c for c, card in cards.items() if card.ends_at > paid_at.get(c, "")}


def entrants(m: LotteryModel) -> list[OrderModel]:
    """The eligible orders (heads), sorted by order id: paid in the window at the
    campaign's stores, not refunded in full, and passing the eligibility test. Reads the
    by_store_day index (store x day), then the candidates' heads for their customer."""
    campaign = CampaignModel.get(m.campaign_id, consistent_read=True)
    min_fen = int(m.min_fen) if m.eligibility == "min_amount" and m.min_fen else None
    candidates: list[str] = []
    for store_id in _stores(campaign):
        for day in _days(m.starts_at, m.ends_at):
            for o in OrderModel.by_store_day.query(f"{store_id}#{day}"):
                if rules.eligible(
                    paid_fen=int(o.paid_fen or 0),
                    refunded_fen=int(o.refunded_fen or 0),
                    paid_at=o.paid_at,
                    starts_at=m.starts_at,
                    ends_at=m.ends_at,
                    min_fen=min_fen,
                ):
                    candidates.append(o.order_id)
    heads: list[OrderModel] = []
    for start in range(0, len(candidates), 100):
        got = batch_get({OrderModel: [{"order_id": o} for o in candidates[start : start + 100]]})
        heads += [
            o
            for o in got[OrderModel]
            if o.status not in _FINAL_UNPAID and int(o.refunded_fen or 0) < int(o.paid_fen or 0)
        ]
    if m.eligibility == "members":
        first_paid: dict[str, str] = {}
        for o in heads:
            first_paid.setdefault(o.customer_id, o.paid_at or "")
        members = _members({o.customer_id for o in heads}, first_paid)
        heads = [o for o in heads if o.customer_id in members]
    elif m.eligibility == "segment" and m.segment_id:
        inside = _segment_customers(m.segment_id)
        heads = [o for o in heads if o.customer_id in inside]
    return sorted(heads, key=lambda o: o.order_id)


def _masked(customer_ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """customer -> (masked name, phone) for the winners."""
    if not customer_ids:
        return {}
    got = batch_get({CustomerModel: [{"customer_id": c} for c in sorted(customer_ids)]})
    return {c.customer_id: (mask_phone(c.phone), c.phone) for c in got[CustomerModel]}


def _record(m: LotteryModel) -> None:
    """Record the entrants and winners once: one transaction conditioned on none being
    recorded; a concurrent draw that recorded first wins and this one's list is dropped."""
    heads = entrants(m)
    seed = bytes.fromhex(m.seed_hex)
    holders = {o.order_id: rules.holder_token(m.lottery_id, o.customer_id) for o in heads}
    ids = [o.order_id for o in heads]
    won = rules.draw(seed, ids, int(m.winners_n), holders)
    by_id = {o.order_id: o for o in heads}
    names = _masked({by_id[w.order_id].customer_id for w in won})
    winners = []
    for w in won:
        o = by_id[w.order_id]
        winners.append(
            WinnerAttribute(
                order_id=o.order_id,
                customer_id=o.customer_id,
                name_masked=names.get(o.customer_id, ("***", None))[0],
                score=w.score,
                paid_fen=int(o.paid_fen or 0),
                prize_fen=rules.prize_fen(
                    int(o.paid_fen or 0),
                    int(o.refunded_fen or 0),
                    None if m.cap_fen is None else int(m.cap_fen),
                ),
                refund_id=f"{o.order_id}:lottery:{m.lottery_id}",
            )
        )
    pairs = [[o, holders[o]] for o in ids]
    chunks = [pairs[i : i + ENTRANTS_PER_CHUNK] for i in range(0, len(pairs), ENTRANTS_PER_CHUNK)]
    L = LotteryModel

    def build(tx: Tx) -> None:
        tx.update(
            LotteryModel(m.lottery_id),
            actions=[
                L.entrants_count.set(len(ids)),
                L.entrants_hash.set(rules.entrants_hash(ids)),
                L.entrant_chunks.set(len(chunks)),
                L.winners.set(winners),
                L.updated_at.set(clock.now_iso()),
            ],
            condition=(L.state == "drawing") & L.entrants_hash.does_not_exist(),
            label="lottery",
        )
        for i, chunk in enumerate(chunks):
            tx.save(LotteryEntrantsModel(m.lottery_id, i, entrants=chunk), label=f"chunk{i}")

    try:
        transact(build, attempts=1)
    except TransactionCancelled as exc:
        if "lottery" not in exc.failed:
            raise
        log.info("lottery %s: another draw recorded the winners first", m.lottery_id)


def _pay(m: LotteryModel, w: WinnerAttribute, notifier: Notifier) -> None:
    """One winner's idempotent steps: the refund (its id derived from lottery + order),
    the prize's cost accrued once to the campaign, the notification once."""
    refund = refunds.refund_amount(w.order_id, w.refund_id, "lottery", int(w.prize_fen))
    amount = int(refund.amount_fen) if refund is not None else 0
    budgets.accrue(m.campaign_id, "prize", amount, f"lottery:{m.lottery_id}:{w.order_id}")
    phone = _masked({w.customer_id}).get(w.customer_id, ("", None))[1]
    nid = f"{NOTIFY_KIND}:{m.lottery_id}:{w.order_id}"
    now = clock.now_iso()
    notifier.send(
        NotificationModel(
            nid,
            kind=NOTIFY_KIND,
            customer_id=w.customer_id,
            phone_masked=mask_phone(phone) if phone else None,
            message=(
                f"恭喜！您的订单 {w.order_id} 在「{m.name}」中抽中免单，{yuan(amount)} 将原路退回"
            ),
            created_at=now,
            created_key=f"{now}#{nid}",
        ),
        phone,
    )


def draw(principal: Principal, lottery_id: str, notifier: Notifier | None = None) -> s.Lottery:
    """Draw once: open -> drawing (conditional), record entrants and winners once, pay
    each winner (idempotent), -> drawn. A call on a drawn lottery answers its result;
    one in "drawing" resumes. 409 ``lottery_not_due`` before ``draw_at``,
    ``campaign_not_launched`` while the campaign is a draft."""
    notifier = notifier or notifier_from_config()
    m = get_model(lottery_id)
    if m.state == "drawn":
        return view(m, with_refunds=True)
    L = LotteryModel
    if m.state == "open":
        now = clock.now_iso()
        if now < m.draw_at:
            raise Conflict(
                f"The draw opens at {m.draw_at}.",
                code="lottery_not_due",
                details={"draw_at": m.draw_at},
            )
        if _campaign(m.campaign_id).state == "draft":
            raise Conflict("The campaign is still a draft.", code="campaign_not_launched")
        try:
            m.update(
                actions=[
                    L.state.set("drawing"),
                    L.drawn_by.set(principal.subject),
                    L.updated_at.set(now),
                    L.version.add(1),
                ],
                condition=L.state == "open",
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
        m = get_model(lottery_id)
        if m.state == "drawn":
            return view(m, with_refunds=True)
    if m.entrants_hash is None:
        _record(m)
        m = get_model(lottery_id)
    for w in m.winners or []:
        _pay(m, w, notifier)
    try:
        m.update(
            actions=[L.state.set("drawn"), L.drawn_at.set(clock.now_iso())],
            condition=L.state == "drawing",
        )
        audit.record(
            principal,
            "lottery.draw",
            audit.Target("lottery", lottery_id),
            {"state": "open"},
            {"state": "drawn", "winners": len(m.winners or [])},
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
    return view(get_model(lottery_id), with_refunds=True)
