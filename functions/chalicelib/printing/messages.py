"""The print job message, version 1: what the API puts on a store's print queue and the
store's print relay reads. It carries everything the relay needs to print every copy of
the job without calling the API.

This is a contract with a program installed on store PCs that is upgraded on its own
schedule, so it changes by the rules of docs/schemas/README.md: adding optional fields
keeps version "1"; anything else makes version "2". The committed JSON Schema
docs/schemas/print-job.v1.json is generated from these Structs; a test fails when it is
stale. Regenerate with (from functions/):

    ../.venv/bin/python -m chalicelib.printing.messages > ../docs/schemas/print-job.v1.json
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

SCHEMA_VERSION: Final = "1"
SCHEMA_FILE = "print-job.v1.json"

Fen = Annotated[int, Meta(ge=0, description="Money in integer fen (分, CNY): 1290 is ¥12.90.")]
Time = Annotated[str, Meta(description="UTC ISO-8601 time.", examples=["2026-11-24T02:30:00Z"])]


class Message(Struct, kw_only=True):
    """Base: consumers must ignore fields they do not know (additive changes keep v1)."""


class PrintLine(Message, kw_only=True):
    """One order line as sold (a reprint of an amended order: as it now is); the picking
    copy groups lines by zone and shelf."""

    sku: str
    name: str
    unit: Annotated[str, Meta(examples=["盒"])]
    qty: Annotated[int, Meta(ge=1)]
    unit_price_fen: Fen
    amount_fen: Annotated[Fen, Meta(description="unit_price_fen x qty, before discounts.")]
    zone: Annotated[str | None, Meta(description="Store zone, e.g. 生鲜区; null if unknown.")]
    shelf: Annotated[str | None, Meta(description="Shelf code, e.g. A-03; null if unknown.")]
    category1: str
    category2: str
    fresh: Annotated[bool, Meta(description="Fresh produce (生鲜): pick last, keep cold.")]
    gift: Annotated[
        bool, Meta(description="A gift with purchase (满赠), at price 0: printed 赠品.")
    ] = False


class Delivery(Message, kw_only=True):
    """Who receives the goods: printed on the delivery copy only."""

    name: str
    phone_masked: Annotated[
        str, Meta(description="The phone with its middle digits hidden.", examples=["138****1234"])
    ]
    address: Annotated[str, Meta(description="Street, building, room.")]


class Amounts(Message, kw_only=True):
    subtotal_fen: Fen
    discount_fen: Fen
    delivery_fee_fen: Fen
    total_fen: Annotated[Fen, Meta(description="What the customer paid.")]


class Discount(Message, kw_only=True):
    label: Annotated[str, Meta(examples=["满99减20"])]
    amount_fen: Fen


class Cancellation(Message, kw_only=True):
    """Why and when the order was cancelled (cancellation slips)."""

    at: Time
    reason: str | None


class ShortLine(Message, kw_only=True):
    """A line the store could not pick in full."""

    sku: str
    name: str
    unit: str
    qty: int  # ordered
    picked_qty: int  # found; the rest was refunded


class Amendment(Message, kw_only=True):
    """What changed after the ticket printed (amendment slips): the short lines and the
    refund for them."""

    at: Time
    reason: str | None
    short_lines: list[ShortLine]
    refund_fen: Annotated[int, Meta(ge=0, description="Refunded for the short units.")]
    total_fen: Annotated[int, Meta(ge=0, description="What the customer now pays.")]


class TestPrint(Message, kw_only=True):
    """A test print (kind ``test``) head office or the store's manager asked for."""

    requested_by: Annotated[str, Meta(description="Who pressed 打印测试 (login name).")]
    relay_id: Annotated[str | None, Meta(description="The relay token being tested.")]
    relay_name: Annotated[
        str | None, Meta(description="Its label, e.g. 收银台电脑; print it on the slip.")
    ]


class PickMember(Message, kw_only=True):
    """One member's order on a group's consolidated picking list."""

    order_id: str
    daily_seq: Annotated[int | None, Meta(description="今日第 N 单, when numbered.")]
    member: Annotated[str, Meta(description="The member, masked.", examples=["会员***42"])]
    fulfilment: Literal["delivery", "pickup"]
    pickup_code: Annotated[str | None, Meta(description="Pickup orders: the code (取货码).")]
    phone_masked: Annotated[str | None, Meta(description="Delivery orders: the masked phone.")]
    address: Annotated[str | None, Meta(description="Delivery orders: street, building, room.")]


class PickList(Message, kw_only=True):
    """A group buy's consolidated picking list (kind ``group_pick_list``): the group's
    one SKU, the units to pick in total, and each member's order to hand over."""

    group_id: str
    title: Annotated[str, Meta(description="The group-buy offer's title.")]
    sku: str
    name: str
    unit: str
    zone: str | None
    shelf: str | None
    total_units: Annotated[int, Meta(ge=1)]
    members: list[PickMember]


class PrintJobMessage(Message, kw_only=True):
    """A print job: print each of ``copies`` once, then acknowledge each copy with
    ``POST /relay/print-jobs/{job_id}/ack``. The same job can arrive more than once (SQS
    redelivery, re-sends by the watchdog with a higher ``attempt``): de-duplicate by
    ``job_id``, never by message id."""

    schema_version: Annotated[
        Literal["1"], Meta(description="Message format version; see docs/schemas/README.md.")
    ]
    job_id: Annotated[str, Meta(description="Unique per job; the de-duplication key.")]
    kind: Annotated[
        Literal["order", "reprint", "cancellation", "amendment", "test", "group_pick_list"],
        Meta(
            description="order: the ticket of a paid order; reprint: printed again on "
            "request (mark it 补打), as the order now is: after a shortage or a refund its "
            "lines carry the units still in the order, its amounts what stays paid (with "
            "no discount labels), and amendment says what changed; cancellation: a slip "
            "telling the store to stop or undo picking the order; amendment: a slip for "
            "the bag after picking found goods missing, with what was refunded (改单); test: "
            "a test slip (打印测试) with no order: its one copy is ``test``, ``test`` says "
            "who asked, the order fields are placeholders (empty order_id, no lines, zero "
            "amounts); group_pick_list: a group buy's consolidated picking list (百人团) "
            "with its one copy ``pick_list``, ``pick_list`` holds it, the order fields are "
            "placeholders as for test."
        ),
    ]
    attempt: Annotated[int, Meta(ge=1, description="1 for the first send; re-sends count up.")]
    copies: Annotated[
        list[Literal["picking", "delivery", "slip", "test", "pick_list"]],
        Meta(
            description="Copies to print, in printing order (``test``: test slips only; "
            "``pick_list``: group picking lists only)."
        ),
    ]
    original_job_id: Annotated[
        str | None, Meta(description="For reprints and slips: the order's first ticket.")
    ]
    store_id: str
    store_name: str
    store_phone: str | None
    store_timezone: Annotated[
        str, Meta(description="IANA zone for printing local times.", examples=["Asia/Shanghai"])
    ]
    order_id: Annotated[
        str, Meta(description="The order code; print it as a QR code for the POS (款台).")
    ]
    daily_seq: Annotated[
        int | None, Meta(description="今日第 N 单: the store's order number of the day.")
    ]
    business_day: Annotated[
        str, Meta(description="The store's business day of the order (YYYY-MM-DD).")
    ]
    fulfilment: Literal["delivery", "pickup"]
    created_at: Time
    paid_at: Time | None
    lines: list[PrintLine]
    remark: Annotated[str | None, Meta(description="The customer's note (备注).")]
    pickup_code: Annotated[str | None, Meta(description="Pickup orders: the code (取货码).")]
    delivery: Annotated[
        Delivery | None,
        Meta(description="Delivery orders whose job has a delivery copy; null otherwise."),
    ]
    amounts: Amounts
    discounts: list[Discount]
    cancellation: Annotated[
        Cancellation | None, Meta(description="Cancellation slips only; null otherwise.")
    ]
    amendment: Annotated[
        Amendment | None,
        Meta(
            description="Amendment slips, and reprints of an order amended after a "
            "shortage (print it as a note); null otherwise."
        ),
    ] = None
    test: Annotated[
        TestPrint | None, Meta(description="Test prints (kind test) only; null otherwise.")
    ] = None
    pick_list: Annotated[
        PickList | None,
        Meta(description="Group picking lists (kind group_pick_list) only; null otherwise."),
    ] = None
    member_qr: Annotated[
        str | None,
        Meta(
            description="Jobs with a delivery copy: print this as a QR code on it under "
            "扫码成为会员 (a storefront link whose token registers the scanner, or binds a "
            "member without a home store, to this store: members/sources.py). Absent or "
            "null: print no member QR code."
        ),
    ] = None


def encode(message: PrintJobMessage) -> str:
    """The SQS message body."""
    return msgspec.json.encode(message).decode()


def decode(body: str | bytes) -> PrintJobMessage:
    """Parse and check a message body (raises msgspec.ValidationError)."""
    return msgspec.json.decode(body, type=PrintJobMessage)


EXAMPLE: dict[str, Any] = {
    "schema_version": "1",
    "job_id": "261124K7M2Q9XD-p1",
    "kind": "order",
    "attempt": 1,
    "copies": ["picking", "delivery"],
    "original_job_id": None,
    "store_id": "sh-jingan",
    "store_name": "鲜到家 静安寺店",
    "store_phone": "021-62481234",
    "store_timezone": "Asia/Shanghai",
    "order_id": "261124K7M2Q9XD",
    "daily_seq": 12,
    "business_day": "2026-11-24",
    "fulfilment": "delivery",
    "created_at": "2026-11-24T02:28:41Z",
    "paid_at": "2026-11-24T02:29:58Z",
    "lines": [
        {
            "sku": "100231",
            "name": "赣南脐橙 5斤装",
            "unit": "箱",
            "qty": 1,
            "unit_price_fen": 3990,
            "amount_fen": 3990,
            "zone": "生鲜区",
            "shelf": "F-02",
            "category1": "水果",
            "category2": "柑橘",
            "fresh": True,
        },
        {
            "sku": "200518",
            "name": "光明 鲜牛奶 950ml",
            "unit": "盒",
            "qty": 2,
            "unit_price_fen": 1590,
            "amount_fen": 3180,
            "zone": "冷藏区",
            "shelf": "C-11",
            "category1": "乳品",
            "category2": "鲜奶",
            "fresh": True,
        },
    ],
    "remark": "不要辣，放门口",
    "pickup_code": None,
    "delivery": {
        "name": "王女士",
        "phone_masked": "138****0001",
        "address": "南京西路1618号 2号楼 1201室",
    },
    "amounts": {
        "subtotal_fen": 7170,
        "discount_fen": 0,
        "delivery_fee_fen": 500,
        "total_fen": 7670,
    },
    "discounts": [],
    "cancellation": None,
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the message, as committed in docs/schemas/."""
    schema = msgspec.json.schema(PrintJobMessage)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Daojia print job message, version {SCHEMA_VERSION}",
        "description": (
            "Body of a message on a store's print queue (daojia-<stage>-print-<store>.fifo). "
            "Generated from functions/chalicelib/schemas/print_messages.py; compatibility "
            "rules in docs/schemas/README.md. Consumers ignore fields they do not know."
        ),
        **schema,
        "examples": [EXAMPLE],
    }


def render() -> str:
    """The schema file as committed: stable key order, UTF-8, trailing newline."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
