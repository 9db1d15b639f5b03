"""The campaign review (复盘), live and frozen (issue 16 item 4).

Live (the campaign has not ended): computed on each read from the reports' daily rollups
(report_days: sales, refunds, orders placed, new members, discounts by source; today's
as of the rollup job's last run, every 10 minutes in AWS) and traffic's counters
(traffic_days), over the campaign's local days up to today, against the baseline of the
same number of days. Reads: one Query per store per table per period (the baseline
"before" is read with the window in one Query), run concurrently, and the campaign item.

Frozen: once the campaign is ended (state "ended"/"reviewed", or its window is over) the
review is computed once, for both baselines, and stored as gzip JSON in one item
(campaigns/review_models.py); reads serve that item (one GetItem). ``freeze`` is
idempotent: the item is written with a condition that it does not exist, so the first
freeze wins and a later (or racing) one returns the stored figures. The campaigns tick
job calls ``freeze`` at live -> ended; a read that finds an ended campaign without its
item freezes it then.

A store manager sees their own store's figures only, always computed (one store's reads),
without cost and ROI (the budget is the campaign's, not the store's) and without the
goal's numbers (they are the campaign's, across its stores)."""

from __future__ import annotations

import gzip
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import msgspec
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.campaigns import review_rules as rr
from chalicelib.campaigns import review_schemas as s
from chalicelib.campaigns.review_models import CampaignReviewModel
from chalicelib.kernel import clock, hours
from chalicelib.kernel.errors import Forbidden, NotFound
from chalicelib.reports.models import ReportDayModel
from chalicelib.stores.models import StoreModel
from chalicelib.traffic.read import counts as traffic_counts

log = logging.getLogger("daojia.campaigns.review")

TZ = "Asia/Shanghai"
MAX_WORKERS = 16
ENDED_STATES = ("ended", "reviewed")


# --- reading ----------------------------------------------------------------------------


def get_campaign(campaign_id: str) -> CampaignModel:
    try:
        return CampaignModel.get(campaign_id)
    except DoesNotExist:
        raise NotFound(f"No campaign {campaign_id!r}.", code="campaign_not_found") from None


def local_day(utc_iso: str) -> date:
    return clock.parse(utc_iso).astimezone(hours.zone(TZ)).date()


def window(c: CampaignModel) -> tuple[date, date]:
    """The campaign's local days: from its start's day to the day of its last second."""
    end = clock.parse(c.ends_at) - timedelta(seconds=1)
    return local_day(c.starts_at), local_day(clock.iso(end))


def is_ended(c: CampaignModel) -> bool:
    return c.state in ENDED_STATES or clock.now() >= clock.parse(c.ends_at)


def campaign_stores(c: CampaignModel) -> list[StoreModel]:
    """ "all": every store; a list or tiers (resolved into ``stores`` when scheduled): those."""
    every = sorted(StoreModel.by_listing.query("stores"), key=lambda st: st.store_id)
    if c.stores_mode == "all" and not c.stores:
        return every
    wanted = set(c.stores)
    return [st for st in every if st.store_id in wanted]


def _report_days(store_ids: list[str], ranges: list[tuple[date, date]]) -> dict[Any, Any]:
    """(store, day) -> rr.DayFigures of the reports' rollups, one Query per store and range."""

    def one(job: tuple[str, date, date]) -> list[ReportDayModel]:
        sid, first, last = job
        cond = ReportDayModel.day.between(first.isoformat(), last.isoformat())
        # only what the review counts: not the day's latency histogram, categories and
        # top products (most of the item's bytes)
        return list(ReportDayModel.query(sid, cond, attributes_to_get=_REVIEWED))

    jobs = [(sid, a, b) for sid in store_ids for a, b in ranges if a <= b]
    out: dict[tuple[str, str], rr.DayFigures] = {}
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        for items in pool.map(one, jobs):
            for item in items:
                orders = int(item.orders or 0)
                out[(item.store_id, item.day)] = rr.DayFigures(
                    orders=orders,
                    paid_fen=int(item.paid_fen or 0),
                    refunded_fen=int(item.refunded_fen or 0),
                    refund_orders=int(item.refund_orders or 0),
                    placed=int(item.placed or 0),
                    paid_orders=orders + int(item.cancelled or 0),
                    new_members=int(item.new_members or 0),
                    disc={k: list(v) for k, v in json.loads(item.disc or "{}").items()},
                )
    return out


_REVIEWED = [
    "store_id",
    "day",
    "orders",
    "paid_fen",
    "refunded_fen",
    "refund_orders",
    "placed",
    "cancelled",
    "new_members",
    "disc",
]


def _merge_ranges(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Adjacent or overlapping ranges as one (the baseline "before" joins the window)."""
    out: list[tuple[date, date]] = []
    for a, b in sorted(r for r in ranges if r[0] <= r[1]):
        if out and a <= out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def read_days(store_ids: list[str], ranges: list[tuple[date, date]]) -> dict[Any, Any]:
    """(store, day) -> rr.DayFigures with traffic, for the days of ``ranges``."""
    merged = _merge_ranges(ranges)
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = pool.submit(_report_days, store_ids, merged)
        traffic = [
            pool.submit(traffic_counts, store_ids, a.isoformat(), b.isoformat()) for a, b in merged
        ]
        days = reports.result()
        for fut in traffic:
            for key, got in fut.result().items():
                f = days.setdefault(key, rr.DayFigures())
                f.visitors += got.visitors
                f.cart_visitors += got.cart_visitors
    return days


# --- computing --------------------------------------------------------------------------


def _kpis(k: rr.Kpis) -> s.Kpis:
    return s.Kpis(**{f: getattr(k, f) for f in s.Kpis.__struct_fields__})


def _sum(days: dict[Any, Any], store_ids: list[str], span: list[date]) -> rr.DayFigures:
    return rr.total(
        f for sid in store_ids for d in span if (f := days.get((sid, d.isoformat()))) is not None
    )


def compute(
    c: CampaignModel,
    stores: list[StoreModel],
    baseline: str,
    *,
    whole_campaign: bool = True,
    days: dict[Any, Any] | None = None,
) -> s.Review:
    """The review of ``stores`` (the campaign's, or a store manager's one) against
    ``baseline``. ``whole_campaign``: with the campaign's cost, ROI and goal (head office).
    ``days``: figures already read (freezing reads once for both baselines)."""
    first, end = window(c)
    today = clock.now().astimezone(hours.zone(TZ)).date()
    last = end if is_ended(c) else min(end, today)
    span = rr.days_between(first, last) if first <= last else []
    b_first, b_last = rr.baseline_period(first, last, baseline) if span else (first, first)
    b_span = rr.days_between(b_first, b_last) if span else []
    ids = [st.store_id for st in stores]
    if days is None:
        days = read_days(ids, [(first, last), (b_first, b_last)] if span else [])
    cur = _sum(days, ids, span)
    base = _sum(days, ids, b_span)
    k = rr.kpis(cur)
    cost = None
    roi = None
    goal_values: dict[str, int | None] = {}
    if whole_campaign:
        c_cost = rr.cost(
            {f: int(getattr(c, f"budget_{f}_fen")) for f in rr.FUNDER_KEYS},
            {f: int(getattr(c, f"spent_{f}_fen")) for f in rr.FUNDER_KEYS},
            {
                "discounts": int(c.discounts_fen),
                "points": int(c.points_cost_fen),
                "commission": int(c.commission_fen),
                "prizes": int(c.prizes_fen),
            },
        )
        cost = s.Cost(
            budget_fen=c_cost.budget_fen,
            spent_fen=c_cost.spent_fen,
            used=c_cost.used,
            alert=c_cost.alert,
            by_funder=[
                s.FunderCost(funder=f, budget_fen=int(b), spent_fen=int(x))  # type: ignore[arg-type]
                for f, (b, x) in c_cost.by_funder.items()
            ],
            by_kind={k_: int(v) for k_, v in c_cost.by_kind.items()},
        )
        roi = rr.roi(cur.gmv_fen, base.gmv_fen, c_cost.spent_fen)
        if c.goal is not None:
            goal_values = {key: getattr(c.goal, key) for key in rr.GOAL_KEYS}
    d = rr.decompose(cur, base, baseline, b_first, b_last)
    rows = []
    for st in stores:
        sc = _sum(days, [st.store_id], span)
        sb = _sum(days, [st.store_id], b_span)
        rows.append(
            s.StoreRow(
                store_id=st.store_id,
                name=st.name,
                kpis=_kpis(rr.kpis(sc)),
                baseline_gmv_fen=sb.gmv_fen,
                change_fen=sc.gmv_fen - sb.gmv_fen,
            )
        )
    daily = []
    for day in span:
        f = _sum(days, ids, [day])
        daily.append(
            s.DayRow(
                date=day.isoformat(),
                gmv_fen=f.gmv_fen,
                orders=f.orders,
                visitors=f.visitors,
                new_members=f.new_members,
            )
        )
    return s.Review(
        campaign_id=c.campaign_id,
        name=c.name,
        state=c.state,
        frozen=False,
        computed_at=clock.now_iso(),
        from_=first.isoformat(),
        to=(last if span else first).isoformat(),
        days=len(span),
        store_ids=ids,
        kpis=_kpis(k),
        baseline_kpis=_kpis(rr.kpis(base)),
        goal=[
            s.GoalLine(key=g.key, goal=g.goal, actual=g.actual, attained=g.attained)  # type: ignore[arg-type]
            for g in rr.goal_attainment(goal_values, k)
        ],
        funnel=[s.FunnelStep(step=x.step, count=x.count, rate=x.rate) for x in rr.funnel(cur)],  # type: ignore[arg-type]
        redemptions=[
            s.Redemption(kind=x.kind, source_id=x.source_id, orders=x.orders, fen=x.fen)  # type: ignore[arg-type]
            for x in rr.redemptions(cur.disc, c.promotion_ids, c.coupon_template_ids)
        ],
        cost=cost,
        roi=roi,
        decomposition=s.Decomposition(
            baseline=d.baseline,  # type: ignore[arg-type]
            from_=d.baseline_from,
            to=d.baseline_to,
            gmv_fen=d.gmv_fen,
            baseline_gmv_fen=d.baseline_gmv_fen,
            change_fen=d.change_fen,
            available=d.available,
            reason=d.reason,  # type: ignore[arg-type]
            factors=[
                s.Factor(
                    factor=name,  # type: ignore[arg-type]
                    baseline=d.factors[name][0],
                    current=d.factors[name][1],
                    contribution_fen=d.contributions_fen.get(name),
                )
                for name in rr.FACTORS
            ],
            moved_most=d.moved_most,  # type: ignore[arg-type]
        ),
        stores=rows,
        daily=daily,
    )


# --- frozen -----------------------------------------------------------------------------


def _load(campaign_id: str) -> dict[str, s.Review] | None:
    try:
        item = CampaignReviewModel.get(campaign_id)
    except DoesNotExist:
        return None
    return msgspec.json.decode(gzip.decompress(item.body), type=dict[str, s.Review])


def freeze(campaign_id: str) -> dict[str, s.Review]:
    """Compute the ended campaign's review for both baselines once and store it; a
    second call (or a read) returns what was stored. The campaigns tick job calls it at
    live -> ended. Before the campaign has ended: 409 ``campaign_not_ended``."""
    from chalicelib.kernel.errors import Conflict

    stored = _load(campaign_id)
    if stored is not None:
        return stored
    c = get_campaign(campaign_id)
    if not is_ended(c):
        raise Conflict(
            "The campaign has not ended: its review is live until it does.",
            code="campaign_not_ended",
            details={"campaign_id": campaign_id, "state": c.state, "ends_at": c.ends_at},
        )
    stores = campaign_stores(c)
    first, last = window(c)
    ranges = [(first, last)] + [rr.baseline_period(first, last, b) for b in rr.BASELINES]
    days = read_days([st.store_id for st in stores], ranges)
    out = {
        b: msgspec.structs.replace(compute(c, stores, b, days=days), frozen=True)
        for b in rr.BASELINES
    }
    raw = msgspec.json.encode(out)
    item = CampaignReviewModel(
        campaign_id,
        body=gzip.compress(raw),
        computed_at=out["before"].computed_at,
        size=len(raw),
    )
    try:
        # the first freeze wins; one that lost a race serves the winner's figures
        item.save(condition=CampaignReviewModel.campaign_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return _load(campaign_id) or out
    log.info("campaign %s: review frozen (%d bytes)", campaign_id, len(raw))
    return out


def review(principal: Principal, campaign_id: str, baseline: str = "before") -> s.Review:
    """Head office: the whole campaign, frozen once ended, live before. A store manager:
    their own store in the campaign (403 ``other_store`` when it is not in it)."""
    c = get_campaign(campaign_id)
    if not principal.is_hq:
        own = [st for st in campaign_stores(c) if st.store_id == principal.store_id]
        if not own:
            raise Forbidden(
                "Your store is not in this campaign.",
                code="other_store",
                details={"campaign_id": campaign_id},
            )
        return compute(c, own, baseline, whole_campaign=False)
    if is_ended(c):
        return freeze(campaign_id)[baseline]
    return compute(c, campaign_stores(c), baseline)
