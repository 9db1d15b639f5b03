"""A coupon template for a saved segment (issue 18 item 4) against a real snapshot: the
segment's members (favourite store sh-b) claim it, a member of another store and a
member who revoked marketing consent get 409 not_for_you. The members and the snapshot
are tests/api/test_segments.py's."""

from __future__ import annotations

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
