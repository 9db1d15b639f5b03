"""A member's tags (标签, issue 15 item 2) in a real browser at tablet width (768x1024): a
store manager adds a Chinese tag on the profile, sees it next to the automatic ones,
filters the member list by it, and removes it; head office opens the tag rules page."""

from __future__ import annotations

import re

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

PHONE = "13900000026"  # demo member c-demo-26, home store 静安寺店 (sh-jingan)
TAG = "周末来买菜"


def fits(site: Site) -> None:
    overflow = site.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def test_add_a_tag_filter_by_it_and_remove_it_at_tablet_width(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("sh-jingan-manager")
    site.go(f"/members?phone={PHONE}")
    page.get_by_test_id("members").locator("tbody tr").first.click()
    tags = page.get_by_test_id("member-tags")
    expect(tags).to_be_visible()
    page.get_by_label(re.compile("^(新标签|New tag)$")).fill(TAG)
    page.get_by_role("button", name=re.compile("^(添加标签|Add tag)$")).click()
    manual = tags.locator(f'li.manual[data-tag="{TAG}"]')
    expect(manual).to_be_visible()
    # automatic tags are marked as such and cannot be removed
    for auto in tags.locator("li.auto").all():
        expect(auto).to_contain_text(re.compile("自动|automatic"))
        expect(auto.locator("button")).to_have_count(0)
    fits(site)
    site.shot("member-tags-added")

    site.go("/members")
    page.get_by_label(re.compile("^(标签|Tag)$")).fill(TAG)
    page.get_by_role("button", name=re.compile("^(查询|Search)$")).click()
    results = page.get_by_test_id("members")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("139****0026")  # a store manager: masked
    fits(site)
    site.shot("members-by-tag")

    results.locator("tbody tr").first.click()
    tags = page.get_by_test_id("member-tags")
    tags.get_by_role("button", name=re.compile(f"(删除标签|Remove tag) {TAG}")).click()
    expect(tags.locator(f'li.manual[data-tag="{TAG}"]')).to_have_count(0)

    site.go(f"/members?tag={TAG}")
    expect(page.get_by_test_id("members").locator("tbody tr")).to_have_count(0)


def test_head_office_edits_the_tag_rules(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    site.go("/customers/tags")
    expect(page.locator("main h1")).to_have_text(re.compile("^(标签规则|Tag rules)$"))
    rows = page.get_by_test_id("tag-rule")
    expect(rows).to_have_count(5)
    expect(rows.first.locator("input").first).to_have_value("生鲜常客")
    page.get_by_role("button", name=re.compile("^(添加规则|Add rule)$")).click()
    last = rows.nth(5)
    last.get_by_label(re.compile("^(标签|Tag)$")).fill("老顾客")
    last.get_by_label(re.compile("^(值|Value)$")).fill("10")
    page.get_by_role("button", name=re.compile("^(保存|Save)$")).click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("已保存|saved"))
    fits(site)
    site.shot("tag-rules")
    site.go("/members")
    site.go("/customers/tags")
    expect(page.get_by_test_id("tag-rule")).to_have_count(6)
