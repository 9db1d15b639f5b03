"""Lapsed members for the recall page's browser test, written into the local stack the
way the order-completion subscriber does (``aggregates.on_completed``), the way
tests/api/test_recall.py seeds them. Run with the stack's environment:

    python -m tests.browser.recall_seed lapsed <store> <count>   # prints the members
    python -m tests.browser.recall_seed back <store> <customer_id>  # an order completed now
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

_FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

PHONE_BASE = 13700007000  # a range no demo member uses


def complete(customer_id: str, store_id: str, at: datetime, fen: int) -> None:
    from chalicelib.customers import aggregates
    from chalicelib.events.types import OrderCompleted, OrderLine

    order_id = "R" + uuid.uuid4().hex[:10].upper()
    aggregates.on_completed(
        OrderCompleted(
            event_id=f"order.completed:{order_id}",
            occurred_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            order_id=order_id,
            customer_id=customer_id,
            store_id=store_id,
            paid_fen=fen,
            refunded_fen=0,
            lines=[OrderLine(sku="100", qty=1, paid_fen=fen, category1="水果")],
        )
    )


def lapsed(store_id: str, count: int) -> list[dict[str, object]]:
    """``count`` members with two orders 5 and 6 months ago, spends all different (the
    first the largest), then one erased and one who revoked marketing consent."""
    from chalicelib.identity.models import CustomerModel
    from chalicelib.identity.service import register_customer

    now = datetime.now(UTC)
    out = []
    for i in range(count + 2):
        phone = str(PHONE_BASE + i + 1)
        m, _ = register_customer(phone, nickname=f"召回{i + 1:02d}", home_store_id=store_id)
        fen = (count + 2 - i) * 1000
        complete(m.customer_id, store_id, now - timedelta(days=190), fen)
        complete(m.customer_id, store_id, now - timedelta(days=160), fen)
        out.append({"customer_id": m.customer_id, "phone": phone, "spend_fen": 2 * fen})
    erased, revoked = out[-2:]
    CustomerModel(erased["customer_id"]).update(
        actions=[CustomerModel.erased_at.set(now.strftime("%Y-%m-%dT%H:%M:%SZ"))]
    )
    CustomerModel(revoked["customer_id"]).update(
        actions=[CustomerModel.marketing_consent.set("revoked")]
    )
    return out[:-2]


def main(argv: list[str]) -> None:
    what, store_id, arg = argv
    if what == "lapsed":
        print(json.dumps(lapsed(store_id, int(arg))))
    elif what == "back":
        # The next whole second: times are kept to the second, and a return counts only
        # strictly after the first outcome (recorded before this ran, maybe this second).
        complete(
            arg, store_id, datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1), 5000
        )
    else:
        raise SystemExit(f"unknown: {what}")


if __name__ == "__main__":
    main(sys.argv[1:])
