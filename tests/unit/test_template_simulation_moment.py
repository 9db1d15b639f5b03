"""When a simulated coupon of a template is used (campaigns/simulate.template_moment):
now when it is usable now, else its window's start, then the next opening of its
recurring hours. Pure: the template is built in memory, nothing is read."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.campaigns.simulate import template_moment
from chalicelib.coupons.models import CouponTemplateModel

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SH)  # a Monday, 10:00 local


def template(**fields) -> CouponTemplateModel:
    return CouponTemplateModel("tpl", name="t", kind="amount_off", **fields)


def test_days_after_claim_and_an_open_window_are_used_now():
    assert template_moment(template(days_after_claim=7), NOW) == NOW
    opened = template(starts_at="2026-12-01T00:00:00Z", ends_at="2026-12-31T00:00:00Z")
    assert template_moment(opened, NOW) == NOW


def test_a_future_window_is_used_at_its_start():
    later = template(starts_at="2026-12-20T02:00:00Z", ends_at="2026-12-31T00:00:00Z")
    assert template_moment(later, NOW) == datetime(2026, 12, 20, 10, 0, tzinfo=SH)


def test_recurring_hours_move_it_to_the_next_opening():
    wednesdays = template(days_after_claim=7, rec_weekdays=[3], rec_start="18:00", rec_end="21:00")
    assert template_moment(wednesdays, NOW) == datetime(2026, 12, 9, 18, 0, tzinfo=SH)
    on_now = template(days_after_claim=7, rec_weekdays=[1], rec_start="09:00", rec_end="11:00")
    assert template_moment(on_now, NOW) == NOW
    # a future window first, then its recurring hours: Sunday 12-20 -> Wednesday 12-23
    both = template(
        starts_at="2026-12-20T02:00:00Z",
        ends_at="2026-12-31T00:00:00Z",
        rec_weekdays=[3],
        rec_start="18:00",
        rec_end="21:00",
    )
    assert template_moment(both, NOW) == datetime(2026, 12, 23, 18, 0, tzinfo=SH)
