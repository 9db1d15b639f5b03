"""Tags (标签, issue 15 item 2): head office's rules (defaults, 422s, audit), a member's
automatic and manual tags, adding once (also twice at once), who may tag whom, Chinese
tags in the URL, the member list filtered by a tag with pages, and members never seeing
their tags."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.customers import aggregates
from chalicelib.customers.models import MemberTagModel
from chalicelib.events.types import OrderCompleted, OrderLine
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock

from tests.api.conftest import token_for

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
DURIAN = "爱买榴莲"
URL_DURIAN = quote(DURIAN, safe="")


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


_n = {"order": 0}


def complete(customer_id: str, at: str, fen: int, fresh: bool) -> None:
    _n["order"] += 1
    order_id = f"T{_n['order']:06d}"
    aggregates.on_completed(
        OrderCompleted(
            event_id=f"order.completed:{order_id}",
            occurred_at=at,
            order_id=order_id,
            customer_id=customer_id,
            store_id="sh-b",
            paid_fen=fen,
            refunded_fen=0,
            lines=[OrderLine(sku="100", qty=1, paid_fen=fen, category1="水果", fresh=fresh)],
        )
    )


def member(phone: str, store: str = "sh-b", **extra) -> str:
    from chalicelib.identity.service import register_customer

    m, _ = register_customer(phone, home_store_id=store)
    if extra:
        CustomerModel(m.customer_id).update(
            actions=[getattr(CustomerModel, k).set(v) for k, v in extra.items()]
        )
    return m.customer_id


@pytest.fixture
def people(aws, stores, today):
    p = {"fresh": member("13900000101", source_kind="shelf", level="V3")}
    for day in ("2026-11-10", "2026-11-20", "2026-12-01"):
        complete(p["fresh"], f"{day}T02:00:00Z", 16000, fresh=True)
    p["plain"] = member("13900000102")
    p["a"] = member("13900000103", store="sh-a")
    return p


def tag_url(customer_id: str, tag: str = URL_DURIAN) -> str:
    return f"/admin/members/{customer_id}/tags/{tag}"


def audits(action: str) -> list:
    return [e for e in AuditEntryModel.scan() if e.action == action]


# --- rules ------------------------------------------------------------------------------


def test_default_rules_then_head_office_sets_its_own(api, tokens_, aws):
    status, body = api.call("GET", "/admin/customers/tag-rules", token=tokens_["hq"])
    assert status == 200
    assert [r["tag"] for r in body["rules"]] == [
        "生鲜常客",
        "高客单",
        "货架码来源",
        "付费会员",
        "V3及以上",
    ]
    rule = {"tag": "水果控", "metric": "category_spend_fen:水果", "op": ">=", "value": 1}
    mine = {"rules": [rule]}
    status, saved = api.call("PUT", "/admin/customers/tag-rules", mine, tokens_["hq"])
    assert status == 200 and saved == mine
    assert api.call("GET", "/admin/customers/tag-rules", token=tokens_["hq"])[1] == mine
    assert len(audits("customers.tag_rules")) == 1
    for who in ("manager_a", "staff_a"):
        status, err = api.call("PUT", "/admin/customers/tag-rules", mine, tokens_[who])
        assert status == 403 and err["error"]["code"] == "role_not_allowed"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"metric": "shoe_size", "op": ">=", "value": 3}, "rules[0].metric"),
        ({"metric": "orders", "op": "=", "value": "3"}, "rules[0].value"),
        ({"metric": "orders", "op": ">=", "value": True}, "rules[0].value"),
        ({"metric": "paid_member", "op": "=", "value": 1}, "rules[0].value"),
        ({"metric": "source_kind", "op": ">=", "value": "shelf"}, "rules[0].op"),
        ({"metric": "source_kind", "op": "=", "value": "billboard"}, "rules[0].value"),
        ({"metric": "category_spend_fen:", "op": ">=", "value": 1}, "rules[0].metric"),
    ],
)
def test_a_bad_rule_is_422_naming_the_field(api, tokens_, aws, rule, field):
    body = {"rules": [{"tag": "t", **rule}]}
    status, err = api.call("PUT", "/admin/customers/tag-rules", body, tokens_["hq"])
    assert status == 422, err
    assert field in [d["field"] for d in err["error"]["details"]]
    assert audits("customers.tag_rules") == []


def test_an_unknown_operator_and_a_bad_tag_name_are_422(api, tokens_, aws):
    body = {"rules": [{"tag": "t", "metric": "orders", "op": ">", "value": 1}]}
    status, err = api.call("PUT", "/admin/customers/tag-rules", body, tokens_["hq"])
    assert status == 422 and "op" in json.dumps(err)
    body = {"rules": [{"tag": "a\x07b", "metric": "orders", "op": ">=", "value": 1}]}
    status, err = api.call("PUT", "/admin/customers/tag-rules", body, tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "rules[0].tag"


# --- a member's tags --------------------------------------------------------------------


def test_automatic_tags_evaluated_live_with_one_batch_get(api, tokens_, people, aws_calls):
    status, body = api.call("GET", f"/admin/members/{people['fresh']}/tags", token=tokens_["hq"])
    assert status == 200, body
    assert body == {
        "customer_id": people["fresh"],
        "auto": ["生鲜常客", "高客单", "货架码来源", "V3及以上"],
        "manual": [],
    }
    assert aws_calls.count("BatchGetItem") == 1 and "Scan" not in aws_calls
    _, plain = api.call("GET", f"/admin/members/{people['plain']}/tags", token=tokens_["hq"])
    assert plain["auto"] == []  # no order yet: no aggregates item at all


def test_a_chinese_tag_is_added_once_and_removed_once(api, tokens_, people):
    cid = people["plain"]
    status, first = api.call("PUT", tag_url(cid), token=tokens_["manager_b"])
    assert status == 200, first
    assert (first["tag"], first["by"], first["store_id"]) == (DURIAN, "sh-b-manager", "sh-b")
    status, again = api.call("PUT", tag_url(cid), token=tokens_["hq"])
    assert status == 200 and again == first  # already there: answered as it is
    assert [t.tag for t in MemberTagModel.query(cid)] == [DURIAN]
    assert len(audits("customers.tag_added")) == 1

    _, tags = api.call("GET", f"/admin/members/{cid}/tags", token=tokens_["manager_b"])
    assert tags["manual"] == [first]

    for _ in range(2):
        status, _ = api.call("DELETE", tag_url(cid), token=tokens_["manager_b"])
        assert status == 204
    assert list(MemberTagModel.query(cid)) == []
    assert len(audits("customers.tag_removed")) == 1


def test_adding_the_same_tag_at_once_leaves_one_item(api, tokens_, people, monkeypatch):
    """Both requests read "not tagged yet" before either writes (a barrier after the
    read), so both write: the tag's condition lets one through."""
    from chalicelib.auth.principal import Principal
    from chalicelib.customers import tags

    cid = people["plain"]
    who = Principal("hq-admin", "hq_admin")
    read_both = threading.Barrier(2, timeout=30)
    reads = tags.manual_tags

    def read_then_wait(customer_id, consistent=False):
        got = reads(customer_id, consistent)
        read_both.wait()
        return got

    monkeypatch.setattr(tags, "manual_tags", read_then_wait)
    answers, errors = [], []

    def add():
        try:
            answers.append(tags.add_tag(who, cid, DURIAN))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(answers) == 2 and answers[0] == answers[1]
    assert [t.tag for t in MemberTagModel.query(cid)] == [DURIAN]
    assert len(audits("customers.tag_added")) == 1


def test_who_may_tag_whom(api, tokens_, people):
    cid = people["plain"]  # a member of sh-b
    staff_b = token_for("sh-b-staff", "store_staff", "sh-b")
    assert api.call("PUT", tag_url(cid, "vip"), token=staff_b)[0] == 200
    assert api.call("GET", f"/admin/members/{cid}/tags", token=staff_b)[0] == 200
    for who in ("staff_a", "manager_a"):
        for method, path in (
            ("PUT", tag_url(cid, "x")),
            ("DELETE", tag_url(cid, "vip")),
            ("GET", f"/admin/members/{cid}/tags"),
        ):
            status, err = api.call(method, path, token=tokens_[who])
            assert status == 403 and err["error"]["code"] == "other_store", (who, method)
    status, err = api.call("PUT", tag_url(cid, "x"), token=tokens_["customer"])
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    status, err = api.call("PUT", tag_url("c-nobody", "x"), token=tokens_["hq"])
    assert status == 404 and err["error"]["code"] == "member_not_found"
    assert [t.tag for t in MemberTagModel.query(cid)] == ["vip"]


def test_tag_names_and_the_limit_of_20(api, tokens_, people):
    cid = people["plain"]
    for bad in (quote("a" * 21), "%07x", quote(" x"), "50%25"):
        status, err = api.call("PUT", tag_url(cid, bad), token=tokens_["hq"])
        assert status == 422 and err["error"]["details"][0]["field"] == "tag", bad
    assert api.call("PUT", tag_url(cid, quote("一" * 20)), token=tokens_["hq"])[0] == 200
    for n in range(19):
        assert api.call("PUT", tag_url(cid, f"t{n}"), token=tokens_["hq"])[0] == 200
    status, err = api.call("PUT", tag_url(cid, "one-more"), token=tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "too_many_tags"
    assert api.call("PUT", tag_url(cid, "t3"), token=tokens_["hq"])[0] == 200  # has it


# --- the member list by tag -------------------------------------------------------------


def test_the_member_list_filtered_by_a_tag_in_pages(api, tokens_, people):
    ids = [member(f"1390000020{n}") for n in range(5)] + [people["a"]]
    for cid in ids:
        assert api.call("PUT", tag_url(cid), token=tokens_["hq"])[0] == 200
    member("13900000299")  # untagged

    def pages(who, **params):
        seen, cursor = [], None
        while True:
            q = "&".join(
                f"{k}={v}" for k, v in {**params, "cursor": cursor}.items() if v is not None
            )
            status, page = api.call("GET", f"/admin/members?tag={URL_DURIAN}&{q}", token=who)
            assert status == 200, page
            seen.append(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    got = pages(tokens_["hq"], limit=2)
    assert [len(p) for p in got] == [2, 2, 2]
    assert [r["customer_id"] for p in got for r in p] == sorted(ids)
    assert got[0][0]["phone"].startswith("139000")  # head office: in full

    mine = [r for p in pages(tokens_["manager_b"], limit=4) for r in p]
    assert sorted(r["customer_id"] for r in mine) == sorted(ids[:5])  # not sh-a's member
    assert all("****" in r["phone"] for r in mine)
    only_a = [r for p in pages(tokens_["hq"], store_id="sh-a") for r in p]
    assert [r["customer_id"] for r in only_a] == [people["a"]]

    for bad in ("phone=13900000200", "registered_from=2026-01-01"):
        status, err = api.call("GET", f"/admin/members?tag={URL_DURIAN}&{bad}", token=tokens_["hq"])
        assert status == 422, bad
    status, err = api.call("GET", "/admin/members?tag=other&cursor=x", token=tokens_["hq"])
    assert status == 400 and err["error"]["code"] == "bad_cursor"


# --- members never see their tags (issue 15 item 7) -------------------------------------


def test_a_members_own_routes_carry_no_tags(api, tokens_, people):
    cid = people["fresh"]
    assert api.call("PUT", tag_url(cid), token=tokens_["hq"])[0] == 200
    own = token_for(cid, "customer")
    for path in ("/me", "/members/me", "/members/me/export", "/members/me/level"):
        status, body = api.call("GET", path, token=own)
        assert status == 200, (path, body)
        text = json.dumps(body, ensure_ascii=False)
        assert DURIAN not in text and "生鲜常客" not in text and '"tags"' not in text, path
    assert api.call("GET", f"/admin/members/{cid}/tags", token=own)[0] == 403
