"""The recall list page (召回, issue 15 items 4 and 7) in a real browser at a 768x1024
tablet: a store's manager sees their lapsed members ranked by spend with full phones (tel:
links), pages with "more", records outcomes once per attempt (a double click, a retry
after a lost answer), and reads the recall rate; head office sees phones masked and sets
the rule; store staff have no link and the API refuses them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_staff_screens import layout_problems
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

STORE = "sh-wujiaochang"
MANAGER = f"{STORE}-manager"
COUNT = 23  # more than a page (20)
PORTRAIT = {"width": 768, "height": 1024}


def seed(stack: Any, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.browser.recall_seed", *args],
        env=stack.env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def lapsed(stack: Any) -> list[dict[str, Any]]:
    """COUNT lapsed members of STORE, largest spend first (plus one erased, one revoked)."""
    return json.loads(seed(stack, "lapsed", STORE, str(COUNT)))


def fits(site: Site) -> None:
    """No sideways scrolling, no table or control off screen, and touch-size controls."""
    site.page.evaluate("window.scrollTo(0, 0)")  # the nav is checked where it is seen
    assert layout_problems(site) == []
    small = site.page.evaluate(
        """() => [...document.querySelectorAll("main :is(button, input, select)")]
            .filter((el) => el.getBoundingClientRect().width > 0)
            .filter((el) => el.getBoundingClientRect().height < 44)
            // a checkbox is touched through its label: the label is the target
            .filter((el) => !(el.type === "checkbox" || el.type === "radio")
                || !el.closest("label") || el.closest("label").getBoundingClientRect().height < 44)
            .map((el) => `${el.tagName} ${el.textContent || el.name || el.type}`)"""
    )
    assert small == []


def rows(site: Site) -> Any:
    return site.page.get_by_test_id("recall-list").locator("tbody tr")


def row_of(site: Site, phone: str) -> Any:
    return rows(site).filter(has=site.page.locator(f'a[href="tel:{phone}"]'))


def test_a_manager_calls_their_lapsed_members_and_sees_the_rate(site: Site, lapsed):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in(MANAGER)
    page.locator('#nav .nav-group[data-group="members"]').click()  # the customers tab
    expect(page.locator("#nav a", has_text=re.compile("^(召回名单|Recall list)$"))).to_be_visible()
    site.go("/recall")
    expect(page.locator("main h1")).to_have_text(re.compile("^(召回名单|Recall list)$"))
    summary = page.get_by_test_id("recall-summary")
    expect(summary).to_contain_text(str(COUNT))
    # the erased member and the one who revoked consent are left out, and counted
    expect(
        summary.locator("div", has_text=re.compile("账号已注销|account erased"))
    ).to_contain_text("1")
    expect(
        summary.locator("div", has_text=re.compile("撤回营销授权|revoked marketing"))
    ).to_contain_text("1")

    # ranked by spend, phones in full as tel: links, one page of 20
    expect(rows(site)).to_have_count(20)
    shown = [a.get_attribute("href") for a in rows(site).locator("a[href^='tel:']").all()]
    assert shown == [f"tel:{m['phone']}" for m in lapsed[:20]]
    fits(site)
    site.shot("manager-list")

    # "more" appends the rest, in order
    page.get_by_role("button", name=re.compile("^(加载更多|Load more)$")).click()
    expect(rows(site)).to_have_count(COUNT)
    shown = [a.get_attribute("href") for a in rows(site).locator("a[href^='tel:']").all()]
    assert shown == [f"tel:{m['phone']}" for m in lapsed]

    # "called" on the first, by a double click: recorded once, shown on the row
    first = row_of(site, lapsed[0]["phone"])
    posts: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            posts.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/outcomes")
            else None
        ),
    )
    first.get_by_role("combobox").select_option("called")
    first.get_by_role("textbox").fill("周末再来")
    first.get_by_role("button", name=re.compile("^(记录|Record)$")).dblclick()
    latest = first.get_by_test_id("recall-latest")
    expect(latest).to_contain_text(re.compile("已致电|Called"))
    expect(latest).to_contain_text("周末再来")
    expect(latest).to_contain_text(re.compile("共 1 次|1 recorded"))
    assert len({p["request_id"] for p in posts}) == 1

    # "no answer" on the second: the first answer is lost (the API recorded it), the
    # retry sends the same request_id and the row shows one outcome
    second = row_of(site, lapsed[1]["phone"])
    lost = {"n": 0}

    def lose_first_answer(route: Any) -> None:
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # it reaches the API...
            route.abort()  # ...but the answer never reaches the page
        else:
            route.continue_()

    page.route("**/outcomes", lose_first_answer)
    posts.clear()
    second.get_by_role("combobox").select_option("no_answer")
    record = second.get_by_role("button", name=re.compile("^(记录|Record)$"))
    record.click()
    expect(second.locator(".msg.error")).to_be_visible()
    record.click()
    latest = second.get_by_test_id("recall-latest")
    expect(latest).to_contain_text(re.compile("未接通|No answer"))
    expect(latest).to_contain_text(re.compile("共 1 次|1 recorded"))
    assert len(posts) == 2 and posts[0]["request_id"] == posts[1]["request_id"]
    page.unroute("**/outcomes")
    # the report below counts both rounds without a reload
    facts = page.get_by_test_id("recall-report-facts")
    expect(facts.locator("div", has_text=re.compile("^(已召回|Recalled)"))).to_contain_text("2")
    fits(site)
    site.shot("manager-recorded")

    # the first member orders again: the report shows 2 recalled, 1 back, 1 pending
    seed(site.stack, "back", STORE, lapsed[0]["customer_id"])
    page.reload()  # the same #/recall: go() would not load it again
    page.locator("main[aria-busy]").wait_for(state="detached")
    facts = page.get_by_test_id("recall-report-facts")
    expect(facts).to_contain_text("50.0%")
    expect(facts.locator("div", has_text=re.compile("^(已召回|Recalled)"))).to_contain_text("2")
    box = page.locator("[data-chart=recall-rate] svg")
    expect(box).to_be_visible()
    option = page.evaluate(
        """() => echarts.getInstanceByDom(document.querySelector('[data-chart=recall-rate]'))
            .getOption().series[0].data"""
    )
    assert option == [1, 1, 0]  # came back, pending, not back
    # the member who came back has left today's list
    expect(rows(site).locator(f'a[href="tel:{lapsed[0]["phone"]}"]')).to_have_count(0)
    fits(site)
    site.shot("manager-report")
    # and at head office's desktop width the same page fits too
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(rows(site).first).to_be_visible()
    fits(site)
    site.shot("manager-desktop")


def test_head_office_sees_masked_phones_and_sets_the_rule(site: Site, lapsed):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in("hq-admin")
    assert "召回名单" in site.nav_labels()
    site.go(f"/recall?store={STORE}")
    expect(rows(site).first).to_be_visible()
    text = page.get_by_test_id("recall-list").inner_text()
    assert "137****70" in text
    assert not any(m["phone"] in text for m in lapsed)
    expect(page.get_by_test_id("recall-list").locator("a[href^='tel:']")).to_have_count(0)
    expect(page.get_by_test_id("recall-list").get_by_role("button")).to_have_count(0)
    expect(page.locator("#recall-store")).to_have_value(STORE)
    fits(site)
    site.shot("hq-list")

    # the rule: 3 orders leaves every seeded member (2 orders) off the list
    page.get_by_label(re.compile("^(最少完成订单数|Minimum completed orders)")).fill("3")
    page.get_by_role("button", name=re.compile("^(保存|Save)$")).click()
    expect(page.get_by_test_id("recall-summary")).to_contain_text(
        re.compile("至少 3 单|at least 3")
    )
    expect(page.locator("[href^='tel:'], [data-testid=recall-list] tbody tr")).to_have_count(0)
    page.get_by_label(re.compile("^(最少完成订单数|Minimum completed orders)")).fill("2")
    page.get_by_role("button", name=re.compile("^(保存|Save)$")).click()
    expect(page.get_by_test_id("recall-summary")).to_contain_text(
        re.compile("至少 2 单|at least 2")
    )


def test_store_staff_have_no_recall_link_and_the_api_refuses_them(site: Site, lapsed):
    site.page.set_viewport_size(PORTRAIT)
    site.sign_in(f"{STORE}-staff")
    assert not any(re.fullmatch("召回名单|Recall list", label) for label in site.nav_labels())
    site.go("/recall")  # not theirs: the site sends them home
    expect(site.page.locator("main h1")).not_to_have_text(re.compile("召回名单|Recall list"))
    token = _login(site.stack.api_url, f"{STORE}-staff")
    status, body, _ = call("GET", f"{site.stack.api_url}/stores/{STORE}/recall", token=token)
    assert status == 403, body
