"""Demo data for the lottery free order (issue 17 item 2): a live campaign holding an
open lottery whose window is today (the chain's local day), created through the
lottery's service (its seed drawn and sealed, its hash published). Idempotent: a second
run finds both and writes nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

CAMPAIGN_ID = "demo-lottery"
LOTTERY_ID = "lot-demo"
CHAIN_TZ = ZoneInfo("Asia/Shanghai")


def seed_lottery() -> bool:
    """True when something was written."""
    import msgspec
    from chalicelib.auth.principal import HQ_ADMIN, Principal
    from chalicelib.campaign_budgets.models import CampaignModel, starts_key
    from chalicelib.db.writes import is_condition_failure
    from chalicelib.kernel import clock
    from chalicelib.kernel.errors import NotFound
    from chalicelib.lottery import service
    from chalicelib.lottery.schemas import LotteryBody
    from pynamodb.exceptions import PutError

    try:
        service.get_model(LOTTERY_ID)
        return False
    except NotFound:
        pass
    today = clock.now().astimezone(CHAIN_TZ).date()
    start = datetime.combine(today, time(), CHAIN_TZ)
    end = start + timedelta(days=1)
    now = clock.now_iso()
    c_starts = clock.iso(start - timedelta(days=1))
    budget = 200_000
    # The campaign item as the campaigns feature stores a launched one (its launch runs
    # a checklist with a test order; the demo needs it live now).
    try:
        CampaignModel(
            CAMPAIGN_ID,
            name="周末免单节",
            grade="B",
            state="live",
            starts_at=c_starts,
            ends_at=clock.iso(start + timedelta(days=7)),
            starts_key=starts_key(c_starts, CAMPAIGN_ID),
            budget_hq_fen=budget,
            budget_fen=budget,
            left_fen=budget,
            created_by="hq-admin",
            created_at=now,
            updated_at=now,
        ).save(condition=CampaignModel.campaign_id.does_not_exist())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
    body = {
        "campaign_id": CAMPAIGN_ID,
        "name": "今日下单抽 5 人免单",
        "starts_at": clock.iso(start),
        "ends_at": clock.iso(end),
        "draw_at": clock.iso(end + timedelta(hours=10)),
        "winners": 5,
        "eligibility": "all",
        "cap_fen": 20_000,
    }
    service.create(
        Principal("hq-admin", HQ_ADMIN), msgspec.convert(body, LotteryBody), lottery_id=LOTTERY_ID
    )
    return True
