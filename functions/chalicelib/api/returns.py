"""Returns (退货) and their refunds."""

from __future__ import annotations

from chalicelib.api.routing import Area

area = Area("returns", __name__, "Returns of completed orders and their refunds.")
