"""The read side of storefront traffic: a window of counters per store and day, for
head office's traffic figures and a campaign's review. One Query per store (run
concurrently), so a 30-day review over 200 stores is 200 small Queries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from chalicelib.auth.principal import Principal, require_store_access
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.stores.models import StoreModel
from chalicelib.traffic import schemas as s
from chalicelib.traffic.models import ALL_CAMPAIGNS, NO_CAMPAIGN, TrafficDayModel
from chalicelib.traffic.rules import COUNTERS, DISTINCT_COUNTERS, EVENT_COUNTERS, Counts

MAX_WORKERS = 16


def counts(
    store_ids: list[str], first_day: str, last_day: str, campaign_id: str | None = None
) -> dict[tuple[str, str], Counts]:
    """(store, local day) -> Counts between two local days (inclusive). With a
    ``campaign_id``: only the events that named that campaign; without: every event
    (each campaign's and those naming none, summed)."""

    def one(store_id: str) -> list[TrafficDayModel]:
        cond = TrafficDayModel.day_campaign.between(f"{first_day}#", f"{last_day}#~")
        return list(TrafficDayModel.query(store_id, cond))

    out: dict[tuple[str, str], Counts] = {}
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        for items in pool.map(one, store_ids):
            for item in items:
                day, campaign = item.day_campaign.split("#", 1)
                wanted: tuple[str, ...]
                if campaign_id is not None:
                    if campaign != campaign_id:
                        continue
                    wanted = COUNTERS
                elif campaign == ALL_CAMPAIGNS:
                    wanted = DISTINCT_COUNTERS
                else:
                    wanted = EVENT_COUNTERS
                got = Counts(**{c: int(getattr(item, c) or 0) for c in wanted})
                out.setdefault((item.store_id, day), Counts()).add(got)
    return out


__all__ = ["NO_CAMPAIGN", "counts", "report"]


MAX_REPORT_DAYS = 92


def report(principal: Principal, query: s.TrafficQuery) -> s.TrafficReport:
    """Head office's per-day figures (``GET /admin/traffic``): one store, or every store
    summed when head office names none; a store manager sees their own store only."""
    store_id = query.store_id or (None if principal.is_hq else principal.store_id)
    if store_id is not None:
        require_store_access(principal, store_id)
    last = _day(query.to, "to") if query.to else _today()
    first = _day(query.from_, "from") if query.from_ else last - timedelta(days=6)
    if first > last or (last - first).days >= MAX_REPORT_DAYS:
        raise ValidationFailed(
            f"'from' must be on or before 'to', at most {MAX_REPORT_DAYS} days apart.",
            code="bad_window",
            details=[field_error("from", "after 'to' or too far before it")],
        )
    if store_id is not None:
        store_ids = [store_id]
    else:
        store_ids = [m.store_id for m in StoreModel.by_listing.query("stores")]
    found = counts(store_ids, first.isoformat(), last.isoformat(), query.campaign_id)
    by_day: dict[str, Counts] = {}
    for (_, day), c in found.items():
        by_day.setdefault(day, Counts()).add(c)
    days, total = [], Counts()
    d = first
    while d <= last:
        c = by_day.get(d.isoformat(), Counts())
        total.add(c)
        days.append(s.TrafficDay(day=d.isoformat(), **asdict(c)))
        d += timedelta(days=1)
    return s.TrafficReport(
        store_id=store_id,
        from_=first.isoformat(),
        to=last.isoformat(),
        campaign_id=query.campaign_id,
        days=days,
        total=s.TrafficCounts(**asdict(total)),
    )


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' is not a date (YYYY-MM-DD).",
            code="bad_window",
            details=[field_error(name, "not a date")],
        ) from None


def _today() -> date:
    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
