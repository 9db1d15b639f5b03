"""The order's head (orders table) stays within 1 KB from placing to completion, so each
store step that rewrites it alone is one write unit whatever the basket (issue 11 item
9): the lines and the rest written once live in its detail (order_details). Sized by
DynamoDB's rules as bench/lifecycle_cost.py counts them."""

from __future__ import annotations

from chalicelib.db.transitions import Who, entry
from chalicelib.orders.models import OrderModel

from bench.lifecycle_cost import item_size

BUDGET = 1024
OID = "261205HABWUXRN"
CUSTOMER = Who("c-0123456789abcdef", "customer")
PICKER = Who("sh-xuhui-picker-02", "store_staff")
MANAGER = Who("sh-xuhui-manager", "store_manager")
PROVIDER = Who("payment-provider", "system")
LIFE = [
    ("place", None, "awaiting_payment", CUSTOMER, None),
    ("pay", "awaiting_payment", "paid", PROVIDER, None),
    ("start_picking", "paid", "picking", PICKER, None),
    ("finish_picking", "picking", "picked", PICKER, "2 units short"),
    ("checkout", "picked", "packed", MANAGER, None),
    ("dispatch", "packed", "out_for_delivery", PICKER, None),
    ("deliver", "out_for_delivery", "delivered", PICKER, None),
    ("confirm_receipt", "delivered", "completed", CUSTOMER, None),
]


def completed_head() -> OrderModel:
    """A completed delivery order that was picked short (a refund, an amendment slip):
    the largest head a normal life leaves, 8 history entries."""
    return OrderModel(
        OID,
        customer_id=CUSTOMER.subject,
        store_id="sh-xuhui",
        fulfilment="delivery",
        status="completed",
        store_queue="sh-xuhui#completed",
        paid_queue="sh-xuhui#open",
        request_hash="Yf3kq0Zb8cXvP1sLw2mN4g",  # 22 characters: orders/service.py _stored_hash
        store_day="sh-xuhui#2026-12-05",
        total_fen=123456,
        paid_fen=123456,
        refunded_fen=12345,
        delivery_fee_refunded_fen=0,
        short_picked={"100003": 1, "200017": 0},
        payment_id="wechat:4200002345202612051234567890",
        payment_provider="wechat",
        paid_at="2026-12-05T01:02:03Z",
        daily_seq=123,
        missed_print=False,
        print_job_ids={f"{OID}-p1", f"{OID}-p2"},
        history=[entry(a, f, t, who, reason) for a, f, t, who, reason in LIFE],
        expires_at="2026-12-05T01:17:03Z",
        created_at="2026-12-05T01:02:03.123Z",
        updated_at="2026-12-05T03:04:05Z",
        version=9,
    )


def test_a_completed_head_with_8_history_entries_fits_in_one_write_unit():
    size = item_size(completed_head().serialize())
    assert size <= BUDGET, f"the order head is {size} bytes: over {BUDGET}, 2 WRU per step"


def test_the_head_reads_back_every_history_entry_as_written():
    back = OrderModel.from_raw_data(completed_head().serialize())
    assert [
        (h.action, h.from_state, h.to_state, h.actor, h.role, h.reason) for h in back.history
    ] == [(a, f, t, who.subject, who.role, reason) for a, f, t, who, reason in LIFE]
