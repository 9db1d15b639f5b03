"""Segments (issue 15 items 3 and 8): the nightly snapshot through moto's S3 and the
segments queue, counts and the overview from it, saved segments, and bulk actions that
leave out revoked consent and issue each member one coupon whatever the retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from chalicelib.coupons.models import CouponModel
from chalicelib.customers import segment_snapshot, segments
from chalicelib.customers.models import SegmentModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock, config

from tests.api.test_exports import deliver
from tests.api.test_recall import complete_at
from tests.publishing import create_promotion, create_template

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    segments._loaded.update(key=None, index=None)  # no snapshot kept from another test


def member(phone: str, home: str = "sh-b") -> str:
    from chalicelib.identity.service import register_customer

    m, _ = register_customer(phone, home_store_id=home)
    return m.customer_id


def drain() -> int:
    """Deliver what the segments queue holds to its worker."""
    return deliver("segments", segments.handle_message)


@pytest.fixture
def people(aws, stores):
    p = {}
    p["recent"] = member("13900000001")  # bought in November at sh-a: joining, top spender
    complete_at(p["recent"], "sh-a", "2026-11-20T02:00:00Z", 90000)
    complete_at(p["recent"], "sh-a", "2026-11-28T02:00:00Z", 10000)
    p["old"] = member("13900000002")  # last order 2026-04-04: 8 whole months, churn_recall
    complete_at(p["old"], "sh-b", "2026-04-04T02:00:00Z", 3000)
    p["revoked"] = member("13900000003")
    complete_at(p["revoked"], "sh-b", "2026-10-01T02:00:00Z", 5000)
    CustomerModel(p["revoked"]).update(actions=[CustomerModel.marketing_consent.set("revoked")])
    p["none"] = member("13900000004")  # registered today, no orders: home store sh-b
    p["erased"] = member("13900000005")
    complete_at(p["erased"], "sh-b", "2026-11-01T02:00:00Z", 7000)
    CustomerModel(p["erased"]).update(actions=[CustomerModel.erased_at.set("2026-11-02T00:00:00Z")])
    return p


class StubTags:
    """tags.py's place: a manual tag of a member who is not there, an automatic tag
    from the raw aggregates (AOV >= 150 yuan)."""

    needs_stats = True

    def manual(self, segment, total):
        return [("c-unknown", "vip")] if segment == 0 else []

    def auto(self, stats_item, member_item, *, paid, today):
        if not stats_item:
            return []
        assert "m" in stats_item  # the whole item: the maps too
        n, sp = int(stats_item["n"]["N"]), int(stats_item["sp"]["N"])
        return ["aov150"] if sp >= 15000 * n else []


@pytest.fixture
def built(people, monkeypatch):
    monkeypatch.setattr(segment_snapshot, "tags_adapter", StubTags)
    segments.run_refresh()
    return people


def count(api, tokens_, **f):
    return api.call("POST", "/admin/segments/count", {"filter": f}, token=tokens_["hq"])


def test_the_refresh_route_builds_the_snapshot_in_the_worker(api, tokens_, people):
    status, body = api.call("POST", "/admin/segments/count", {"filter": {}}, token=tokens_["hq"])
    assert (status, body["error"]["code"]) == (404, "no_snapshot")
    status, body = api.call("POST", "/admin/segments/refresh", token=tokens_["hq"])
    assert (status, body["state"]) == (202, "queued")
    assert drain() == 1
    status, body = api.call("GET", "/admin/segments/refresh", token=tokens_["hq"])
    assert (body["state"], body["as_of"], body["members"]) == ("succeeded", "2026-12-05", 4)
    pointer = SegmentModel.get("snapshot", "current")
    s3 = boto3.client("s3", region_name=config.REGION)
    obj = s3.get_object(Bucket=config.bucket_name("imports"), Key=pointer.object_key)
    assert pointer.object_key.startswith("segments/2026-12-05/")
    assert obj["ContentLength"] > 0
    status, body = count(api, tokens_)
    assert status == 200 and body["members"] == 4  # the erased member left out


def test_counts_combine_conditions(api, tokens_, built):
    status, body = count(api, tokens_)
    assert body == {
        "members": 4,
        "marketable": 3,
        "excluded_no_consent": 1,
        "spend_fen": 100000 + 3000 + 5000,
        "share_of_members": 1.0,
        "as_of": "2026-12-05",
    }
    _, body = count(api, tokens_, stores=["sh-b"])  # old, revoked, none (home store)
    assert (body["members"], body["excluded_no_consent"]) == (3, 1)
    _, body = count(api, tokens_, stores=["sh-b"], lifecycle=["churn_recall"], spend_min_fen=1)
    assert (body["members"], body["spend_fen"]) == (1, 3000)
    _, body = count(api, tokens_, tags_any=["aov150"])
    assert body["members"] == 1 and body["spend_fen"] == 100000
    _, body = count(api, tokens_, rfm_groups=["no_orders"])
    assert body["members"] == 1
    _, body = count(api, tokens_, orders_min=2, spend_max_fen=100000)
    assert body["members"] == 1
    status, body = count(api, tokens_, spend_min_fen=5, spend_max_fen=4)
    assert status == 422


def test_the_overview(api, tokens_, built):
    status, body = api.call("GET", "/admin/customers/overview", token=tokens_["hq"])
    assert status == 200
    assert (body["members"], body["with_orders"]) == (4, 3)
    assert body["by_lifecycle"] == {
        "joining": 3,  # recent and revoked by their orders, none by joining today
        "awakening": 0,
        "churn_recall": 1,
        "dormant": 0,
        "lost": 0,
    }
    assert sum(body["by_rfm"].values()) == 4 and body["by_rfm"]["no_orders"] == 1
    # top 20 % of 3 buyers = 1 member: 100000 of 108000
    assert body["pareto"]["top20_share"] == round(100000 / 108000, 4)
    assert {(n["day"], n["members"]) for n in body["new_members"]} == {("2026-12-05", 4)}
    assert len(body["rfm_cutoffs"]["monetary_fen"]) == 4


def test_a_new_snapshot_is_loaded_when_the_pointer_moves(api, tokens_, built):
    _, body = count(api, tokens_)
    assert body["members"] == 4
    member("13900000009")
    segments.run_refresh()
    _, body = count(api, tokens_)
    assert body["members"] == 5


def test_saved_segments(api, tokens_, built):
    f = {"stores": ["sh-b"], "lifecycle": ["joining"]}
    status, seg = api.call(
        "POST", "/admin/segments", {"name": "浦东 新客", "filter": f}, token=tokens_["hq"]
    )
    assert status == 201 and seg["filter"]["stores"] == ["sh-b"]
    path = f"/admin/segments/{seg['segment_id']}"
    status, got = api.call("GET", path, token=tokens_["hq"])
    assert got["name"] == "浦东 新客"
    status, got = api.call(
        "PUT", path, {"name": "浦东", "filter": {"stores": ["sh-b"]}}, token=tokens_["hq"]
    )
    assert status == 200 and got["filter"]["lifecycle"] == []
    status, listing = api.call("GET", "/admin/segments", token=tokens_["hq"])
    assert [x["name"] for x in listing["items"]] == ["浦东"]
    status, _ = api.call("DELETE", path, token=tokens_["hq"])
    assert status == 204
    status, body = api.call("GET", path, token=tokens_["hq"])
    assert (status, body["error"]["code"]) == (404, "segment_not_found")
    from chalicelib.audit.models import AuditEntryModel

    actions = {e.action for e in AuditEntryModel.scan()}
    assert {"customers.segment_create", "customers.segment_update"} <= actions
    assert "customers.segment_delete" in actions


@pytest.fixture
def template(api, tokens_):
    status, t = create_template(
        api,
        {
            "name": "回归礼 满50减10",
            "kind": "amount_off",
            "threshold_fen": 5000,
            "amount_off_fen": 1000,
            "days_after_claim": 7,
        },
        token=tokens_["hq"],
    )
    assert status == 201, t
    return t["template_id"]


def coupons_of(cid: str) -> list[str]:
    return [c.coupon_id for c in CouponModel.by_customer.query(cid)]


def test_a_coupon_action_leaves_out_revoked_consent_and_issues_once(
    api, tokens_, built, template, monkeypatch
):
    monkeypatch.setattr(segments, "CHUNK", 2)  # 3 members: 2 chunks
    body = {
        "filter": {},
        "action": "issue_coupon",
        "template_id": template,
        "request_id": "act-000001",
    }
    status, action = api.call("POST", "/admin/segments/actions", body, token=tokens_["hq"])
    assert status == 202, action
    assert (action["targeted"], action["excluded_no_consent"]) == (3, 1)
    # a previous delivery issued chunk 0 and died before marking it
    m = SegmentModel.get("action", action["action_id"])
    ix = segments.index(m.object_key)
    from chalicelib.customers import segment_rules as sr

    mask, _ = segments._targets(ix, segments.s.SegmentFilter(), "issue_coupon", NOW.date())
    ids = [ix.snap.customer_id(i) for i in sr.rows_of(mask)]
    segments._issue(m, 0, ids[:2])
    # the message delivered twice
    segments.handle_message(json.dumps({"type": "action", "action_id": action["action_id"]}))
    assert drain() == 1
    status, got = api.call(
        "GET", f"/admin/segments/actions/{action['action_id']}", token=tokens_["hq"]
    )
    assert (got["state"], got["done"], got["failed"], got["progress"]) == ("succeeded", 3, 0, 1.0)
    for key in ("recent", "old", "none"):
        assert len(coupons_of(built[key])) == 1, key
    assert coupons_of(built["revoked"]) == []
    # the same request_id again: the same action, nothing new
    status, again = api.call("POST", "/admin/segments/actions", body, token=tokens_["hq"])
    assert status == 200 and again["action_id"] == action["action_id"]
    assert drain() == 0
    status, err = api.call(
        "POST",
        "/admin/segments/actions",
        dict(body, filter={"stores": ["sh-a"]}),
        token=tokens_["hq"],
    )
    assert (status, err["error"]["code"]) == (409, "request_id_reused")


def test_a_tag_action_tags_every_member_of_a_saved_segment(api, tokens_, built, monkeypatch):
    tagged = []
    monkeypatch.setattr(
        segments,
        "add_tags",
        lambda ids, tag, by: (tagged.extend((i, tag) for i in ids), (len(ids), 0))[1],
    )
    _, seg = api.call(
        "POST",
        "/admin/segments",
        {"name": "浦东", "filter": {"stores": ["sh-b"]}},
        token=tokens_["hq"],
    )
    body = {
        "segment_id": seg["segment_id"],
        "action": "add_tag",
        "tag": "回访",
        "request_id": "act-000002",
    }
    status, action = api.call("POST", "/admin/segments/actions", body, token=tokens_["hq"])
    assert status == 202 and (action["targeted"], action["excluded_no_consent"]) == (3, 0)
    drain()
    assert sorted(tagged) == sorted((built[k], "回访") for k in ("old", "revoked", "none"))
    status, body = api.call(
        "POST",
        "/admin/segments/actions",
        dict(body, request_id="act-000003", tag=None),
        token=tokens_["hq"],
    )
    assert status == 422


def export(api, tokens_, filters, key, who="hq"):
    from tests.api.test_exports import download, run_worker

    status, job = api.call(
        "POST",
        "/admin/exports",
        {"kind": "segment", "filters": filters, "language": "en"},
        token=tokens_[who],
        headers={"Idempotency-Key": key},
    )
    if status != 202:
        return status, job, None
    run_worker()
    _, job = api.call("GET", f"/admin/exports/{job['export_id']}", token=tokens_[who])
    text = download(job).decode("utf-8-sig")
    return status, job, [line.split(",") for line in text.strip().splitlines()]


def test_a_segment_export_masks_phones_and_leaves_out_revoked_consent(api, tokens_, built):
    status, job, rows = export(api, tokens_, {"segment": {}}, "seg-export-1")
    assert status == 202 and job["status"] == "succeeded", job
    header, *body = rows
    assert header[:3] == ["Member ID", "Phone", "Nickname"]
    ids = {r[0] for r in body}
    assert ids == {built["recent"], built["old"], built["none"]}  # not revoked, not erased
    assert job["excluded_no_consent"] == 1
    _, counted = count(api, tokens_)
    assert (counted["marketable"], counted["excluded_no_consent"]) == (len(body), 1)
    assert all("****" in r[1] for r in body)
    top = next(r for r in body if r[0] == built["recent"])
    assert top[6:11] == ["2", "1000.00", "2026-11-28", top[9], "joining"]


def test_a_campaign_export_shows_phones_of_consenting_members_only(api, tokens_, built):
    CustomerModel(built["old"]).update(actions=[CustomerModel.marketing_consent.set("granted")])
    segments.run_refresh()
    f = {"segment": {}, "unmasked": True}
    status, err, _ = export(api, tokens_, f, "seg-export-2")
    assert (status, err["error"]["code"]) == (422, "validation_failed")
    f.update(purpose="campaign", campaign="双十二回归")
    status, job, rows = export(api, tokens_, f, "seg-export-3")
    assert status == 202 and job["status"] == "succeeded"
    [row] = rows[1:]
    assert row[:2] == [built["old"], "13900000002"]
    assert job["excluded_no_consent"] == 3  # revoked, and two never asked
    status, err, _ = export(api, tokens_, f, "seg-export-4", who="manager_a")
    assert status == 403
    status, err, _ = export(api, tokens_, {"segment_id": "seg-nope"}, "seg-export-5")
    assert (status, err["error"]["code"]) == (404, "segment_not_found")
    from chalicelib.audit.models import AuditEntryModel

    assert "exports.segment" in {e.action for e in AuditEntryModel.scan()}


def test_two_deliveries_at_once_count_each_chunk_once(api, tokens_, built, template, monkeypatch):
    """A delivery that did not see the other's chunk marks (it read them before) issues
    nothing new (the batch id) and counts nothing twice (the chunk item's condition)."""
    body = {
        "filter": {},
        "action": "issue_coupon",
        "template_id": template,
        "request_id": "act-000009",
    }
    _, action = api.call("POST", "/admin/segments/actions", body, token=tokens_["hq"])
    drain()  # the first delivery: done
    m = SegmentModel.get("action", action["action_id"])
    m.update(actions=[SegmentModel.state.set("running")])  # as the second saw it
    monkeypatch.setattr(SegmentModel, "query", classmethod(lambda cls, *a, **k: iter(())))
    segments.run_action(action["action_id"])
    _, got = api.call("GET", f"/admin/segments/actions/{action['action_id']}", token=tokens_["hq"])
    assert (got["done"], got["targeted"], got["state"]) == (3, 3, "succeeded")
    assert all(len(coupons_of(built[k])) == 1 for k in ("recent", "old", "none"))


def test_the_nightly_run_shows_as_the_latest_refresh(api, tokens_, people):
    from chalicelib import jobs

    jobs.segments_nightly()
    status, body = api.call("GET", "/admin/segments/refresh", token=tokens_["hq"])
    assert status == 200 and (body["state"], body["members"]) == ("succeeded", 4)
    assert body["requested_at"] == "2026-12-05T02:00:00Z"


def test_counts_and_the_overview_read_the_pointer_and_the_snapshot_only(
    api, tokens_, built, aws_calls
):
    segments._loaded.update(key=None, index=None)  # a cold Lambda
    api.call("POST", "/admin/segments/count", {"filter": {"stores": ["sh-b"]}}, token=tokens_["hq"])
    # the session's check (the account's token generation), the pointer, the object
    assert aws_calls == ["GetItem", "GetItem", "GetObject"]
    aws_calls.clear()
    api.call("GET", "/admin/customers/overview", token=tokens_["hq"])
    assert aws_calls == ["GetItem"]  # warm: the pointer (the session check is cached)


def test_stages_are_todays_from_an_older_snapshot(api, tokens_, built, monkeypatch):
    _, body = count(api, tokens_, lifecycle=["dormant"])
    assert body["members"] == 0
    # a month later, no new snapshot: the last order of 2026-04-04 is 9 months old
    monkeypatch.setattr(clock, "now", lambda: datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    _, body = count(api, tokens_, lifecycle=["dormant"])
    assert (body["members"], body["as_of"]) == (1, "2026-12-05")
    _, overview = api.call("GET", "/admin/customers/overview", token=tokens_["hq"])
    assert overview["by_lifecycle"]["dormant"] == 1


def test_the_tags_module_gets_the_members_items_built_from_the_scan():
    """The adapter the lead wires customers/tags.py through: auto_tags(rules(), stats,
    member, paid=, today=) with a MemberStatsModel and a CustomerModel, no read."""
    from types import SimpleNamespace

    from chalicelib.customers.models import MemberStatsModel

    seen = {}

    def auto_tags(rule_list, stats, member, *, paid, today):
        seen.update(rules=rule_list, stats=stats, member=member, paid=paid, today=today)
        return ["aov150"]

    fake = SimpleNamespace(
        scan_manual_tags=lambda segment, total: iter([("c-1", "vip")]),
        rules=lambda: ["a rule"],
        auto_tags=auto_tags,
    )
    adapter = segment_snapshot.TagsModule(fake)
    assert adapter.needs_stats and list(adapter.manual(0, 8)) == [("c-1", "vip")]
    got = adapter.auto(
        {"customer_id": {"S": "c-1"}, "n": {"N": "2"}, "sp": {"N": "30000"}},
        {"customer_id": {"S": "c-1"}, "level": {"S": "V3"}, "source_kind": {"S": "shelf"}},
        paid=True,
        today=NOW.date(),
    )
    assert got == ["aov150"] and seen["rules"] == ["a rule"] and seen["paid"] is True
    assert isinstance(seen["stats"], MemberStatsModel) and seen["stats"].spend_fen == 30000
    assert isinstance(seen["member"], CustomerModel)
    assert (seen["member"].level, seen["member"].source_kind) == ("V3", "shelf")


def test_real_tags_reach_the_snapshot_and_the_tag_action_writes_them_once(api, tokens_, people):
    """customers/tags.py wired in: head office's default automatic tag (AOV >= 150 yuan:
    the November top spender, 100,000 fen over 2 orders), a manual tag added by the bulk
    action (twice: a redelivered chunk), both countable after the next snapshot."""
    from chalicelib.customers import tags
    from chalicelib.customers.models import MemberTagModel

    segments.run_refresh()
    assert count(api, tokens_, tags_any=["高客单"])[1]["members"] == 1
    body = {"filter": {"stores": ["sh-b"]}, "action": "add_tag", "tag": "回访"}
    status, _ = api.call(
        "POST", "/admin/segments/actions", dict(body, request_id="act-100001"), token=tokens_["hq"]
    )
    assert status == 202
    drain()
    tagged = {t.customer_id for t in MemberTagModel.by_tag.query("回访")}
    assert tagged == {people[k] for k in ("old", "revoked", "none")}
    assert tags.add_manual_tags(sorted(tagged), "回访", by="hq-admin") == (3, 0)  # again
    assert MemberTagModel.count(people["old"]) == 1
    segments.run_refresh()
    _, got = count(api, tokens_, tags_all=["回访"], stores=["sh-b"])
    assert (got["members"], got["excluded_no_consent"]) == (3, 1)


def test_a_member_day_for_a_saved_segment_pushes_its_pack_once(api, tokens_, built):
    """A member day whose audience is a saved segment starts today (the 5th): the daily
    job sends its coupon pack to the segment's members, the one who revoked consent left
    out, with the member day's own coupon ids; a second run starts nothing new."""
    from chalicelib import jobs
    from chalicelib.promotions import service as promotion_service

    from tests.api.test_member_day import coupon_template

    coupon_template(api)
    _, seg = api.call(
        "POST",
        "/admin/segments",
        {"name": "浦东", "filter": {"stores": ["sh-b"]}},
        token=tokens_["hq"],
    )
    body = {
        "promotion_id": "md-5",
        "kind": "member_day",
        "name": "5号会员日",
        "stores": [],
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2027-12-01T00:00:00+08:00",
        "member_day": {
            "recurrence": "monthly",
            "days": [5],
            "audience": "segment",
            "segment_id": seg["segment_id"],
            "coupon_template_ids": ["T-md"],
        },
    }
    status, got = create_promotion(api, body, token=tokens_["hq"])
    assert status == 201, got
    promotion_service.forget_active_cache()
    jobs.member_day_packs()
    jobs.member_day_packs()
    assert drain() == 1  # one action for the occurrence
    action = segments.get_action("act-md-md-5-20261205")
    assert (action.targeted, action.excluded_no_consent, action.done) == (2, 1, 2)
    owners = sorted(c.customer_id for c in CouponModel.scan() if c.coupon_id.startswith("T-md:"))
    assert owners == sorted(built[k] for k in ("old", "none"))
    assert all(":md-md-5-20261205:" in c.coupon_id for c in CouponModel.scan())


def test_a_tag_the_snapshot_had_no_room_for_is_refused_not_counted_zero(
    api, tokens_, people, monkeypatch
):
    from chalicelib.customers import segment_rules

    monkeypatch.setattr(segment_snapshot, "tags_adapter", StubTags)
    monkeypatch.setattr(segment_rules, "MAX_TAGS", 0)  # no room: every tag left out
    segments.run_refresh()
    status, got = count(api, tokens_, tags_any=["aov150"])
    assert (status, got["error"]["code"]) == (422, "tag_not_in_snapshot")
    assert got["error"]["details"][0]["field"] == "filter.tags_any[0]"
    assert count(api, tokens_, stores=["sh-b"])[0] == 200  # the rest still counts


def test_an_action_the_queue_gives_up_on_is_marked_failed_with_its_error(
    api, tokens_, built, monkeypatch
):
    """Deliveries that fail are retried (the action stays running); the queue's last
    delivery marks it failed with the error instead of leaving it "running" forever."""
    from infra.resources import QUEUES

    assert QUEUES["segments"][1] == segments.MAX_ATTEMPTS

    def broken(ids, tag, by):
        raise RuntimeError("tags table throttled")

    monkeypatch.setattr(segments, "add_tags", broken)
    body = {"filter": {"stores": ["sh-b"]}, "action": "add_tag", "tag": "回访"}
    _, action = api.call(
        "POST", "/admin/segments/actions", dict(body, request_id="act-200001"), token=tokens_["hq"]
    )
    for attempt in range(1, segments.MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            segments.run_action(action["action_id"])
        got = segments.get_action(action["action_id"])
        assert got.state == ("failed" if attempt == segments.MAX_ATTEMPTS else "running")
    assert got.error == "RuntimeError: tags table throttled" and got.finished_at


def test_a_failed_delivery_then_a_good_one_finishes_the_action(api, tokens_, built, monkeypatch):
    calls = []

    def flaky(ids, tag, by):
        calls.append(ids)
        if len(calls) == 1:
            raise RuntimeError("throttled once")
        return len(ids), 0

    monkeypatch.setattr(segments, "add_tags", flaky)
    body = {"filter": {"stores": ["sh-b"]}, "action": "add_tag", "tag": "回访"}
    _, action = api.call(
        "POST", "/admin/segments/actions", dict(body, request_id="act-200002"), token=tokens_["hq"]
    )
    with pytest.raises(RuntimeError):
        segments.run_action(action["action_id"])
    segments.run_action(action["action_id"])
    got = segments.get_action(action["action_id"])
    assert (got.state, got.done, got.error) == ("succeeded", 3, None)
