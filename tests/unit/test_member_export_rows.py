"""The member list's and the member ledgers' export columns and rows (no AWS: records
built in memory)."""

from chalicelib.exports import columns
from chalicelib.exports.csv_writer import CsvEncoder, LocalTime, Yuan
from chalicelib.exports.sources import member_row, points_row, stored_value_row
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel.privacy import mask_phone
from chalicelib.loyalty.models import PointsEntryModel
from chalicelib.stored_value.models import StoredValueEntryModel

ZONE = "Asia/Shanghai"


def _member(phone: str | None = "13912345678") -> CustomerModel:
    return CustomerModel(
        "c-1",
        phone=phone,
        nickname="=王女士",
        home_store_id="sh-a",
        source_kind="shelf",
        marketing_consent="granted",
        created_at="2026-12-05T01:15:00.123Z",
    )


def test_every_new_kind_has_headers_in_both_languages_matching_its_rows():
    points = PointsEntryModel(
        "c-1", "earn:order:1", at="2026-12-05T01:15:00Z", kind="earn", delta=10, balance_after=10
    )
    sv = StoredValueEntryModel(
        "c-1",
        "top_up:t-1",
        kind="top_up",
        principal_fen=10000,
        bonus_fen=500,
        reason="充值",
        created_at="2026-12-05T01:15:00Z",
    )
    rows = {
        "members": member_row(_member(), ZONE, mask=False),
        "points_entries": points_row(points, ZONE),
        "stored_value_entries": stored_value_row(sv, ZONE),
    }
    for kind, row in rows.items():
        zh, en = columns.header(kind, "zh-CN", ZONE), columns.header(kind, "en", ZONE)
        assert len(zh) == len(en) == len(row), kind
    assert columns.header("members", "en", ZONE)[-1] == "Registered at (Asia/Shanghai)"
    assert columns.header("stored_value_entries", "zh-CN", ZONE)[2:5] == [
        "本金（元）",
        "赠送金（元）",
        "合计（元）",
    ]
    assert columns.header("points_entries", "zh-CN", ZONE)[0] == "时间（Asia/Shanghai）"


def test_a_member_row_masks_the_phone_as_the_list_does_or_shows_it_whole():
    masked = member_row(_member(), ZONE, mask=True)
    whole = member_row(_member(), ZONE, mask=False)
    assert masked[1] == mask_phone("13912345678") == "139****5678"
    assert whole[1] == "13912345678"
    assert masked[0] == "c-1" and masked[2:6] == ["=王女士", "sh-a", "shelf", "granted"]
    assert masked[6] == LocalTime("2026-12-05T01:15:00.123Z", ZONE)
    # an erased member's empty phone stays empty, and a nickname is never run as a formula
    assert member_row(_member(None), ZONE, mask=True)[1] == ""
    text = CsvEncoder().rows([masked]).decode("utf-8")
    assert text == "c-1,139****5678,'=王女士,sh-a,shelf,granted,2026-12-05 09:15:00\r\n"


def test_points_and_stored_value_rows():
    e = PointsEntryModel(
        "c-1",
        "adjust:adj-1",
        at="2026-12-05T01:15:00Z",
        kind="adjust",
        delta=-300,
        debt=100,
        balance_after=-100,
        reason="duplicate credit",
        actor="hq-admin",
        expires_at=None,
    )
    assert points_row(e, ZONE) == [
        LocalTime("2026-12-05T01:15:00Z", ZONE),
        "adjust",
        -300,
        100,
        -100,
        "duplicate credit",
        "hq-admin",
        None,
        LocalTime(None, ZONE),
        LocalTime(None, ZONE),
        "adjust:adj-1",
    ]
    sv = StoredValueEntryModel(
        "c-1",
        "pay:o-1",
        kind="pay",
        principal_fen=-950,
        bonus_fen=-50,
        reason="订单支付",
        order_id="o-1",
        created_at="2026-12-05T01:15:00Z",
    )
    row = stored_value_row(sv, ZONE)
    assert row[1:5] == ["pay", Yuan(-950), Yuan(-50), Yuan(-1000)]
    text = CsvEncoder().rows([row]).decode("utf-8")
    assert text == "2026-12-05 09:15:00,pay,-9.50,-0.50,-10.00,订单支付,,o-1,pay:o-1\r\n"


def test_a_ledger_file_is_named_by_its_member():
    assert columns.file_name("points_entries", None, None, None, "c-1") == "points_entries_c-1.csv"
    assert (
        columns.file_name("members", "sh-a", "2025-12-05", "2026-12-05")
        == "members_sh-a_2025-12-05_2026-12-05.csv"
    )
