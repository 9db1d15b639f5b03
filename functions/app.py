"""Daojia API: the Chalice app. Routes live in chalicelib/api, one blueprint per area."""

from __future__ import annotations

import logging

from chalice import Chalice
from chalicelib import config
from chalicelib.api import catalogue, health, identity, orders, stores
from chalicelib.auth.authorizer import authorizer_blueprint

app = Chalice(app_name="daojia")
app.log.setLevel(logging.INFO)
app.api.binary_types = []  # CSV and JSON uploads arrive as text

app.register_blueprint(authorizer_blueprint)
for area in (health.area, identity.area, stores.area, catalogue.area, orders.area):
    app.register_blueprint(area.blueprint)


@app.on_sqs_message(queue=config.queue_name("imports"), batch_size=1)
def import_worker(event):  # type: ignore[no-untyped-def]
    """Applies uploaded ERP files (the local stack drives the same function)."""
    from chalicelib.services.import_jobs import handle_message

    for record in event:
        handle_message(record.body)


__all__ = ["app"]
