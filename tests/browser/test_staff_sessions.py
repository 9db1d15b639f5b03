"""The staff page's session controls in a real browser (issue 11, item 3): destructive
actions (disable, reset password, sign out everywhere) ask first, cancelling changes
nothing, and unlock lets a locked-out account sign in again. At the desktop-tablet width
and at 820 px (a counter tablet in portrait)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import STORE, expect
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

PASSWORD = "browser-password-1"
WIDTHS = [1024, 820]


def new_account(api: str) -> str:
    """A fresh store account (the shared stack's demo accounts stay as they are)."""
    username = f"bt-{secrets.token_hex(4)}"
    status, body, _ = call(
        "POST",
        f"{api}/admin/staff",
        {
            "username": username,
            "password": PASSWORD,
            "role": "store_staff",
            "store_id": STORE,
            "display_name": "测试拣货员",
        },
        token=_login(api, "hq-admin"),
    )
    assert status == 201, body
    return username


def sign_in_api(api: str, username: str, password: str = PASSWORD) -> tuple[int, Any]:
    status, body, _ = call(
        "POST", f"{api}/auth/login", {"username": username, "password": password}
    )
    return status, body


def me(api: str, token: str) -> int:
    return call("GET", f"{api}/me", token=token)[0]


def staff_row(site: Site, username: str) -> Any:
    site.go(f"/staff?scope={STORE}")
    row = site.page.locator("main tbody tr", has_text=username)
    expect(row).to_have_count(1)
    return row


@pytest.mark.parametrize("width", WIDTHS)
def test_disabling_and_signing_out_ask_first(site: Site, width: int):
    api = site.stack.api_url
    site.page.set_viewport_size({"width": width, "height": 1024})
    username = new_account(api)
    status, session = sign_in_api(api, username)
    assert status == 200
    token = session["token"]
    site.sign_in("hq-admin")
    row = staff_row(site, username)

    row.get_by_role("button", name="停用").click()
    dialog = site.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("测试拣货员")
    site.shot(f"disable-confirm-{width}")
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)
    assert me(api, token) == 200  # cancelled: nothing changed
    expect(row).not_to_contain_text("已停用")

    row.get_by_role("button", name="全部设备退出登录").click()
    site.page.get_by_role("dialog").get_by_role("button", name="全部设备退出登录").click()
    expect(site.page.locator("main")).to_contain_text("已在所有设备上退出登录")
    assert me(api, token) == 401
    status, session = sign_in_api(api, username)
    assert status == 200  # still enabled
    token = session["token"]

    row.get_by_role("button", name="停用").click()
    site.page.get_by_role("dialog").get_by_role("button", name="停用").click()
    row = site.page.locator("main tbody tr", has_text=username)
    expect(row).to_contain_text("已停用")
    assert me(api, token) == 401
    assert site.page.evaluate("document.documentElement.scrollWidth") <= width
    site.shot(f"disabled-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_password_reset_asks_for_the_password_in_the_dialog(site: Site, width: int):
    api = site.stack.api_url
    site.page.set_viewport_size({"width": width, "height": 1024})
    username = new_account(api)
    token = sign_in_api(api, username)[1]["token"]
    site.sign_in("hq-admin")
    row = staff_row(site, username)
    row.get_by_role("button", name="重置密码").click()
    dialog = site.page.get_by_role("dialog")
    dialog.get_by_label("新密码").fill("a-new-password-9")
    site.shot(f"reset-confirm-{width}")
    dialog.get_by_role("button", name="重置密码").click()
    expect(site.page.locator("main")).to_contain_text("已重置 测试拣货员 的密码")
    expect(dialog).to_have_count(0)
    assert me(api, token) == 401
    assert sign_in_api(api, username, "a-new-password-9")[0] == 200


@pytest.mark.parametrize("width", WIDTHS)
def test_unlock_lets_a_locked_account_sign_in(site: Site, width: int):
    api = site.stack.api_url
    site.page.set_viewport_size({"width": width, "height": 1024})
    username = new_account(api)
    for _ in range(5):
        assert sign_in_api(api, username, "wrong-password")[0] == 401
    assert sign_in_api(api, username)[0] == 429
    site.sign_in(f"{STORE}-manager")  # a store manager unlocks their own staff
    row = staff_row(site, username)
    row.get_by_role("button", name="解除锁定").click()
    expect(site.page.locator("main")).to_contain_text(re.compile("已可重新登录"))
    assert sign_in_api(api, username)[0] == 200
    # a manager is not offered to disable their own account
    own = staff_row(site, f"{STORE}-manager")
    expect(own.get_by_role("button", name="停用")).to_have_count(0)
    site.shot(f"unlocked-{width}")
