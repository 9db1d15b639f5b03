"""Members with order histories for the customer overview and segment builder browser
test (issue 15 item 7), then the real nightly snapshot job over the local stack. Orders
are counted the way the order-completion subscriber counts them (recall_seed.complete);
a few members get a manual tag so the test can build a small segment of known members.
Run with the stack's environment:

    python -m tests.browser.segments_seed seed <tag>   # prints the members and the snapshot
    python -m tests.browser.segments_seed snapshot     # the nightly job again
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

_FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

from tests.browser.recall_seed import complete  # noqa: E402

PHONE_BASE = 13700009000  # a range no demo member or other browser test uses
# not sh-wujiaochang: the recall page test expects exactly its own lapsed members there
STORES = ("sh-jingan", "sh-xuhui", "sh-lujiazui")
# days before now of each member's orders, by pattern: recent regulars, lapsed 4, 8,
# 10 and 14 months, one-order new members, never ordered
PATTERNS = (
    (3, 10, 25, 40),
    (130, 150),
    (240, 250, 260),
    (320, 330),
    (420,),
    (5,),
    (),
)
# The first TAGGED members (recent regulars) get the tag; the first GRANTED of them grant
# marketing consent, the last revokes it, the others were never asked.
TAGGED = 5
GRANTED = 2


def snapshot() -> dict[str, object]:
    from chalicelib.customers import segment_snapshot

    return segment_snapshot.run()


def seed(tag: str, count: int = 30) -> dict[str, object]:
    from chalicelib.customers.models import MemberTagModel
    from chalicelib.identity.models import CustomerModel
    from chalicelib.identity.service import register_customer

    now = datetime.now(UTC)
    members = []
    for i in range(count):
        phone = str(PHONE_BASE + i + 1)
        m, _ = register_customer(phone, nickname=f"分群{i + 1:02d}", home_store_id=STORES[i % 3])
        pattern = PATTERNS[0] if i < TAGGED else PATTERNS[i % len(PATTERNS)]
        for n, days in enumerate(pattern):
            complete(m.customer_id, STORES[i % 3], now - timedelta(days=days), 3000 + 1700 * i + n)
        members.append({"customer_id": m.customer_id, "phone": phone, "orders": len(pattern)})
    for m in members[:TAGGED]:
        MemberTagModel(
            m["customer_id"], tag, by="hq-admin", at=now.strftime("%Y-%m-%dT%H:%M:%SZ")
        ).save()
    CustomerModel(members[TAGGED - 1]["customer_id"]).update(
        actions=[CustomerModel.marketing_consent.set("revoked")]
    )
    for m in members[:GRANTED]:
        CustomerModel(m["customer_id"]).update(
            actions=[CustomerModel.marketing_consent.set("granted")]
        )
    return {"members": members, "tagged": TAGGED, "granted": GRANTED, "snapshot": snapshot()}


def main(argv: list[str]) -> None:
    if argv[0] == "seed":
        print(json.dumps(seed(argv[1])))
    elif argv[0] == "snapshot":
        print(json.dumps(snapshot()))
    else:
        raise SystemExit(f"unknown: {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
