"""The print job message schema is generated from its Structs and committed; it must not
go stale (the relay is written against the committed file)."""

import json
from pathlib import Path

import msgspec
from chalicelib.printing import messages as print_messages

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "print-job.v1.json"


def test_committed_schema_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == print_messages.render(), (
        "docs/schemas/print-job.v1.json is stale: from functions/ run "
        "../.venv/bin/python -m chalicelib.printing.messages > "
        "../docs/schemas/print-job.v1.json"
    )


def test_the_schema_is_version_one_and_lets_readers_ignore_new_fields():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    message = schema["$defs"]["PrintJobMessage"]
    assert message["properties"]["schema_version"]["enum"] == ["1"]
    assert "schema_version" in message["required"] and "job_id" in message["required"]
    for name, definition in schema["$defs"].items():
        assert definition.get("additionalProperties", True) is not False, name


def test_the_committed_example_is_a_valid_message():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    (example,) = schema["examples"]
    message = msgspec.convert(example, print_messages.PrintJobMessage)
    assert print_messages.decode(print_messages.encode(message)) == message
