"""Head office's and store managers' view of members: the list (search by phone,
filters, registered between) and a member's profile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import batch_get
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.kernel.privacy import mask_phone
from chalicelib.members import providers
from chalicelib.members import schemas as s
from chalicelib.members.privacy import source_view

DEFAULT_DAYS = 365  # the list's default window: the last year's registrations
MAX_MONTHS = 24  # one index query per month (no scans): the window is capped
_START = "~"  # cursor sentinel: start at the top of that month


def _phone(m: CustomerModel, principal: Principal) -> str:
    return (m.phone or "") if principal.is_hq else mask_phone(m.phone or "")


def row(m: CustomerModel, principal: Principal) -> s.MemberRow:
    return s.MemberRow(
        customer_id=m.customer_id,
        phone=_phone(m, principal),
        nickname=m.nickname,
        home_store_id=m.home_store_id,
        source_kind=m.source_kind,
        marketing_consent=m.marketing_consent,
        level=m.level,
        registered_at=m.created_at,
    )


def _window(query: s.MemberQuery) -> tuple[str, str]:
    today = clock.now().date()
    to = date.fromisoformat(query.registered_to) if query.registered_to else today
    since = (
        date.fromisoformat(query.registered_from)
        if query.registered_from
        else to - timedelta(days=DEFAULT_DAYS)
    )
    if since > to:
        raise ValidationFailed(
            "registered_from is after registered_to.",
            details=[field_error("registered_from", "after registered_to")],
        )
    months = (to.year - since.year) * 12 + to.month - since.month + 1
    if months > MAX_MONTHS:
        raise ValidationFailed(
            f"The registration window spans at most {MAX_MONTHS} months.",
            details=[field_error("registered_from", f"more than {MAX_MONTHS} months")],
        )
    return since.isoformat(), to.isoformat()


def _months(since: str, to: str) -> list[str]:
    """'YYYY-MM' from ``to``'s month back to ``since``'s, newest first."""
    y, m = int(to[:4]), int(to[5:7])
    end = (int(since[:4]), int(since[5:7]))
    out = []
    while (y, m) >= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def _filter(query: s.MemberQuery, *, by_store: bool = False) -> Any:
    """The conditions the index's key does not answer (a store's members: their level
    too, a filter over one store's members; without a store, the level is the key of
    ``by_level``)."""
    cond = CustomerModel.erased_at.does_not_exist()
    if query.source_kind:
        cond &= CustomerModel.source_kind == query.source_kind
    if query.level and by_store:
        cond &= CustomerModel.level == query.level
    return cond


def listing(principal: Principal, query: s.MemberQuery) -> s.MemberPage:
    """Newest first. Head office sees every member, store managers those whose home store
    is theirs (phones masked). By phone: the phone mapping, exact."""
    store = query.store_id
    if not principal.is_hq:
        if store is not None and store != principal.store_id:
            raise Forbidden("Your account belongs to another store.", code="other_store")
        store = principal.store_id
    if query.tag is not None:
        return _by_tag(principal, query, store)
    if query.phone:
        return _by_phone(principal, query, store)
    since, to = _window(query)
    between = CustomerModel.created_at.between(since, to + "T~")
    if store is not None:
        start = cursors.decode(
            query.cursor, ("customer_id", "home_store_id", "created_at"), {"home_store_id": store}
        )
        it = CustomerModel.by_home_store.query(
            store,
            between,
            filter_condition=_filter(query, by_store=True),
            scan_index_forward=False,
            limit=query.limit,
            last_evaluated_key=start,
        )
        return _page(it, principal, query)
    if query.level:
        start = cursors.decode(
            query.cursor, ("customer_id", "level", "created_at"), {"level": query.level}
        )
        it = CustomerModel.by_level.query(
            query.level,
            between,
            filter_condition=_filter(query),
            scan_index_forward=False,
            limit=query.limit,
            last_evaluated_key=start,
        )
        return _page(it, principal, query)
    return _by_months(principal, query, since, to, between)


def _page(it: Any, principal: Principal, query: s.MemberQuery) -> s.MemberPage:
    items = [row(m, principal) for m in it]
    more = len(items) == query.limit and it.last_evaluated_key
    return s.MemberPage(
        items=items, next_cursor=cursors.encode(it.last_evaluated_key) if more else None
    )


def _by_months(
    principal: Principal, query: s.MemberQuery, since: str, to: str, between: Any
) -> s.MemberPage:
    months = _months(since, to)
    start = cursors.decode(query.cursor, ("customer_id", "reg_month", "created_at"))
    if start is not None:
        month = start["reg_month"]["S"]
        if month not in months:
            raise cursors.foreign()
        months = months[months.index(month) :]
        if start["created_at"]["S"] == _START:
            start = None
    items: list[s.MemberRow] = []
    for i, month in enumerate(months):
        it = CustomerModel.by_registration.query(
            month,
            between,
            filter_condition=_filter(query),
            scan_index_forward=False,
            limit=query.limit - len(items),
            last_evaluated_key=start if i == 0 else None,
        )
        items += [row(m, principal) for m in it]
        if len(items) == query.limit:
            if it.last_evaluated_key:
                return s.MemberPage(items=items, next_cursor=cursors.encode(it.last_evaluated_key))
            if i + 1 < len(months):
                nxt = {"customer_id": {"S": _START}, "reg_month": {"S": months[i + 1]}}
                nxt["created_at"] = {"S": _START}
                return s.MemberPage(items=items, next_cursor=cursors.encode(nxt))
            break
    return s.MemberPage(items=items, next_cursor=None)


def _by_phone(principal: Principal, query: s.MemberQuery, store: str | None) -> s.MemberPage:
    m = _by_phone_model(query, store)
    return s.MemberPage(items=[] if m is None else [row(m, principal)])


def _by_phone_model(query: s.MemberQuery, store: str | None) -> CustomerModel | None:
    try:
        link = CustomerPhoneModel.get(str(query.phone))
        m = CustomerModel.get(link.customer_id)
    except DoesNotExist:
        return None
    if (
        m.erased_at
        or (store is not None and m.home_store_id != store)
        or (query.source_kind and m.source_kind != query.source_kind)
        or (query.level and m.level != query.level)
    ):
        return None
    return m


TAG_READ_MAX = 500  # index entries one page of a tag filter reads at most


def _by_tag(principal: Principal, query: s.MemberQuery, store: str | None) -> s.MemberPage:
    """Members with a manual tag, in member id order: the tag's index entries (customers'
    ``by_tag``, through providers: customers sits above members) a chunk at a time, their
    member items in one BatchGetItem per chunk, the other filters applied to those. A page
    reads at most TAG_READ_MAX entries, so it can come back short with a cursor when few
    of the tag's members pass the filters (a store's members among a chain-wide tag)."""
    bad = [f for f in ("phone", "registered_from", "registered_to") if getattr(query, f)]
    if bad:
        raise ValidationFailed(
            "The tag filter goes with store_id, source_kind and level only.",
            details=[field_error(f, "not with tag") for f in bad],
        )
    start = cursors.decode(query.cursor, ("tag", "after"), {"tag": str(query.tag)})
    after = start["after"]["S"] if start is not None else None
    tagged = providers.load(providers.TAGGED)
    items: list[s.MemberRow] = []
    read, more = 0, True
    while more and len(items) < query.limit and read < TAG_READ_MAX:
        ids, last = tagged(query.tag, after, min(100, TAG_READ_MAX - read))
        read += len(ids)
        more = last is not None  # the index may hold more after this chunk
        if not ids:
            break
        got = batch_get({CustomerModel: [{"customer_id": c} for c in ids]}, consistent=False)
        found = {m.customer_id: m for m in got.of(CustomerModel)}
        for i, c in enumerate(ids):
            after = c
            m = found.get(c)
            if m is not None and _keep(m, query, store):
                items.append(row(m, principal))
                if len(items) == query.limit:
                    more = more or i + 1 < len(ids)
                    break
    cursor = {"tag": {"S": str(query.tag)}, "after": {"S": after}} if more and after else None
    return s.MemberPage(items=items, next_cursor=cursors.encode(cursor))


def _keep(m: CustomerModel, query: s.MemberQuery, store: str | None) -> bool:
    return not (
        m.erased_at
        or (store is not None and m.home_store_id != store)
        or (query.source_kind and m.source_kind != query.source_kind)
        or (query.level and m.level != query.level)
    )


def window(query: s.MemberQuery) -> tuple[str, str]:
    """The list's registration window (UTC days, inclusive): the given dates or the
    list's default, checked as the list checks them."""
    return _window(query)


def every_member(
    query: s.MemberQuery, store: str | None, page_size: int = 500
) -> Iterator[tuple[list[CustomerModel], float]]:
    """Every member the list shows for ``query`` (its filters, ``store`` already decided
    by the caller's role, the window already fixed), newest first through the list's
    own indexes, a page at a time with the fraction done: the member list's CSV export."""
    if query.phone:
        one = _by_phone_model(query, store)
        yield ([one] if one is not None else []), 1.0
        return
    since, to = _window(query)
    between = CustomerModel.created_at.between(since, to + "T~")
    if store is not None:
        parts: list[tuple[Any, str]] = [(CustomerModel.by_home_store, store)]
    elif query.level:  # as the list: the level is the key of by_level
        parts = [(CustomerModel.by_level, query.level)]
    else:
        parts = [(CustomerModel.by_registration, month) for month in _months(since, to)]
    for n, (index, key) in enumerate(parts, 1):
        found = index.query(
            key,
            between,
            filter_condition=_filter(query, by_store=store is not None),
            scan_index_forward=False,
            page_size=page_size,
        )
        page: list[CustomerModel] = []
        for m in found:
            page.append(m)
            if len(page) == page_size:
                yield page, (n - 1) / len(parts)
                page = []
        yield page, n / len(parts)


def detail(principal: Principal, customer_id: str) -> s.MemberDetail:
    """A member's profile with recent orders and coupons. A store manager sees members of
    their own home store only, and of their orders only those at their store."""
    try:
        m = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such member.", code="member_not_found") from None
    store = None if principal.is_hq else principal.store_id
    if store is not None and m.home_store_id != store:
        raise Forbidden("That member belongs to another store.", code="other_store")
    orders = providers.load(providers.PROFILE_PROVIDERS["recent_orders"])(customer_id, store)
    coupons = providers.load(providers.PROFILE_PROVIDERS["coupons"])(customer_id, store)
    return s.MemberDetail(
        customer_id=m.customer_id,
        phone=_phone(m, principal),
        nickname=m.nickname,
        birthday=m.birthday,
        gender=m.gender,
        home_store_id=m.home_store_id,
        marketing_consent=m.marketing_consent,
        consent_at=m.consent_at,
        consent_channel=m.consent_channel,
        source=source_view(m),
        registered_at=m.created_at,
        erased=bool(m.erased_at),
        recent_orders=[s.MemberOrderSummary(**o) for o in orders],
        coupons=[s.MemberCouponSummary(**c) for c in coupons],
    )
