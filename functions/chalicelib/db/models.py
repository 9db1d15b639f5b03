"""What every table's PynamoDB model shares: its Meta (the table name from the
stage's prefix, the region, on-demand billing). The tables themselves are defined once,
in each feature's models.py; db/tables.py lists them all, the deployable template
(infra/template.py) and the local stack create tables from that list, and a test checks
the two agree. Money is integer fen; times are UTC ISO-8601.
"""

from __future__ import annotations

from chalicelib.kernel import config


def _meta(short_name: str) -> type:
    class Meta:
        table_name = config.table_name(short_name)
        region = config.REGION
        billing_mode = "PAY_PER_REQUEST"

    return Meta
