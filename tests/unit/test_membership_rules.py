"""The segment memberships' diff (customers/membership_rules.py, issue 18 item 4): the
nightly job writes only the members whose set of saved segments changed."""

from __future__ import annotations

from chalicelib.customers import membership_rules as mr
from hypothesis import given
from hypothesis import strategies as st


def test_members_are_inverted_from_segments():
    got = mr.by_member({"vip": ["c-1", "c-2"], "pudong": ["c-2"], "empty": []})
    assert got == {"c-1": frozenset({"vip"}), "c-2": frozenset({"vip", "pudong"})}


def test_only_changed_members_are_written_and_leavers_deleted():
    old = {
        "same": frozenset({"vip"}),
        "moved": frozenset({"vip"}),
        "left": frozenset({"vip", "pudong"}),
        "blank": frozenset(),  # an item with no set: nothing to keep
    }
    new = {
        "same": frozenset({"vip"}),
        "moved": frozenset({"vip", "pudong"}),
        "joined": frozenset({"pudong"}),
    }
    changes = mr.diff(old, new)
    assert changes.puts == {
        "joined": frozenset({"pudong"}),
        "moved": frozenset({"vip", "pudong"}),
    }
    assert changes.deletes == ["blank", "left"]
    assert mr.diff(new, new).unchanged


segment_sets = st.dictionaries(
    st.sampled_from([f"c-{i}" for i in range(12)]),
    st.frozensets(st.sampled_from(["a", "b", "c"])),
)


@given(segment_sets, segment_sets)
def test_applying_the_changes_to_old_gives_new(old, new):
    changes = mr.diff(old, new)
    table = {cid: segs for cid, segs in old.items()}
    for cid in changes.deletes:
        del table[cid]
    table.update(changes.puts)
    assert table == {cid: segs for cid, segs in new.items() if segs}
    # nothing written for a member whose set is the same
    assert not any(old.get(cid) == segs for cid, segs in changes.puts.items())
