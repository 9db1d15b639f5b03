"""Store TOP tiers' scoring from constructed months (store_tiers/rules.py): thresholds met
exactly, O unknown, no business hours, a store opened mid-month, nothing known."""

from chalicelib.store_tiers import rules as r

TH = r.DEFAULTS


def month(**kw) -> r.Inputs:
    base = dict(
        open_slots=1000, up_slots=1000, orders=300, transactions=1000, on_time=95, timed=100
    )
    base.update(kw)
    return r.Inputs(**base)


def test_thresholds_met_exactly_give_the_tier():
    got = r.score(month(up_slots=950, orders=300, on_time=95), TH)
    assert (got.t_bp, got.o_bp, got.p_bp, got.tier) == (9500, 3000, 9500, "S")
    # one basis point under S's T: A
    assert r.score(month(up_slots=949, open_slots=1000), TH).tier == "A"


def test_each_tier_and_c_below_b():
    assert r.score(month(up_slots=900, orders=200, on_time=90), TH).tier == "A"
    assert r.score(month(up_slots=800, orders=100, on_time=80), TH).tier == "B"
    assert r.score(month(up_slots=799), TH).tier == "C"
    # the lowest figure decides: T of S, O of B only
    assert r.score(month(orders=150), TH).tier == "B"


def test_o_unknown_tier_on_t_and_p():
    got = r.score(month(transactions=None, orders=5000), TH)
    assert got.o_bp is None and got.unknown == ("o",) and got.tier == "S"
    assert r.score(month(transactions=0), TH).unknown == ("o",)


def test_no_business_hours_in_the_month():
    got = r.score(month(open_slots=0, up_slots=0), TH)
    assert got.t_bp is None and got.unknown == ("t",) and got.tier == "S"


def test_nothing_known_is_c():
    got = r.score(r.Inputs(), TH)
    assert (got.tier, got.unknown) == ("C", ("t", "o", "p"))


def test_a_store_opened_mid_month_counts_only_its_slots():
    # opened on the 16th: 15 days of slots, all up, is a full T
    got = r.score(month(open_slots=15 * 144, up_slots=15 * 144), TH)
    assert got.t_bp == 10000 and got.tier == "S"


def test_custom_thresholds():
    th = {"S": r.Threshold(100, 100, 100), "A": r.Threshold(0, 0, 0), "B": r.Threshold(0, 0, 0)}
    assert r.score(month(), th).tier == "A"


def test_months():
    assert r.previous_month("2026-01") == "2025-12"
    assert r.months_back("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert r.month_days("2024-02") == ("2024-02-01", "2024-02-29")
    assert r.valid_month("2026-12") and not r.valid_month("2026-13") and not r.valid_month("26-1")
    assert r.slot_of(299) == 0 and r.slot_of(300) == 1
