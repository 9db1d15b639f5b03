"""Relay tokens on the store page in a real browser (issue 13 item 7), at desktop width
and at 768 px: head office issues a token, the config shown with it is one the relay
reads (its own parser) and the token works against the API, a test print goes through
the store's queue to its relay's virtual printer and shows as printed, and a revoked
token is listed as revoked and refused by the API."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from print_relay.config import parse_config
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

WIDTHS = [1440, 768]
STORE = "sh-lujiazui"  # no other browser test stops this store's relay
HEARTBEAT = {"relay_version": "0.1.0", "hostname": "browser-test", "printers": []}
PRINTER_LINES = re.compile(r"^# (?=\[\[printers\]\]|name =|type =|host =|port =|paper_mm =)", re.M)


@pytest.mark.parametrize("width", WIDTHS)
def test_issue_a_relay_token_test_print_then_revoke(site: Site, width: int, tmp_path: Path):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    api = site.stack.api_url
    site.sign_in("hq-admin")
    site.go(f"/stores/{STORE}")
    section = page.locator("section.relays")
    name = f"收银台电脑 {width}"
    section.get_by_label("中继名称").fill(name)
    section.get_by_role("button", name="签发令牌").click()

    # The token, shown once, and the config snippet that carries it.
    token = page.get_by_test_id("relay-token").input_value()
    snippet = page.get_by_test_id("relay-config").input_value()
    assert token and token in snippet
    assert tomllib.loads(snippet) == {"store_id": STORE, "api_url": api, "token": token}
    # The printer placeholder, uncommented, makes a config the relay's parser accepts.
    config = parse_config(tomllib.loads(PRINTER_LINES.sub("", snippet)), tmp_path)
    assert (config.store_id, config.api_url, config.token) == (STORE, api, token)
    assert len(config.printers) == 1
    status, beat, _ = call("POST", f"{api}/relay/heartbeat", HEARTBEAT, token=token)
    assert status == 200, beat  # the token is a working relay token for this store
    expect(page.get_by_role("button", name=re.compile("^复制中继配置"))).to_be_visible()
    site.shot("issued")

    # Test print on the new relay's row: through the store's queue to its relay.
    row = section.locator("tbody tr", has_text=name)
    before = site.stack.printers[STORE].preview.read_text(encoding="utf-8")
    row.get_by_role("button", name="打印测试").click()
    outcome = page.get_by_test_id("test-print-status").locator("[data-status]")
    expect(outcome).to_have_attribute("data-status", "printed", timeout=30_000)
    expect(outcome).to_contain_text("测试小票已于")
    printed = site.stack.printers[STORE].preview.read_text(encoding="utf-8")[len(before) :]
    assert "打印测试" in printed and name in printed
    site.shot("test-printed")

    # Revoke: listed as revoked, and the API refuses the token.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="吊销").click()
    expect(row).to_contain_text("已吊销")
    expect(row.get_by_role("button", name="吊销")).to_have_count(0)
    status, refused, _ = call("POST", f"{api}/relay/heartbeat", HEARTBEAT, token=token)
    assert (status, refused["error"]["code"]) == (401, "token_revoked")
    site.shot("revoked")


def test_a_store_manager_prints_a_test_slip_but_issues_no_tokens(site: Site):
    page = site.page
    site.sign_in("sh-xuhui-manager")
    site.go("/stores/sh-xuhui")
    section = page.locator("section.relays")
    expect(section.locator("tbody tr").first).to_be_visible()
    expect(section.get_by_role("button", name="签发令牌")).to_have_count(0)
    expect(section.get_by_role("button", name="吊销")).to_have_count(0)
    section.get_by_test_id("test-print-any").click()
    outcome = page.get_by_test_id("test-print-status").locator("[data-status]")
    expect(outcome).to_have_attribute("data-status", "printed", timeout=30_000)


def test_a_new_store_without_a_relay_is_told_so_on_test_print(site: Site):
    """A store created without a relay: the page says its tickets do not print, and a
    test print is refused with the API's reason (409 no_relay), not "will print"."""
    page = site.page
    api = site.stack.api_url
    store = {
        "store_id": "sh-norelay",
        "name": "鲜到家 无中继店",
        "address": "上海市测试路1号",
        "lat": 31.2304,
        "lng": 121.4737,
        "radius_m": 3000,
        "timezone": "Asia/Shanghai",
        "minimum_order_fen": 2000,
        "delivery_fee": {"base_fee_fen": 500, "free_above_fen": None},
        "hours": [{"day": d, "open": "08:00", "close": "22:00"} for d in range(7)],
        "active": True,
        "printers": [],
    }
    status, created, _ = call("POST", f"{api}/admin/stores", store, token=_login(api, "hq-admin"))
    assert status in (201, 409), created  # 409: made by an earlier run of this stack
    site.sign_in("hq-admin")
    site.go("/stores/sh-norelay")
    section = page.locator("section.relays")
    expect(section).to_contain_text("还没有中继")
    section.get_by_test_id("test-print-any").click()
    expect(section.get_by_role("alert")).to_contain_text("没有有效的中继令牌")
    expect(page.get_by_test_id("test-print-status").locator("[data-status]")).to_have_count(0)
