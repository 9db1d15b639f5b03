"""reports/rules.py: a day's rollup, the latency histogram, ranges."""

from __future__ import annotations

from datetime import date

from chalicelib.reports import rules as r


def order(paid_fen=1000, refunded_fen=0, cancelled=False, lines=(), latency=None, missed=False):
    return r.DayOrder(
        paid=True,
        paid_fen=paid_fen,
        refunded_fen=refunded_fen,
        cancelled=cancelled,
        lines=tuple(lines),
        latency_s=latency,
        missed=missed,
    )


def test_lines_round_trip_in_their_compact_form():
    lines = (r.Line("100", 2, 1980), r.Line("a:b", 1, 5))
    assert r.encode_lines(lines) == "100:2:1980;a:b:1:5"
    assert r.decode_lines(r.encode_lines(lines)) == lines
    assert r.decode_lines(None) == () and r.decode_lines("") == ()


def test_a_day_counts_sales_not_cancelled_or_unpaid_orders():
    cats = {"100": "水果", "200": "蔬菜"}
    f = r.day_figures(
        [
            order(1000, lines=[r.Line("100", 2, 800)], latency=3, missed=True),
            order(2000, refunded_fen=300, lines=[r.Line("200", 1, 2000)], latency=12),
            order(5000, refunded_fen=5000, cancelled=True, lines=[r.Line("100", 9, 5000)]),
            r.DayOrder(paid=False, paid_fen=0, refunded_fen=0, cancelled=False),
        ],
        cats,
    )
    assert (f.orders, f.paid_fen, f.refunded_fen, f.refund_orders) == (2, 3000, 300, 1)
    assert (f.cancelled, f.printed, f.missed) == (1, 2, 1)
    assert f.categories == {"水果": [800, 2], "蔬菜": [2000, 1]}
    assert f.products == {"100": [2, 800], "200": [1, 2000]}
    assert f.hist[r.bucket(3)] == 1 and f.hist[r.bucket(12)] == 1
    assert r.aov_fen(f.paid_fen, f.orders) == 1500
    assert r.refund_rate(f.refunded_fen, f.paid_fen) == 0.1


def test_days_add_up_and_keep_the_top_products():
    a = r.day_figures([order(100, lines=[r.Line(str(n), 1, 100 + n) for n in range(30)])], {})
    assert len(a.products) == r.TOP_KEPT and "29" in a.products and "0" not in a.products
    b = r.day_figures([order(50, lines=[r.Line("29", 2, 10)])], {})
    a.add(b)
    assert (a.orders, a.paid_fen, a.products["29"]) == (2, 150, [3, 139])
    assert r.top_products(a.products, 1) == [("29", [3, 139])]


def test_latency_percentiles_come_from_the_histogram():
    hist = [0] * (len(r.LATENCY_BOUNDS_S) + 1)
    assert r.hist_percentile(hist, 50) is None
    hist[r.bucket(3)] = 4  # four orders in (2, 5]
    assert r.hist_percentile(hist, 50) == 3.5
    assert r.hist_percentile(hist, 100) == 5.0
    hist[-1] = 1  # one beyond the last bound reads as that bound
    assert r.hist_percentile(hist, 100) == 600.0
    assert r.bucket(2) == 0 and r.bucket(2.1) == 1 and r.bucket(10_000) == len(r.LATENCY_BOUNDS_S)


def test_ranges_and_the_previous_period():
    assert r.days_between(date(2026, 2, 27), date(2026, 3, 1)) == [
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
    ]
    assert r.previous_period(date(2026, 3, 1), date(2026, 3, 7)) == (
        date(2026, 2, 22),
        date(2026, 2, 28),
    )
