"""The staff distribution page (员工分销) in a real browser at tablet width (768x1024): a
member registers through a store staff member's QR code (through the local stack's API),
head office saves the rules and sees the staff member with the new member on the
month's leaderboard; the store's manager sees the leaderboard of their store."""

from __future__ import annotations

import re
import time

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_staff_screens import layout_problems
from tests.e2e.test_local_stack import call

STAFF = "sh-jingan-staff"


def _login(api: str, username: str) -> str:
    from infra.local import demo_data

    password = next(a["password"] for a in demo_data.staff() if a["username"] == username)
    body = {"username": username, "password": password}
    status, body, _ = call("POST", f"{api}/auth/login", body)
    assert status == 200, body
    return str(body["token"])


def _register_through(api: str, code: str, phone: str) -> str:
    status, sent, _ = call("POST", api + "/auth/otp", {"phone": phone})
    assert status in (200, 201), sent
    status, session, _ = call(
        "POST",
        api + "/auth/otp/verify",
        {"phone": phone, "code": sent["dev_code"], "source": code},
    )
    assert status == 200, session
    return str(session["token"])


def test_rules_saved_and_the_leaderboard_shows_the_new_member(site: Site):
    api = site.stack.api_url
    status, qr, _ = call("GET", f"{api}/staff/me/distribution-qr", token=_login(api, STAFF))
    assert status == 200, qr
    member = _register_through(api, qr["code"], "13900007681")
    hq = _login(api, "hq-admin")
    # the binding is made by the member.registered subscriber: wait for it (the event
    # worker delivers it) on the member's own "my inviter", not a fixed sleep
    deadline = time.monotonic() + 60
    while True:
        _, got, _ = call("GET", f"{api}/members/me/inviter", token=member)
        if got["inviter"] is not None:
            break
        assert time.monotonic() < deadline, got
        time.sleep(0.5)
    assert got["inviter"]["store_id"] == "sh-jingan"

    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    site.go("/distribution")
    expect(page.locator("main h1")).to_have_text("员工分销")
    row = page.get_by_test_id("dist-leaderboard").locator("tr", has_text=STAFF)
    # (the demo data registers members through this staff QR code too)
    expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^[1-9][0-9]*$"))
    expect(page.get_by_test_id("dist-cost")).to_contain_text("¥30.00")  # the benchmark

    form = page.get_by_test_id("dist-settings")
    form.get_by_label("绑定方式").select_option("days")
    form.get_by_label("首单（元）", exact=True).fill("6")
    form.get_by_role("button", name="保存规则").click()
    expect(page.get_by_test_id("dist-messages")).to_contain_text("规则已保存")
    status, cfg, _ = call("GET", f"{api}/admin/distribution/settings", token=hq)
    assert (cfg["binding"], cfg["first_order_fen"]) == ("days", 600)
    page.evaluate("window.scrollTo(0, 0)")
    assert layout_problems(site) == []
    site.shot("distribution-768")

    page.get_by_role("button", name="退出登录").click()
    site.sign_in("sh-jingan-manager")
    site.go("/distribution")
    expect(page.get_by_test_id("dist-leaderboard")).to_contain_text(STAFF)
    expect(page.get_by_test_id("dist-settings")).to_have_count(0)
    assert site.errors == []
