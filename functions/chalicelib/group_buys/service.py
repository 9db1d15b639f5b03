"""Group buy (拼团): offers, opening and joining a group as placing an order, the seat in
the order's transaction, success on the last seat's payment, expiry (docs/mechanics.md).

The seat is one conditional UpdateItem of the group inside the order's transaction
(orders/extensions.py PlaceHook): ``seats_taken < size AND state = open AND expires_at >
now``, with the member's seat and their tally under the offer's per-member limit, and the
campaign's spend of the group discount. Placing stays 2 AWS calls (the group, the offer
and the tally are read in placing's BatchGetItem).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import live
from chalicelib.campaign_budgets import repo as campaign_repo
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.db.transactions import TransactionCancelled, TxPiece, transact
from chalicelib.group_buys import rules
from chalicelib.group_buys import schemas as s
from chalicelib.group_buys.models import GroupMemberModel, GroupModel, GroupOfferModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import (
    ApiError,
    Conflict,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    field_error,
)
from chalicelib.orders import schemas as order_schemas
from chalicelib.orders import service as orders
from chalicelib.orders.models import CampaignUseAttribute, OrderModel

log = logging.getLogger("daojia.group_buys")


# --- offers (head office) ------------------------------------------------------------


def _offer_model(offer_id: str) -> GroupOfferModel:
    try:
        return GroupOfferModel.get(offer_id, consistent_read=True)
    except GroupOfferModel.DoesNotExist:
        raise NotFound(f"No group-buy offer {offer_id!r}.", code="group_offer_not_found") from None


def _check_offer(body: s.OfferBody) -> None:
    errors = []
    if not rules.SIZE_MIN <= body.size <= rules.SIZE_MAX:
        errors.append(field_error("size", f"{rules.SIZE_MIN} to {rules.SIZE_MAX}"))
    if body.ends_at <= body.starts_at:
        errors.append(field_error("ends_at", "after starts_at"))
    if len(set(body.stores)) != len(body.stores):
        errors.append(field_error("stores", "each store once"))
    if errors:
        raise ValidationFailed("The offer is not valid.", details=errors)
    try:
        CampaignModel.get(body.campaign_id)
    except CampaignModel.DoesNotExist:
        raise ValidationFailed(
            f"No campaign {body.campaign_id!r}: a group buy belongs to a campaign.",
            code="campaign_not_found",
            details=[field_error("campaign_id", "no such campaign")],
        ) from None


def _fill(m: GroupOfferModel, body: s.OfferBody, principal: Principal) -> GroupOfferModel:
    m.campaign_id, m.title, m.sku = body.campaign_id, body.title, body.sku
    m.group_price_fen, m.size, m.time_limit_min = (
        body.group_price_fen,
        body.size,
        body.time_limit_min,
    )
    m.per_member_limit, m.stores = body.per_member_limit, list(body.stores)
    m.pickup_only = 1 if body.pickup_only else 0
    m.on_timeout, m.starts_at, m.ends_at = body.on_timeout, body.starts_at, body.ends_at
    m.updated_at, m.updated_by = clock.now_iso(), principal.subject
    return m


def create_offer(principal: Principal, body: s.OfferBody, offer_id: str | None = None) -> s.Offer:
    """``offer_id``: given by the demo seed (a second run finds it and writes nothing)."""
    _check_offer(body)
    now = clock.now_iso()
    m = _fill(
        GroupOfferModel(offer_id or "GB" + uuid.uuid4().hex[:10].upper(), created_at=now),
        body,
        principal,
    )
    m.save(condition=GroupOfferModel.offer_id.does_not_exist())
    return offer_view(m)


def update_offer(principal: Principal, offer_id: str, body: s.OfferBody) -> s.Offer:
    """Groups already open keep the size, price and expiry they were opened with."""
    m = _offer_model(offer_id)
    _check_offer(body)
    _fill(m, body, principal).save(condition=GroupOfferModel.offer_id.exists())
    return offer_view(m)


def list_offers() -> s.OfferPage:
    items = [
        offer_view(m) for m in GroupOfferModel.by_listing.query("offers", scan_index_forward=False)
    ]
    return s.OfferPage(items=items)


def offer_view(m: GroupOfferModel) -> s.Offer:
    return s.Offer(
        offer_id=m.offer_id,
        campaign_id=m.campaign_id,
        title=m.title,
        sku=m.sku,
        group_price_fen=int(m.group_price_fen),
        size=int(m.size),
        time_limit_min=int(m.time_limit_min),
        per_member_limit=int(m.per_member_limit),
        stores=list(m.stores),
        pickup_only=bool(m.pickup_only),
        on_timeout=m.on_timeout,  # type: ignore[arg-type]
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        created_at=m.created_at,
    )


def _available(offer: GroupOfferModel, now_iso: str) -> bool:
    """Customers see and take the offer within its window while its campaign spends."""
    return offer.starts_at <= now_iso < offer.ends_at and offer.campaign_id in live.spending(
        now_iso
    )


# --- the seat in the order's transaction ------------------------------------------------


class GroupSeat:
    """orders/extensions.py PlaceHook for opening (``group_id`` new) or joining a group."""

    def __init__(
        self,
        principal: Principal,
        body: order_schemas.PlaceOrder,
        *,
        offer_id: str,
        group_id: str,
        opening: bool,
    ) -> None:
        self.customer = principal.subject
        self.body = body
        self.offer_id = offer_id
        self.group_id = group_id
        self.opening = opening
        self.offer: GroupOfferModel | None = None
        self.group: GroupModel | None = None
        self.discount_fen = 0
        self.now_iso = clock.now_iso()

    def keys(self) -> dict[Any, list[dict[str, Any]]]:
        members = [{"group_id": f"tally#{self.offer_id}", "customer_id": self.customer}]
        keys: dict[Any, list[dict[str, Any]]] = {GroupOfferModel: [{"offer_id": self.offer_id}]}
        if not self.opening:
            keys[GroupModel] = [{"group_id": self.group_id}]
            members.append({"group_id": self.group_id, "customer_id": self.customer})
        keys[GroupMemberModel] = members
        return keys

    def prices(self, got: Any, skus_qty: Any) -> dict[str, int]:
        offers = got.of(GroupOfferModel)
        if not offers:
            raise NotFound(f"No group-buy offer {self.offer_id!r}.", code="group_offer_not_found")
        offer = self.offer = offers[0]
        body = self.body
        if not _available(offer, self.now_iso):
            raise Conflict("This group buy is not on now.", code="group_buy_not_available")
        if body.store_id not in offer.stores:
            raise ValidationFailed(
                "This group buy is not offered at that store.",
                code="group_buy_not_at_store",
                details=[field_error("store_id", f"one of {', '.join(offer.stores)}")],
            )
        if offer.pickup_only and body.fulfilment != "pickup":
            raise ValidationFailed(
                "This group buy is collected at the store.",
                code="group_buy_pickup_only",
                details=[field_error("fulfilment", "pickup")],
            )
        if list(skus_qty) != [(offer.sku, 1)]:
            raise ValidationFailed(
                "A group-buy order holds the offer's product alone, one unit (one seat).",
                code="group_buy_items",
                details=[field_error("items", f"exactly [{{sku: {offer.sku}, qty: 1}}]")],
            )
        members = {m.group_id: m for m in got.of(GroupMemberModel)}
        tally = members.get(f"tally#{self.offer_id}")
        if tally is not None and int(tally.seats or 0) >= int(offer.per_member_limit):
            raise _limit_reached(offer)
        if not self.opening:
            groups = got.of(GroupModel)
            if not groups or groups[0].offer_id != self.offer_id:
                raise NotFound(f"No group {self.group_id!r}.", code="group_not_found")
            group = self.group = groups[0]
            if group.store_id != body.store_id:
                raise ValidationFailed(
                    "This group collects at another store.",
                    code="group_buy_not_at_store",
                    details=[field_error("store_id", str(group.store_id))],
                )
            mine = members.get(self.group_id)
            if mine is not None and mine.state != "left":
                raise _already_in()
            if group.state != "open" or group.expires_at <= self.now_iso:
                raise Conflict("This group has closed; open a new one.", code="group_closed")
            if int(group.seats_taken) >= int(group.size):
                raise _full(group)
        items = {i.sku: i for i in got.of(StoreItemModel)}
        regular = int(items[offer.sku].price_fen) if offer.sku in items else 0
        price = int(self.group.price_fen) if self.group else int(offer.group_price_fen)
        self.discount_fen = max(0, regular - price)
        return {str(offer.sku): price}

    def mark(self, order: OrderModel) -> None:
        order.group_id = self.group_id
        order.held = rules.held(self.group_id)
        # paid, it waits in the store's "held" bucket, not its work queue (no ticket)
        order.paid_queue = f"{order.store_id}#held"
        if self.discount_fen and self.offer is not None:
            order.detail.campaign_uses = [
                *(order.detail.campaign_uses or []),
                CampaignUseAttribute(
                    campaign_id=self.offer.campaign_id,
                    amount_fen=self.discount_fen,
                    hq_fen=self.discount_fen,
                    store_fen=0,
                    supplier_fen=0,
                ),
            ]
        self.order_id = order.order_id

    def pieces(self, order: OrderModel) -> list[TxPiece]:
        assert self.offer is not None
        offer, now = self.offer, self.now_iso
        g = GroupModel
        out: list[TxPiece] = []
        if self.opening:
            expires = clock.now() + timedelta(minutes=int(offer.time_limit_min))
            expires = min(expires, clock.parse(offer.ends_at))  # not past the offer's end
            group = GroupModel(
                self.group_id,
                offer_id=offer.offer_id,
                campaign_id=offer.campaign_id,
                store_id=order.store_id,
                sku=offer.sku,
                size=int(offer.size),
                price_fen=int(offer.group_price_fen),
                on_timeout=offer.on_timeout,
                state="open",
                seats_taken=1,
                seats_paid=0,
                expires_at=clock.iso(expires),
                due_state="open",
                due_at=int(expires.timestamp()),
                opened_by=self.customer,
                created_at=clock.now_iso_ms(),
            )
            out.append(
                TxPiece(group, {"condition": g.group_id.does_not_exist()}, "group_open", "save")
            )
        else:
            out.append(
                TxPiece(
                    GroupModel(self.group_id),
                    {
                        "actions": [g.seats_taken.add(1)],
                        "condition": (g.seats_taken < g.size)
                        & (g.state == "open")
                        & (g.expires_at > now),
                    },
                    "group_seat",
                )
            )
        m = GroupMemberModel
        member = GroupMemberModel(
            self.group_id,
            self.customer,
            order_id=order.order_id,
            state="placed",
            masked=rules.mask(self.customer),
            discount_fen=self.discount_fen,
            joined_at=clock.now_iso_ms(),
        )
        out.append(
            TxPiece(
                member,
                {"condition": m.state.does_not_exist() | (m.state == "left")},
                "group_member",
                "save",
            )
        )
        out.append(
            TxPiece(
                GroupMemberModel(f"tally#{offer.offer_id}", self.customer),
                {
                    "actions": [m.seats.add(1)],
                    "condition": m.seats.does_not_exist() | (m.seats < int(offer.per_member_limit)),
                },
                "group_tally",
            )
        )
        if self.discount_fen:
            out.append(
                campaign_repo.spend_piece(
                    offer.campaign_id, self.discount_fen, {"hq": self.discount_fen}
                ).relabelled("group_campaign")
            )
        return out

    def explain(self, exc: TransactionCancelled) -> ApiError | None:
        failed = set(exc.failed)
        if "group_seat" in failed:
            group = _group_or_none(self.group_id)
            if group is not None and group.state == "open" and group.expires_at > clock.now_iso():
                return _full(group)
            return Conflict("This group has closed; open a new one.", code="group_closed")
        if "group_member" in failed:
            return _already_in()
        if "group_tally" in failed:
            assert self.offer is not None
            return _limit_reached(self.offer)
        if "group_campaign" in failed:
            return Conflict(
                "The group buy's campaign budget is used up or the campaign has ended.",
                code="campaign_budget_exhausted",
            )
        if "group_open" in failed:
            return None  # the order's own id failed too: a replay, answered by placing
        ours = ("group_seat", "group_member", "group_tally", "group_campaign", "group_open")
        if any(exc.code_of(label) == "TransactionConflict" for label in ours):
            return ServiceUnavailable(
                "The group is very busy right now; retry with the same key.", code="group_busy"
            )
        return None


def _full(group: GroupModel) -> Conflict:
    return Conflict(
        f"This group is full ({int(group.size)} of {int(group.size)}); open a new one.",
        code="group_full",
        details={"group_id": group.group_id, "size": int(group.size)},
    )


def _already_in() -> Conflict:
    return Conflict("You already hold a seat in this group.", code="group_already_joined")


def _limit_reached(offer: GroupOfferModel) -> Conflict:
    return Conflict(
        f"You may hold {int(offer.per_member_limit)} seat(s) in this group buy.",
        code="group_member_limit",
        details={"per_member_limit": int(offer.per_member_limit)},
    )


def _group_or_none(group_id: str) -> GroupModel | None:
    try:
        return GroupModel.get(group_id, consistent_read=True)
    except GroupModel.DoesNotExist:
        return None


def open_group(
    principal: Principal, key: str | None, offer_id: str, body: order_schemas.PlaceOrder
) -> tuple[order_schemas.Order, bool]:
    """Open a group: the opener's order takes its first seat."""
    group_id = rules.group_id_for(offer_id, principal.subject, key or "")
    hook = GroupSeat(principal, body, offer_id=offer_id, group_id=group_id, opening=True)
    return orders.place(principal, key, _no_extras(body), hook)


def join_group(
    principal: Principal, key: str | None, group_id: str, body: order_schemas.PlaceOrder
) -> tuple[order_schemas.Order, bool]:
    """Join a group: the joiner's order takes a seat. The group's id names its offer, so
    placing reads both in its one BatchGetItem (no read before it)."""
    offer_id = rules.offer_of(group_id)
    hook = GroupSeat(principal, body, offer_id=offer_id, group_id=group_id, opening=False)
    return orders.place(principal, key, _no_extras(body), hook)


def _no_extras(body: order_schemas.PlaceOrder) -> order_schemas.PlaceOrder:
    """A seat's order is at the group price alone: no coupons (nor the wallet's Query),
    points, stored value or mall reward."""
    wrong = [
        name
        for name in ("coupon_ids", "points_to_use", "stored_value_fen", "reward_id")
        if getattr(body, name, None)
    ]
    if wrong:
        raise ValidationFailed(
            "A group-buy order is paid at the group price alone.",
            code="group_buy_extras",
            details=[field_error(name, "not with a group buy") for name in wrong],
        )
    import msgspec

    return msgspec.structs.replace(body, coupon_ids=[])


# --- payment, give-back, success ---------------------------------------------------------


def _group_of(order: OrderModel) -> str | None:
    held = str(order.held or "")
    return held[len(rules.HELD_PREFIX) :] if held.startswith(rules.HELD_PREFIX) else None


def on_paid(order: OrderModel) -> None:
    """A held order of a group was paid: its member becomes paid and the group's
    ``seats_paid`` goes up, once (the member's state is the condition); the last seat's
    payment fills the group. Run again on the provider's retry: nothing counted twice."""
    group_id = _group_of(order)
    if group_id is None:
        return
    m, g = GroupMemberModel, GroupModel

    def build(tx: Any) -> None:
        tx.update(
            GroupMemberModel(group_id, order.customer_id),
            actions=[m.state.set("paid")],
            condition=(m.state == "placed") & (m.order_id == order.order_id),
            label="member",
        )
        tx.update(
            GroupModel(group_id),
            actions=[g.seats_paid.add(1)],
            condition=g.state == "open",
            label="group",
        )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if not exc.failed:
            raise
    group = _group_or_none(group_id)
    if group is None:
        return
    if group.state == "open" and int(group.seats_paid) >= int(group.size):
        succeed(group, "full")
    elif group.state == "failed":
        # paid as the group failed: refunded like its other members
        orders.cancel_held(
            order.order_id, "group buy did not fill", rules.refund_id(group_id, order.order_id)
        )
    elif group.state == "succeeded":
        orders.release_held(order.order_id, rules.held(group_id))


def give_back(order: OrderModel, paid: bool) -> list[TxPiece]:
    """In the transaction cancelling or expiring a held group order: its seat is free
    again (and its paid seat, if paid), the member left the group (no longer shown) and
    their tally is down one. Unconditional: the order's own transition happens once."""
    group_id = _group_of(order)
    if group_id is None:
        return []
    g, m = GroupModel, GroupMemberModel
    actions = [g.seats_taken.add(-1)]
    if paid:
        actions.append(g.seats_paid.add(-1))
    return [
        TxPiece(GroupModel(group_id), {"actions": actions}, f"group_back:{group_id}"),
        TxPiece(
            GroupMemberModel(group_id, order.customer_id),
            {"actions": [m.state.set("left")], "condition": m.order_id == order.order_id},
            f"group_member_back:{group_id}",
        ),
        TxPiece(
            GroupMemberModel(f"tally#{rules.offer_of(group_id)}", order.customer_id),
            {"actions": [m.seats.add(-1)]},
            f"group_tally_back:{group_id}",
        ),
    ]


def succeed(group: GroupModel, why: str) -> bool:
    """open -> succeeded, once (the condition), then every paid member's order goes to
    the store (``settle``)."""
    g = GroupModel
    condition = g.state == "open"
    if why == "full":
        condition &= g.seats_paid >= g.size
    try:
        group.update(
            actions=[
                g.state.set("succeeded"),
                g.due_state.set("settling"),
                g.ended_at.set(clock.now_iso()),
                g.ended_why.set(why),
            ],
            condition=condition,
        )
    except Exception as exc:
        from chalicelib.db.writes import is_condition_failure

        if is_condition_failure(exc):
            return False
        raise
    settle(group.group_id)
    return True


def members(group_id: str) -> list[GroupMemberModel]:
    return list(GroupMemberModel.query(group_id, consistent_read=True))


def settle(group_id: str) -> None:
    """Finish a succeeded or failed group (idempotent: the job runs it again until it
    is out of ``by_due``): succeeded, paid members' orders are released to the store
    (their tickets print) and unpaid ones cancelled; failed, every member's order is
    cancelled, paid ones refunded in full under a refund id per (group, order)."""
    group = _group_or_none(group_id)
    if group is None or group.state == "open":
        return
    released: list[GroupMemberModel] = []
    for member in members(group_id):
        if member.state == "left" or not member.order_id:
            continue
        if group.state == "succeeded" and member.state == "paid":
            orders.release_held(member.order_id, rules.held(group_id))
            released.append(member)
        else:
            orders.cancel_held(
                member.order_id,
                "group buy did not fill"
                if group.state == "failed"
                else "not paid before the group closed",
                rules.refund_id(group_id, member.order_id),
            )
    if group.state == "succeeded" and released and rules.needs_pick_list(int(group.size)):
        # before the index entry goes: a run that stops here is resumed by the next one
        print_pick_list(group, released)
    try:
        group.update(
            actions=[GroupModel.due_state.remove(), GroupModel.due_at.remove()],
            condition=GroupModel.state == group.state,
        )
    except Exception:
        log.warning("group %s: settled, index entry kept for the next run", group_id)


def expire_due(now_iso: str | None = None, limit: int = 100) -> int:
    """Scheduled every minute: open groups past expiry fail (every paid member refunded
    in full, unpaid orders cancelled) or, per the offer, are completed at the group
    price with the members they have; groups left half settled by an earlier run are
    settled again. Exactly once under concurrent and replayed runs: the state moves by a
    conditional write, and each order's cancellation or release is conditional."""
    now = clock.parse(now_iso) if now_iso else clock.now()
    now_epoch = int(now.timestamp())
    done = 0
    for key in GroupModel.by_due.query("open", GroupModel.due_at <= now_epoch, limit=limit):
        group = _group_or_none(key.group_id)
        if group is None or group.state != "open":
            continue
        to = rules.timeout_outcome(group.on_timeout, int(group.seats_paid))
        g = GroupModel
        try:
            group.update(
                actions=[
                    g.state.set(to),
                    g.due_state.set("settling"),
                    g.ended_at.set(clock.iso(now)),
                    g.ended_why.set(
                        "timeout_completed" if to == "succeeded" else "timeout_refunded"
                    ),
                ],
                condition=(g.state == "open") & (g.due_at <= now_epoch),
            )
            done += 1
        except Exception as exc:
            from chalicelib.db.writes import is_condition_failure

            if not is_condition_failure(exc):
                raise
        settle(group.group_id)
    for key in GroupModel.by_due.query("settling", limit=limit):
        settle(key.group_id)
    return done


def print_pick_list(group: GroupModel, released: list[GroupMemberModel]) -> bool:
    """A 百人团's consolidated picking list at its store (a group's orders are all for
    its one store): the SKU, the units in total and each released order's pickup code
    (or masked phone and address), one print job per group (its id derived from the
    group, a conditional put). True: this call created it. Reads the orders (50 a
    BatchGetItem) only when the job is not there yet."""
    from chalicelib.kernel.privacy import mask_phone
    from chalicelib.orders import order_flow
    from chalicelib.printing import messages as pm
    from chalicelib.printing import pick_lists
    from chalicelib.printing.models import PrintJobModel

    job_id = rules.pick_list_job_id(group.group_id)
    try:
        PrintJobModel.get(job_id, attributes_to_get=["job_id"])
        return False
    except PrintJobModel.DoesNotExist:
        pass
    ids = [m.order_id for m in released if m.order_id]
    found: dict[str, OrderModel] = {}
    for start in range(0, len(ids), 50):
        found.update(order_flow.read_many(ids[start : start + 50]))
    picked = [
        (m, o)
        for m in released
        if (o := found.get(str(m.order_id))) is not None and o.status not in ("cancelled",)
    ]
    if not picked:
        return False
    line = next((x for x in picked[0][1].lines if x.sku == group.sku), picked[0][1].lines[0])
    entries = []
    for m, o in sorted(picked, key=lambda mo: (mo[1].pickup_code or "", mo[1].order_id)):
        address = o.address if o.fulfilment == "delivery" else None
        entries.append(
            pm.PickMember(
                order_id=o.order_id,
                daily_seq=int(o.daily_seq) if o.daily_seq is not None else None,
                member=str(m.masked or rules.mask(m.customer_id)),
                fulfilment="delivery" if o.fulfilment == "delivery" else "pickup",
                pickup_code=o.pickup_code if o.fulfilment != "delivery" else None,
                phone_masked=mask_phone(address.phone) if address is not None else None,
                address=address.line if address is not None else None,
            )
        )
    units = sum(int(x.qty) for _, o in picked for x in o.lines if x.sku == group.sku)
    pick_list = pm.PickList(
        group_id=group.group_id,
        title=_offer_title(group.offer_id),
        sku=str(group.sku),
        name=str(line.name),
        unit=str(line.unit),
        zone=line.zone,
        shelf=line.shelf,
        total_units=max(units, 1),
        members=entries,
    )
    return pick_lists.create(job_id, str(group.store_id), pick_list)


def _offer_title(offer_id: str) -> str:
    try:
        return str(GroupOfferModel.get(offer_id).title)
    except GroupOfferModel.DoesNotExist:
        return offer_id
