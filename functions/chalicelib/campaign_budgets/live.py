"""The spending campaigns, for pricing: state scheduled or live, window containing now,
with their budget left. One Query of ``CampaignModel.by_listing`` kept LIVE_CACHE_S per
Lambda container (like promotions' ``active_for``), so an order reads no campaign in
steady state. The cache may be a few seconds stale: the order's transaction re-checks the
budget and the state (``repo.spend_piece``), so staleness can refuse an order, never
overspend."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.kernel import clock

LIVE_CACHE_S = 5.0
SPENDING_STATES = ("scheduled", "live")


@dataclass(frozen=True)
class LiveCampaign:
    campaign_id: str
    left_fen: int
    starts_at: str
    ends_at: str

    def spending_at(self, now_iso: str) -> bool:
        return self.starts_at <= now_iso < self.ends_at


_cache: tuple[float, tuple[LiveCampaign, ...]] | None = None
# Campaigns priced as spending within ``assuming`` (the launch checklist's test order).
_assumed: ContextVar[tuple[LiveCampaign, ...]] = ContextVar("assumed_campaigns", default=())


def forget_cache() -> None:
    """Drop this container's cache (after a change, and in tests)."""
    global _cache
    _cache = None


def _spending_models(now_iso: str) -> tuple[LiveCampaign, ...]:
    # Campaigns that started by now, in a spending state; the end is checked per call.
    q = CampaignModel.by_listing.query(
        "campaigns",
        CampaignModel.starts_key <= f"{now_iso}#\uffff",
        filter_condition=CampaignModel.state.is_in(*SPENDING_STATES)
        & (CampaignModel.ends_at > now_iso),
    )
    return tuple(
        LiveCampaign(m.campaign_id, int(m.left_fen or 0), m.starts_at, m.ends_at) for m in q
    )


def spending(now_iso: str | None = None) -> dict[str, int]:
    """campaign_id -> left_fen of the campaigns spending now. At most one Query (none
    within the cache). A campaign that starts within the cache's age is picked up at
    the next refresh."""
    global _cache
    now_iso = now_iso or clock.now_iso()
    cached = _cache
    if cached is None or time.monotonic() - cached[0] >= LIVE_CACHE_S:
        cached = (time.monotonic(), _spending_models(now_iso))
        _cache = cached
    live = {c.campaign_id: c.left_fen for c in cached[1] if c.spending_at(now_iso)}
    live.update({c.campaign_id: c.left_fen for c in _assumed.get() if c.spending_at(now_iso)})
    return live


@contextmanager
def assuming(campaign: LiveCampaign) -> Iterator[None]:
    """Price ``campaign`` as spending within the block, whatever its state: the launch
    checklist quotes a draft campaign's test order as it will be once launched. Only
    pricing sees it; placing's transaction still checks the stored state."""
    token = _assumed.set((*_assumed.get(), campaign))
    try:
        yield
    finally:
        _assumed.reset(token)
