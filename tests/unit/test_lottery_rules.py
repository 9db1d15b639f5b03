"""The lottery's pure draw (lottery/rules.py): anyone recomputes the winners from the
revealed seed and the entrant list."""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.lottery import rules
from hypothesis import given
from hypothesis import strategies as st

SEED = bytes(range(32))
IDS = [f"O{i:04d}" for i in range(50)]


def test_score_is_hmac_sha256_of_the_order_id_keyed_by_the_seed():
    want = hmac.new(SEED, b"O0001", hashlib.sha256).hexdigest()
    assert rules.score(SEED, "O0001") == want
    assert rules.seed_hash(SEED) == hashlib.sha256(SEED).hexdigest()


def test_winners_are_the_n_lowest_scores():
    won = rules.draw(SEED, IDS, 5)
    lowest = sorted(IDS, key=lambda o: rules.score(SEED, o))[:5]
    assert [w.order_id for w in won] == lowest
    assert [w.score for w in won] == sorted(w.score for w in won)


def test_more_winners_than_entrants_every_entrant_wins_once():
    assert sorted(w.order_id for w in rules.draw(SEED, IDS[:3], 10)) == IDS[:3]
    assert rules.draw(SEED, [], 3) == []


def test_one_win_per_customer_passes_over_a_holders_second_order():
    holders = {o: "same" for o in IDS[:10]} | {o: o for o in IDS[10:]}
    won = rules.draw(SEED, IDS, 20, holders)
    assert sum(1 for w in won if holders[w.order_id] == "same") == 1
    assert len(won) == 20 and len({holders[w.order_id] for w in won}) == 20
    # the customer's entry is their lowest-scoring order
    theirs = min(IDS[:10], key=lambda o: rules.score(SEED, o))
    assert theirs in {w.order_id for w in won}


def test_ties_are_broken_by_order_id(monkeypatch):
    monkeypatch.setattr(rules, "score", lambda seed, order_id: "0" * 64)
    assert [w.order_id for w in rules.draw(SEED, ["O9", "O1", "O5"], 2)] == ["O1", "O5"]


def test_a_different_seed_draws_differently():
    assert rules.draw(SEED, IDS, 5) != rules.draw(bytes(32), IDS, 5)


@given(
    seed=st.binary(min_size=32, max_size=32),
    ids=st.lists(st.text("ABC0123456789", min_size=1, max_size=8), max_size=40, unique=True),
    n=st.integers(1, 10),
    data=st.data(),
)
def test_same_seed_same_winners_whatever_the_entrants_order(seed, ids, n, data):
    shuffled = data.draw(st.permutations(ids))
    assert rules.draw(seed, ids, n) == rules.draw(seed, shuffled, n)
    assert rules.entrants_hash(ids) == rules.entrants_hash(shuffled)


def test_prize_is_what_the_order_still_holds_up_to_the_cap():
    assert rules.prize_fen(5000, 0, None) == 5000
    assert rules.prize_fen(5000, 1000, None) == 4000
    assert rules.prize_fen(5000, 0, 3000) == 3000
    assert rules.prize_fen(5000, 4000, 3000) == 1000
    assert rules.prize_fen(5000, 5000, 3000) == 0


def test_eligible_window_is_half_open_and_full_refunds_are_out():
    kw = {"starts_at": "2026-11-10T16:00:00Z", "ends_at": "2026-11-11T16:00:00Z"}
    ok = {"paid_fen": 2500, "refunded_fen": 0, "min_fen": None, **kw}
    assert rules.eligible(paid_at="2026-11-10T16:00:00Z", **ok)
    assert not rules.eligible(paid_at="2026-11-11T16:00:00Z", **ok)
    assert not rules.eligible(paid_at="2026-11-10T15:59:59Z", **ok)
    assert not rules.eligible(paid_at=None, **ok)
    full = {**ok, "refunded_fen": 2500}
    assert not rules.eligible(paid_at="2026-11-11T00:00:00Z", **full)
    partial = {**ok, "refunded_fen": 100}
    assert rules.eligible(paid_at="2026-11-11T00:00:00Z", **partial)
    above = {**ok, "min_fen": 3000}
    assert not rules.eligible(paid_at="2026-11-11T00:00:00Z", **above)


def test_a_return_below_the_threshold_loses_the_entry():
    # issue 18 item 2: a gift follows the order; what counts is what stays paid
    kw = {"starts_at": "2026-11-10T16:00:00Z", "ends_at": "2026-11-11T16:00:00Z"}
    at = "2026-11-11T00:00:00Z"
    assert rules.eligible(paid_fen=5000, refunded_fen=2000, min_fen=3000, paid_at=at, **kw)
    assert not rules.eligible(paid_fen=5000, refunded_fen=2001, min_fen=3000, paid_at=at, **kw)


def test_the_documented_recompute_snippet_accepts_a_real_proof_and_refuses_a_forged_one(
    tmp_path,
):
    import json
    import re
    import subprocess
    import sys
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "mechanics.md").read_text(encoding="utf-8")
    section = doc.split("## Lottery free order", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "recompute.py"
    script.write_text(snippet, encoding="utf-8")
    holders = {o: f"h{i % 7}" for i, o in enumerate(IDS)}
    won = rules.draw(SEED, IDS, 4, holders)
    proof = {
        "seed": SEED.hex(),
        "seed_hash": rules.seed_hash(SEED),
        "winners_n": 4,
        "entrants_hash": rules.entrants_hash(IDS),
        "entrants": [{"order_id": o, "holder": holders[o]} for o in IDS],
        "winners": [{"order_id": w.order_id, "score": w.score} for w in won],
    }
    good = tmp_path / "proof.json"
    good.write_text(json.dumps(proof))
    assert subprocess.run([sys.executable, str(script), str(good)], check=False).returncode == 0
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**proof, "winners": proof["winners"][::-1]}))
    assert subprocess.run([sys.executable, str(script), str(forged)], check=False).returncode != 0
