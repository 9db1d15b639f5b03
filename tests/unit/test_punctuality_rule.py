"""reports.rules.on_time: the promised pick and delivery (or pickup) times, from payment."""

from chalicelib.reports import rules as r

M = 60


def test_on_time_when_both_promises_kept_exactly():
    assert r.on_time("delivery", 0, r.PICK_WITHIN_S, r.DELIVER_WITHIN_S, 10_000) is True
    assert r.on_time("pickup", 0, r.PICK_WITHIN_S, r.PICKUP_WITHIN_S, 10_000) is True


def test_late_pick_or_late_delivery():
    assert r.on_time("delivery", 0, r.PICK_WITHIN_S + 1, 30 * M, 10_000) is False
    assert r.on_time("delivery", 0, 5 * M, r.DELIVER_WITHIN_S + 1, 10_000) is False
    assert r.on_time("pickup", 0, 5 * M, r.PICKUP_WITHIN_S + 1, 10_000) is False


def test_under_way_is_unknown_until_a_promise_has_passed():
    assert r.on_time("delivery", 0, None, None, 10 * M) is None
    assert r.on_time("delivery", 0, 5 * M, None, 50 * M) is None
    assert r.on_time("delivery", 0, None, None, 21 * M) is False  # not picked after 21 min
    assert r.on_time("delivery", 0, 5 * M, None, 61 * M) is False  # not delivered after 61


def test_day_figures_count_timed_sales_only():
    orders = [
        r.DayOrder(paid=True, paid_fen=100, refunded_fen=0, cancelled=False, on_time=True),
        r.DayOrder(paid=True, paid_fen=100, refunded_fen=0, cancelled=False, on_time=False),
        r.DayOrder(paid=True, paid_fen=100, refunded_fen=0, cancelled=False, on_time=None),
        r.DayOrder(paid=True, paid_fen=100, refunded_fen=0, cancelled=True, on_time=True),
    ]
    f = r.day_figures(orders, {})
    assert (f.on_time, f.timed, f.orders) == (1, 2, 3)
