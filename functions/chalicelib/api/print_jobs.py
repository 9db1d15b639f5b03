"""Print jobs: the relay's acknowledgements, missed prints (漏单), reprints."""

from __future__ import annotations

from chalicelib.api.routing import Area

area = Area("printing", __name__, "Print jobs, relay acknowledgements and missed prints.")
