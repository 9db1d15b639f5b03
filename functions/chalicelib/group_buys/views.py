"""Reading groups: the share link, the store's offers, head office's list."""

from __future__ import annotations

from chalicelib.group_buys import schemas as s
from chalicelib.group_buys import service
from chalicelib.group_buys.models import GroupModel, GroupOfferModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import NotFound


def _group_view(g: GroupModel, offer: GroupOfferModel | None = None) -> s.Group:
    shown = [m for m in service.members(g.group_id) if m.state in ("placed", "paid")]
    shown.sort(key=lambda m: m.joined_at or "")
    return s.Group(
        group_id=g.group_id,
        offer_id=g.offer_id,
        store_id=g.store_id,
        state=g.state,  # type: ignore[arg-type]
        size=int(g.size),
        seats_taken=int(g.seats_taken),
        seats_left=max(0, int(g.size) - int(g.seats_taken)) if g.state == "open" else 0,
        seats_paid=int(g.seats_paid),
        price_fen=int(g.price_fen),
        on_timeout=g.on_timeout,  # type: ignore[arg-type]
        expires_at=g.expires_at,
        members=[
            s.Member(name=str(m.masked), paid=m.state == "paid", joined_at=str(m.joined_at))
            for m in shown
        ],
        offer=service.offer_view(offer) if offer else None,
    )


def group(group_id: str) -> s.Group:
    g = service._group_or_none(group_id)
    if g is None:
        raise NotFound(f"No group {group_id!r}.", code="group_not_found")
    try:
        offer = GroupOfferModel.get(g.offer_id)
    except GroupOfferModel.DoesNotExist:
        offer = None
    return _group_view(g, offer)


def offer_groups(offer_id: str) -> s.GroupPage:
    service._offer_model(offer_id)
    groups = GroupModel.by_offer.query(offer_id, scan_index_forward=False, limit=100)
    return s.GroupPage(items=[_group_view(g) for g in groups])


def store_offers(store_id: str) -> s.StoreOffers:
    now = clock.now_iso()
    out = []
    for offer in GroupOfferModel.by_listing.query("offers"):
        if store_id not in offer.stores or not service._available(offer, now):
            continue
        open_groups = [
            _group_view(g)
            for g in GroupModel.by_offer.query(
                offer.offer_id,
                filter_condition=(GroupModel.state == "open")
                & (GroupModel.store_id == store_id)
                & (GroupModel.expires_at > now)
                & (GroupModel.seats_taken < GroupModel.size),
            )
        ]
        out.append(s.StoreOffer(offer=service.offer_view(offer), open_groups=open_groups))
    return s.StoreOffers(items=out)
