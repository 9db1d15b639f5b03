"""The nightly job's segment memberships (customers/segment_memberships.py, issue 18
item 4) on moto: each saved segment evaluated on the snapshot in S3, members who revoked
marketing consent in none, and a second night writes only the members whose set
changed (puts and deletes in BatchWriteItem), nothing for the others."""

from __future__ import annotations

from datetime import date

import boto3
import botocore.client
import pytest
from chalicelib.customers import schemas as s
from chalicelib.customers import segment_memberships, segments
from chalicelib.customers import segment_rules as sr
from chalicelib.customers.models import SegmentModel
from chalicelib.kernel import config
from chalicelib.promotions.models import SegmentMembershipModel

DAY = date(2026, 12, 5)


@pytest.fixture
def saved(aws):
    segments._loaded.update(key=None, index=None)
    for seg_id, f in (("seg-pudong", {"stores": ["sh-b"]}), ("seg-big", {"spend_min_fen": 10000})):
        SegmentModel(
            "segment",
            seg_id,
            name=seg_id,
            filter_json=segments._filter_json(s.SegmentFilter(**f)),
        ).save()
    yield
    segments._loaded.update(key=None, index=None)


def publish(rows: list[sr.Row], name: str) -> str:
    """A snapshot of ``rows`` in the imports bucket, as the job writes one."""
    key = f"segments/{DAY.isoformat()}/{name}.bin"
    body = sr.encode(sr.build(rows, as_of=DAY))
    s3 = boto3.client("s3", region_name=config.REGION)
    s3.put_object(Bucket=config.bucket_name("imports"), Key=key, Body=body)
    return key


def row(cid: str, store: str, spend: int = 0, consent: str | None = "granted") -> sr.Row:
    orders = 1 if spend else 0
    return sr.Row(
        cid,
        spend_fen=spend,
        orders=orders,
        last_day=DAY.toordinal() - 3 if spend else 0,
        join_day=DAY.toordinal() - 40,
        store=store,
        consent=consent,
    )


def stored() -> dict[str, set[str]]:
    return {m.customer_id: set(m.segs) for m in SegmentMembershipModel.scan()}


@pytest.fixture
def written(monkeypatch):
    """The items each BatchWriteItem put or deleted (customer ids), in order."""
    out: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if operation_name == "BatchWriteItem":
            for reqs in api_params["RequestItems"].values():
                for r in reqs:
                    op = "put" if "PutRequest" in r else "delete"
                    item = r["PutRequest"]["Item"] if op == "put" else r["DeleteRequest"]["Key"]
                    out.append((op, item["customer_id"]["S"]))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return out


def test_each_members_segments_are_stored_and_revoked_consent_is_in_none(saved, written):
    rows = [
        row("c-1", "sh-b", 20000),
        row("c-2", "sh-b"),
        row("c-3", "sh-a", 15000),
        row("c-4", "sh-a"),
        row("c-5", "sh-b", 50000, consent="revoked"),
        row("c-6", "sh-b", consent=None),  # never asked: included, as for coupons
    ]
    got = segment_memberships.sync(publish(rows, "night-1"), DAY)
    assert stored() == {
        "c-1": {"seg-pudong", "seg-big"},
        "c-2": {"seg-pudong"},
        "c-3": {"seg-big"},
        "c-6": {"seg-pudong"},
    }
    assert got == {"as_of": "2026-12-05", "members": 4, "written": 4, "deleted": 0}
    run = SegmentModel.get("memberships", "current")
    assert (run.as_of, run.members, run.done, run.failed) == ("2026-12-05", 4, 4, 0)


def test_the_next_night_writes_only_the_members_whose_set_changed(saved, written):
    night1 = [row(f"c-{i}", "sh-b", 20000 if i < 50 else 0) for i in range(100)]
    segment_memberships.sync(publish(night1, "night-1"), DAY)
    assert len(written) == 100
    written.clear()
    night2 = list(night1)
    night2[10] = row("c-10", "sh-a", 20000)  # moved store: leaves seg-pudong
    night2[60] = row("c-60", "sh-b", 30000)  # spent: joins seg-big
    night2[70] = row("c-70", "sh-a")  # moved, no spend: in no segment now
    night2[80] = row("c-80", "sh-b", consent="revoked")  # revoked consent: in none
    got = segment_memberships.sync(publish(night2, "night-2"), DAY)
    assert sorted(written) == [
        ("delete", "c-70"),
        ("delete", "c-80"),
        ("put", "c-10"),
        ("put", "c-60"),
    ]
    assert (got["written"], got["deleted"], got["members"]) == (2, 2, 98)
    now = stored()
    assert now["c-10"] == {"seg-big"} and now["c-60"] == {"seg-pudong", "seg-big"}
    assert "c-70" not in now and "c-80" not in now and len(now) == 98
    written.clear()
    segment_memberships.sync(publish(night2, "night-3"), DAY)
    assert written == []  # nothing changed: no write at all


def test_a_deleted_segment_leaves_every_members_set(saved, written):
    rows = [row("c-1", "sh-b", 20000), row("c-2", "sh-b")]
    segment_memberships.sync(publish(rows, "night-1"), DAY)
    SegmentModel("segment", "seg-pudong").delete()
    segment_memberships.sync(publish(rows, "night-2"), DAY)
    assert stored() == {"c-1": {"seg-big"}}


def test_erasing_a_member_deletes_their_memberships(saved):
    segment_memberships.sync(publish([row("c-1", "sh-b")], "night-1"), DAY)
    segment_memberships.erase("c-1")
    segment_memberships.erase("c-1")  # idempotent
    assert stored() == {}
