"""The read side of storefront traffic: a window of counters per store and day, for
head office's traffic figures and a campaign's review. One Query per store (run
concurrently), so a 30-day review over 200 stores is 200 small Queries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.traffic.models import NO_CAMPAIGN, TrafficDayModel
from chalicelib.traffic.rules import COUNTERS, Counts

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
                if campaign_id is not None and campaign != campaign_id:
                    continue
                got = Counts(**{c: int(getattr(item, c) or 0) for c in COUNTERS})
                out.setdefault((item.store_id, day), Counts()).add(got)
    return out


__all__ = ["NO_CAMPAIGN", "counts"]
