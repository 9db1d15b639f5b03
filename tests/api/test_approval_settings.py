"""The two-approver threshold as head office's setting (issue 18 item 5): GET/PUT
/admin/approval-settings (head office only, audited, versioned), the deployment's
default until set; an approval is judged by the setting at the time; a flash sale's
budget is the most it can give away, compared with the threshold like any budget.

sh-a and sh-b sell SKU "100" at ¥10.00 and ¥10.25 (tests/api/conftest.py catalogue)."""

from __future__ import annotations

import json

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import config

from tests.api.conftest import token_for
from tests.api.test_promotions import at, flash, tiered

PATH = "/admin/approval-settings"


@pytest.fixture
def hq2(aws):
    return token_for("hq-second", "hq_admin")


def draft(api, tokens_, body):
    status, p = api.call("POST", "/admin/promotions", body, token=tokens_["hq"])
    assert status == 201 and p["status"] == "draft", p
    return p


def approve(api, p, token):
    return api.call("POST", f"/admin/promotions/{p['promotion_id']}/approve", {}, token=token)


def test_the_default_until_head_office_sets_it_then_audited_and_versioned(api, tokens_, aws):
    status, got = api.call("GET", PATH, token=tokens_["hq"])
    assert status == 200, got
    assert got["two_approvers_above_fen"] == got["default_fen"] == config.TWO_APPROVERS_ABOVE_FEN
    assert got["is_default"] and got["version"] == 0
    status, got = api.call("PUT", PATH, {"two_approvers_above_fen": 2_000_000}, tokens_["hq"])
    assert status == 200 and got["two_approvers_above_fen"] == 2_000_000, got
    assert not got["is_default"] and got["version"] == 1 and got["updated_by"] == "hq-admin"
    (entry,) = [e for e in AuditEntryModel.scan() if e.action == "marketing.approval_settings"]
    assert json.loads(entry.changes) == {
        "two_approvers_above_fen": [config.TWO_APPROVERS_ABOVE_FEN, 2_000_000]
    }
    # a stale version: 409, nothing written
    stale = {"two_approvers_above_fen": 1, "expected_version": 0}
    status, err = api.call("PUT", PATH, stale, tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "settings_changed", err
    assert api.call("GET", PATH, token=tokens_["hq"])[1]["two_approvers_above_fen"] == 2_000_000
    status, err = api.call("PUT", PATH, {"two_approvers_above_fen": -1}, tokens_["hq"])
    assert status == 422, err


@pytest.mark.parametrize("role", ["store_manager", "store_staff", "customer"])
def test_only_head_office_reads_or_sets_it(api, aws, role):
    store = None if role == "customer" else "sh-a"
    token = token_for("x-1", role, store_id=store)
    assert api.call("GET", PATH, token=token)[0] == 403
    assert api.call("PUT", PATH, {"two_approvers_above_fen": 1}, token)[0] == 403


def test_an_approval_is_judged_by_the_threshold_set_at_the_time(api, tokens_, catalogue, hq2):
    p = draft(api, tokens_, tiered(starts_at=at(-1), budget_fen=3_000_000))
    assert p["approvals_needed"] == 1  # ¥30,000 at or below the default ¥50,000
    api.call("PUT", PATH, {"two_approvers_above_fen": 2_000_000}, tokens_["hq"])
    status, got = approve(api, p, tokens_["hq"])
    assert status == 200 and got["status"] == "pending" and got["approvals_needed"] == 2, got
    status, got = approve(api, p, hq2)
    assert status == 200 and got["status"] == "active"


def test_a_flash_sales_budget_is_the_most_it_can_give_away(api, tokens_, catalogue, hq2):
    # every store: the dearest (sh-b ¥10.25) - ¥9.90 = ¥0.35 × 10 units = ¥3.50
    small = draft(api, tokens_, flash(stores=[], starts_at=at(-1)))
    assert small["approvals_needed"] == 1
    # ¥0.35 × 20,000 units = ¥7,000: above a ¥5,000 threshold
    api.call("PUT", PATH, {"two_approvers_above_fen": 500_000}, tokens_["hq"])
    big = draft(api, tokens_, flash(stores=[], quantity=20_000, starts_at=at(-1)))
    assert big["approvals_needed"] == 2
    status, got = approve(api, big, tokens_["hq"])
    assert got["status"] == "pending", got
    status, got = approve(api, small, tokens_["hq"])
    assert status == 200 and got["status"] == "active", got
    # a flash price above the list price gives nothing away: one approval
    dear = draft(api, tokens_, flash(flash_price_fen=2_000, quantity=20_000, starts_at=at(-1)))
    assert dear["approvals_needed"] == 1
    # a SKU no store of the sale sells: unknown, two approvers
    StoreItemModel("sh-a", "105").delete()
    unsold = draft(api, tokens_, flash(sku="105", starts_at=at(-1)))
    assert unsold["approvals_needed"] == 2


def test_every_settings_page_writes_through_one_versioned_write(aws):
    """audit.save_settings (loyalty points, programme areas, approvals): the write is
    conditioned on the item as read, so an edit from a stale read is 409, not lost."""
    from chalicelib.audit import service as audit
    from chalicelib.auth.principal import Principal
    from chalicelib.kernel.errors import Conflict
    from chalicelib.loyalty.models import LoyaltySettingsModel

    me = Principal(subject="hq-admin", role="hq_admin")
    first = audit.save_settings(LoyaltySettingsModel, "points", None, "{}", me, None, "points")
    assert (first.version, first.updated_by) == (1, "hq-admin")
    with pytest.raises(Conflict) as raised:  # a second editor who read "absent"
        audit.save_settings(LoyaltySettingsModel, "points", None, '{"a":1}', me, None, "points")
    assert raised.value.code == "settings_changed"
    second = audit.save_settings(LoyaltySettingsModel, "points", first, '{"a":1}', me, None, "x")
    assert second.version == 2
    with pytest.raises(Conflict):  # stale: read at version 1
        audit.save_settings(LoyaltySettingsModel, "points", first, "{}", me, None, "points")
    assert LoyaltySettingsModel.get("points").data == '{"a":1}'
