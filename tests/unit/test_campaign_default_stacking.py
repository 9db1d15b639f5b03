"""A campaign's default stacking policy, the pure rules (issue 18 item 1): what an item
created in the campaign copies, where an item's policy comes from, and which of a
campaign's items apply-default-stacking changes (docs/promotions.md "Stacking policy")."""

import pytest
from chalicelib.campaigns.rules import default_stacking_kept
from chalicelib.kernel import stacking as k

STORE_EXCLUSIVE = {
    "exclusive": True,
    "priority": 10,
    "not_with_tiered": False,
    "not_with_member_price": False,
    "stack_group": "store",
}


def test_an_item_copies_the_default_without_the_group_it_cannot_take():
    assert k.inherited(STORE_EXCLUSIVE, takes_group=True) == STORE_EXCLUSIVE
    promo = k.inherited(STORE_EXCLUSIVE, takes_group=False)
    assert promo == {k_: v for k_, v in STORE_EXCLUSIVE.items() if k_ != "stack_group"}
    # a copy: changing it later never reaches the campaign's map
    assert promo is not STORE_EXCLUSIVE


def test_no_default_or_a_default_of_only_a_group_copies_nothing_onto_a_promotion():
    assert k.inherited(None, takes_group=True) is None
    assert k.inherited({"stack_group": "store"}, takes_group=False) is None  # the matrix
    assert k.inherited({"stack_group": "store"}, takes_group=True) == {"stack_group": "store"}


@pytest.mark.parametrize(
    "stored_source, raw, source, follows",
    [
        ("campaign", {"exclusive": True}, "campaign", True),
        ("campaign", None, "campaign", True),  # follows a campaign without a default
        ("own", None, "own", False),  # the matrix, chosen on purpose
        ("own", {"priority": 3}, "own", False),
        (None, {"priority": 3}, "own", False),  # set before sources were kept
        (None, None, "matrix", True),  # none: a campaign's default may reach it
    ],
)
def test_where_a_policy_comes_from(stored_source, raw, source, follows):
    assert k.source_of(stored_source, raw) == source
    assert k.follows_campaign(stored_source, raw) is follows


@pytest.mark.parametrize(
    "takes, status, follows, kept",
    [
        (True, "draft", True, None),
        (True, "pending", True, None),
        (True, "active", True, "active: keeps its policy until edited"),
        (True, "paused", True, "paused: keeps its policy until edited"),
        (True, "ended", True, "ended: keeps its policy until edited"),
        (True, "draft", False, "has its own policy"),
        (False, "draft", True, "takes no stacking policy"),
    ],
)
def test_apply_changes_only_the_drafts_that_follow_the_campaign(takes, status, follows, kept):
    assert default_stacking_kept(takes_policy=takes, status=status, follows=follows) == kept


def test_a_stored_default_reads_back_as_the_request_schema():
    assert k.spec(None) is None
    got = k.spec({"exclusive": True, "stack_group": "store"})
    assert got == k.Stacking(exclusive=True, stack_group="store")
    assert k.stored(got) == STORE_EXCLUSIVE | {"priority": 0}
