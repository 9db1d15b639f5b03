"""Store workflow: the store's order queue, picking with shortages, POS checkout,
delivery, pickup at the counter; customer confirmation."""

from __future__ import annotations

from chalicelib.api.routing import Area

area = Area("store orders", __name__, "The store's work on orders: pick, check out, deliver.")
