"""The lottery page (issue 17 item 2), in a real browser at tablet portrait width
(768x1024): head office finds it under the marketing tab, sets a lottery up in the demo
lottery campaign, sees the published seed hash, draws it after a confirmation, and reads
the result and the proof, whose seed hashes to the hash published before the draw. The
lottery takes only orders above an amount no order reaches, so drawing it refunds no
order another test relies on."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

PORTRAIT = {"width": 768, "height": 1024}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(dt: datetime) -> str:
    return dt.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_head_office_sets_up_draws_and_audits_a_lottery(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2)
    now = datetime.now(SHANGHAI)
    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    page.locator("#nav .nav-pages a", has_text="免单抽奖").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("免单抽奖")
    expect(page.locator("main tbody tr", has_text="今日下单抽 5 人免单")).to_contain_text("进行中")

    page.get_by_role("link", name="新建抽奖").click()
    page.get_by_label("所属活动 ID", exact=True).fill("demo-lottery")
    page.get_by_label("抽奖名称", exact=True).fill(f"满额免单 {tag}")
    page.get_by_label("窗口开始", exact=True).fill(local(now - timedelta(hours=3)))
    page.get_by_label("窗口结束", exact=True).fill(local(now - timedelta(hours=2)))
    page.get_by_label("开奖时间", exact=True).fill(local(now - timedelta(hours=1)))
    page.get_by_label("中奖人数", exact=True).fill("3")
    page.get_by_label("参与范围", exact=True).select_option("min_amount")
    page.get_by_label("最低实付（元）", exact=True).fill("99999")
    page.get_by_label("免单上限（元）", exact=True).fill("200")
    site.shot("new")
    page.get_by_role("button", name="创建抽奖").click()

    expect(page.get_by_role("status").first).to_contain_text(f"已创建抽奖“满额免单 {tag}”")
    expect(page.get_by_role("heading", level=1)).to_contain_text("进行中")
    published = page.get_by_test_id("seed-hash").inner_text()
    assert len(published) == 64
    expect(page.get_by_label("抽奖名称", exact=True)).to_be_disabled()  # the window opened

    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("lottery-draw").click()
    expect(page.get_by_role("status").first).to_contain_text("已开奖")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已开奖")
    expect(page.get_by_test_id("lottery-result")).to_contain_text("0 单参与")
    proof = page.get_by_test_id("lottery-proof")
    expect(proof.get_by_test_id("proof-seed-hash")).to_have_text(published)
    seed = proof.get_by_test_id("proof-seed").inner_text()
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == published
    expect(page.get_by_test_id("lottery-draw")).to_have_count(0)  # drawn once
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("drawn")
    assert not site.errors, site.errors
