"""Daojia store print relay: reads a store's print jobs and prints the tickets.

Installed on a store PC on its own: it depends only on the print-job message schema
(docs/schemas/print-job.v1.json), never on the API's code in ``functions/``.
"""

__version__ = "0.1.0"
