"""Every protected route against every role: the declared roles get through, the others
get 403, no token gets 401; store roles never reach another store's data."""

import re

import app  # noqa: F401  (registers every route before the matrix is built)
import pytest
from chalicelib.http.routing import ROUTES

ROLES = ["customer", "staff_a", "manager_a", "hq", "relay_a"]
ROLE_OF = {
    "customer": "customer",
    "staff_a": "store_staff",
    "manager_a": "store_manager",
    "hq": "hq_admin",
    "relay_a": "relay",
}
PROTECTED = [r for r in ROUTES if r.roles is not None]
PATH_VALUES = {
    "store_id": "sh-b",
    "sku": "100",
    "username": "sh-b-someone",
    "job_id": "imp-x",
    "order_id": "261124ABCDEFGH",
    "provider": "local",
    "return_id": "r-x",
    "relay_id": "rly-x",
    "promotion_id": "p-x",
    "template_id": "t-x",
    "customer_id": "c-x",
    "sale_id": "CS0000000000000000",
    "delivery_id": "0123456789abcdef0123456789abcdef",
    "export_id": "exp-x",
    "top_up_id": "TU0000000000000000",
    "task_id": "task-x",
    "address_id": "a-x",
    "purchase_id": "PM0000000000000000",
    "plan_id": "plan-x",
    "reward_id": "rw-x",
    "code": "QRX23456",
    "tag": "%E7%94%9F%E9%B2%9C",  # 生鲜, URL-encoded
    "segment_id": "seg-x",
    "action_id": "act-x",
    "year": "2026",
    "node_id": "2026:618",
    "campaign_id": "c-x",
    "month": "2026-11",
    # subscription delivery (issue 17)
    "subscription_id": "SBXXXXXXXXXXXXXXXX",
    "lottery_id": "lot-x",
    # issue 17: group buy
    "offer_id": "GB-x",
    "group_id": "GB-x-G1",
    "zone_id": "z-x",
}


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m.group(1)], path)


def test_the_matrix_covers_the_protected_routes():
    assert len(PROTECTED) >= 10
    assert all(r.roles for r in PROTECTED)


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("who", ROLES)
def test_roles(api, tokens_, stores, route, who):
    status, body = api.call(route.method, concrete(route.path) + "?store_id=sh-b", {}, tokens_[who])
    if ROLE_OF[who] not in route.roles:
        assert status == 403 and body["error"]["code"] == "role_not_allowed"
    else:
        assert (
            status not in (401,) and (body or {}).get("error", {}).get("code") != "role_not_allowed"
        )
        if ROLE_OF[who] != "hq_admin" and status == 403:
            assert body["error"]["code"] in ("other_store", "field_not_allowed", "role_not_allowed")


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_no_token_is_401(api, aws, route):
    status, _ = api.call(route.method, concrete(route.path), {})
    assert status == 401


STORE_SCOPED_WRITES = [
    ("PATCH", "/admin/stores/sh-b", {"minimum_order_fen": 1}),
    ("PATCH", "/admin/stores/sh-b/items/100", {"stock": 1}),
    ("GET", "/admin/staff?store_id=sh-b", None),
]


@pytest.mark.parametrize(("method", "path", "body"), STORE_SCOPED_WRITES)
def test_store_one_cannot_touch_store_two(api, tokens_, catalogue, method, path, body):
    status, resp = api.call(method, path, body, tokens_["manager_a"])
    assert status == 403 and resp["error"]["code"] == "other_store"
