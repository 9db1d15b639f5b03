"""Scheduled jobs: plain functions that AWS runs from ``@app.schedule`` (app.py) and the
local stack's worker runs on its own timer (infra/local/worker.py)."""

from __future__ import annotations

import logging

from chalicelib.kernel import memo

log = logging.getLogger("daojia.jobs")


def expire_unpaid() -> None:
    """Unpaid orders past their payment deadline expire and give their stock back."""
    from chalicelib.orders.service import expire_due

    n = expire_due()
    if n:
        log.info("expired %d unpaid orders", n)


def print_watchdog(period_s: float = 60) -> None:
    """Print jobs not acknowledged in time are re-sent and shown as missed (漏单).
    ``period_s``: how often this runs (AWS: every minute; the local stack: 5 s)."""
    from chalicelib.printing.watchdog import run

    run(period_s=period_s)


def auto_complete() -> None:
    """Delivered orders the customer did not confirm complete after the set days."""
    from chalicelib.orders.store_workflow import auto_complete_due

    auto_complete_due()


def retry_refunds() -> None:
    """Refunds the payment provider has not confirmed are tried again."""
    from chalicelib.orders.refunds import retry_pending

    retry_pending()


def coupon_reminders() -> None:
    """Customers are reminded of available coupons expiring within 3 days (once each)."""
    from chalicelib.coupons.reminders import run

    n = run(within_days=3)
    if n:
        log.info("recorded %d coupon expiry reminders", n)


def retry_events() -> None:
    """Event deliveries that failed are tried again when due, then parked (events/)."""
    from chalicelib.events.dispatch import retry_due

    n = retry_due()
    if n:
        log.info("delivered %d event(s) on retry", n)


def report_rollups() -> None:
    """Today's and yesterday's sales rollups of every store, from their sources."""
    from chalicelib.reports.service import rollup_recent

    rollup_recent(days=2, timing=False)  # punctuality: the daily settle pass reads it


def report_settle() -> None:
    """The last 14 days rolled up again: refunds and returns that came later."""
    from chalicelib.reports.service import SETTLE_DAYS, rollup_recent

    rollup_recent(days=SETTLE_DAYS)


def points_settle() -> None:
    """Pending points that matured become spendable; lots due expire (expiry entries)."""
    from chalicelib.loyalty.points import settle_due

    with memo.scope():  # the settings once per run, not once per member (kernel/memo.py)
        n = settle_due()
    if n:
        log.info("settled the points of %d member(s)", n)


def levels_daily() -> None:
    """Birthday coupons of today's birthdays (once a year each) and the level review of
    the downgrade rule (notices, then lowered levels). Hourly: a rerun gives nothing twice,
    and a missed run is made up within the day."""
    from chalicelib.loyalty.growth import birthday_gifts, review_levels

    with memo.scope():  # the settings once per run, not once per member (kernel/memo.py)
        gifts = birthday_gifts()
        lowered = review_levels()
    if gifts or lowered:
        log.info("birthday coupons: %d; levels lowered: %d", gifts, lowered)


def paid_card_packs() -> None:
    """Each paid member's monthly coupon pack, once per membership month."""
    from chalicelib.loyalty.paid_membership import issue_packs

    with memo.scope():  # the settings once per run, not once per member (kernel/memo.py)
        n = issue_packs()
    if n:
        log.info("issued %d monthly coupon pack(s)", n)


def segments_nightly() -> None:
    """The segments snapshot (customers/segment_snapshot.py): RFM, lifecycle dates, 20/80
    and new members from a parallel Scan of the members' aggregates, once a night at
    03:00 Asia/Shanghai (a rerun writes a new snapshot and moves the pointer); then the
    members' saved segments whose set changed (customers/segment_memberships.py)."""
    from chalicelib.customers.segments import run_refresh

    got = run_refresh()
    log.info("segments snapshot: %d members as of %s", got["members"], got["as_of"])


# (name, minutes between runs in AWS, seconds between runs in the local stack, function)
def member_day_packs() -> None:
    """Member days for a saved segment starting today (Asia/Shanghai): their coupon pack
    goes to the segment's members (customers/segments.py start_member_day_pack; once per
    member day and occurrence however often this runs)."""
    from chalicelib.customers.segments import start_member_day_pack
    from chalicelib.kernel import clock
    from chalicelib.promotions import member_day as md
    from chalicelib.promotions.service import due_segment_member_days

    now = clock.now()
    today = md.local_day(now)
    for promotion_id, segment_id in due_segment_member_days(now):
        action = start_member_day_pack(promotion_id, md.day_key(today), segment_id)
        log.info("member day %s: pack for %d members", promotion_id, action.targeted)


def campaigns_tick() -> None:
    """Scheduled campaigns whose start passed go live, live ones past their end end
    (campaigns/service.py tick; they already show so on read; a rerun moves nothing)."""
    from chalicelib.campaigns.service import tick

    n = tick()
    if n:
        log.info("campaigns: %d moved by their window", n)


def store_uptime_sample() -> None:
    """Store TOP tiers' T: one 5-minute slot per store inside its business hours, up when
    active with a healthy relay (store_tiers/service.py; a replayed slot counts once)."""
    from chalicelib.store_tiers.service import sample_uptime

    sample_uptime()


def store_tiers_monthly() -> None:
    """Store TOP tiers: last month scored for every store (1st of the month, 02:00
    Asia/Shanghai in AWS; a rerun rewrites the same items)."""
    from chalicelib.store_tiers.service import score_previous_month

    n = score_previous_month()
    log.info("store tiers: last month scored for %d store(s)", n)


def subscription_orders() -> None:
    """Subscription delivery: each delivery whose cutoff passed becomes its order, once
    (subscriptions/daily.py; a rerun, or two at once, make one order)."""
    from chalicelib.subscriptions.daily import run

    counts = run()
    if counts:
        log.info("subscription deliveries: %s", counts)


def group_buys_expire() -> None:
    """Open groups past their expiry fail (members refunded) or are completed, per the
    offer; half-settled groups are settled again (group_buys/service.py expire_due)."""
    from chalicelib.group_buys.service import expire_due

    n = expire_due()
    if n:
        log.info("group buys: %d groups closed at expiry", n)


SCHEDULES = [
    ("expire_unpaid", 1, 10, expire_unpaid),
    ("print_watchdog", 1, 5, print_watchdog),
    ("auto_complete", 60, 60, auto_complete),
    ("retry_refunds", 5, 30, retry_refunds),
    # daily in AWS; every 5 minutes locally (a rerun records nothing twice)
    ("coupon_reminders", 24 * 60, 300, coupon_reminders),
    ("retry_events", 1, 10, retry_events),
    ("report_rollups", 10, 60, report_rollups),
    ("report_settle", 24 * 60, 3600, report_settle),
    ("points_settle", 15, 60, points_settle),
    ("levels_daily", 60, 300, levels_daily),
    ("paid_card_packs", 60, 300, paid_card_packs),
    # nightly in AWS (a cron at 03:00 Shanghai); hourly locally
    ("segments_nightly", 24 * 60, 3600, segments_nightly),
    ("member_day_packs", 60, 300, member_day_packs),
    ("campaigns_tick", 1, 60, campaigns_tick),
    # store TOP tiers: uptime every 5 minutes (locally too); the monthly scoring is a
    # cron on the 1st in AWS, hourly locally (idempotent)
    ("store_uptime_sample", 5, 300, store_uptime_sample),
    ("store_tiers_monthly", 31 * 24 * 60, 3600, store_tiers_monthly),
    # subscription delivery: every 15 minutes in AWS, every minute locally
    ("subscription_orders", 15, 60, subscription_orders),
    ("group_buys_expire", 1, 60, group_buys_expire),
]
