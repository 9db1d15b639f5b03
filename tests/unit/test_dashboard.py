"""The dashboard's arithmetic (dashboard/rules.py), without AWS."""

import statistics
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from chalicelib.dashboard import rules as d


def test_percentiles_interpolate_between_the_nearest_ranks():
    assert d.percentile([], 50) is None
    assert d.percentile([4.0], 50) == 4.0 and d.percentile([4.0], 95) == 4.0
    assert d.percentile([10.0, 4.0], 50) == 7.0  # unsorted input
    assert d.percentile([4.0, 10.0], 95) == 9.7
    values = [3.0, 1.0, 9.0, 4.0, 12.0, 2.0, 30.0]
    assert d.percentile(values, 0) == 1.0 and d.percentile(values, 100) == 30.0
    assert d.percentile(values, 50) == 4.0
    assert d.percentile(values, 95) == 24.6  # 12 + (30 - 12) * 0.7
    with pytest.raises(ValueError):
        d.percentile(values, 101)


def test_percentiles_agree_with_the_standard_library():
    values = [float(v) for v in (5, 1, 8, 13, 2, 2, 40, 7, 6, 3, 21)]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert d.percentile(values, 50) == round(cuts[49], 1)
    assert d.percentile(values, 95) == round(cuts[94], 1)


def test_figures_sum_money_in_fen_and_round_the_average_down():
    orders = [
        d.PaidOrder(paid_fen=4490, refunded_fen=0, print_latency_s=4.0),
        d.PaidOrder(paid_fen=3001, refunded_fen=3001, print_latency_s=10.0),
        d.PaidOrder(paid_fen=1000, refunded_fen=250, print_latency_s=None),
    ]
    f = d.figures(orders)
    assert f == d.Figures(
        orders=3,
        gmv_fen=8491,
        average_order_fen=2830,  # 8491 // 3
        refunded_fen=3251,
        printed=2,
        print_latency_p50_s=7.0,
        print_latency_p95_s=9.7,
    )
    assert isinstance(f.gmv_fen, int) and isinstance(f.average_order_fen, int)


def test_payments_an_order_could_not_take_count_as_refunds_not_sales():
    orders = [
        d.PaidOrder(paid_fen=4490, refunded_fen=0, print_latency_s=4.0, returned_payments_fen=4490),
        # expired, then its payment arrived and went back: a refund, not an order
        d.PaidOrder(
            paid_fen=0, refunded_fen=0, print_latency_s=None, returned_payments_fen=990, paid=False
        ),
    ]
    f = d.figures(orders)
    assert (f.orders, f.gmv_fen, f.average_order_fen, f.refunded_fen) == (1, 4490, 4490, 5480)


def test_no_orders_give_zeros_and_no_latency():
    assert d.figures([]) == d.Figures(0, 0, 0, 0, 0, None, None)
    assert d.day_totals([]) == (0, 0)
    assert d.day_totals([100, 250]) == (2, 350)


def test_latency_is_seconds_from_payment_to_print_never_negative():
    assert d.latency_s("2026-11-24T02:30:00Z", "2026-11-24T02:30:04Z") == 4.0
    assert d.latency_s("2026-11-24T02:30:00Z", "2026-11-24T02:30:00.500Z") == 0.5
    assert d.latency_s("2026-11-24T02:30:05Z", "2026-11-24T02:30:04Z") == 0.0


def test_the_business_day_is_the_stores_calendar_day():
    shanghai = ZoneInfo("Asia/Shanghai")
    late_utc = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 01:00 on the 25th in Shanghai
    assert d.business_day(late_utc, shanghai) == date(2026, 11, 25)
    assert d.business_day(late_utc, ZoneInfo("Europe/London")) == date(2026, 11, 24)


def test_the_last_days_end_today_oldest_first_across_a_month():
    assert d.last_days(date(2026, 12, 2), 3) == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert d.last_days(date(2026, 12, 2), 1) == ["2026-12-02"]


def test_trends_add_up_day_by_day():
    dates = ["2026-11-23", "2026-11-24"]
    a = [d.TrendDay("2026-11-23", 2, 500), d.TrendDay("2026-11-24", 1, 100)]
    b = [d.TrendDay("2026-11-23", 0, 0), d.TrendDay("2026-11-24", 3, 900)]
    assert d.sum_trends([a, b], dates) == [
        d.TrendDay("2026-11-23", 2, 500),
        d.TrendDay("2026-11-24", 4, 1000),
    ]
    assert d.sum_trends([], dates) == [
        d.TrendDay("2026-11-23", 0, 0),
        d.TrendDay("2026-11-24", 0, 0),
    ]
