"""A coupon template for a saved segment (issue 18 item 4) against a real snapshot: the
segment's members (favourite store sh-b) claim it, a member of another store and a
member who revoked marketing consent get 409 not_for_you. The members and the snapshot
are tests/api/test_segments.py's."""

from __future__ import annotations

from chalicelib.customers import segments

from tests import publishing
from tests.api.conftest import token_for
from tests.api.test_segments import built, people, today  # noqa: F401  (fixtures)


def test_a_segment_template_is_claimed_by_the_segments_members_only(api, tokens_, built):  # noqa: F811
    status, seg = api.call(
        "POST",
        "/admin/segments",
        {"name": "浦东", "filter": {"stores": ["sh-b"]}},
        token=tokens_["hq"],
    )
    assert status == 201, seg
    status, t = publishing.create_template(
        api,
        {
            "template_id": "pudong",
            "name": "浦东专享 满50减10",
            "kind": "amount_off",
            "threshold_fen": 5000,
            "amount_off_fen": 1000,
            "days_after_claim": 7,
            "audience": {"segment_id": seg["segment_id"]},
        },
        tokens_["hq"],
    )
    assert status == 201, t
    assert t["audience"] == {"min_level": None, "segment_id": seg["segment_id"]}

    def claim(who):
        body = {"template_id": "pudong", "request_id": "r-1"}
        return api.call("POST", "/coupons/claim", body, token=token_for(built[who], "customer"))

    for who in ("old", "none"):  # sh-b members
        status, got = claim(who)
        assert status == 201, (who, got)
    for who in ("recent", "revoked"):  # sh-a's; sh-b's without consent
        status, got = claim(who)
        assert (status, got["error"]["code"]) == (409, "not_for_you"), who


# --- promotions for a saved segment (the members' item read with the cart) -------------


def _segment_promotion(api, tokens_, segment_id, **over):
    from chalicelib.promotions import service as promotion_service

    promotion_service.forget_active_cache()
    return publishing.create_promotion(
        api,
        {
            "promotion_id": "pudong-10-3",
            "kind": "tiered",
            "name": "浦东专享 满10减3",
            "starts_at": "2026-12-01T00:00:00+08:00",
            "ends_at": "2027-01-01T00:00:00+08:00",
            "tiers": [{"threshold_fen": 1000, "off_fen": 300}],
            "audience": {"segment_id": segment_id},
            **over,
        },
        tokens_["hq"],
    )


def _tiered(quote):
    return [d["code"] for d in quote["discounts"] if d["kind"] == "tiered"]


def test_a_segment_promotion_prices_for_its_members_only_in_the_carts_one_read(
    api,
    tokens_,
    built,  # noqa: F811
    catalogue,
    aws_calls,
):
    from tests.api.test_orders_api import cart, place

    status, seg = api.call(
        "POST",
        "/admin/segments",
        {"name": "浦东", "filter": {"stores": ["sh-b"]}},
        token=tokens_["hq"],
    )
    assert status == 201, seg
    segments.run_refresh()  # the nightly job: memberships of the saved segment
    status, p = _segment_promotion(api, tokens_, seg["segment_id"])
    assert status == 201, p
    assert p["audience"] == {"min_level": None, "segment_id": seg["segment_id"]}
    body = cart(("102", 3), coupon_ids=[])  # 3 x 10.02 at sh-a: reaches 满10, and ¥20

    def quote(who):
        # None: c-1, a customer the snapshot does not know (no memberships item); the
        # quote needs a customer's token, so a signed-out cart never reaches pricing
        token = token_for(built[who] if who else "c-1", "customer")
        status, q = api.call("POST", "/orders/quote", body, token)
        assert status == 200, q
        return q

    assert _tiered(quote("old")) == ["tiered:pudong-10-3"]  # sh-b, in the segment
    assert _tiered(quote("none")) == ["tiered:pudong-10-3"]
    assert _tiered(quote("recent")) == []  # sh-a's: outside the segment
    assert _tiered(quote("revoked")) == []  # sh-b's, revoked consent: in no segment
    assert _tiered(quote(None)) == []  # no item: in no segment
    # neither in the public list nor explained to those outside (no hint of the offer)
    outside = quote("recent")
    assert "pudong-10-3" not in str(outside)
    status, listed = api.call("GET", "/stores/sh-a/promotions")
    assert status == 200 and listed["items"] == []

    # placing stays one BatchGetItem (the member's item in it) and one transaction
    token = token_for(built["old"], "customer")
    q = quote("old")
    aws_calls.clear()
    status, order = place(api, token, {**body, "expected_total_fen": q["total_fen"]})
    assert status == 201, order
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]
    assert order["total_fen"] == q["total_fen"]
    assert _tiered(order) == ["tiered:pudong-10-3"]


def test_the_members_item_is_read_only_while_a_segment_promotion_is_live(
    api,
    tokens_,
    built,  # noqa: F811
    catalogue,
    monkeypatch,
):
    from chalicelib.db import transactions
    from chalicelib.promotions import service as promotion_service

    from tests.api.test_orders_api import cart

    tables: list[set[str]] = []
    original = transactions.batch_get_raw

    def recording(keys, *args, **kwargs):
        tables.append(set(keys))
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(transactions, "batch_get_raw", recording)
    promotion_service.forget_active_cache()
    token = token_for(built["old"], "customer")
    api.call("POST", "/orders/quote", cart(("102", 2), coupon_ids=[]), token)
    assert not any(t.endswith("segment_memberships") for t in tables[-1])
    _, seg = api.call(
        "POST", "/admin/segments", {"name": "浦东", "filter": {"stores": ["sh-b"]}}, tokens_["hq"]
    )
    _segment_promotion(api, tokens_, seg["segment_id"])
    api.call("POST", "/orders/quote", cart(("102", 2), coupon_ids=[]), token)
    assert any(t.endswith("segment_memberships") for t in tables[-1])


def test_a_promotion_for_an_unknown_segment_is_422_and_nothing_is_written(api, tokens_, built):  # noqa: F811
    from chalicelib.promotions.models import PromotionModel

    status, got = _segment_promotion(api, tokens_, "seg-nosuch")
    assert status == 422, got
    assert [d["field"] for d in got["error"]["details"]] == ["audience.segment_id"]
    status, got = _segment_promotion(
        api, tokens_, "seg-nosuch", audience={"segment_id": "x", "min_level": "V3"}
    )
    assert [d["field"] for d in got["error"]["details"]] == ["audience"]
    assert PromotionModel.count() == 0
