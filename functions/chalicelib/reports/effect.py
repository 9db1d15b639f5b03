"""Effect reports per promotion and coupon template, and the suppliers' settlement
statement (issue 18 item 6). Every figure comes from the daily rollups (``report_days``:
``disc`` and ``eff`` per source, written by the rollup job from the writes orders already
make): a report reads the promotion or template, the stores listing and one Query of
``report_days`` per store over its days; never the orders."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib.auth.principal import Principal
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.coupons.repo import get_template
from chalicelib.kernel import clock, hours
from chalicelib.kernel.errors import BadRequest
from chalicelib.promotions.models import PromotionModel
from chalicelib.promotions.repo import get_promotion
from chalicelib.reports import effect_rules as er
from chalicelib.reports import rules as r
from chalicelib.reports import schemas as s
from chalicelib.reports.service import CHAIN_TZ, _batches, _read_days, _stores
from chalicelib.stores.models import StoreModel


def _local_day(iso: str) -> date:
    return clock.parse(iso).astimezone(hours.zone(CHAIN_TZ)).date()


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(
            f"{name} is a date (YYYY-MM-DD).", code="bad_date", details={"error": str(exc)}
        ) from exc


def _window(starts_at: str | None, ends_at: str | None, q: s.EffectQuery) -> tuple[date, date]:
    """The report's local days: the query's, else the promotion's window up to today (its
    last day is the one holding its last second), at most MAX_RANGE_DAYS."""
    today = clock.now().astimezone(hours.zone(CHAIN_TZ)).date()
    end = _local_day(clock.iso(clock.parse(ends_at) - timedelta(seconds=1))) if ends_at else today
    last = _day(q.to, "to") if q.to else min(end, today)
    if q.from_:
        first = _day(q.from_, "from")
    else:  # the window's first day, within the longest range (and not after ``last``)
        start = _local_day(starts_at) if starts_at else last
        first = min(max(start, last - timedelta(days=r.MAX_RANGE_DAYS - 1)), last)
    if first > last:
        raise BadRequest(
            "from is after to.", code="bad_range", details={"from": str(first), "to": str(last)}
        )
    if (last - first).days + 1 > r.MAX_RANGE_DAYS:
        raise BadRequest(
            f"A report covers at most {r.MAX_RANGE_DAYS} days.",
            code="range_too_long",
            details={"days": (last - first).days + 1, "max_days": r.MAX_RANGE_DAYS},
        )
    return first, last


def _report(
    principal: Principal,
    source: str,
    item: PromotionModel | CouponTemplateModel,
    issued: int | None,
    q: s.EffectQuery,
) -> s.EffectReport:
    stores = _stores(principal, None)
    first, last = _window(item.starts_at, item.ends_at, q)
    ids = [st.store_id for st in stores]
    rollups = _read_days(ids, first, last)
    days = r.days_between(first, last)
    per_day, per_store = [], []
    for day in days:
        t = er.total(er.of_day(rollups[(sid, day)], source) for sid in ids if (sid, day) in rollups)
        per_day.append(
            s.EffectDay(
                date=day,
                orders=t.orders,
                discount_fen=t.discount_fen,
                net_fen=t.net_fen,
                gmv_fen=t.gmv_fen,
            )
        )
    for st in stores:
        t = er.total(
            er.of_day(rollups[(st.store_id, d)], source)
            for d in days
            if (st.store_id, d) in rollups
        )
        per_store.append(
            s.EffectStore(
                store_id=st.store_id,
                name=st.name,
                orders=t.orders,
                discount_fen=t.discount_fen,
                net_fen=t.net_fen,
                gmv_fen=t.gmv_fen,
                aov_fen=er.aov(t.gmv_fen, t.orders),
                new_customers=t.new_customers,
            )
        )
    t = er.total(er.of_day(f, source) for f in rollups.values())
    funded_by = item.funded_by or "hq"
    return s.EffectReport(
        source=source,
        id=source[2:],
        name=item.name,
        kind=item.kind,
        from_=days[0],
        to=days[-1],
        store_ids=ids,
        issued=issued,
        redeemed=t.orders,
        discount_fen=t.discount_fen,
        net_fen=t.net_fen,
        by_funder=[
            s.EffectFunder(
                funded_by=funded_by,  # type: ignore[arg-type]
                funder=item.funder if funded_by == "supplier" else None,
                discount_fen=t.discount_fen,
                net_fen=t.net_fen,
            )
        ],
        gmv_fen=t.gmv_fen,
        orders=t.orders,
        aov_with_fen=er.aov(t.gmv_fen, t.orders),
        aov_without_fen=er.aov(t.others_gmv_fen, t.others_orders),
        new_customers=t.new_customers,
        days=per_day,
        stores=per_store,
    )


def promotion_report(principal: Principal, promotion_id: str, q: s.EffectQuery) -> s.EffectReport:
    promo = get_promotion(promotion_id)
    return _report(principal, f"p:{promotion_id}", promo, None, q)


def template_report(principal: Principal, template_id: str, q: s.EffectQuery) -> s.EffectReport:
    tpl = get_template(template_id)
    return _report(principal, f"t:{template_id}", tpl, int(tpl.issued_count or 0), q)


# --- supplier settlement -------------------------------------------------------------


def _month(value: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        first = None
    if first is None or len(value) != 7:
        raise BadRequest("month is YYYY-MM.", code="bad_month", details={"month": value}) from None
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


def _funders(sources: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(source -> supplier, for the supplier-funded ones; source -> name), from the
    promotions and templates as they are now (BatchGetItem by 100)."""
    suppliers: dict[str, str] = {}
    names: dict[str, str] = {}
    promos = sorted(x[2:] for x in sources if x.startswith("p:"))
    tpls = sorted(x[2:] for x in sources if x.startswith("t:"))
    items: list[tuple[str, PromotionModel | CouponTemplateModel]] = []
    for chunk in _batches(promos):
        items += [(f"p:{x.promotion_id}", x) for x in PromotionModel.batch_get(chunk)]
    for chunk in _batches(tpls):
        items += [(f"t:{x.template_id}", x) for x in CouponTemplateModel.batch_get(chunk)]
    for key, item in items:
        names[key] = item.name
        if item.funded_by == "supplier":
            suppliers[key] = item.funder or "(unnamed)"
    return suppliers, names


def settlement(principal: Principal, month: str) -> s.SupplierSettlement:
    """What each supplier owes for the discounts it funded in ``month`` (the chain's
    local days of the sales), per promotion/template and per store, net of refunds."""
    first, last = _month(month)
    stores = sorted(StoreModel.by_listing.query("stores"), key=lambda st: st.store_id)
    store_names = {st.store_id: st.name for st in stores}
    rollups = _read_days(list(store_names), first, last)
    suppliers, names = _funders({src for f in rollups.values() for src in f.disc})
    statements = er.settle(rollups, suppliers)

    def store_row(sid: str, t: er.Tally) -> s.SettlementStore:
        return s.SettlementStore(
            store_id=sid,
            name=store_names.get(sid, sid),
            orders=t.orders,
            discount_fen=t.discount_fen,
            net_fen=t.net_fen,
        )

    out = []
    for funder in sorted(statements):
        st = statements[funder]
        tot = st.total
        out.append(
            s.SupplierStatement(
                funder=funder,
                owed_fen=tot.net_fen,
                discount_fen=tot.discount_fen,
                refunded_fen=tot.refunded_fen,
                orders=tot.orders,
                sources=[
                    s.SettlementSource(
                        source=src,
                        id=src[2:],
                        name=names.get(src, src),
                        orders=t.orders,
                        discount_fen=t.discount_fen,
                        refunded_fen=t.refunded_fen,
                        net_fen=t.net_fen,
                        stores=[
                            store_row(sid, x)
                            for (src2, sid), x in sorted(st.source_stores.items())
                            if src2 == src
                        ],
                    )
                    for src, t in sorted(st.sources.items())
                ],
                stores=[store_row(sid, t) for sid, t in sorted(st.stores.items())],
            )
        )
    return s.SupplierSettlement(
        month=month,
        from_=first.isoformat(),
        to=last.isoformat(),
        owed_fen=sum(x.owed_fen for x in out),
        suppliers=out,
    )
