"""infra/migrate_order_details.py: orders stored as one item before the split get their
detail item, their head loses the moved attributes, and they read as before."""

from __future__ import annotations

import boto3
import pytest
from chalicelib.auth.principal import Principal
from chalicelib.orders import order_flow
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderDetailModel, OrderModel

from infra import migrate_order_details as mig

HQ = Principal("hq-1", "hq_admin")
LINE = {
    "M": {
        "sku": {"S": "100"},
        "name": {"S": "鲜牛奶"},
        "unit": {"S": "瓶"},
        "category1": {"S": "乳品"},
        "category2": {"S": "牛奶"},
        "fresh": {"BOOL": True},
        "unit_price_fen": {"N": "1290"},
        "qty": {"N": "2"},
        "amount_fen": {"N": "2580"},
        "discount_fen": {"N": "0"},
        "paid_fen": {"N": "2580"},
        "picked_qty": {"N": "1"},  # picked before the split: on the line
        "refunded_units": {"N": "1"},
        "refunded_fen": {"N": "1290"},
    }
}
OLD_ENTRY = {
    "M": {
        "at": {"S": "2026-11-24T00:00:00Z"},
        "actor": {"S": "c-1"},
        "role": {"S": "customer"},
        "action": {"S": "place"},
        "to": {"S": "awaiting_payment"},
    }
}


def legacy(order_id: str, version: int = 3) -> dict:
    """An order as the release before the split stored it: one item."""
    return {
        "order_id": {"S": order_id},
        "customer_id": {"S": "c-1"},
        "store_id": {"S": "sh-a"},
        "fulfilment": {"S": "delivery"},
        "status": {"S": "picked"},
        "store_queue": {"S": "sh-a#open"},
        "store_day": {"S": "sh-a#2026-11-24"},
        "address": {
            "M": {
                "name": {"S": "王"},
                "phone": {"S": "13800000000"},
                "line": {"S": "1号"},
                "lat": {"N": "31.2"},
                "lng": {"N": "121.4"},
            }
        },
        "remark": {"S": "放门口"},
        "lines": {"L": [LINE]},
        "discounts": {"L": []},
        "coupon_uses": {"L": []},
        "flash_uses": {"L": []},
        "budget_uses": {"L": []},
        "delivery_fee_waived_fen": {"N": "0"},
        "subtotal_fen": {"N": "2580"},
        "discount_fen": {"N": "0"},
        "delivery_fee_fen": {"N": "500"},
        "delivery_fee_refunded_fen": {"N": "0"},
        "total_fen": {"N": "3080"},
        "paid_fen": {"N": "3080"},
        "refunded_fen": {"N": "1290"},
        "missed_print": {"BOOL": False},
        "history": {"L": [OLD_ENTRY]},
        "expires_at": {"S": "2026-11-24T00:15:00Z"},
        "created_at": {"S": "2026-11-24T00:00:00.000Z"},
        "updated_at": {"S": "2026-11-24T00:20:00Z"},
        "version": {"N": str(version)},
    }


def tables() -> tuple[str, str]:
    return OrderModel.Meta.table_name, OrderDetailModel.Meta.table_name


def test_every_order_stored_as_one_item_is_split_once_and_reads_as_before(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    heads, details = tables()
    for oid in ("O-1", "O-2"):
        ddb.put_item(TableName=heads, Item=legacy(oid))
    with pytest.raises(Exception, match="No order"):
        order_flow.get("O-1")  # before the migration the code cannot read them
    assert mig.migrate(ddb, heads, details) == 2
    head = ddb.get_item(TableName=heads, Key={"order_id": {"S": "O-1"}})["Item"]
    assert not set(mig.moved_attributes()) & set(head)
    assert head["version"] == {"N": "3"} and head["refunded_fen"] == {"N": "1290"}
    view = orders.view(order_flow.get("O-1"), HQ)
    assert (view.remark, view.address.name, view.subtotal_fen, view.delivery_fee_fen) == (
        "放门口",
        "王",
        2580,
        500,
    )
    ((sku, picked, refunded),) = [(x.sku, x.picked_qty, x.refunded_units) for x in view.lines]
    assert (sku, picked, refunded) == ("100", 1, 1)  # picked_qty read from the old line
    assert [(h.action, h.from_state, h.to_state) for h in view.history] == [
        ("place", None, "awaiting_payment")
    ]
    assert mig.migrate(ddb, heads, details) == 0  # a second run changes nothing


def test_the_detail_is_written_through_the_model_under_its_short_names(aws):
    """The head's long names (its line maps' too) become the detail's stored names, as
    placing writes them now: the events' raw reading and the size budget rely on it."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    heads, details = tables()
    ddb.put_item(TableName=heads, Item=legacy("O-1"))
    assert mig.migrate(ddb, heads, details) == 1
    stored = ddb.get_item(TableName=details, Key={"order_id": {"S": "O-1"}})["Item"]
    written = OrderDetailModel.get("O-1").serialize()  # as the model would write it
    assert stored == written
    assert set(stored) == {
        "order_id",
        "ad",
        "rm",
        "ln",
        "ds",
        "cu",
        "fu",
        "bu",
        "fw",
        "st",
        "dc",
        "fee",
    }
    (line,) = stored["ln"]["L"]
    assert line["M"]["up"] == {"N": "1290"} and line["M"]["pq"] == {"N": "1"}
    assert "unit_price_fen" not in line["M"] and stored["ad"]["M"]["n"] == {"S": "王"}


def test_an_order_that_changes_during_the_migration_is_read_again(aws, monkeypatch):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    heads, details = tables()
    ddb.put_item(TableName=heads, Item=legacy("O-1"))
    real = ddb.transact_write_items
    changed = []

    def after_a_change(**kwargs):
        if not changed:  # a print flag is written between the scan and the move
            changed.append(True)
            ddb.update_item(
                TableName=heads,
                Key={"order_id": {"S": "O-1"}},
                UpdateExpression="SET missed_print = :t, version = :v",
                ExpressionAttributeValues={":t": {"BOOL": True}, ":v": {"N": "4"}},
            )
        return real(**kwargs)

    monkeypatch.setattr(ddb, "transact_write_items", after_a_change)
    assert mig.migrate(ddb, heads, details) == 1
    order = order_flow.get("O-1")
    assert order.missed_print is True and order.version == 4 and len(order.lines) == 1


def test_the_command_names_the_stages_tables(aws, capsys):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    heads, _ = tables()
    ddb.put_item(TableName=heads, Item=legacy("O-1"))
    prefix = heads.removesuffix("-orders")
    assert mig.main(["--stage", "x", "--prefix", prefix, "--region", "us-east-1"]) == 0
    assert "1 order(s) moved" in capsys.readouterr().out
