"""Tickets: render print-job messages, decode the ESC/POS bytes back, check what prints."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from print_relay import gbk, layout, tickets
from tests.relay.escpos_decoder import Decoded, decode

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/schemas/print-job.v1.json").read_text("utf-8")
)
COLS = {58: 32, 80: 48}


def _valid(message: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(message, SCHEMA)
    return message


def _line(sku, name, unit, qty, price, zone, shelf, fresh=False, cat=("日用", "纸品")):
    return {
        "sku": sku,
        "name": name,
        "unit": unit,
        "qty": qty,
        "unit_price_fen": price,
        "amount_fen": price * qty,
        "zone": zone,
        "shelf": shelf,
        "category1": cat[0],
        "category2": cat[1],
        "fresh": fresh,
    }


def delivery_order(**overrides: Any) -> dict[str, Any]:
    lines = [
        _line("100231", "赣南脐橙 5斤装", "箱", 1, 3990, "生鲜区", "F-02", True, ("水果", "柑橘")),
        _line("300017", "维达 抽纸 3层 120抽 超长家庭装促销组合", "提", 3, 1234, "日化区", "A-03"),
        _line("300020", "蓝月亮 洗衣液 2kg", "瓶", 1, 4590, "日化区", "A-03"),
        _line("400100", "农夫山泉 550ml", "瓶", 12, 200, "饮料区", "B-07"),
        _line("999999", "散装鸡蛋", "斤", 2, 699, None, None, True, ("蛋品", "鸡蛋")),
    ]
    subtotal = sum(line["amount_fen"] for line in lines)
    message = {
        "schema_version": "1",
        "job_id": "261124K7M2Q9XD-p1",
        "kind": "order",
        "attempt": 1,
        "copies": ["picking", "delivery"],
        "original_job_id": None,
        "store_id": "sh-jingan",
        "store_name": "鲜到家 静安寺店",
        "store_phone": "021-62481234",
        "store_timezone": "Asia/Shanghai",
        "order_id": "261124K7M2Q9XD",
        "daily_seq": 37,
        "business_day": "2026-11-24",
        "fulfilment": "delivery",
        "created_at": "2026-11-24T02:28:41Z",
        "paid_at": "2026-11-24T02:29:58Z",
        "lines": lines,
        "remark": "不要辣，放门口 谢谢😀",
        "pickup_code": None,
        "delivery": {
            "name": "王女士",
            "phone_masked": "138****1234",
            "address": "上海市静安区南京西路1618号 久光中心 2号楼 1201室（前台代收）",
        },
        "amounts": {
            "subtotal_fen": subtotal,
            "discount_fen": 2000,
            "delivery_fee_fen": 500,
            "total_fen": subtotal - 2000 + 500,
        },
        "discounts": [{"label": "满99减20", "amount_fen": 2000}],
        "cancellation": None,
    }
    message.update(overrides)
    return _valid(message)


def pickup_order() -> dict[str, Any]:
    message = delivery_order(fulfilment="pickup", pickup_code="8231", delivery=None)
    message["amounts"] = dict(message["amounts"], delivery_fee_fen=0)
    message["amounts"]["total_fen"] = message["amounts"]["subtotal_fen"] - 2000
    return _valid(message)


def cancellation() -> dict[str, Any]:
    return delivery_order(
        job_id="261124K7M2Q9XD-c1",
        kind="cancellation",
        copies=["slip"],
        original_job_id="261124K7M2Q9XD-p1",
        delivery=None,
        cancellation={"at": "2026-11-24T03:05:00Z", "reason": "顾客申请取消"},
    )


def decoded(message: dict[str, Any], copy_: str, paper: int = 58, late: int = 0) -> Decoded:
    out = decode(tickets.render(message, copy_, paper, late_minutes=late))
    assert out.unknown == [], out.unknown
    assert out.errors == [], out.errors
    return out


def joined(out: Decoded) -> str:
    return "\n".join(out.texts)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------- gbk


def _assert_gbk_safe(raw: bytes) -> None:
    """Only printable ASCII and 2-byte GBK: no 4-byte GB18030, no control bytes."""
    i = 0
    while i < len(raw):
        b = raw[i]
        if 0x20 <= b <= 0x7E:
            i += 1
            continue
        assert 0x81 <= b <= 0xFE, f"bad byte {b:#x} in {raw!r}"
        second = raw[i + 1]
        assert 0x40 <= second <= 0xFE and second != 0x7F, f"not GBK (GB18030 4-byte?) {raw!r}"
        i += 2


def test_gbk_maps_yen_emoji_and_rare_characters() -> None:
    assert gbk.encode("¥12.34") == "￥12.34".encode("gbk")
    assert gbk.encode("😀") == b"?"
    assert gbk.encode("𠀀") == b"?"
    assert gbk.encode("€") == b"EUR"
    assert gbk.encode("a\x1b@\nb") == b"a?@?b"  # data cannot inject commands
    assert gbk.encode("今日第 1 单") == "今日第 1 单".encode("gbk")


def test_no_character_encodes_to_a_4_byte_gb18030_sequence() -> None:
    # planes 0-2 in full (GBK, emoji, CJK extension B such as 𠀀); the rest is unassigned
    # or private use, sampled
    codes = [*range(0x30000), *range(0x30000, 0x110000, 97)]
    every = "".join(chr(c) for c in codes if not 0xD800 <= c <= 0xDFFF)
    raw = gbk.encode(every)
    _assert_gbk_safe(raw)
    for ch in "¥😀𠀀€\u00a0\ue000\U0010ffff":
        part = gbk.encode(ch)
        _assert_gbk_safe(part)
        assert len(part) <= 3


def test_layout_counts_wide_characters_as_two() -> None:
    assert layout.width("今日abc") == 7
    assert layout.width("¥1") == 3  # printed as ￥, a full-width character
    for text in ["上海市静安区南京西路1618号 久光中心 2号楼 1201室", "a" * 70, "x 今" * 30]:
        for limit in (16, 32, 48):
            lines = layout.wrap(text, limit)
            assert all(layout.width(line) <= limit for line in lines)
            assert squash("".join(lines)) == squash(text)
    assert layout.row("左边", "¥9.90", 32)[0].endswith("¥9.90")
    assert all(layout.width(r) == 32 for r in layout.row("左" * 40, "¥9.90", 32)[:1])


# ------------------------------------------------------------------- copies


@pytest.mark.parametrize("paper", [58, 80])
def test_picking_copy(paper: int) -> None:
    out = decoded(delivery_order(), "picking", paper)
    text = joined(out)
    assert "拣货联 1/2" in text
    seq = next(line for line in out.lines if "今日第 37 单" in line.text)
    assert seq.big
    assert "261124K7M2Q9XD" in text
    # grouped by zone then shelf; dry goods before fresh; unknown place last of its kind
    headers = [t for t in out.texts if t.startswith("【")]
    assert [h.split("】")[0] for h in headers] == [
        "【日化区",
        "【饮料区",
        "【生鲜区",
        "【未分区",
    ]
    assert "A-03" in headers[0] and "F-02" in headers[2]
    i_head = out.texts.index(headers[0])
    following = "".join(out.texts[i_head : out.texts.index(headers[1])])
    assert "维达" in following and "蓝月亮" in following
    # quantities printed double size on the item's line
    water = next(line for line in out.lines if "农夫山泉" in line.text)
    qty = [s for s in water.segments if s.text.strip().startswith("x")]
    assert qty and qty[0].text.strip() == "x12瓶" and qty[0].width == qty[0].height == 2
    assert "备注: 不要辣，放门口 谢谢?" in text  # emoji replaced, not sent as GB18030
    assert out.qr_payloads == ["261124K7M2Q9XD"]
    # personal data stays off the picking copy (invariant 9)
    assert "138****1234" not in text and "南京西路" not in text and "王女士" not in text
    assert out.cuts == 1


@pytest.mark.parametrize("paper", [58, 80])
def test_delivery_copy(paper: int) -> None:
    message = delivery_order()
    out = decoded(message, "delivery", paper)
    text = joined(out)
    flat = squash(text)
    assert "配送联 2/2" in text
    assert "今日第 37 单" in text and "261124K7M2Q9XD" in text
    assert "王女士 138****1234" in text
    assert squash(message["delivery"]["address"]) in flat
    assert "取货码" not in text
    # money: full-width yen (GBK has no ¥), two decimals, from integer fen
    assert "￥39.90" in text and "￥37.02" in text  # 3 x 12.34
    assert "满99减20" in text and "-￥20.00" in text
    assert "配送费" in text and "￥5.00" in text
    total = message["amounts"]["total_fen"]
    paid = next(line for line in out.lines if line.text.startswith("实付"))
    assert paid.bold and paid.text.endswith(f"￥{total // 100}.{total % 100:02d}")
    assert "备注: 不要辣，放门口 谢谢?" in text
    assert out.qr_payloads == [message["order_id"]]
    assert out.cuts == 1


def test_pickup_order_prints_the_pickup_code_and_no_address() -> None:
    out = decoded(pickup_order(), "delivery")
    code = next(line for line in out.lines if "取货码" in line.text)
    assert code.text.strip() == "取货码 8231" and code.big
    assert "到店自提" in joined(out)
    assert "地址" not in joined(out)


@pytest.mark.parametrize("copy_", ["picking", "delivery"])
@pytest.mark.parametrize("paper", [58, 80])
def test_init_and_chinese_mode_come_before_any_chinese_text(copy_: str, paper: int) -> None:
    raw = tickets.render(delivery_order(), copy_, paper)
    assert raw.startswith(b"\x1b@\x1c&")
    out = decode(raw)
    first_text = next(
        i for i, e in enumerate(out.events) if e[0] == "text" and any(ord(c) > 127 for c in e[1])
    )
    assert out.index_of("init") < out.index_of("chinese") < first_text
    assert b"\x1bt" not in raw  # no code page switch inside Chinese mode


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("copy_", ["picking", "delivery", "slip"])
def test_every_line_fits_the_paper(copy_: str, paper: int) -> None:
    message = cancellation() if copy_ == "slip" else delivery_order()
    message["remark"] = (
        "请务必在18:00前送达，电梯坏了请走楼梯到12楼，谢谢！Thanks a lot for the help"
    )
    out = decoded(_valid(message), copy_, paper, late=125)
    assert out.lines
    for line in out.lines:
        assert line.columns <= COLS[paper], (line.columns, line.text)


def test_text_content_is_gbk_only() -> None:
    """Every text run between commands is ASCII or 2-byte GBK (no GB18030 4-byte form)."""
    message = delivery_order(remark="𠀀 ¥ 😀 ① ㎡")
    for copy_ in ("picking", "delivery"):
        out = decoded(message, copy_)
        for line in out.lines:
            for seg in line.segments:
                _assert_gbk_safe(seg.raw)
    assert "? ￥ ? ① ㎡" in joined(decoded(message, "delivery"))


def test_reprint_and_late_banners() -> None:
    reprint = delivery_order(
        kind="reprint", job_id="261124K7M2Q9XD-r1", original_job_id="261124K7M2Q9XD-p1", attempt=2
    )
    for copy_ in ("picking", "delivery"):
        out = decoded(reprint, copy_, late=12)
        banner = next(line for line in out.lines if "补打" in line.text)
        assert banner.text.strip() == "补打 REPRINT" and banner.big and banner.align == 1
        late = next(line for line in out.lines if "延迟" in line.text)
        assert late.text.strip() == "延迟 12 分钟" and late.big
    plain = joined(decoded(delivery_order(), "picking"))
    assert "补打" not in plain and "延迟" not in plain


def test_relay_reprint_flag_marks_an_order_ticket() -> None:
    """The relay prints a copy again marked 补打 after an unclear outcome (kind stays order)."""
    for copy_ in ("picking", "delivery"):
        data = tickets.render(delivery_order(), copy_, 58, reprint=True)
        banner = next(line for line in decode(data).lines if "补打" in line.text)
        assert banner.text.strip() == "补打 REPRINT" and banner.big
        assert "补打 REPRINT" in tickets.render_text(delivery_order(), copy_, 80, reprint=True)
    assert "补打" not in tickets.render_text(delivery_order(), "picking", 58, reprint=False)


def test_cancellation_slip_cites_the_original_ticket() -> None:
    out = decoded(cancellation(), "slip")
    text = joined(out)
    assert "取消单" in text
    assert "今日第 37 单" in text
    assert re.search(r"原小票\s+261124K7M2Q9XD-p1", text)
    assert re.search(r"订单号\s+261124K7M2Q9XD", text)
    assert "11-24 11:05" in text  # 03:05 UTC in Asia/Shanghai
    assert "顾客申请取消" in text
    assert "138****" not in text and "南京西路" not in text
    assert out.cuts == 1


def test_amendment_slip_lists_what_is_short_and_the_refund() -> None:
    message = delivery_order(
        job_id="261124K7M2Q9XD-p2",
        kind="amendment",
        copies=["slip"],
        original_job_id="261124K7M2Q9XD-p1",
        delivery=None,
        amendment={
            "at": "2026-11-24T02:40:00Z",
            "reason": "缺货",
            "short_lines": [
                {
                    "sku": "300020",
                    "name": "蓝月亮 洗衣液 2kg",
                    "unit": "瓶",
                    "qty": 1,
                    "picked_qty": 0,
                }
            ],
            "refund_fen": 4590,
            "total_fen": 10000,
        },
    )
    out = decoded(message, "slip")
    text = joined(out)
    assert "改单 缺货" in text and "取消单" not in text and "请停止拣货" not in text
    assert re.search(r"原小票\s+261124K7M2Q9XD-p1", text)
    assert re.search(r"蓝月亮 洗衣液 2kg\s+缺 1瓶", text)
    assert re.search(r"缺货退款\s+￥45\.90", text) and re.search(r"改后实付\s+￥100\.00", text)
    assert "11-24 10:40" in text  # 02:40 UTC in Asia/Shanghai
    assert out.cuts == 1


def test_values_cannot_inject_markup() -> None:
    message = delivery_order(remark="x\n@cut\n@qr EVIL | y")
    out = decoded(message, "delivery")
    assert out.cuts == 1 and out.qr_payloads == ["261124K7M2Q9XD"]
    assert "x ＠cut ＠qr EVIL ｜ y" in joined(out)


def test_render_text_preview() -> None:
    preview = tickets.render_text(delivery_order(), "delivery", 58)
    assert "配送联 2/2" in preview and "[QR 261124K7M2Q9XD]" in preview
    assert all(layout.width(line) <= 32 for line in preview.splitlines())
    with pytest.raises(ValueError, match="58 or 80"):
        tickets.render_text(delivery_order(), "delivery", 76)


def test_messages_with_unknown_fields_and_null_seq_still_render() -> None:
    message = copy.deepcopy(delivery_order(daily_seq=None))
    message["future_field"] = {"x": 1}  # readers ignore fields they do not know
    _valid(message)
    text = joined(decoded(message, "picking"))
    assert "今日第" not in text and "261124K7M2Q9XD" in text


# ------------------------------------------------------------------- gifts (issue 18)


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("copy_", ["picking", "delivery"])
def test_a_gift_line_is_printed_as_a_gift(copy_: str, paper: int) -> None:
    message = delivery_order()
    gift = _line("500001", "酸奶 200g", "杯", 1, 0, "冷柜区", "C-01", True, ("乳品", "酸奶"))
    message["lines"].append({**gift, "gift": True})
    text = squash(joined(decoded(_valid(message), copy_, paper)))
    assert "酸奶200g【赠品】" in text
    assert text.count("【赠品】") == 1  # the other lines (no gift field) are not marked
