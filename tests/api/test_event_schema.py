"""The domain events' contract (docs/schemas/events.v1.json) is generated from the
Structs and committed; it must not go stale, and every event the code emits is valid
against it."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.events import types as t

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "events.v1.json"


def test_committed_schema_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == t.render(), (
        "docs/schemas/events.v1.json is stale: from functions/ run "
        "../.venv/bin/python -m chalicelib.events.types > ../docs/schemas/events.v1.json"
    )


def test_every_event_type_is_documented_at_version_one_and_open_to_new_fields():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    documented = {
        schema["$defs"][ref["$ref"].rsplit("/", 1)[-1]]["properties"]["type"]["enum"][0]
        for ref in schema["oneOf"]
    }
    assert (
        documented
        == set(t.EVENT_TYPES)
        == {
            "order.paid",
            "order.completed",
            "order.cancelled",
            "order.expired",
            "refund.succeeded",
            "member.registered",
            "campaign.budget_alert",
        }
    )
    for name, definition in schema["$defs"].items():
        assert definition.get("additionalProperties", True) is not False, name
        if name in {c.__name__ for c in t.EVENT_TYPES.values()}:
            assert definition["properties"]["schema_version"]["enum"] == ["1"]
            assert {"event_id", "occurred_at", "type"} <= set(definition["required"])


def test_the_committed_examples_are_valid_events():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for example in schema["examples"]:
        event = t.decode(json.dumps(example))
        assert json.loads(t.encode(event)) == example
