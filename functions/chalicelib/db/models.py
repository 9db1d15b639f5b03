"""What every table's PynamoDB model shares: its Meta (the table name from the
stage's prefix, the region, on-demand billing). The tables themselves are defined once,
in each feature's models.py; db/tables.py lists them all, the deployable template
(infra/template.py) and the local stack create tables from that list, and a test checks
the two agree. Money is integer fen; times are UTC ISO-8601.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, cast

from pynamodb.attributes import Attribute, ListAttribute, UnicodeAttribute
from pynamodb.constants import BINARY
from pynamodb.models import MetaProtocol

from chalicelib.kernel import config


def _meta(short_name: str) -> MetaProtocol:
    class Meta:
        table_name = config.table_name(short_name)
        region = config.REGION
        billing_mode = "PAY_PER_REQUEST"

    # PynamoDB types Model.Meta as a protocol and its metaclass fills in the attributes a
    # Meta leaves out (timeouts, credentials...) when the model class is created.
    return cast(MetaProtocol, Meta)


def string_list(default: Any = None) -> ListAttribute[str]:
    """A list of strings. PynamoDB types ``ListAttribute(of=X)`` as a list of X: right
    for map attributes, wrong for scalar ones (the values read are str, not
    UnicodeAttribute)."""
    return cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, default=default))


class CompactJSONAttribute(Attribute[Any]):
    """A JSON-able value stored zlib-compressed as binary: for records kept on an item
    that is written often (a loyalty account's last change), where every byte over 1 KB
    costs a second write unit on every write."""

    attr_type = BINARY

    def serialize(self, value: Any) -> bytes:
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return zlib.compress(raw, 9)

    def deserialize(self, value: bytes) -> Any:
        return json.loads(zlib.decompress(value))
