"""Storage plumbing shared by every feature: models' base settings, transactions, the
shared connection. Importing it (every model does) makes PynamoDB's connections share one
botocore session per thread (``sessions``)."""

from chalicelib.db import sessions as _sessions

_sessions.share_per_thread()
